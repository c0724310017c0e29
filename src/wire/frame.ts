/**
 * The Confluent wire format: a schema id prefix in front of the payload.
 *
 * - V0: magic byte 0x00, the schema id as a big-endian int32, the payload.
 * - V1: magic byte 0x01, the 16 bytes of the schema GUID, the payload.
 * - Protobuf adds the message indexes between the id and the payload.
 */
import { SerializationError } from "../errors.js";
import { GUID_BYTES, readGuid, writeGuid } from "./guid.js";
import { indexesLength, readIndexes, writeIndexes } from "./indexes.js";

export const MAGIC_BYTE_V0 = 0x00;
export const MAGIC_BYTE_V1 = 0x01;

/** Which schema a payload was written with. */
export interface SchemaRef {
  /** Registry schema id (V0). Takes precedence over `guid` when both are set. */
  readonly id?: number;
  /** Registry schema GUID (V1), e.g. "2f6d7c8e-...". */
  readonly guid?: string;
  /** Protobuf only: the message indexes of the message type in its file. */
  readonly indexes?: readonly number[];
}

/** A decoded frame. Exactly one of `id` and `guid` is set. */
export interface Frame {
  id?: number;
  guid?: string;
  /** Set when decoded with `protobuf: true`. */
  indexes?: number[];
  /** The bytes after the prefix: a view on the input, not a copy. */
  payload: Uint8Array;
}

export interface DecodeFrameOptions {
  /** Read message indexes after the id (Protobuf schemas). */
  protobuf: boolean;
}

/** Allocates the output buffer; pass `Buffer.allocUnsafe` to get a Node Buffer without a copy. */
export type Allocator<T extends Uint8Array = Uint8Array> = (size: number) => T;

const allocUint8Array: Allocator = (size) => new Uint8Array(size);

/** Bytes of the prefix `writePrefix` writes for `ref`. */
export function prefixLength(ref: SchemaRef): number {
  const idLen = ref.id !== undefined ? 5 : ref.guid !== undefined ? 1 + GUID_BYTES : missingId();
  return ref.indexes ? idLen + indexesLength(ref.indexes) : idLen;
}

/** Writes the prefix for `ref` at `offset`; returns the offset after it. */
export function writePrefix(ref: SchemaRef, out: Uint8Array, offset: number): number {
  let o = offset;
  if (ref.id !== undefined) {
    const id = ref.id;
    if (!Number.isInteger(id) || id < -0x80000000 || id > 0x7fffffff) {
      throw new SerializationError("wire-format", `invalid schema id ${id}: expected a 32-bit integer`);
    }
    out[o] = MAGIC_BYTE_V0;
    out[o + 1] = (id >>> 24) & 0xff;
    out[o + 2] = (id >>> 16) & 0xff;
    out[o + 3] = (id >>> 8) & 0xff;
    out[o + 4] = id & 0xff;
    o += 5;
  } else if (ref.guid !== undefined) {
    out[o] = MAGIC_BYTE_V1;
    writeGuid(ref.guid, out, o + 1);
    o += 1 + GUID_BYTES;
  } else {
    missingId();
  }
  return ref.indexes ? writeIndexes(ref.indexes, out, o) : o;
}

/**
 * The framed message: prefix (V0 when `ref.id` is set, else V1) then `payload`.
 * One allocation, of exactly the output size.
 */
export function encodeFrame(ref: SchemaRef, payload: Uint8Array): Uint8Array;
export function encodeFrame<T extends Uint8Array>(ref: SchemaRef, payload: Uint8Array, alloc: Allocator<T>): T;
export function encodeFrame(ref: SchemaRef, payload: Uint8Array, alloc: Allocator = allocUint8Array): Uint8Array {
  const len = prefixLength(ref);
  const out = alloc(len + payload.length);
  writePrefix(ref, out, 0);
  out.set(payload, len);
  return out;
}

/**
 * Reads the prefix. Unknown magic bytes and truncated input throw
 * SerializationError with code "wire-format".
 */
export function decodeFrame(bytes: Uint8Array, options: DecodeFrameOptions): Frame {
  const { frame, end } = readPrefix(bytes, options);
  frame.payload = bytes.subarray(end);
  return frame;
}

/**
 * The schema id when `bytes` start with a complete V0 prefix (the payload then
 * starts at byte 5), else undefined: readPrefix tells what is wrong. Reads
 * without allocating, for consumers' hot path.
 */
export function v0SchemaId(bytes: Uint8Array): number | undefined {
  if (bytes.length < 5 || bytes[0] !== MAGIC_BYTE_V0) return undefined;
  return (bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!;
}

/** Reads a prefix and tells where it ends; `frame.payload` is left empty. */
export function readPrefix(bytes: Uint8Array, options: DecodeFrameOptions): { frame: Frame; end: number } {
  if (bytes.length === 0) throw new SerializationError("wire-format", "empty message: no magic byte");
  const magic = bytes[0]!;
  let frame: Frame;
  let end: number;
  if (magic === MAGIC_BYTE_V0) {
    if (bytes.length < 5) throw truncated("schema id", 5, bytes.length);
    frame = { id: v0SchemaId(bytes)!, payload: EMPTY };
    end = 5;
  } else if (magic === MAGIC_BYTE_V1) {
    if (bytes.length < 1 + GUID_BYTES) throw truncated("schema GUID", 1 + GUID_BYTES, bytes.length);
    frame = { guid: readGuid(bytes, 1), payload: EMPTY };
    end = 1 + GUID_BYTES;
  } else {
    throw new SerializationError("wire-format", `unknown magic byte 0x${magic.toString(16).padStart(2, "0")}`);
  }
  if (options.protobuf) {
    const read = readIndexes(bytes, end);
    frame.indexes = read.indexes;
    end = read.end;
  }
  return { frame, end };
}

const EMPTY = new Uint8Array(0);

function truncated(what: string, need: number, got: number): SerializationError {
  return new SerializationError("wire-format", `truncated message: ${what} needs ${need} bytes, got ${got}`);
}

function missingId(): never {
  throw new SerializationError("wire-format", "a frame needs a schema id or a schema GUID");
}
