/**
 * The JSON text of a message, validated and written in one pass by code
 * compiled once per schema, for schemas made of the common keywords: type,
 * properties, required, additionalProperties (true or false), items (one
 * schema), enum and const of primitives, and annotations. That is most of a
 * JSON Schema encode's cost otherwise: Ajv's validation, JSON.stringify (a
 * generic walk that, on Node 20, costs more than the rest together) and the
 * walk that proves the text exact (codec.ts).
 *
 * The compiled writer gives up (FALLBACK) on anything it is not sure of: a
 * value it would reject, a key order or property it does not expect, a
 * toJSON, a class instance, NaN... The generic encode then runs and decides,
 * with its own errors. What it does write is what the generic encode writes:
 * the value is valid for Ajv and the text is JSON.stringify's, byte for byte
 * (test/format/json-schema/fast-encode.test.ts checks both on generated
 * values). A schema with any other validation keyword ($ref, pattern, format,
 * minimum, anyOf...) gets no compiled writer.
 */
import type { SchemaNode } from "./locate.js";
import { isObjectSchema } from "./locate.js";

export const FALLBACK: unique symbol = Symbol("fallback");
type Writer = (value: unknown) => string | typeof FALLBACK;

const HANDLED = new Set(["type", "properties", "required", "additionalProperties", "items", "enum", "const"]);
/** Keywords Ajv knows that only annotate (or, for Confluent's, are declared to check their own shape). */
const ANNOTATIONS = new Set(["$comment", "confluent:tags", "confluent:rules"]);
const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);

/**
 * The writer for `root`, or undefined when the schema uses a keyword the
 * writer does not implement. `validates(keyword)`: whether the schema's Ajv
 * instance validates with that keyword (unknown ones it ignores, as strict:
 * false does).
 */
export function compileJsonWriter(root: SchemaNode, validates: (keyword: string) => boolean): ((value: unknown) => string | typeof FALLBACK) | undefined {
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

// JSON.stringify escapes quotes, backslashes, control characters and lone surrogates;
// strings without any are written as they are.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function compileNode(node: SchemaNode, validates: (keyword: string) => boolean, depth: number): Writer {
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
  return (value) => {
    switch (typeof value) {
      case "string":
        if (!string || (allowed !== undefined && !allowed.has(value))) return FALLBACK;
        return quote(value);
      case "number":
        // Ajv's strictNumbers: NaN and the infinities are no numbers. For a finite number, JSON.stringify writes String(n).
        if (!Number.isFinite(value) || !(number || (integer && Number.isInteger(value))) || (allowed !== undefined && !allowed.has(value))) return FALLBACK;
        return `${value}`;
      case "boolean":
        if (!boolean || (allowed !== undefined && !allowed.has(value))) return FALLBACK;
        return value ? "true" : "false";
      case "object":
        if (value === null) return nil && (allowed === undefined || allowed.has(null)) ? "null" : FALLBACK;
        if (allowed !== undefined) return FALLBACK;
        return Array.isArray(value) ? (array === undefined ? FALLBACK : array(value)) : object === undefined ? FALLBACK : object(value);
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
function anyValue(value: unknown): string | typeof FALLBACK {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
      return Number.isFinite(value) ? `${value}` : FALLBACK;
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return Object.getPrototypeOf(value) === Array.prototype ? arrayOf(value, anyValue) : FALLBACK;
      return isPlainObject(value) ? objectOf(value, undefined, true, undefined, 0) : FALLBACK;
    default:
      return FALLBACK;
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  // A toJSON (own, or Object.prototype's, if someone added one) decides what JSON.stringify writes.
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== "function";
}

function arrayOf(value: readonly unknown[], item: Writer): string | typeof FALLBACK {
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return FALLBACK;
  let out = "[";
  for (let i = 0; i < value.length; i++) {
    // A hole or undefined would be written as null: not exact.
    const v = value[i];
    if (v === undefined) return FALLBACK;
    const w = item(v);
    if (w === FALLBACK) return FALLBACK;
    out += i === 0 ? w : `,${w}`;
  }
  return `${out}]`;
}

interface Property {
  readonly key: string;
  readonly write: Writer;
  readonly required: boolean;
}

/**
 * An object's members in its own key order (JSON.stringify's). Declared
 * properties by their writers, others by `additional` (undefined: none
 * allowed). `required` counts the required keys present, which must be all.
 */
function objectOf(value: object, properties: ReadonlyMap<string, Property> | undefined, additional: boolean, required: ReadonlySet<string> | undefined, requiredCount: number): string | typeof FALLBACK {
  let out = "{";
  let seen = 0;
  let first = true;
  for (const key in value) {
    // Own keys only: an enumerable key inherited from Object.prototype is no member for Ajv or JSON.stringify.
    if (!Object.hasOwn(value, key)) return FALLBACK;
    const p = properties?.get(key);
    // An undeclared key fails additionalProperties: false whatever its value, undefined included (Ajv looks at keys).
    if (p === undefined && !additional) return FALLBACK;
    const v = (value as Record<string, unknown>)[key];
    // JSON.stringify leaves the member out; Ajv's properties and required do not count it.
    if (v === undefined) continue;
    let w: string | typeof FALLBACK;
    if (p !== undefined) {
      w = p.write(v);
      if (p.required) seen++;
    } else {
      // JSON.stringify leaves out functions and symbols; any other value must be exact.
      if (typeof v === "function" || typeof v === "symbol") continue;
      w = anyValue(v);
      if (required?.has(key) === true) seen++;
    }
    if (w === FALLBACK) return FALLBACK;
    out += first ? `${p?.key ?? JSON.stringify(key)}:${w}` : `,${p?.key ?? JSON.stringify(key)}:${w}`;
    first = false;
  }
  return seen === requiredCount ? `${out}}` : FALLBACK;
}

function compileObject(node: Readonly<Record<string, unknown>>, validates: (keyword: string) => boolean, depth: number): (value: object) => string | typeof FALLBACK {
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
    properties.set(key, { key: JSON.stringify(key), write: compileNode(schema, validates, depth + 1), required: requiredSet.has(key) });
    schemas.set(key, schema);
  }
  // Required names without a property schema are counted as additional members.
  const undeclaredRequired = new Set([...requiredSet].filter((r) => !properties.has(r)));
  const allowsAdditional = additional !== false;
  const general = (value: object) => objectOf(value, properties, allowsAdditional, undeclaredRequired.size > 0 ? undeclaredRequired : undefined, requiredSet.size);
  // Every required name must be declared for the generated code's count; otherwise the general path only.
  if (undeclaredRequired.size > 0) return (value) => (isPlainObject(value) ? general(value) : FALLBACK);
  return generatedObject([...properties.values()], schemas, requiredSet.size, general);
}

/**
 * The common case as generated code: members in the order the schema declares
 * them (some may be absent), leaves checked and written inline, other values
 * by their writers. Members in another order, or undeclared ones, take the
 * general path.
 */
function generatedObject(
  properties: readonly Property[],
  schemas: ReadonlyMap<string, SchemaNode>,
  requiredCount: number,
  general: (value: object) => string | typeof FALLBACK,
): (value: object) => string | typeof FALLBACK {
  const keys = properties.map((p) => JSON.parse(p.key) as string);
  const writers = properties.map((p) => p.write);
  const sets: (ReadonlySet<unknown> | undefined)[] = [];
  // What a member's value must be, inline: `x` the value, `write` how to append its text to `s`.
  const checks = properties.map((p, i) => {
    const schema = schemas.get(keys[i]!)!;
    const leaf = isObjectSchema(schema) ? leafType(schema) : undefined;
    sets.push(isObjectSchema(schema) ? primitiveSet(schema.enum, schema.const) : undefined);
    const allowed = sets[i] !== undefined ? ` || !E[${i}].has(x)` : "";
    switch (leaf) {
      case "string":
        return (x: string, key: string) => `if (typeof ${x} !== "string"${allowed.replace("(x)", `(${x})`)}) return F; s += ${key} + (NE.test(${x}) ? JSON.stringify(${x}) : '"' + ${x} + '"');`;
      case "number":
        return (x: string, key: string) => `if (typeof ${x} !== "number" || !Number.isFinite(${x})${allowed.replace("(x)", `(${x})`)}) return F; s += ${key} + ${x};`;
      case "integer":
        return (x: string, key: string) => `if (typeof ${x} !== "number" || !Number.isInteger(${x})${allowed.replace("(x)", `(${x})`)}) return F; s += ${key} + ${x};`;
      case "boolean":
        return (x: string, key: string) => `if (typeof ${x} !== "boolean"${allowed.replace("(x)", `(${x})`)}) return F; s += ${key} + (${x} ? "true" : "false");`;
      default:
        return (x: string, key: string) => `{ const w = W[${i}](${x}); if (w === F) return F; s += ${key} + w; }`;
    }
  });
  // Every declared member, in order, none undefined: straight-line code.
  const direct = properties.map((p, i) => {
    const key = JSON.stringify(`${i === 0 ? "" : ","}${p.key}:`);
    return `    const x${i} = v[${JSON.stringify(keys[i])}];\n    if (x${i} === undefined) break direct;\n    ${checks[i]!(`x${i}`, key)}`;
  });
  // Any subset, in order: a member at a time.
  const cases = properties.map((p, i) => {
    const key = `(s.length === 1 ? ${JSON.stringify(`${p.key}:`)} : ${JSON.stringify(`,${p.key}:`)})`;
    return `      case ${i}: { ${p.required ? "seen++; " : ""}${checks[i]!("x", key)} break; }`;
  });
  const code = `return function writeObject(v) {
  if (!isPlain(v)) return F;
  let s = "{";
  let i = 0;
  for (const k in v) {
    if (k !== K[i] || !hasOwn(v, k)) { i = -1; break; }
    i++;
  }
  direct: if (i === N) {
${direct.join("\n")}
    return s + "}";
  }
  s = "{";
  let seen = 0;
  let j = 0;
  for (const k in v) {
    while (j < N && K[j] !== k) j++;
    if (j === N || !hasOwn(v, k)) return general(v);
    const x = v[k];
    if (x !== undefined) {
      switch (j) {
${cases.join("\n")}
      }
    }
    j++;
  }
  return seen === R ? s + "}" : F;
};`;
  const factory = new Function("F", "K", "N", "W", "E", "R", "NE", "isPlain", "hasOwn", "general", code) as (...args: unknown[]) => (value: object) => string | typeof FALLBACK;
  return factory(FALLBACK, keys, keys.length, writers, sets, requiredCount, NEEDS_ESCAPE, isPlainObject, Object.hasOwn, general);
}

/** The one primitive type of a schema whose only other constraints are enum or const, which the generated code checks inline. */
function leafType(schema: Readonly<Record<string, unknown>>): "string" | "number" | "integer" | "boolean" | undefined {
  const t = schema.type;
  return t === "string" || t === "number" || t === "integer" || t === "boolean" ? t : undefined;
}

function compileArray(node: Readonly<Record<string, unknown>>, validates: (keyword: string) => boolean, depth: number): (value: readonly unknown[]) => string | typeof FALLBACK {
  const items = node.items;
  if (items !== undefined && typeof items !== "boolean" && !isObjectSchema(items)) throw UNSUPPORTED; // a tuple
  const item = items === undefined ? anyValue : compileNode(items as SchemaNode, validates, depth + 1);
  return (value) => (Object.getPrototypeOf(value) === Array.prototype ? arrayOf(value, item) : FALLBACK);
}
