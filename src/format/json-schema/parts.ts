/**
 * The keywords of one JSON Schema node that shape messages, with `$ref`s
 * resolved, and Confluent's type name for a node.
 */
import type { FieldTypeName } from "../types.js";
import { type Loc, type SchemaIndex, isObjectSchema } from "./locate.js";
import { primitiveTypeName } from "./leaf.js";

export const JSON_TYPES = ["null", "boolean", "object", "array", "number", "string", "integer"] as const;
export type JsonType = (typeof JSON_TYPES)[number];

export interface Parts {
  /** The `type` keyword, if any. */
  readonly types: readonly JsonType[] | undefined;
  readonly ref: Loc | undefined;
  readonly allOf: readonly Loc[];
  readonly anyOf: readonly Loc[];
  readonly oneOf: readonly Loc[];
  readonly properties: readonly (readonly [name: string, loc: Loc])[];
  /** The `required` keyword: property names a valid object holds. */
  readonly required: readonly string[];
  /** A single `items` schema (tuple forms are not walked, as in Java). */
  readonly items: Loc | undefined;
  readonly additionalProperties: Loc | undefined;
  /** `enum` or `const`: Confluent's ENUM, never a primitive leaf. */
  readonly enumValues: readonly unknown[] | undefined;
  readonly inlineTags: readonly string[];
  readonly title: string | undefined;
}

const EMPTY: Parts = Object.freeze({
  types: undefined,
  ref: undefined,
  allOf: [],
  anyOf: [],
  oneOf: [],
  properties: [],
  required: [],
  items: undefined,
  additionalProperties: undefined,
  enumValues: undefined,
  inlineTags: [],
  title: undefined,
});

export type PartsOf = (loc: Loc) => Parts;

/** Parts per node object, computed once. */
export function partsReader(index: SchemaIndex): PartsOf {
  const cache = new WeakMap<object, Parts>();
  return (loc) => {
    const node = loc.node;
    if (!isObjectSchema(node)) return EMPTY;
    let parts = cache.get(node);
    if (!parts) {
      parts = readParts(index, loc, node);
      cache.set(node, parts);
    }
    return parts;
  };
}

function readParts(index: SchemaIndex, loc: Loc, node: Readonly<Record<string, unknown>>): Parts {
  const list = (keyword: string): Loc[] => {
    const value = node[keyword];
    if (!Array.isArray(value)) return [];
    return value.map((_, i) => index.child(loc, keyword, i)).filter((l): l is Loc => l !== undefined);
  };
  const type = node.type;
  const types = typeof type === "string" ? [type] : Array.isArray(type) ? type.filter((t): t is string => typeof t === "string") : undefined;
  const props = isObjectSchema(node.properties) ? Object.keys(node.properties) : [];
  const items = isObjectSchema(node.items) || typeof node.items === "boolean" ? index.child(loc, "items") : undefined;
  const tags = node["confluent:tags"];
  return {
    types: types?.filter((t): t is JsonType => (JSON_TYPES as readonly string[]).includes(t)),
    ref: typeof node.$ref === "string" ? index.resolveRef(loc, node.$ref) : undefined,
    allOf: list("allOf"),
    anyOf: list("anyOf"),
    oneOf: list("oneOf"),
    properties: props.map((name) => [name, index.child(loc, "properties", name)!] as const).filter(([, l]) => l !== undefined),
    required: Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === "string") : [],
    items,
    additionalProperties: isObjectSchema(node.additionalProperties) ? index.child(loc, "additionalProperties") : undefined,
    enumValues: Array.isArray(node.enum) ? node.enum : "const" in node ? [node.const] : undefined,
    inlineTags: Array.isArray(tags) ? tags.map(String) : [],
    title: typeof node.title === "string" ? node.title : undefined,
  };
}

/** Whether the node does anything besides `$ref` (draft 2019+ allows siblings). */
export function hasOwnShape(p: Parts): boolean {
  return (
    p.types !== undefined ||
    p.properties.length > 0 ||
    p.items !== undefined ||
    p.enumValues !== undefined ||
    p.allOf.length > 0 ||
    p.anyOf.length > 0 ||
    p.oneOf.length > 0
  );
}

function nameOfType(t: JsonType, p: Parts): FieldTypeName {
  if (t === "object") return p.properties.length > 0 ? "RECORD" : "MAP";
  if (t === "array") return "ARRAY";
  return primitiveTypeName(t)!;
}

/** A `{type: "null"}` branch of a nullable oneOf/anyOf. */
export function isNullSchema(partsOf: PartsOf, loc: Loc): boolean {
  const p = partsOf(loc);
  return p.types !== undefined && p.types.length === 1 && p.types[0] === "null" && !hasCombinators(p);
}

function hasCombinators(p: Parts): boolean {
  return p.ref !== undefined || p.allOf.length > 0 || p.anyOf.length > 0 || p.oneOf.length > 0;
}

/** The non-null branch of `oneOf`/`anyOf: [{type: null}, X]`. */
export function nullableBranch(partsOf: PartsOf, p: Parts): Loc | undefined {
  const branches = p.oneOf.length > 0 ? p.oneOf : p.anyOf;
  if (branches.length !== 2 || (p.oneOf.length > 0 && p.anyOf.length > 0)) return undefined;
  const [a, b] = branches as [Loc, Loc];
  if (isNullSchema(partsOf, a) && !isNullSchema(partsOf, b)) return b;
  if (isNullSchema(partsOf, b) && !isNullSchema(partsOf, a)) return a;
  return undefined;
}

/** The branch types of a node `jsonTypeName` calls COMBINED, nested combinations flattened. */
export function jsonBranchTypes(partsOf: PartsOf, loc: Loc, seen: Set<unknown> = new Set()): FieldTypeName[] {
  if (!isObjectSchema(loc.node) || seen.has(loc.node)) return [];
  seen.add(loc.node);
  const p = partsOf(loc);
  if (p.types !== undefined && p.types.length > 1) return p.types.map((t) => nameOfType(t, p));
  const out: FieldTypeName[] = [];
  for (const branch of [...p.allOf, ...p.anyOf, ...p.oneOf]) {
    const name = jsonTypeName(partsOf, branch);
    if (name === "COMBINED") out.push(...jsonBranchTypes(partsOf, branch, seen));
    else out.push(name);
  }
  return out;
}

/**
 * Confluent's type name of a node (Java JsonSchema.getType), except that
 * nullable forms (`type: [X, "null"]`, `oneOf: [{type: null}, X]`) report X.
 */
export function jsonTypeName(partsOf: PartsOf, loc: Loc, seen: Set<unknown> = new Set()): FieldTypeName {
  if (!isObjectSchema(loc.node) || seen.has(loc.node)) return "NULL";
  seen.add(loc.node);
  const p = partsOf(loc);
  if (p.enumValues !== undefined) return "ENUM";
  if (p.types !== undefined && p.types.length > 0) {
    const nonNull = p.types.filter((t) => t !== "null");
    if (p.types.length === 1) return nameOfType(p.types[0]!, p);
    // "integer" and "number" together are still one number type.
    if (nonNull.length === 2 && nonNull.includes("integer") && nonNull.includes("number")) return "DOUBLE";
    return nonNull.length === 1 ? nameOfType(nonNull[0]!, p) : "COMBINED";
  }
  if (p.properties.length > 0) return "RECORD";
  if (p.items !== undefined) return "ARRAY";
  if (p.allOf.length > 0 || p.anyOf.length > 0 || p.oneOf.length > 0) {
    const inner = nullableBranch(partsOf, p);
    return inner ? jsonTypeName(partsOf, inner, seen) : "COMBINED";
  }
  if (p.ref) return jsonTypeName(partsOf, p.ref, seen);
  return "NULL";
}
