/**
 * JSON text written as UTF-8 bytes straight into a Buffer, exactly as
 * `Buffer.from(JSON.stringify(x))` would give them, without building the
 * string first. Building it costs a rope of some 60 pieces that V8 must
 * flatten, then a second pass to turn it into bytes; and a finite number's
 * text (`String(n)`) is the slowest part of JSON.stringify on Node 20.
 *
 * Every writer takes the buffer and a position and returns the position after
 * what it wrote. What does not fit before the buffer's end is not written but
 * is counted: the caller learns the size it needs and writes again into a
 * buffer that big, as the Avro writer does. Nothing is ever stored out of
 * bounds, not even to be dropped: once a typed-array store site has gone out
 * of bounds, V8 compiles it in a mode that made the whole writer about 1.6x
 * slower. Each writer checks its room once, up front.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Longer strings are written by one native call (its fixed cost is about that of writing this many chars from JS). */
const LONG_STRING = 48;
// JSON.stringify escapes quotes, backslashes, control characters and lone surrogates. Paired surrogates
// are not escaped, but the regex cannot tell them apart: such strings take JSON.stringify.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `s` as a JSON string: ASCII without escapes from JS, the rest as JSON.stringify writes it. */
export function writeString(b: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n > LONG_STRING || p + n + 2 > b.length) return writeLongString(b, p, s);
  b[p] = QUOTE;
  let q = p + 1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === QUOTE || c === BACKSLASH || c > 0x7f) return writeText(b, p, JSON.stringify(s));
    b[q++] = c;
  }
  b[q] = QUOTE;
  return q + 1;
}

function writeLongString(b: Buffer, p: number, s: string): number {
  if (NEEDS_ESCAPE.test(s)) return writeText(b, p, JSON.stringify(s));
  const n = Buffer.byteLength(s, "utf8");
  if (p + n + 2 <= b.length) {
    b[p] = QUOTE;
    b.write(s, p + 1, n, "utf8");
    b[p + n + 1] = QUOTE;
  }
  return p + n + 2;
}

/** Any text as UTF-8. */
export function writeText(b: Buffer, p: number, t: string): number {
  // At most 3 bytes per UTF-16 unit: when that fits, the write itself tells the length.
  if (p + t.length * 3 <= b.length) return p + b.write(t, p, "utf8");
  const n = Buffer.byteLength(t, "utf8");
  if (p + n <= b.length) b.write(t, p, n, "utf8");
  return p + n;
}

let viewed: Buffer | undefined;
let view: DataView | undefined;
/**
 * A DataView over `b`'s bytes, for stores of several bytes at once. Writers
 * write one slab message after message: the last view is kept, so that costs
 * an allocation per slab, not per message. It keeps the last buffer written
 * alive until the next write: the current slab, or one message too large for it.
 */
export function viewOf(b: Buffer): DataView {
  if (b !== viewed) {
    view = new DataView(b.buffer, b.byteOffset, b.length);
    viewed = b;
  }
  return view!;
}

/** Bytes known ahead (a key, punctuation, `true`). */
export function writeBytes(b: Buffer, p: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (p + n <= b.length) for (let i = 0; i < n; i++) b[p + i] = bytes[i]!;
  return p + n;
}

/** One byte (punctuation). */
export function writeByte(b: Buffer, p: number, byte: number): number {
  if (p < b.length) b[p] = byte;
  return p + 1;
}

function writeAsciiIfRoom(b: Buffer, p: number, s: string): number {
  return p + s.length <= b.length ? writeAscii(b, p, s) : p + s.length;
}

/** Text of one byte per char (a number's). */
function writeAscii(b: Buffer, p: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
  return p + n;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** Fraction digits tried before a number is left to `String(n)`. */
const MAX_FRACTION_DIGITS = 8;
/**
 * Decimals of at most this many digits (below 10^15) are exact: a double's
 * spacing there is finer than the decimals' spacing, so one decimal at most of
 * a given length reads back as the number, and that is the one String(n) writes.
 */
const MAX_DECIMAL = 1e15;
const MAX_SAFE = 2 ** 53;
/** More than the longest text of a finite number ("-1.7976931348623157e+308", 24 chars). */
const MAX_NUMBER_TEXT = 32;

/**
 * A finite number as JSON.stringify writes it (`String(n)`: the shortest
 * decimal that reads back as n, ECMAScript's Number::toString). Integers and
 * decimals of few digits are written from their digits; anything else (an
 * exponent, a long fraction) through String(n).
 */
export function writeNumber(b: Buffer, p: number, n: number): number {
  if (p + MAX_NUMBER_TEXT > b.length) return writeAsciiIfRoom(b, p, `${n}`);
  // -0 is written "0": `n < 0` is false for it.
  if (n < 0) {
    b[p++] = 0x2d;
    n = -n;
  }
  if (Number.isInteger(n)) return n < MAX_SAFE ? writeInteger(b, p, n) : writeAscii(b, p, `${n}`);
  // Below 1e-6, String(n) writes an exponent.
  if (n >= 1e-6 && n < MAX_DECIMAL) {
    for (let k = 1; k <= MAX_FRACTION_DIGITS; k++) {
      const scale = POW10[k]!;
      const m = Math.round(n * scale);
      if (m >= MAX_DECIMAL) break;
      // The decimal m / 10^k reads back as n (the division rounds as reading the decimal would): the fewest fraction digits that do.
      if (m / scale === n) {
        const whole = Math.floor(m / scale);
        p = writeInteger(b, p, whole);
        b[p++] = 0x2e;
        return writeDigits(b, p, m - whole * scale, k);
      }
    }
  }
  return writeAscii(b, p, `${n}`);
}

/** A non-negative integer below 2^53. */
function writeInteger(b: Buffer, p: number, n: number): number {
  if (n < 1e9) return writeDigits(b, p, n, digitCount(n));
  let high = Math.floor(n / 1e9);
  let low = n - high * 1e9;
  // The division rounds: the floor may be one off.
  if (low < 0) {
    high--;
    low += 1e9;
  } else if (low >= 1e9) {
    high++;
    low -= 1e9;
  }
  p = writeDigits(b, p, high, digitCount(high));
  return writeDigits(b, p, low, 9);
}

function digitCount(n: number): number {
  let d = 1;
  while (d < 9 && n >= POW10[d]!) d++;
  return d;
}

/** The `count` last decimal digits of `n` (below 10^9), zero-padded. */
function writeDigits(b: Buffer, p: number, n: number, count: number): number {
  let q = n | 0;
  for (let i = p + count - 1; i >= p; i--) {
    const next = (q / 10) | 0;
    b[i] = 0x30 + q - next * 10;
    q = next;
  }
  return p + count;
}
