/**
 * Run-time helpers of the native fast path: failures as values, validating
 * readers (native value -> domain value, as the lazy views convert), and the
 * numeric operations with the interpreter's exact semantics (int64/uint64
 * overflow, division by zero, mixed int/double comparisons).
 */
import type { CelFailure } from "../failure.js";
import type { NType } from "./types.js";
import { describeNative } from "../describe.js";

const BRAND = Symbol.for("kontract/cel-failure");

export type Position = { line: number; column: number } | undefined;

/**
 * An evaluation failure of the fast path. It carries the brand of CelFailure
 * (isCelFailure accepts it) and is its own class, so the fast path tells
 * failures from values with one `instanceof`.
 */
export class NFail {
  readonly [BRAND] = true as const;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** Always undefined: a spent budget is reported by the program, not by a closure (cost.ts). */
  readonly code: undefined = undefined;
  constructor(
    readonly message: string,
    at?: Position,
    readonly cause?: unknown,
  ) {
    this.line = at?.line;
    this.column = at?.column;
  }
  toString(): string {
    return this.line === undefined ? this.message : `${this.line}:${this.column}: ${this.message}`;
  }
}

/** The failure as the rest of kontract sees it (same brand as failure.ts). */
export function asCelFailure(f: NFail): CelFailure {
  return f as unknown as CelFailure;
}

export function isFail(v: unknown): v is NFail {
  return v instanceof NFail;
}

export function fail(message: string, at?: Position, cause?: unknown): NFail {
  return new NFail(message, at, cause);
}

// ---- ints ----

export const TWO_63 = 2 ** 63;
export const TWO_64 = 2 ** 64;
const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 63n - 1n;
const UINT_MAX = 2n ** 64n - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_MIN = -SAFE_MAX;

/** An int or uint in the domain form: a number when exact, else a bigint. */
export type Int = number | bigint;

export function big(v: Int): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

export function normInt(b: bigint): Int {
  return b >= SAFE_MIN && b <= SAFE_MAX ? Number(b) : b;
}

/** A constant from the AST (always a bigint) in the domain form. */
export function intConst(b: bigint): Int {
  return normInt(b);
}

function checkInt(r: bigint, op: string): Int | NFail {
  return r < INT_MIN || r > INT_MAX ? fail(`int overflow during ${op}`) : normInt(r);
}

function checkUint(r: bigint, op: string): Int | NFail {
  return r < 0n || r > UINT_MAX ? fail(`uint overflow during ${op}`) : normInt(r);
}

export function intAdd(a: Int, b: Int): Int | NFail {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b;
    // Exact: both are integers, and a true sum beyond 2^53 rounds to an unsafe number.
    if (Number.isSafeInteger(r)) return r;
  }
  return checkInt(big(a) + big(b), "_+_");
}

export function intSub(a: Int, b: Int): Int | NFail {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return checkInt(big(a) - big(b), "_-_");
}

export function intMul(a: Int, b: Int): Int | NFail {
  if (typeof a === "number" && typeof b === "number") {
    const r = a * b;
    if (Number.isSafeInteger(r)) return r + 0;
  }
  return checkInt(big(a) * big(b), "_*_");
}

export function intDiv(a: Int, b: Int): Int | NFail {
  if (b == 0) return fail("int divide by zero");
  if (typeof a === "number" && typeof b === "number" && Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
    // Exact for safe integers: the remainder is exact, and so is dividing a multiple.
    return (a - (a % b)) / b + 0;
  }
  const q = big(a) / big(b);
  return checkInt(q, `divide by ${big(b)}`);
}

export function intMod(a: Int, b: Int): Int | NFail {
  if (b == 0) return fail("int modulus by zero");
  if (typeof a === "number" && typeof b === "number" && Number.isSafeInteger(a) && Number.isSafeInteger(b)) return (a % b) + 0;
  return normInt(big(a) % big(b));
}

export function intNeg(a: Int): Int | NFail {
  if (typeof a === "number") {
    const r = -a + 0;
    return r >= TWO_63 ? fail("int overflow during type conversion") : r;
  }
  return checkInt(-a, "type conversion");
}

export function uintAdd(a: Int, b: Int): Int | NFail {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  return checkUint(big(a) + big(b), "_+_");
}

export function uintSub(a: Int, b: Int): Int | NFail {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b;
    if (Number.isSafeInteger(r) && r >= 0) return r;
  }
  return checkUint(big(a) - big(b), "_-_");
}

export function uintMul(a: Int, b: Int): Int | NFail {
  if (typeof a === "number" && typeof b === "number") {
    const r = a * b;
    if (Number.isSafeInteger(r)) return r;
  }
  return checkUint(big(a) * big(b), "_*_");
}

export function uintDiv(a: Int, b: Int): Int | NFail {
  if (b == 0) return fail("uint divide by zero");
  if (typeof a === "number" && typeof b === "number" && Number.isSafeInteger(a) && Number.isSafeInteger(b)) return (a - (a % b)) / b;
  return checkUint(big(a) / big(b), `divide by ${big(b)}`);
}

export function uintMod(a: Int, b: Int): Int | NFail {
  if (b == 0) return fail("uint modulus by zero");
  if (typeof a === "number" && typeof b === "number" && Number.isSafeInteger(a) && Number.isSafeInteger(b)) return a % b;
  return normInt(big(a) % big(b));
}

// ---- strings and bytes ----

/** The number of code points, as `[...s].length`. */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Buffers become plain Uint8Array views of the same memory, as the views hand them to CEL. */
export function plainBytes(v: Uint8Array): Uint8Array {
  return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

// ---- readers: native value -> domain value, or a failure ----

/** Validates a native value against a type, as the view converters do. Never throws. */
export type Reader = (v: unknown) => unknown;

const describe = describeNative;

/**
 * A value of a protobuf message the fast path would not read as the
 * interpreter does (a number in an int64 field, which reflection reads as a
 * double; a value of another type than its field's): it propagates as a
 * failure, and a program whose result it is runs on the interpreter instead.
 * A failure absorbed on the way (`false && x`) gives the result the
 * interpreter gives too, whatever it would have made of the value.
 */
export const DEFERRED = new NFail("read by the interpreter");

function mismatch(expected: string, v: unknown): NFail {
  return fail(`expected ${expected}, got ${describe(v)}`);
}

function readInt(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) && v >= -TWO_63 && v < TWO_63 ? v : mismatch("int", v);
  if (typeof v === "bigint") return v >= INT_MIN && v <= INT_MAX ? v : fail("int out of range");
  return mismatch("int", v);
}

function readUint(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 && v < TWO_64 ? v : mismatch("uint", v);
  if (typeof v === "bigint") return v >= 0n && v <= UINT_MAX ? v : fail("uint out of range");
  return mismatch("uint", v);
}

function readDouble(v: unknown): unknown {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return mismatch("double", v);
}

function readString(v: unknown): unknown {
  return typeof v === "string" ? v : mismatch("string", v);
}

function readBool(v: unknown): unknown {
  return typeof v === "boolean" ? v : mismatch("bool", v);
}

function readBytes(v: unknown): unknown {
  return v instanceof Uint8Array ? v : mismatch("bytes", v);
}

function readNull(v: unknown): unknown {
  return v === null || v === undefined ? null : mismatch("null", v);
}

function readList(v: unknown): unknown {
  return Array.isArray(v) ? v : mismatch("list", v);
}

/** A record as the readers take it: an object that is not an array or bytes. */
export function isPlainObjectLike(v: unknown): v is object {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function readMap(v: unknown): unknown {
  return v instanceof Map || isPlainObjectLike(v) ? v : mismatch("map", v);
}

/** Containers the expression builds (literals) are always well-formed; domain values pass every reader unchanged. */
export function readerOf(t: NType): Reader {
  const read = baseReader(t);
  if (!("defer" in t) || t.defer !== true) return read;
  if (t.bigintOnly === true) return (v) => (typeof v === "bigint" ? deferFail(read(v)) : DEFERRED);
  return (v) => deferFail(read(v));
}

function deferFail(v: unknown): unknown {
  return v instanceof NFail ? DEFERRED : v;
}

function baseReader(t: NType): Reader {
  switch (t.k) {
    case "int":
      return readInt;
    case "uint":
      return readUint;
    case "double":
      return readDouble;
    case "string":
      return readString;
    case "bool":
      return readBool;
    case "bytes":
      return readBytes;
    case "null":
      return readNull;
    case "empty":
      return (v) => v;
    case "list":
      return readList;
    case "map":
      return readMap;
    case "record": {
      const name = t.shape.name;
      return (v) => (isPlainObjectLike(v) ? v : mismatch(`record ${name}`, v));
    }
    case "message": {
      const name = t.shape.name;
      return (v) => (isPlainObjectLike(v) && (v as { $typeName?: unknown }).$typeName === name ? v : mismatch(`message ${name}`, v));
    }
    case "nullable": {
      const inner = readerOf(t.inner);
      return (v) => (v === null || v === undefined ? null : inner(v));
    }
  }
}

const getters = new Map<string, (obj: object) => unknown>();

/**
 * The native value of a record field, or undefined when absent. Never a
 * prototype member or a method. One function per field name: a shared closure
 * would make the property load megamorphic, and field reads are the hot path.
 */
export function fieldReader(name: string): (obj: object) => unknown {
  let get = getters.get(name);
  if (get === undefined) {
    if (name in Object.prototype) {
      get = (obj) => {
        if (!Object.prototype.hasOwnProperty.call(obj, name)) return undefined;
        const raw = (obj as Record<string, unknown>)[name];
        return typeof raw === "function" ? undefined : raw;
      };
    } else {
      // The name is a JSON string literal: a constant property key, nothing else.
      get = new Function("o", `const v = o[${JSON.stringify(name)}]; return typeof v === "function" ? undefined : v;`) as (obj: object) => unknown;
    }
    getters.set(name, get);
  }
  return get;
}

/** The value of a string key of a native map (a Map or a plain object's own property), or undefined. */
export function mapGet(m: object, key: string): unknown {
  if (m instanceof Map) return m.get(key);
  return Object.prototype.hasOwnProperty.call(m, key) ? (m as Record<string, unknown>)[key] : undefined;
}

/** The string keys of a native map, as MapView lists them. */
export function mapKeys(m: object): unknown[] {
  if (m instanceof Map) return [...m.keys()].filter((k) => typeof k === "string");
  return Object.keys(m);
}

/** The number of entries of a native map, as MapView counts them. */
export function mapSize(m: object): number {
  if (m instanceof Map) {
    let n = 0;
    for (const k of m.keys()) if (typeof k === "string") n++;
    return n;
  }
  return Object.keys(m).length;
}
