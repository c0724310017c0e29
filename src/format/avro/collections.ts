/**
 * Arrays and maps read from untrusted bytes, bounded. avsc trusts an array's
 * or map's item count: five corrupt bytes claiming 10^8 items make it
 * preallocate the array and loop past the end of the input, which exhausts
 * the heap and kills the process, and a map or a skipped array claiming 10^15
 * items loops for hours. A consumer must answer corrupt bytes with an error.
 *
 * Every array and map type of a compiled schema is a subclass of avsc's with
 * its own `_read` and `_skip` (avsc's shared prototypes stay untouched);
 * avsc's schema resolution borrows the reader type's `_read`, so resolved
 * reads are bounded too. The values are avsc's: same items, same order.
 *
 * - Every item must be read within the input: once the cursor passes its end,
 *   reading stops ("truncated buffer"), so the work is bounded by the input's
 *   length for items of at least one byte.
 * - Items that take no bytes at all (null, an empty record) are counted, and
 *   more than MAX_EMPTY_ITEMS of them in one array or map is refused.
 * - A preallocation never exceeds the bytes left.
 * - A map key `__proto__` is stored as an own entry, not as the prototype.
 */
import { ArrayType, MapType, type AvroType, type Tap, type TypeInternals } from "./avsc.js";
import { setOwn } from "../../util/own.js";

/** More zero-byte items than this in one array or map is refused. */
export const MAX_EMPTY_ITEMS = 1_000_000;

/** A type, or one of avsc's resolvers (which borrow the reader type's `_read`), as far as reading goes. */
type Reader = Pick<TypeInternals, "_read" | "_skip">;

interface ArrayReader {
  itemsType: Reader;
}
interface MapReader {
  valuesType: Reader;
}

function truncated(): Error {
  return new Error("truncated buffer");
}

function tooManyEmpty(what: string): Error {
  return new Error(`${what} holds more than ${MAX_EMPTY_ITEMS.toLocaleString("en-US")} items of zero bytes`);
}

/** One block's item count; a negative count is followed by the block's byte size. */
function blockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong();
  }
  // A count read past the end of the input reads as 0s; the position tells.
  if (!(n >= 0) || tap.pos > tap.buf.length) throw truncated();
  return n;
}

function readArray(this: ArrayReader, tap: Tap): unknown[] {
  const items = this.itemsType;
  const end = tap.buf.length;
  let val: unknown[] | undefined;
  let i = 0;
  let empty = 0;
  for (let n = blockCount(tap); n !== 0; n = blockCount(tap)) {
    val ??= new Array<unknown>(Math.min(n, end - tap.pos));
    while (n-- > 0) {
      const before = tap.pos;
      val[i++] = items._read(tap);
      if (tap.pos > end) throw truncated();
      if (tap.pos === before && ++empty > MAX_EMPTY_ITEMS) throw tooManyEmpty("an array");
    }
  }
  return val ?? [];
}

function readMap(this: MapReader, tap: Tap): Record<string, unknown> {
  const values = this.valuesType;
  const end = tap.buf.length;
  const val: Record<string, unknown> = {};
  for (let n = blockCount(tap); n !== 0; n = blockCount(tap)) {
    while (n-- > 0) {
      // A key takes at least its length byte: the loop is bounded by the input.
      const key = tap.readString();
      const value = values._read(tap);
      if (tap.pos > end || key === undefined) throw truncated();
      setOwn(val, key, value);
    }
  }
  return val;
}

function skipArray(this: ArrayReader, tap: Tap): void {
  skipBlocks(tap, this.itemsType, false, "an array");
}

function skipMap(this: MapReader, tap: Tap): void {
  skipBlocks(tap, this.valuesType, true, "a map");
}

function skipBlocks(tap: Tap, items: Reader, keyed: boolean, what: string): void {
  const end = tap.buf.length;
  let empty = 0;
  for (;;) {
    let n = tap.readLong();
    if (n === 0) return;
    if (n < 0) {
      // A sized block: skipped in one step.
      const size = tap.readLong();
      if (!(size >= 0)) throw truncated();
      tap.pos += size;
      if (tap.pos > end) throw truncated();
      continue;
    }
    if (!(n > 0) || tap.pos > end) throw truncated();
    while (n-- > 0) {
      const before = tap.pos;
      if (keyed) tap.skipString();
      items._skip(tap);
      if (tap.pos > end) throw truncated();
      if (tap.pos === before && ++empty > MAX_EMPTY_ITEMS) throw tooManyEmpty(what);
    }
  }
}

class BoundedArrayType extends ArrayType {
  _read(tap: Tap): unknown[] {
    return readArray.call(this as unknown as ArrayReader, tap);
  }
  _skip(tap: Tap): void {
    skipArray.call(this as unknown as ArrayReader, tap);
  }
}

class BoundedMapType extends MapType {
  _read(tap: Tap): Record<string, unknown> {
    return readMap.call(this as unknown as MapReader, tap);
  }
  _skip(tap: Tap): void {
    skipMap.call(this as unknown as MapReader, tap);
  }
}

/**
 * avsc's `typeHook` for Type.forSchema: arrays and maps become the bounded
 * subclasses (avsc freezes its types, so they cannot be patched afterwards).
 */
export function boundedCollections(schema: unknown, opts: unknown): AvroType | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  const type = (schema as { type?: unknown }).type;
  if (type === "array") return new BoundedArrayType(schema, opts);
  if (type === "map") return new BoundedMapType(schema, opts);
  return undefined;
}
