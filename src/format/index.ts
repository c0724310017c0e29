/**
 * The three format adapters, by schema type.
 */
import type { SchemaType } from "../contract/model.js";
import type { FormatAdapter } from "./types.js";
import { avroFormat } from "./avro/index.js";
import { jsonSchemaFormat } from "./json-schema/index.js";
import { protobufFormat } from "./protobuf/index.js";

export const FORMATS: Readonly<Record<SchemaType, FormatAdapter>> = {
  AVRO: avroFormat,
  JSON: jsonSchemaFormat,
  PROTOBUF: protobufFormat,
};

export { avroFormat, jsonSchemaFormat, protobufFormat };
export type * from "./types.js";
