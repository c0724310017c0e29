/**
 * Header mode: the schema reference travels in a record header instead of a
 * payload prefix. The header holds the V1 form (magic 0x01, GUID, plus the
 * message indexes for Protobuf) and the payload then carries no prefix.
 */
import { SerializationError } from "../errors.js";
import { type Allocator, type DecodeFrameOptions, type Frame, type SchemaRef, decodeFrame, encodeFrame, readPrefix } from "./frame.js";

export const KEY_SCHEMA_ID_HEADER = "__key_schema_id";
export const VALUE_SCHEMA_ID_HEADER = "__value_schema_id";

/** A header value as kafkajs and confluent-kafka-javascript hand them out. */
export type HeaderValue = Uint8Array | string;
/** Record headers, kafkajs style: a repeated header is an array, in record order. */
export type Headers = Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>;

export function schemaIdHeaderName(isKey: boolean): string {
  return isKey ? KEY_SCHEMA_ID_HEADER : VALUE_SCHEMA_ID_HEADER;
}

/** The header value for `ref`: always the V1 (GUID) form, as Confluent's HeaderSchemaIdSerializer writes. */
export function schemaIdHeader(ref: SchemaRef): Uint8Array;
export function schemaIdHeader<T extends Uint8Array>(ref: SchemaRef, alloc: Allocator<T>): T;
export function schemaIdHeader(ref: SchemaRef, alloc?: Allocator): Uint8Array {
  if (ref.guid === undefined) {
    throw new SerializationError("wire-format", "the schema id header holds a schema GUID, and none was given");
  }
  const guidRef = { guid: ref.guid, indexes: ref.indexes };
  return alloc ? encodeFrame(guidRef, EMPTY, alloc) : encodeFrame(guidRef, EMPTY);
}

/**
 * The schema reference in the `__key_schema_id` / `__value_schema_id` header, or
 * undefined when there is none. When the header repeats, the last one wins.
 * A string value is read as UTF-8 bytes, as the Confluent clients do.
 */
export function readSchemaIdHeader(headers: Headers | undefined, isKey: boolean, options: DecodeFrameOptions): Frame | undefined {
  const bytes = lastHeader(headers, schemaIdHeaderName(isKey));
  if (bytes === undefined) return undefined;
  // trailing bytes are ignored, as in the Confluent clients
  return readPrefix(bytes, options).frame;
}

/**
 * Confluent's "Dual" reading: the schema id header when present (the payload is
 * then the whole message), else the payload prefix.
 */
export function decodeDual(
  bytes: Uint8Array,
  headers: Headers | undefined,
  options: DecodeFrameOptions & { isKey: boolean },
): Frame {
  const fromHeader = readSchemaIdHeader(headers, options.isKey, options);
  if (fromHeader) {
    fromHeader.payload = bytes;
    return fromHeader;
  }
  return decodeFrame(bytes, options);
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

function lastHeader(headers: Headers | undefined, name: string): Uint8Array | undefined {
  if (!headers) return undefined;
  const raw = headers[name];
  const value = isList(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? utf8.encode(value) : value;
}

function isList(v: HeaderValue | readonly HeaderValue[] | undefined): v is readonly HeaderValue[] {
  return Array.isArray(v);
}
