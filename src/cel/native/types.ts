/**
 * Static types of the native fast path. Each type fixes how its values are
 * held in JS while a native program runs (the "domain" representation):
 *
 * - bool, string, double: boolean, string, number.
 * - int, uint: a JS number holding an integer, or a bigint (only when the
 *   value does not fit a number exactly). No BigInt unless arithmetic needs it.
 * - bytes: a Uint8Array (Buffers stay Buffers).
 * - null: null.
 * - list: a JS array; map: a JS Map or a plain object; record: the native
 *   object. Their elements, values and fields are validated against their type
 *   when read (as the lazy views do), so a native container and a container
 *   the expression built are read the same way.
 * - nullable(T): null or a T.
 * - empty: the element type of `[]` and `{}`; it joins with anything.
 *
 * - message: a protobuf-es message whose shape the format described.
 *
 * Anything else (timestamps, durations, dyn, unions, messages of well-known
 * types, types) has no native type: an expression that needs one runs on the interpreter.
 */
import type { CelShape, MessageFieldShape, MessageShape } from "../shape.js";

export type RecordShape = Extract<CelShape, { kind: "record" }>;

export type ScalarKind = "bool" | "int" | "uint" | "double" | "string" | "bytes" | "null";

export type NType =
  /**
   * `defer`: read from a protobuf message; a value not of the field's
   * representation (`bigintOnly`: a number in a 64-bit field, which reflection
   * reads as a double) is read by the interpreter instead (DEFERRED).
   */
  | { readonly k: ScalarKind; readonly defer?: true; readonly bigintOnly?: true }
  | { readonly k: "empty" }
  /** `shape`: the schema shape the value comes from, kept so results convert back to the same view. */
  | { readonly k: "list"; readonly elem: NType; readonly shape?: CelShape }
  | { readonly k: "map"; readonly key: NType; readonly value: NType; readonly shape?: CelShape }
  | { readonly k: "record"; readonly shape: RecordShape }
  /** A protobuf-es message: fields read with CEL's protobuf semantics (defaults when unset, presence for has()). */
  | { readonly k: "message"; readonly shape: MessageShape }
  | { readonly k: "nullable"; readonly inner: NType };

export type ListType = Extract<NType, { k: "list" }>;
export type MapType = Extract<NType, { k: "map" }>;
export type RecordType = Extract<NType, { k: "record" }>;
export type MessageType = Extract<NType, { k: "message" }>;

export const N = {
  bool: { k: "bool" },
  int: { k: "int" },
  uint: { k: "uint" },
  double: { k: "double" },
  string: { k: "string" },
  bytes: { k: "bytes" },
  null: { k: "null" },
  empty: { k: "empty" },
} as const satisfies Record<string, NType>;

/** Raised while compiling: the expression leaves the native subset and runs on the interpreter. */
export class Unsupported extends Error {}

export function unsupported(why: string): never {
  throw new Unsupported(why);
}

const byShape = new WeakMap<CelShape, NType | null>();

/**
 * The native type of values of `shape`, or undefined when the fast path cannot
 * read them (timestamps, unions, dyn, protobuf messages). Record fields are
 * typed on demand, so a record with a dyn field still reads its other fields.
 */
export function typeOfShape(shape: CelShape): NType | undefined {
  const hit = byShape.get(shape);
  if (hit !== undefined) return hit ?? undefined;
  const t = computeType(shape);
  byShape.set(shape, t ?? null);
  return t;
}

/**
 * `inMessage`: the values of a protobuf message's fields (and their list
 * elements and map values), whose scalars defer what does not fit them.
 */
function computeType(shape: CelShape, inMessage = false): NType | undefined {
  const sub = (s: CelShape): NType | undefined => (inMessage ? computeType(s, true) : typeOfShape(s));
  switch (shape.kind) {
    case "int":
    case "uint":
      return !inMessage ? N[shape.kind] : shape.bigint ? { k: shape.kind, defer: true, bigintOnly: true } : { k: shape.kind, defer: true };
    case "double":
    case "string":
    case "bool":
    case "bytes":
      return inMessage ? { k: shape.kind, defer: true } : N[shape.kind];
    case "null":
      return N.null;
    case "nullable": {
      const inner = sub(shape.inner);
      return inner === undefined ? undefined : nullable(inner);
    }
    case "record":
      return { k: "record", shape };
    case "native":
      return shape.message === undefined ? undefined : { k: "message", shape: shape.message };
    case "list": {
      const elem = sub(shape.element);
      return elem === undefined ? undefined : { k: "list", elem, shape };
    }
    case "map": {
      const value = sub(shape.value);
      return value === undefined ? undefined : { k: "map", key: N.string, value, shape };
    }
    default:
      return undefined;
  }
}

/** Field `name` of a message type and its type; undefined when the field is unknown or not readable natively. */
export function messageFieldType(t: MessageType, name: string): { field: MessageFieldShape; t: NType } | undefined {
  const field = t.shape.fields.get(name);
  const ft = field === undefined ? undefined : computeType(field.shape, true);
  return ft === undefined ? undefined : { field: field!, t: ft };
}

/** Whether values of the type are or hold protobuf messages (the interpreter's results for them are its own objects). */
export function holdsMessage(t: NType): boolean {
  switch (t.k) {
    case "message":
      return true;
    case "nullable":
      return holdsMessage(t.inner);
    case "list":
      return holdsMessage(t.elem);
    case "map":
      return holdsMessage(t.value);
    default:
      return false;
  }
}

/** The type of field `name` of a record type; undefined when the field is unknown or not readable natively. */
export function fieldType(t: RecordType, name: string): NType | undefined {
  const shape = t.shape.fields.get(name);
  return shape === undefined ? undefined : typeOfShape(shape);
}

export function nullable(inner: NType): NType {
  if (inner.k === "null" || inner.k === "nullable") return inner;
  return { k: "nullable", inner };
}

export function nonNull(t: NType): NType {
  return t.k === "nullable" ? t.inner : t;
}

export function isNumeric(t: NType): boolean {
  return t.k === "int" || t.k === "uint" || t.k === "double";
}

/** Structural equality, ignoring where a container came from. */
export function sameType(a: NType, b: NType): boolean {
  if (a === b) return true;
  if (a.k !== b.k) return false;
  switch (a.k) {
    case "list":
      return sameType(a.elem, (b as ListType).elem);
    case "map":
      return sameType(a.key, (b as MapType).key) && sameType(a.value, (b as MapType).value);
    case "record":
      return a.shape === (b as RecordType).shape;
    case "message":
      return a.shape === (b as MessageType).shape;
    case "nullable":
      return sameType(a.inner, (b as { inner: NType }).inner);
    default:
      return true;
  }
}

/**
 * The type holding values of both (list elements, map entries, `?:` branches,
 * comprehension accumulators), or undefined when only dyn would: then the
 * expression is not native.
 */
export function joinTypes(a: NType, b: NType): NType | undefined {
  if (a.k === "empty") return b;
  if (b.k === "empty") return a;
  if (sameType(a, b)) {
    if (a.k === "list") return a.shape === (b as ListType).shape ? a : { ...a, shape: undefined };
    // Maps the expression builds and maps of the message differ in has() (a null value is absent in the former).
    if (a.k === "map") return a.shape === (b as MapType).shape ? a : undefined;
    return a;
  }
  if (a.k === "null") return nullable(b);
  if (b.k === "null") return nullable(a);
  if (a.k === "nullable" || b.k === "nullable") {
    const inner = joinTypes(nonNull(a), nonNull(b));
    return inner === undefined ? undefined : nullable(inner);
  }
  if (a.k === "list" && b.k === "list") {
    const elem = joinTypes(a.elem, b.elem);
    return elem === undefined ? undefined : { k: "list", elem };
  }
  if (a.k === "map" && b.k === "map") {
    if (a.shape !== undefined || b.shape !== undefined) return undefined;
    const key = joinTypes(a.key, b.key);
    const value = joinTypes(a.value, b.value);
    return key === undefined || value === undefined ? undefined : { k: "map", key, value };
  }
  return undefined;
}

/** The CEL type name of a value of this type, as the interpreter prints it in errors. */
export function celTypeName(t: NType, v: unknown): string {
  if (v === null) return "null_type";
  const n = nonNull(t);
  switch (n.k) {
    case "null":
      return "null_type";
    case "list":
    case "empty":
      return "list";
    case "map":
    case "record":
      return "map";
    case "message":
      return n.shape.name;
    default:
      return n.k;
  }
}
