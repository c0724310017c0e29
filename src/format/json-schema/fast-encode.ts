/**
 * The JSON payload of a message, validated and written as UTF-8 bytes in one
 * pass by code compiled once per schema, for schemas made of the common
 * keywords: type, properties, required, additionalProperties (true or false),
 * items (one schema), enum and const of primitives, and annotations. That is
 * most of a JSON Schema encode's cost otherwise: Ajv's validation,
 * JSON.stringify (a generic walk that, on Node 20, costs more than the rest
 * together), the walk that proves the text exact (codec.ts), and turning the
 * text into bytes. The bytes are written straight into the buffer
 * (json-bytes.ts): no JSON text is built.
 *
 * The compiled writer gives up (FALLBACK) on anything it is not sure of: a
 * value it would reject, a key order or property it does not expect, a
 * toJSON, a class instance, NaN... The generic encode then runs and decides,
 * with its own errors. What it does write is what the generic encode writes:
 * the value is valid for Ajv and the bytes are those of JSON.stringify's text,
 * byte for byte (test/format/json-schema/fast-encode.test.ts checks both on
 * generated values). A schema with any other validation keyword ($ref,
 * pattern, format, minimum, anyOf...) gets no compiled writer.
 */
import type { SchemaNode } from "./locate.js";
import { isObjectSchema } from "./locate.js";
import { writeBytes, writeNumber, writeString } from "./json-bytes.js";

/** What a writer returns when it gives up: no position is negative. */
export const FALLBACK = -1;
/**
 * Writes `value`'s JSON text at `b[p..]` and returns the position after it,
 * or FALLBACK. Bytes past the buffer's end are counted, not written: a result
 * beyond `b.length` is the size the message needs.
 */
export type JsonWriter = (b: Buffer, p: number, value: unknown) => number;

const HANDLED = new Set(["type", "properties", "required", "additionalProperties", "items", "enum", "const"]);
/** Keywords Ajv knows that only annotate (or, for Confluent's, are declared to check their own shape). */
const ANNOTATIONS = new Set(["$comment", "confluent:tags", "confluent:rules"]);
const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);

const utf8 = (s: string): Uint8Array => Buffer.from(s, "utf8");
const TRUE = utf8("true");
const FALSE = utf8("false");
const NULL = utf8("null");
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * The writer for `root`, or undefined when the schema uses a keyword the
 * writer does not implement. `validates(keyword)`: whether the schema's Ajv
 * instance validates with that keyword (unknown ones it ignores, as strict:
 * false does).
 */
export function compileJsonWriter(root: SchemaNode, validates: (keyword: string) => boolean): JsonWriter | undefined {
  try {
    return compileNode(root, validates, 0);
  } catch (e) {
    if (e === UNSUPPORTED) return undefined;
    throw e;
  }
}

const UNSUPPORTED = Symbol("unsupported");
/** Deeper schemas are left to the generic path (and bound the compile's recursion). */
const MAX_DEPTH = 64;

function compileNode(node: SchemaNode, validates: (keyword: string) => boolean, depth: number): JsonWriter {
  if (depth > MAX_DEPTH) throw UNSUPPORTED;
  if (node === false) return () => FALLBACK;
  if (node === true) return anyValue;
  for (const key of Object.keys(node)) {
    if (!HANDLED.has(key) && validates(key) && !ANNOTATIONS.has(key)) throw UNSUPPORTED;
  }
  const types = typesOf(node.type);
  const allowed = primitiveSet(node.enum, node.const);
  const object = types.has("object") ? compileObject(node, validates, depth) : undefined;
  const array = types.has("array") ? compileArray(node, validates, depth) : undefined;
  const string = types.has("string");
  const number = types.has("number");
  const integer = types.has("integer");
  const boolean = types.has("boolean");
  const nil = types.has("null");
  return (b, p, value) => {
    switch (typeof value) {
      case "string":
        if (!string || (allowed !== undefined && !allowed.has(value))) return FALLBACK;
        return writeString(b, p, value);
      case "number":
        // Ajv's strictNumbers: NaN and the infinities are no numbers.
        if (!Number.isFinite(value) || !(number || (integer && Number.isInteger(value))) || (allowed !== undefined && !allowed.has(value))) return FALLBACK;
        return writeNumber(b, p, value);
      case "boolean":
        if (!boolean || (allowed !== undefined && !allowed.has(value))) return FALLBACK;
        return writeBytes(b, p, value ? TRUE : FALSE);
      case "object":
        if (value === null) return nil && (allowed === undefined || allowed.has(null)) ? writeBytes(b, p, NULL) : FALLBACK;
        if (allowed !== undefined) return FALLBACK;
        return Array.isArray(value) ? (array === undefined ? FALLBACK : array(b, p, value)) : object === undefined ? FALLBACK : object(b, p, value);
      default:
        return FALLBACK;
    }
  };
}

/** `type` as a set; absent means every type. */
function typesOf(type: unknown): ReadonlySet<string> {
  if (type === undefined) return TYPES;
  const list = typeof type === "string" ? [type] : Array.isArray(type) ? type : undefined;
  if (list === undefined || !list.every((t) => typeof t === "string" && TYPES.has(t))) throw UNSUPPORTED;
  return new Set(list as string[]);
}

/** enum and const as one set of allowed primitives (both must hold: their intersection); undefined when neither is there. */
function primitiveSet(enumValues: unknown, constValue: unknown): ReadonlySet<unknown> | undefined {
  const isPrimitive = (v: unknown) => v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
  let set: Set<unknown> | undefined;
  if (enumValues !== undefined) {
    if (!Array.isArray(enumValues) || !enumValues.every(isPrimitive)) throw UNSUPPORTED;
    set = new Set(enumValues);
  }
  if (constValue !== undefined) {
    if (!isPrimitive(constValue)) throw UNSUPPORTED;
    set = set === undefined || set.has(constValue) ? new Set([constValue]) : new Set();
  }
  return set;
}

/** Any JSON value: exact when JSON.stringify would not change it (codec.ts's check), else the generic path. */
function anyValue(b: Buffer, p: number, value: unknown): number {
  switch (typeof value) {
    case "string":
      return writeString(b, p, value);
    case "number":
      return Number.isFinite(value) ? writeNumber(b, p, value) : FALLBACK;
    case "boolean":
      return writeBytes(b, p, value ? TRUE : FALSE);
    case "object":
      if (value === null) return writeBytes(b, p, NULL);
      if (Array.isArray(value)) return Object.getPrototypeOf(value) === Array.prototype ? arrayOf(b, p, value, anyValue) : FALLBACK;
      return isPlainObject(value) ? objectOf(b, p, value, undefined, true, undefined, 0) : FALLBACK;
    default:
      return FALLBACK;
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  // A toJSON (own, or Object.prototype's, if someone added one) decides what JSON.stringify writes.
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== "function";
}

function arrayOf(b: Buffer, p: number, value: readonly unknown[], item: JsonWriter): number {
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return FALLBACK;
  b[p++] = OPEN_ARRAY;
  for (let i = 0; i < value.length; i++) {
    // A hole or undefined would be written as null: not exact.
    const v = value[i];
    if (v === undefined) return FALLBACK;
    if (i > 0) b[p++] = COMMA;
    p = item(b, p, v);
    if (p === FALLBACK) return FALLBACK;
  }
  b[p] = CLOSE_ARRAY;
  return p + 1;
}

interface Property {
  /** The member's name as JSON text, with its colon: `"name":`. */
  readonly key: Uint8Array;
  readonly write: JsonWriter;
  readonly required: boolean;
}

/**
 * An object's members in its own key order (JSON.stringify's). Declared
 * properties by their writers, others by `additional` (undefined: none
 * allowed). `required` counts the required keys present, which must be all.
 */
function objectOf(b: Buffer, p: number, value: object, properties: ReadonlyMap<string, Property> | undefined, additional: boolean, required: ReadonlySet<string> | undefined, requiredCount: number): number {
  const open = p;
  b[p++] = OPEN_OBJECT;
  let seen = 0;
  for (const key in value) {
    // Own keys only: an enumerable key inherited from Object.prototype is no member for Ajv or JSON.stringify.
    if (!Object.hasOwn(value, key)) return FALLBACK;
    const prop = properties?.get(key);
    // An undeclared key fails additionalProperties: false whatever its value, undefined included (Ajv looks at keys).
    if (prop === undefined && !additional) return FALLBACK;
    const v = (value as Record<string, unknown>)[key];
    // JSON.stringify leaves the member out; Ajv's properties and required do not count it.
    if (v === undefined) continue;
    if (prop !== undefined) {
      if (p !== open + 1) b[p++] = COMMA;
      p = prop.write(b, writeBytes(b, p, prop.key), v);
      if (prop.required) seen++;
    } else {
      // JSON.stringify leaves out functions and symbols; any other value must be exact.
      if (typeof v === "function" || typeof v === "symbol") continue;
      if (p !== open + 1) b[p++] = COMMA;
      p = writeString(b, p, key);
      b[p++] = COLON;
      p = anyValue(b, p, v);
      if (required?.has(key) === true) seen++;
    }
    if (p === FALLBACK) return FALLBACK;
  }
  if (seen !== requiredCount) return FALLBACK;
  b[p] = CLOSE_OBJECT;
  return p + 1;
}

function compileObject(node: Readonly<Record<string, unknown>>, validates: (keyword: string) => boolean, depth: number): (b: Buffer, p: number, value: object) => number {
  const required = node.required;
  if (required !== undefined && (!Array.isArray(required) || !required.every((r) => typeof r === "string"))) throw UNSUPPORTED;
  const requiredSet = new Set((required as string[] | undefined) ?? []);
  // A name listed twice is counted once by Ajv, and could never be counted twice here: not worth a special case.
  if (requiredSet.size !== ((required as string[] | undefined)?.length ?? 0)) throw UNSUPPORTED;
  const additional = node.additionalProperties;
  if (additional !== undefined && typeof additional !== "boolean") throw UNSUPPORTED;
  const declared = node.properties;
  if (declared !== undefined && !isObjectSchema(declared)) throw UNSUPPORTED;
  const properties = new Map<string, Property>();
  const schemas = new Map<string, SchemaNode>();
  for (const [key, schema] of Object.entries(declared ?? {})) {
    if (typeof schema !== "boolean" && !isObjectSchema(schema)) throw UNSUPPORTED;
    properties.set(key, { key: utf8(`${JSON.stringify(key)}:`), write: compileNode(schema, validates, depth + 1), required: requiredSet.has(key) });
    schemas.set(key, schema);
  }
  // Required names without a property schema are counted as additional members.
  const undeclaredRequired = new Set([...requiredSet].filter((r) => !properties.has(r)));
  const allowsAdditional = additional !== false;
  const general = (b: Buffer, p: number, value: object) => objectOf(b, p, value, properties, allowsAdditional, undeclaredRequired.size > 0 ? undeclaredRequired : undefined, requiredSet.size);
  // Every required name must be declared for the generated code's count; otherwise the general path only.
  if (undeclaredRequired.size > 0) return (b, p, value) => (isPlainObject(value) ? general(b, p, value) : FALLBACK);
  return generatedObject([...properties], schemas, requiredSet.size, general);
}

/** Statements storing `bytes` at `b[p..]` and moving `p` past them: constants the compiler keeps in the code. */
function storeBytes(bytes: Uint8Array): string {
  let code = "";
  for (let i = 0; i < bytes.length; i++) code += `b[p${i === 0 ? "" : ` + ${i}`}] = ${bytes[i]}; `;
  return `${code}p += ${bytes.length};`;
}

/**
 * The common case as generated code: members in the order the schema declares
 * them (some may be absent), leaves checked and written inline, other values
 * by their writers. Members in another order, or undeclared ones, take the
 * general path.
 */
function generatedObject(
  properties: readonly (readonly [string, Property])[],
  schemas: ReadonlyMap<string, SchemaNode>,
  requiredCount: number,
  general: (b: Buffer, p: number, value: object) => number,
): (b: Buffer, p: number, value: object) => number {
  const keys = properties.map(([k]) => k);
  const writers = properties.map(([, p]) => p.write);
  const sets: (ReadonlySet<unknown> | undefined)[] = [];
  // What a member's value `x` must be, and how it is written after the key (`key`: statements writing it).
  const checks = properties.map(([name], i) => {
    const schema = schemas.get(name)!;
    const leaf = isObjectSchema(schema) ? leafType(schema) : undefined;
    sets.push(isObjectSchema(schema) ? primitiveSet(schema.enum, schema.const) : undefined);
    return (x: string, key: string) => {
      const allowed = sets[i] !== undefined ? ` || !E[${i}].has(${x})` : "";
      switch (leaf) {
        case "string":
          return `if (typeof ${x} !== "string"${allowed}) return F; ${key} p = S(b, p, ${x});`;
        case "number":
          return `if (typeof ${x} !== "number" || !Number.isFinite(${x})${allowed}) return F; ${key} p = NUM(b, p, ${x});`;
        case "integer":
          return `if (typeof ${x} !== "number" || !Number.isInteger(${x})${allowed}) return F; ${key} p = NUM(b, p, ${x});`;
        case "boolean":
          return `if (typeof ${x} !== "boolean"${allowed}) return F; ${key} p = BYTES(b, p, ${x} ? T : FA);`;
        default:
          return `${key} p = W[${i}](b, p, ${x}); if (p === F) return F;`;
      }
    };
  });
  // Every declared member, in order, none undefined: straight-line code.
  const direct = properties.map(([, prop], i) => {
    const key = storeBytes(i === 0 ? prop.key : Buffer.concat([Buffer.of(COMMA), prop.key]));
    return `    const x${i} = v[${JSON.stringify(keys[i])}];\n    if (x${i} === undefined) break direct;\n    ${checks[i]!(`x${i}`, key)}`;
  });
  // Any subset, in order: a member at a time.
  const cases = properties.map(([, prop], i) => {
    const key = `if (p !== open + 1) b[p++] = ${COMMA}; ${storeBytes(prop.key)}`;
    return `      case ${i}: { ${prop.required ? "seen++; " : ""}${checks[i]!("x", key)} break; }`;
  });
  const code = `return function writeObject(b, open, v) {
  if (!isPlain(v)) return F;
  let i = 0;
  for (const k in v) {
    if (k !== K[i] || !hasOwn.call(v, k)) { i = -1; break; }
    i++;
  }
  let p = open;
  b[p++] = ${OPEN_OBJECT};
  direct: if (i === N) {
${direct.join("\n")}
    b[p] = ${CLOSE_OBJECT};
    return p + 1;
  }
  p = open + 1;
  let seen = 0;
  let j = 0;
  for (const k in v) {
    while (j < N && K[j] !== k) j++;
    if (j === N || !hasOwn.call(v, k)) return general(b, open, v);
    const x = v[k];
    if (x !== undefined) {
      switch (j) {
${cases.join("\n")}
      }
    }
    j++;
  }
  if (seen !== R) return F;
  b[p] = ${CLOSE_OBJECT};
  return p + 1;
};`;
  const factory = new Function("F", "K", "N", "W", "E", "R", "S", "NUM", "BYTES", "T", "FA", "isPlain", "hasOwn", "general", code) as (...args: unknown[]) => (b: Buffer, p: number, value: object) => number;
  return factory(FALLBACK, keys, keys.length, writers, sets, requiredCount, writeString, writeNumber, writeBytes, TRUE, FALSE, isPlainObject, Object.prototype.hasOwnProperty, general);
}

/** The one primitive type of a schema whose only other constraints are enum or const, which the generated code checks inline. */
function leafType(schema: Readonly<Record<string, unknown>>): "string" | "number" | "integer" | "boolean" | undefined {
  const t = schema.type;
  return t === "string" || t === "number" || t === "integer" || t === "boolean" ? t : undefined;
}

function compileArray(node: Readonly<Record<string, unknown>>, validates: (keyword: string) => boolean, depth: number): (b: Buffer, p: number, value: readonly unknown[]) => number {
  const items = node.items;
  if (items !== undefined && typeof items !== "boolean" && !isObjectSchema(items)) throw UNSUPPORTED; // a tuple
  const item = items === undefined ? anyValue : compileNode(items as SchemaNode, validates, depth + 1);
  return (b, p, value) => (Object.getPrototypeOf(value) === Array.prototype ? arrayOf(b, p, value, item) : FALLBACK);
}
