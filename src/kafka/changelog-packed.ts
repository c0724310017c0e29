/**
 * The bytes of a packed changelog record: many entries `[key, value]` of one rule in one source
 * partition (changelog-journal.ts says which changelogs are packed).
 *
 * Format "2", written now, binary. The record's value is its entries one after another:
 * - a head, a varint: the key's length in UTF-16 code units × 8 + wide × 4 + kind;
 * - the key: ASCII, a byte per code unit, or when `wide`, UTF-16LE, two bytes per code unit (any
 *   string, lone surrogates included, comes back as it was);
 * - kind 0, uniqueness's `n@offset`: n, then offset, each a zigzag varint of its difference from
 *   the previous kind-0 entry's of the record (0 before the first);
 * - kind 1, a text value: a varint of its length × 2 + wide, then its code units as the key's;
 * - kind 2, a deletion (the value null): nothing more.
 * Varints are base 128, low groups first, at most 8 bytes, below 2^53.
 *
 * Format "1", written before 2026-12-06 and still read: the JSON text `[["key","value"],...]`.
 *
 * Why binary: a uniqueness entry is some 12 bytes instead of some 37, and every byte of the
 * changelog is copied by the client and checksummed (kafkajs's CRC runs in JS), and the numbers'
 * decimal text took as long to write again: through kafkajs, 0.2 to 0.3 µs per record
 * (docs/stateful.md, "Speed and memory").
 */
import { KontractError } from "../errors.js";
import { readVarint, unzigzag, varintEnd, writeVarint, zigzag } from "../util/varint.js";

/** The values of a packed record's format header (CHANGELOG_ENTRIES_HEADER). */
export const PACKED_JSON = "1";
export const PACKED_BINARY = "2";

/** The most bytes a varint takes. */
const MAX_VARINT = 8;
/** The most bytes the head and code units of `units` code units take. */
export const textBytes = (units: number): number => MAX_VARINT + 2 * units;

const SEEN = 0;
const TEXT = 1;
const DELETED = 2;
const TWO_52 = 2 ** 52;

/** `s` headed by its length × 2^shift + (wide: 2^(shift-1)) + bits; room for textBytes(s.length) is there. */
function writeUnits(b: Buffer, p: number, s: string, shift: number, bits: number): number {
  const n = s.length;
  const head = n * 2 ** shift + bits;
  const start = p;
  // The wide flag is below the length's bits: the head takes as many bytes either way.
  p = writeVarint(b, p, head);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      p = writeVarint(b, start, head + 2 ** (shift - 1));
      return p + b.write(s, p, 2 * n, "utf16le");
    }
    b[p + i] = c;
  }
  return p + n;
}

/**
 * A uniqueness entry after one of (prevN, prevOffset) in the same record; undefined (nothing
 * written) when n or offset is not an integer that a difference carries exactly, which is then
 * written as text. Room for textBytes(key.length) + 2 * MAX_VARINT is there.
 */
export function writeSeen(b: Buffer, p: number, key: string, n: number, offset: number, prevN: number, prevOffset: number): number | undefined {
  const dn = n - prevN;
  const dOffset = offset - prevOffset;
  // NaN and infinities fail the comparisons too.
  if (!(Math.abs(dn) < TWO_52 && Math.abs(dOffset) < TWO_52 && Number.isInteger(n) && Number.isInteger(offset))) return undefined;
  p = writeUnits(b, p, key, 3, SEEN);
  p = writeVarint(b, p, zigzag(dn));
  return writeVarint(b, p, zigzag(dOffset));
}

/** Any other entry; room for textBytes(key.length) + textBytes(value.length) is there. */
export function writeValue(b: Buffer, p: number, key: string, value: string | null): number {
  if (value === null) return writeUnits(b, p, key, 3, DELETED);
  p = writeUnits(b, p, key, 3, TEXT);
  return writeUnits(b, p, value, 1, 0);
}

const MALFORMED = new Error("malformed packed changelog record");

/**
 * The entries of a packed changelog record of `format` (its CHANGELOG_ENTRIES_HEADER). A malformed
 * record holds none, as an entry that does not parse restores nothing; in format "1", an entry not
 * of the form is skipped. A format this version does not know (a newer kontract's) is an error:
 * restoring without its entries would misjudge records.
 */
export function unpackEntries(value: Buffer | null, format: string | undefined): [string, string | null][] {
  if (value === null) return [];
  if (format === PACKED_BINARY) {
    try {
      return unpackBinary(value);
    } catch (e) {
      if (e === MALFORMED) return [];
      throw e;
    }
  }
  if (format === PACKED_JSON) return unpackJson(value);
  throw new KontractError("state-store", `a changelog record is packed in format ${JSON.stringify(format)}, which this version of kontract does not read: it was written by a newer one`);
}

function unpackJson(value: Buffer): [string, string | null][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString("utf8"));
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter((e): e is [string, string | null] => Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && (typeof e[1] === "string" || e[1] === null));
}

function unpackBinary(b: Buffer): [string, string | null][] {
  const out: [string, string | null][] = [];
  let p = 0;
  const varint = (): number => {
    const v = readVarint(b, p, MAX_VARINT);
    if (v < 0) throw MALFORMED;
    p = varintEnd;
    return v;
  };
  const units = (head: number, shift: number): string => {
    const n = Math.floor(head / 2 ** shift);
    const wide = Math.floor(head / 2 ** (shift - 1)) % 2 === 1;
    const bytes = wide ? 2 * n : n;
    if (bytes > b.length - p) throw MALFORMED;
    const s = b.toString(wide ? "utf16le" : "latin1", p, p + bytes);
    p += bytes;
    return s;
  };
  let n = 0;
  let offset = 0;
  while (p < b.length) {
    const head = varint();
    const kind = head % 4;
    const key = units(head, 3);
    if (kind === SEEN) {
      n += unzigzag(varint());
      offset += unzigzag(varint());
      out.push([key, `${n}@${offset}`]);
    } else if (kind === TEXT) {
      out.push([key, units(varint(), 1)]);
    } else if (kind === DELETED) {
      out.push([key, null]);
    } else {
      throw MALFORMED;
    }
  }
  return out;
}
