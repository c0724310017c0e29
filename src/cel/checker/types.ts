/**
 * The static types of the checker, and the relations between them. The typing
 * is gradual: `dyn` matches anything, so an expression over schema-less data
 * checks clean and only what is known to be wrong is reported.
 */
import type { EnumSymbols } from "../shape.js";

export type ScalarKind =
  | "int"
  | "uint"
  | "double"
  | "string"
  | "bytes"
  | "bool"
  | "null"
  | "timestamp"
  | "duration"
  | "dyn"
  | "type";

export type CheckType =
  | { readonly kind: ScalarKind }
  /** A string that holds one of an enum's symbols (Avro enums, JSON Schema string enums). */
  | { readonly kind: "string"; readonly enum: EnumSymbols }
  | { readonly kind: "list"; readonly element: CheckType }
  | { readonly kind: "map"; readonly key: CheckType; readonly value: CheckType }
  /**
   * Avro/JSON records: a closed set of fields. At run time a CEL map with string keys.
   * `required`: the fields every value holds (has() is always true on them).
   */
  | { readonly kind: "record"; readonly name: string; readonly fields: ReadonlyMap<string, CheckType>; readonly required?: ReadonlySet<string> }
  /** A protobuf message; its fields come from the registry. */
  | { readonly kind: "message"; readonly typeName: string }
  /** A nullable field: `inner` or null. */
  | { readonly kind: "optional-null"; readonly inner: CheckType };

export type ListCheckType = Extract<CheckType, { kind: "list" }>;
export type MapCheckType = Extract<CheckType, { kind: "map" }>;
export type RecordCheckType = Extract<CheckType, { kind: "record" }>;

export const T = {
  int: { kind: "int" },
  uint: { kind: "uint" },
  double: { kind: "double" },
  string: { kind: "string" },
  bytes: { kind: "bytes" },
  bool: { kind: "bool" },
  null: { kind: "null" },
  timestamp: { kind: "timestamp" },
  duration: { kind: "duration" },
  dyn: { kind: "dyn" },
  type: { kind: "type" },
} as const satisfies Record<ScalarKind, CheckType>;

/**
 * The element type of an empty literal (`[]`, `{}`): dyn to everyone, but it
 * gives way to the other side when joined, so `[] + [1]` is list(int) and
 * `x.map(e, f(e))` (which starts from `[]`) is list(type of f(e)).
 */
export const EMPTY: CheckType = { kind: "dyn" };

export function listOf(element: CheckType): CheckType {
  return { kind: "list", element };
}

export function mapOf(key: CheckType, value: CheckType): CheckType {
  return { kind: "map", key, value };
}

/** `inner` or null; collapses the cases where null adds nothing. */
export function nullable(inner: CheckType): CheckType {
  if (inner.kind === "dyn" || inner.kind === "null" || inner.kind === "optional-null") return inner;
  return { kind: "optional-null", inner };
}

/** The type without its null part. */
export function nonNull(t: CheckType): CheckType {
  return t.kind === "optional-null" ? t.inner : t;
}

export function isDyn(t: CheckType): boolean {
  return t.kind === "dyn";
}

const NUMERIC: ReadonlySet<string> = new Set(["int", "uint", "double"]);

export function isNumeric(t: CheckType): boolean {
  return NUMERIC.has(t.kind);
}

/** `list(string)`, `map(string, int)`, `acme.Order`, `nullable(int)`. */
export function formatCheckType(t: CheckType): string {
  switch (t.kind) {
    case "list":
      return `list(${formatCheckType(t.element)})`;
    case "map":
      return `map(${formatCheckType(t.key)}, ${formatCheckType(t.value)})`;
    case "record":
      return t.name === "" ? "record" : t.name;
    case "message":
      return t.typeName;
    case "optional-null":
      return `nullable(${formatCheckType(t.inner)})`;
    default:
      return t.kind;
  }
}

/** Structural equality; records are equal when they are the same record (or share a name). */
export function sameType(a: CheckType, b: CheckType): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "list":
      return sameType(a.element, (b as ListCheckType).element);
    case "map":
      return sameType(a.key, (b as MapCheckType).key) && sameType(a.value, (b as MapCheckType).value);
    case "record":
      return a.name !== "" && a.name === (b as RecordCheckType).name;
    case "message":
      return a.typeName === (b as { typeName: string }).typeName;
    case "optional-null":
      return sameType(a.inner, (b as { inner: CheckType }).inner);
    default:
      return true;
  }
}

/** Types a null value may take the place of (as cel-go's checker allows: messages, timestamps, durations, wrappers). */
function acceptsNull(t: CheckType): boolean {
  switch (t.kind) {
    case "null":
    case "dyn":
    case "optional-null":
    case "message":
    case "timestamp":
    case "duration":
      return true;
    default:
      return false;
  }
}

/**
 * Whether a value of type `from` fits where `to` is expected, e.g. the result
 * of a TRANSFORM in a field of type `to`. Gradual: dyn fits anything and
 * anything fits dyn; a nullable value fits its non-null type (the null case is
 * a run-time matter). A map fits a record when its values fit every field, as
 * Java converts map results to the record.
 */
export function isAssignable(from: CheckType, to: CheckType): boolean {
  return assignable(from, to, 0);
}

/** Deep enough for any real schema; stops cyclic records from recursing forever. */
const MAX_DEPTH = 32;

function assignable(from: CheckType, to: CheckType, depth: number): boolean {
  if (from === to || from.kind === "dyn" || to.kind === "dyn") return true;
  if (depth > MAX_DEPTH) return true;
  const d = depth + 1;
  if (from.kind === "null") return acceptsNull(to);
  if (to.kind === "optional-null") return assignable(nonNull(from), to.inner, d);
  if (from.kind === "optional-null") return assignable(from.inner, to, d);
  switch (to.kind) {
    case "list":
      return from.kind === "list" && assignable(from.element, to.element, d);
    case "map":
      if (from.kind === "map") return assignable(from.key, to.key, d) && assignable(from.value, to.value, d);
      if (from.kind === "record") {
        return assignable(T.string, to.key, d) && [...from.fields.values()].every((f) => assignable(f, to.value, d));
      }
      return false;
    case "record":
      if (from.kind === "record") {
        if (sameType(from, to)) return true;
        // Another record: each of its fields must exist here and fit.
        for (const [name, type] of from.fields) {
          const target = to.fields.get(name);
          if (target === undefined || !assignable(type, target, d)) return false;
        }
        return true;
      }
      if (from.kind === "map") {
        return assignable(from.key, T.string, d) && [...to.fields.values()].every((f) => assignable(from.value, f, d));
      }
      return false;
    case "message":
      return from.kind === "message" && from.typeName === to.typeName;
    default:
      return from.kind === to.kind;
  }
}

/**
 * The least type holding values of both, for list elements, map entries and
 * the branches of `?:`. Falls back to dyn rather than failing.
 */
export function joinTypes(a: CheckType, b: CheckType): CheckType {
  if (a === EMPTY) return b;
  if (b === EMPTY) return a;
  if (sameType(a, b)) return a;
  if (a.kind === "dyn" || b.kind === "dyn") return T.dyn;
  if (a.kind === "null") return b.kind === "optional-null" || acceptsNull(b) ? b : nullable(b);
  if (b.kind === "null") return a.kind === "optional-null" || acceptsNull(a) ? a : nullable(a);
  if (a.kind === "optional-null" || b.kind === "optional-null") {
    const inner = joinTypes(nonNull(a), nonNull(b));
    return inner.kind === "dyn" ? T.dyn : nullable(inner);
  }
  if (a.kind === "list" && b.kind === "list") return listOf(joinTypes(a.element, b.element));
  if (a.kind === "map" && b.kind === "map") return mapOf(joinTypes(a.key, b.key), joinTypes(a.value, b.value));
  return T.dyn;
}

/**
 * Whether `==`/`!=` (and `in`) may compare the two. Numbers of different kinds
 * compare (the runtime's equality is heterogeneous, as Java's), null compares
 * with what may be null, records compare with maps (they are maps at run time).
 */
export function isComparable(a: CheckType, b: CheckType): boolean {
  return comparable(a, b, 0);
}

function comparable(a: CheckType, b: CheckType, depth: number): boolean {
  if (a.kind === "dyn" || b.kind === "dyn" || depth > MAX_DEPTH) return true;
  const d = depth + 1;
  if (a.kind === "null") return acceptsNull(b) || b.kind === "record";
  if (b.kind === "null") return acceptsNull(a) || a.kind === "record";
  if (a.kind === "optional-null") return comparable(a.inner, b, d);
  if (b.kind === "optional-null") return comparable(a, b.inner, d);
  if (isNumeric(a) && isNumeric(b)) return true;
  const mapLike = (t: CheckType) => t.kind === "map" || t.kind === "record";
  if (mapLike(a) && mapLike(b)) {
    if (a.kind === "map" && b.kind === "map") return comparable(a.key, b.key, d) && comparable(a.value, b.value, d);
    return true;
  }
  if (a.kind !== b.kind) return false;
  if (a.kind === "list") return comparable(a.element, (b as ListCheckType).element, d);
  if (a.kind === "message") return a.typeName === (b as { typeName: string }).typeName;
  return true;
}
