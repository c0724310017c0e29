/**
 * CEL results back to the native representation of a shape (for TRANSFORM rules
 * and CEL_FIELD results). Views of the same shape give back the object they
 * wrap, so an identity result returns the original message untouched.
 */
import { isCelError, isCelList, isCelMap, isCelType, isCelUint } from "@bufbuild/cel";
import { isMessage, toJson } from "@bufbuild/protobuf";
import type { Message } from "@bufbuild/protobuf";
import { isReflectMessage } from "@bufbuild/protobuf/reflect";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { setOwn } from "../util/own.js";
import { CelValueError } from "./errors.js";
import { isCelFailure } from "./failure.js";
import type { CelShape } from "./shape.js";
import { ListView, MapView, RecordView } from "./view.js";

/**
 * Converts a CEL value to the native form `shape` describes. Throws
 * CelValueError (code "rule-runtime") naming the offending path when the value
 * does not fit. Mapping:
 * - int: bigint, CelUint or an integral double; a number unless the shape has
 *   `bigint`, failing when not a safe integer. uint likewise, and never negative.
 * - double: number (ints and uints are converted).
 * - bytes: a Uint8Array, or a Buffer (sharing its memory) when the shape says `buffer`.
 * - timestamp: google.protobuf.Timestamp to a Date, or epoch millis/micros
 *   (floored), per the shape's `native` (and `bigint`).
 * - record: a map (views included) to a plain object holding only schema fields;
 *   an unknown key is an error, a missing field is left out.
 * - list/map: arrays and plain objects (string keys only).
 * - dyn: JSON-like values: numbers (ints must be safe integers), strings, bools,
 *   null, Uint8Array, arrays, plain objects, timestamps as RFC 3339 strings.
 * - native: protobuf messages are unwrapped, anything else is returned as is.
 */
export function fromCel(value: unknown, shape: CelShape): unknown {
  return convert(value, shape, "");
}

function fail(path: string, message: string): never {
  throw new CelValueError(path, message);
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "double";
  if (typeof v !== "object") return typeof v;
  if (v instanceof Uint8Array) return "bytes";
  if (isCelUint(v)) return "uint";
  if (isCelList(v)) return "list";
  if (isCelMap(v)) return "map";
  if (isCelType(v)) return "type";
  if (isReflectMessage(v)) return v.desc.typeName;
  if (isMessage(v)) return v.$typeName;
  return "unknown";
}

function expected(path: string, what: string, v: unknown): never {
  return fail(path, `expected ${what}, got ${typeOf(v)}`);
}

function child(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

function integer(v: unknown, path: string, what: "int" | "uint"): bigint {
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "object" && v !== null && isCelUint(v)) n = v.value;
  else if (typeof v === "number" && Number.isInteger(v)) n = BigInt(v);
  else return expected(path, what, v);
  if (what === "uint" ? n < 0n || n > 2n ** 64n - 1n : n < -(2n ** 63n) || n > 2n ** 63n - 1n) {
    fail(path, `${n} is out of range for ${what}`);
  }
  return n;
}

function toNumber(n: bigint, path: string): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    fail(path, `${n} is not a safe integer for a JS number`);
  }
  return Number(n);
}

function timestampOf(v: unknown): Timestamp | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  if (isReflectMessage(v, TimestampSchema)) return v.message as Timestamp;
  if (isMessage(v, TimestampSchema)) return v;
  return undefined;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function convert(v: unknown, shape: CelShape, path: string): unknown {
  if (typeof v === "object" && v !== null) {
    if (isCelError(v)) fail(path, `evaluation error: ${v.message}`);
    if (isCelFailure(v)) fail(path, `evaluation failed: ${v.message}`);
  }
  switch (shape.kind) {
    case "int": {
      const n = integer(v, path, "int");
      return shape.bigint === true ? n : toNumber(n, path);
    }
    case "uint": {
      const n = integer(v, path, "uint");
      return shape.bigint === true ? n : toNumber(n, path);
    }
    case "double":
      if (typeof v === "number") return v;
      if (typeof v === "bigint") return Number(v);
      if (typeof v === "object" && v !== null && isCelUint(v)) return Number(v.value);
      return expected(path, "double", v);
    case "string":
      return typeof v === "string" ? v : expected(path, "string", v);
    case "bool":
      return typeof v === "boolean" ? v : expected(path, "bool", v);
    case "bytes":
      if (!(v instanceof Uint8Array)) return expected(path, "bytes", v);
      return shape.buffer === true && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
    case "null":
      return v === null ? null : expected(path, "null", v);
    case "timestamp": {
      const ts = timestampOf(v);
      if (ts === undefined) return expected(path, "google.protobuf.Timestamp", v);
      const nanos = BigInt(ts.nanos);
      if (shape.native === "date") return new Date(Number(ts.seconds * 1000n + floorDiv(nanos, 1_000_000n)));
      const units =
        shape.native === "millis"
          ? ts.seconds * 1000n + floorDiv(nanos, 1_000_000n)
          : ts.seconds * 1_000_000n + floorDiv(nanos, 1000n);
      return shape.bigint === true ? units : toNumber(units, path);
    }
    case "nullable":
      return v === null || v === undefined ? null : convert(v, shape.inner, path);
    case "record": {
      if (v instanceof RecordView && v.type.shape === shape) return v.native;
      if (typeof v !== "object" || v === null || !isCelMap(v)) return expected(path, `record ${shape.name}`, v);
      const out: Record<string, unknown> = {};
      for (const [key, field] of v) {
        if (typeof key !== "string") fail(path, `record ${shape.name} has no field ${String(key)}`);
        const fieldShape = shape.fields.get(key);
        if (fieldShape === undefined) fail(path, `record ${shape.name} has no field '${key}'`);
        setOwn(out, key, convert(field, fieldShape, child(path, key)));
      }
      return out;
    }
    case "list": {
      if (v instanceof ListView && v.type.shape === shape) return v.native;
      if (typeof v !== "object" || v === null || !isCelList(v)) return expected(path, "list", v);
      const out: unknown[] = [];
      let i = 0;
      for (const element of v) out.push(convert(element, shape.element, child(path, i++)));
      return out;
    }
    case "map": {
      if (v instanceof MapView && v.type.shape === shape) return v.native;
      if (typeof v !== "object" || v === null || !isCelMap(v)) return expected(path, "map", v);
      const out: Record<string, unknown> = {};
      for (const [key, value] of v) {
        if (typeof key !== "string") fail(path, `map keys must be strings, got ${typeOf(key)}`);
        setOwn(out, key, convert(value, shape.value, child(path, key)));
      }
      return out;
    }
    case "union": {
      let first: CelValueError | undefined;
      for (let i = 0; i < shape.branches.length; i++) {
        try {
          const native = convert(v, shape.branches[i], path);
          if (shape.pick(native) === i) return native;
        } catch (e) {
          if (!(e instanceof CelValueError)) throw e;
          first ??= e;
        }
      }
      return fail(path, `value of type ${typeOf(v)} fits no branch of the union${first ? ` (${first.message})` : ""}`);
    }
    case "dyn":
      return dyn(v, path);
    case "native":
      if (typeof v === "object" && v !== null) {
        if (isReflectMessage(v)) return v.message;
        if (isCelUint(v)) return v.value;
      }
      return v;
  }
}

function dyn(v: unknown, path: string): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
    case "number":
      return v;
    case "bigint":
      return toNumber(v, path);
    case "undefined":
      return null;
    case "object":
      break;
    default:
      return expected(path, "a JSON-like value", v);
  }
  if (v === null) return null;
  if (v instanceof Uint8Array) return v;
  if (v instanceof RecordView || v instanceof ListView || v instanceof MapView) return v.native;
  if (isCelError(v)) return fail(path, `evaluation error: ${v.message}`);
  if (isCelUint(v)) return toNumber(v.value, path);
  if (isCelList(v)) {
    const out: unknown[] = [];
    let i = 0;
    for (const element of v) out.push(dyn(element, child(path, i++)));
    return out;
  }
  if (isCelMap(v)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of v) {
      if (typeof key !== "string") fail(path, `map keys must be strings, got ${typeOf(key)}`);
      setOwn(out, key, dyn(value, child(path, key)));
    }
    return out;
  }
  const ts = timestampOf(v);
  if (ts !== undefined) return toJson(TimestampSchema, ts);
  if (isReflectMessage(v)) return v.message as Message;
  return expected(path, "a JSON-like value", v);
}
