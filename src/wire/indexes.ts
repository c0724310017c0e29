/**
 * Confluent Protobuf message indexes: the path to the message type inside its
 * .proto file (index among top-level messages, then among nested messages),
 * written after the schema id as a zigzag varint count and zigzag varint indexes.
 * `[0]`, by far the most common path, is written as the single byte 0x00.
 */
import { SerializationError } from "../errors.js";
import { readVarint, unzigzag, varintEnd, writeVarint } from "../util/varint.js";

const MALFORMED = "message indexes are absent or malformed";
/** Largest index or count accepted: Java reads them as int32 varints. */
const MAX_INDEX = 0x3fffffff;

/** Bytes `writeIndexes` needs for `indexes`. */
export function indexesLength(indexes: readonly number[]): number {
  if (isFirstMessage(indexes)) return 1;
  let n = zigzagVarintLength(indexes.length);
  for (let i = 0; i < indexes.length; i++) n += zigzagVarintLength(checkIndex(indexes[i]!));
  return n;
}

/** Writes `indexes` at `offset`; returns the offset after them. */
export function writeIndexes(indexes: readonly number[], out: Uint8Array, offset: number): number {
  if (isFirstMessage(indexes)) {
    out[offset] = 0;
    return offset + 1;
  }
  let o = writeZigzagVarint(indexes.length, out, offset);
  for (let i = 0; i < indexes.length; i++) o = writeZigzagVarint(indexes[i]!, out, o);
  return o;
}

/**
 * Reads message indexes at `offset`. A count of 0 means `[0]`. Negative counts or
 * indexes, and truncated input, throw SerializationError "wire-format" with
 * Confluent's message "message indexes are absent or malformed".
 */
export function readIndexes(bytes: Uint8Array, offset: number): { indexes: number[]; end: number } {
  let pos = offset;
  const count = readZigzagVarint(bytes, pos);
  pos = varintEnd;
  if (count === 0) return { indexes: [0], end: pos };
  // each index takes at least one byte: a larger count cannot be honest
  if (count < 0 || count > bytes.length - pos) throw new SerializationError("wire-format", MALFORMED);
  const indexes = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const index = readZigzagVarint(bytes, pos);
    pos = varintEnd;
    if (index < 0) throw new SerializationError("wire-format", MALFORMED);
    indexes[i] = index;
  }
  return { indexes, end: pos };
}

function isFirstMessage(indexes: readonly number[]): boolean {
  return indexes.length === 1 && indexes[0] === 0;
}

function checkIndex(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index > MAX_INDEX) {
    throw new SerializationError("wire-format", `invalid message index ${index}: expected an integer from 0 to ${MAX_INDEX}`);
  }
  return index;
}

function zigzagVarintLength(n: number): number {
  let v = n * 2; // n is a checked non-negative int, so zigzag is n*2
  let len = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    len++;
  }
  return len;
}

function writeZigzagVarint(n: number, out: Uint8Array, offset: number): number {
  return writeVarint(out, offset, checkIndex(n) * 2);
}

/** Reads a 32-bit zigzag varint (at most 5 bytes) at `offset`; sets `varintEnd`. */
function readZigzagVarint(bytes: Uint8Array, offset: number): number {
  const v = readVarint(bytes, offset, 5);
  if (v < 0 || v > 0xffffffff) throw new SerializationError("wire-format", MALFORMED);
  return unzigzag(v);
}
