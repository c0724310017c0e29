/**
 * Reading and writing Avro binary through avsc's own generated readers and
 * writers (`_read` / `_write`), on a tap of ours. Two things differ from
 * avsc's `fromBuffer` / `encode`:
 *
 * - Short ASCII strings are read and written in JS. avsc crosses into C++
 *   for every string (Buffer.utf8Slice, Buffer.byteLength), which is most of the
 *   cost of a record of short strings, a common Kafka payload.
 * - One tap per direction is reused: decoding and encoding are synchronous
 *   and never re-enter, so no Tap is allocated per message.
 *
 * The bytes are avsc's, exactly: the writers are avsc's, and strings take
 * avsc's own path as soon as a character is not ASCII. One exception: a
 * string with a lone surrogate is refused, where avsc writes bytes that
 * read back as another string.
 */
import { claim, currentSlab, freeStart, messageBuffer } from "../../util/message-buffers.js";
import { LONE_SURROGATE, isWellFormed } from "../../util/unicode.js";
import { TapClass, type AvroType, type TapBuffer, type TypeInternals } from "./avsc.js";

/**
 * ASCII strings up to this many bytes are built in JS, with one
 * `String.fromCharCode` call: cheaper than the native call. Longer strings
 * are decoded natively.
 */
const SHORT_READ = 12;
/** Strings up to this many chars are written char by char: their length prefix is one varint byte. */
const SHORT_WRITE = 63;
const fromCharCode = String.fromCharCode;

/**
 * Short ASCII strings seen twice in a row per hash slot, kept. Kafka records
 * repeat their short strings (status, currency, country, city, SKU): a hit
 * returns the string already built, so a decoded batch holds one copy instead
 * of one per record, and young-generation GCs have fewer objects to copy.
 * V8's JSON.parse does the same for short string values. Strings of up to
 * SHORT_READ bytes; `slots` is a power of two.
 *
 * A string is kept only when its slot saw the same hash just before (`seen`):
 * storing every miss would keep each unique string (an id) alive from a
 * long-lived table, which measured slower than no table for unique strings.
 */
export function shortStrings(slots: number): (buf: TapBuffer, start: number, end: number) => string {
  if (!Number.isInteger(Math.log2(slots))) throw new RangeError(`slots must be a power of two, got ${slots}`);
  const mask = slots - 1;
  const kept: string[] = new Array<string>(slots).fill("");
  const seen = new Int32Array(slots);
  return (buf, start, end) => {
    let h = end - start;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b > 0x7f) return buf.utf8Slice(start, end);
      h = (Math.imul(h, 31) + b) | 0;
    }
    const slot = (h ^ (h >>> 12)) & mask;
    const known = kept[slot]!;
    if (known.length === end - start && sameAscii(known, buf, start)) return known;
    const s = asciiString(buf, start, end - start);
    if (seen[slot] === h) kept[slot] = s;
    else seen[slot] = h;
    return s;
  };
}

const shortString = shortStrings(4096);

function sameAscii(s: string, buf: TapBuffer, start: number): boolean {
  for (let j = 0; j < s.length; j++) if (s.charCodeAt(j) !== buf[start + j]) return false;
  return true;
}

/**
 * The string of `len` <= SHORT_READ ASCII bytes, in one allocation. Appending
 * char by char (`s += c`) allocates a string per char: in a decoded batch that
 * garbage forces more scavenges, each copying the batch's live records.
 */
function asciiString(b: TapBuffer, i: number, len: number): string {
  switch (len) {
    case 0:
      return "";
    case 1:
      return fromCharCode(b[i]!);
    case 2:
      return fromCharCode(b[i]!, b[i + 1]!);
    case 3:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!);
    case 4:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    case 5:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!);
    case 6:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!);
    case 7:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!);
    case 8:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
    case 9:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!);
    case 10:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!);
    case 11:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!);
    case 12:
      return fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!, b[i + 11]!);
    default:
      return b.utf8Slice(i, i + len);
  }
}

class FastTap extends TapClass {
  /**
   * avsc reads an int as a long: a varint of more than 32 bits decoded to a
   * number no int holds. Java refuses it ("Invalid int encoding").
   */
  override readInt(): number {
    const n = this.readLong();
    if (n !== (n | 0)) throw new Error("an int varint holds more than 32 bits");
    return n;
  }

  override readString(): string | undefined {
    const len = this.readLong();
    if (len < 0) {
      this._invalidate();
      return "";
    }
    const buf = this.buf;
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    if (end > buf.length) return undefined;
    if (len <= SHORT_READ) return shortString(buf, start, end);
    return buf.utf8Slice(start, end);
  }

  override writeString(s: string): void {
    const n = s.length;
    const buf = this.buf;
    const start = this.pos;
    // Only when the whole string (and its one-byte length) fits: avsc's writers never throw on overflow, the caller grows and retries.
    if (n <= SHORT_WRITE && start + 1 + n <= buf.length) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[start + 1 + i] = c;
      }
      if (i === n) {
        buf[start] = n << 1; // zigzag varint of n < 64: one byte
        this.pos = start + 1 + n;
        return;
      }
    }
    // Every string avsc writes passes here (values and map keys); the ASCII path above is well-formed.
    if (!isWellFormed(s)) throw new Error(LONE_SURROGATE);
    super.writeString(s);
  }
}

const EMPTY = Buffer.alloc(0) as TapBuffer;
const readTap = new FastTap(EMPTY);

/**
 * Decodes `buf[offset..]` as one value of `type`. Throws like avsc's
 * fromBuffer: "truncated buffer" when the bytes end early, "trailing data"
 * when bytes are left over.
 */
export function readAvro(type: AvroType, buf: Buffer, offset = 0): unknown {
  readTap.buf = buf as TapBuffer;
  readTap.pos = offset;
  try {
    const value = (type as unknown as TypeInternals)._read(readTap);
    if (readTap.pos > buf.length) throw new Error("truncated buffer");
    if (readTap.pos < buf.length) throw new Error("trailing data");
    return value;
  } finally {
    readTap.buf = EMPTY;
  }
}

const writeTap = new FastTap(EMPTY);

/**
 * Encodes a value that already passed `type.isValid` into a new Buffer, after
 * `headroom` bytes left for the caller to fill (the wire-format prefix).
 * Written in place at the free end of the message slab, so the framed message
 * costs no copy; a message that does not fit the slab's rest is written again
 * into a buffer of the size the first write found.
 */
export function writeAvro(type: AvroType, value: unknown, headroom = 0): Buffer {
  const t = type as unknown as TypeInternals;
  const start = freeStart();
  writeTap.buf = currentSlab() as TapBuffer;
  writeTap.pos = start + headroom;
  try {
    t._write(writeTap, value);
    // avsc's writers never throw on overflow: they count on, and isValid tells.
    if (writeTap.isValid()) return claim(writeTap.pos);
    const out = messageBuffer(writeTap.pos - start);
    writeTap.buf = out as TapBuffer;
    writeTap.pos = headroom;
    t._write(writeTap, value);
    return out;
  } finally {
    writeTap.buf = EMPTY;
  }
}
