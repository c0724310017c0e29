/**
 * The Confluent wire format (schema id prefix or header). Depends on nothing but errors.
 */
export {
  MAGIC_BYTE_V0,
  MAGIC_BYTE_V1,
  type Allocator,
  type DecodeFrameOptions,
  type Frame,
  type SchemaRef,
  decodeFrame,
  encodeFrame,
  prefixLength,
  readPrefix,
  v0SchemaId,
  writePrefix,
} from "./frame.js";
export {
  KEY_SCHEMA_ID_HEADER,
  VALUE_SCHEMA_ID_HEADER,
  type HeaderValue,
  type Headers,
  decodeDual,
  readSchemaIdHeader,
  schemaIdHeader,
  schemaIdHeaderName,
} from "./headers.js";
export { readIndexes, writeIndexes, indexesLength } from "./indexes.js";
export { readGuid, writeGuid } from "./guid.js";
