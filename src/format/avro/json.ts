/**
 * The JSON form of Avro values, what JSONata rules, migrations and dead-letter
 * records see.
 *
 * "avro" (default) is Avro's JSON encoding, the form the Java client hands to
 * JSONata (AvroSchemaUtils.toJson uses Avro's JsonEncoder): a non-null union
 * value is wrapped as `{"<branch name>": value}`, bytes and fixed are strings
 * with one char per byte (ISO-8859-1). "plain" unwraps unions and writes bytes
 * as base64. Both forms write NaN and ±Infinity as the strings "NaN",
 * "Infinity" and "-Infinity".
 *
 * fromJson accepts unions both wrapped and unwrapped in either mode, so
 * expressions that build plain values still convert back.
 */
import { SerializationError } from "../../errors.js";
import {
  type AvroType,
  type RecordType,
  type UnionType,
  isArrayType,
  isEnumType,
  isFixedType,
  isMapType,
  isRecordType,
  isUnionType,
  isWrappedUnion,
  mapValues,
  unwrappedBranchIndex,
} from "./avsc.js";
import { appendKey, describeValue, setOwn } from "./values.js";

export type AvroJsonForm = "avro" | "plain";

export function avroToJson(type: AvroType, value: unknown, form: AvroJsonForm): unknown {
  return toJson(type, value, form, "", undefined);
}

/** Record fields to redact in the JSON form, by full name ("ns.Record.field"). */
export interface AvroRedaction {
  readonly fields: ReadonlySet<string>;
  readonly replace: (json: unknown) => unknown;
}

/** The JSON form with the fields of `redaction` replaced, in the same pass (see JsonRedactor). */
export function avroToRedactedJson(type: AvroType, value: unknown, form: AvroJsonForm, redaction: AvroRedaction): unknown {
  return toJson(type, value, form, "", redaction);
}

export function avroFromJson(type: AvroType, json: unknown, form: AvroJsonForm): unknown {
  const value = fromJson(type, json, form, "");
  // Built to fit by construction; this guards the promise that fromJson never returns an invalid value.
  if (!type.isValid(value)) throw new SerializationError("message-invalid", `JSON converts to a value that is not valid for Avro type ${typeLabel(type)}`);
  return value;
}

function mismatch(type: AvroType, value: unknown, path: string, what = "value"): SerializationError {
  const at = path === "" ? "the root" : path;
  return new SerializationError("message-invalid", `${what} at ${at} does not fit Avro type ${typeLabel(type)}: got ${describeValue(value)}`);
}

function typeLabel(type: AvroType): string {
  if (isUnionType(type)) return `[${type.types.map((t) => t.branchName ?? t.typeName).join(", ")}]`;
  return type.name ?? type.typeName;
}

function toJson(type: AvroType, value: unknown, form: AvroJsonForm, path: string, redaction: AvroRedaction | undefined): unknown {
  switch (type.typeName) {
    case "null":
      if (value !== null) throw mismatch(type, value, path);
      return null;
    case "boolean":
      if (typeof value !== "boolean") throw mismatch(type, value, path);
      return value;
    case "string":
    case "enum":
      if (typeof value !== "string") throw mismatch(type, value, path);
      return value;
    case "int":
    case "long":
      if (typeof value !== "number") throw mismatch(type, value, path);
      return value;
    case "float":
    case "double":
      if (typeof value !== "number") throw mismatch(type, value, path);
      return Number.isFinite(value) ? value : String(value);
    case "bytes":
    case "fixed":
      if (!(value instanceof Uint8Array)) throw mismatch(type, value, path);
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString(form === "avro" ? "latin1" : "base64");
  }
  if (isRecordType(type)) {
    if (value === null || typeof value !== "object") throw mismatch(type, value, path);
    const out: Record<string, unknown> = {};
    for (const f of type.fields) {
      // Own properties only: a field may be named `constructor` or `toString` (parse.ts refuses `__proto__`).
      const json = toJson(f.type, ownValue(value, f.name), form, appendKey(path, f.name), redaction);
      out[f.name] = redaction !== undefined && redaction.fields.has(`${type.name ?? ""}.${f.name}`) ? redaction.replace(json) : json;
    }
    return out;
  }
  if (isArrayType(type)) {
    if (!Array.isArray(value)) throw mismatch(type, value, path);
    return value.map((v: unknown, i) => toJson(type.itemsType, v, form, `${path}[${i}]`, redaction));
  }
  if (isMapType(type)) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw mismatch(type, value, path);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, toJson(mapValues(type), v, form, appendKey(path, k), redaction));
    return out;
  }
  if (isUnionType(type)) {
    if (value === null) return null;
    let branch: AvroType | undefined;
    let inner: unknown = value;
    if (isWrappedUnion(type)) {
      const keys = typeof value === "object" ? Object.keys(value) : [];
      branch = keys.length === 1 ? type.types.find((t) => t.branchName === keys[0]) : undefined;
      if (branch) inner = (value as Record<string, unknown>)[keys[0]!];
    } else {
      branch = type.types[unwrappedBranchIndex(type, value)];
    }
    if (!branch || branch.typeName === "null") throw mismatch(type, value, path);
    const json = toJson(branch, inner, form, path, redaction);
    return form === "avro" ? { [branch.branchName!]: json } : json;
  }
  throw mismatch(type, value, path);
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromJson(type: AvroType, json: unknown, form: AvroJsonForm, path: string): unknown {
  switch (type.typeName) {
    case "null":
      if (json !== null) throw mismatch(type, json, path, "JSON");
      return null;
    case "boolean":
      if (typeof json !== "boolean") throw mismatch(type, json, path, "JSON");
      return json;
    case "string":
      if (typeof json !== "string") throw mismatch(type, json, path, "JSON");
      return json;
    case "int":
      if (!Number.isInteger(json) || (json as number) < INT_MIN || (json as number) > INT_MAX) throw mismatch(type, json, path, "JSON");
      return json;
    case "long":
      if (!Number.isSafeInteger(json)) throw mismatch(type, json, path, "JSON");
      return json;
    case "float":
    case "double":
      if (typeof json === "number") return json;
      if (typeof json === "string" && json in NON_FINITE) return NON_FINITE[json];
      throw mismatch(type, json, path, "JSON");
    case "bytes":
      return bytesFromJson(type, json, form, path);
  }
  if (isEnumType(type)) {
    if (typeof json !== "string" || !type.symbols.includes(json)) throw mismatch(type, json, path, "JSON");
    return json;
  }
  if (isFixedType(type)) {
    const buf = bytesFromJson(type, json, form, path);
    if (buf.length !== type.size) throw mismatch(type, json, path, "JSON");
    return buf;
  }
  if (isRecordType(type)) return recordFromJson(type, json, form, path);
  if (isArrayType(type)) {
    if (!Array.isArray(json)) throw mismatch(type, json, path, "JSON");
    return json.map((v: unknown, i) => fromJson(type.itemsType, v, form, `${path}[${i}]`));
  }
  if (isMapType(type)) {
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw mismatch(type, json, path, "JSON");
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(json)) setOwn(out, k, fromJson(mapValues(type), v, form, appendKey(path, k)));
    return out;
  }
  if (isUnionType(type)) return unionFromJson(type, json, form, path);
  throw mismatch(type, json, path, "JSON");
}

function bytesFromJson(type: AvroType, json: unknown, form: AvroJsonForm, path: string): Buffer {
  if (typeof json !== "string") throw mismatch(type, json, path, "JSON");
  if (form === "plain") {
    if (json.length % 4 !== 0 || !BASE64.test(json)) throw mismatch(type, json, path, "JSON (base64)");
    return Buffer.from(json, "base64");
  }
  for (let i = 0; i < json.length; i++) {
    if (json.charCodeAt(i) > 0xff) throw mismatch(type, json, path, "JSON (one char per byte)");
  }
  return Buffer.from(json, "latin1");
}

function recordFromJson(type: RecordType, json: unknown, form: AvroJsonForm, path: string): unknown {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw mismatch(type, json, path, "JSON");
  const obj = json as Record<string, unknown>;
  const args = type.fields.map((f) => {
    const fieldPath = appendKey(path, f.name);
    const field = ownValue(obj, f.name);
    if (field !== undefined) return fromJson(f.type, field, form, fieldPath);
    // A missing field takes its default (the record constructor fills it in).
    if (f.defaultValue() !== undefined) return undefined;
    throw new SerializationError("message-invalid", `JSON at ${fieldPath} is missing: field ${f.name} of ${type.name ?? "record"} has no default`);
  });
  const Ctor = type.recordConstructor as new (...values: unknown[]) => unknown;
  return new Ctor(...args);
}

function ownValue(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

function unionFromJson(type: UnionType, json: unknown, form: AvroJsonForm, path: string): unknown {
  const wrap = (branch: AvroType, inner: unknown): unknown => (isWrappedUnion(type) ? { [branch.branchName!]: inner } : inner);
  if (json === null) {
    if (type.types.some((t) => t.typeName === "null")) return null;
    throw mismatch(type, json, path, "JSON");
  }
  // The Avro JSON encoding: {"<branch>": value}; named types by full or short name.
  if (typeof json === "object" && !Array.isArray(json)) {
    const keys = Object.keys(json);
    if (keys.length === 1) {
      const key = keys[0]!;
      const branch =
        type.types.find((t) => t.branchName === key) ??
        type.types.find((t) => t.name !== undefined && t.name.slice(t.name.lastIndexOf(".") + 1) === key);
      if (branch && branch.typeName !== "null") {
        try {
          return wrap(branch, fromJson(branch, (json as Record<string, unknown>)[key], form, path));
        } catch {
          // Not a wrapper after all (e.g. a map with one key): try the plain form below.
        }
      }
    }
  }
  // The plain form: the first branch the value converts to.
  for (const branch of type.types) {
    if (branch.typeName === "null") continue;
    try {
      return wrap(branch, fromJson(branch, json, form, path));
    } catch {
      // next branch
    }
  }
  throw mismatch(type, json, path, "JSON");
}
