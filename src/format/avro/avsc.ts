/**
 * The slice of avsc the Avro adapter uses, with narrowing helpers, so the rest
 * of the adapter never touches avsc's loosely typed internals directly.
 */
import type avsc from "avsc";
// avsc's types module, not its index: the index also loads its container files and RPC services
// (zlib, streams), which kontract never uses, some 4 ms of the CLI's start-up.
import avscTypes from "avsc/lib/types.js";
// A static import, not createRequire: the CLI bundle (scripts/build.mjs) then holds the same avsc as the rest.
import avscUtils from "avsc/lib/utils.js";
import type { FieldTypeName } from "../types.js";

export type AvroType = avsc.Type;
export type RecordType = avsc.types.RecordType;
export type ArrayType = avsc.types.ArrayType;
export type MapType = avsc.types.MapType;
export type UnionType = avsc.types.UnwrappedUnionType | avsc.types.WrappedUnionType;
export type EnumType = avsc.types.EnumType;
export type FixedType = avsc.types.FixedType;

export const AvscType: typeof avsc.Type = avscTypes.Type;

// ---- avsc's internals (avsc 5.7, pinned): what kontract's tap and bounded collections drive ----

/**
 * Node's Buffer, with the decoder `toString("utf8", …)` ends in: calling it
 * directly skips the argument checks and encoding lookup, as avsc does.
 */
export type TapBuffer = Buffer & { utf8Slice(start: number, end: number): string };

/** avsc's Tap (lib/utils.js): a cursor over a Buffer whose reads and writes never throw on overflow; they move `pos` past the end. */
export interface Tap {
  buf: TapBuffer;
  pos: number;
  readInt(): number;
  readLong(): number;
  writeLong(n: number): void;
  skipLong(): void;
  readString(): string | undefined;
  writeString(s: string): void;
  skipString(): void;
  isValid(): boolean;
  _invalidate(): void;
}

/** avsc's generated per-type code: every type (and every resolver) reads, writes and skips through a Tap. */
export interface TypeInternals {
  _read(tap: Tap): unknown;
  _write(tap: Tap, value: unknown): void;
  _skip(tap: Tap): void;
}

/** avsc's Tap class, to extend (not exported by the package's index). */
export const TapClass = (avscUtils as { Tap: new (buf: TapBuffer, pos?: number) => Tap }).Tap;

/** avsc's enum type class, to extend. */
export const EnumTypeClass = (avscTypes.builtins as { EnumType: new (schema: unknown, opts: unknown) => object }).EnumType;

/** avsc's array and map type classes, to extend. */
export const { ArrayType, MapType } = avscTypes.builtins as {
  ArrayType: new (schema: unknown, opts: unknown) => AvroType;
  MapType: new (schema: unknown, opts: unknown) => AvroType;
};

export function isRecordType(t: AvroType): t is RecordType {
  return t.typeName === "record" || t.typeName === "error";
}
export function isArrayType(t: AvroType): t is ArrayType {
  return t.typeName === "array";
}
export function isMapType(t: AvroType): t is MapType {
  return t.typeName === "map";
}
export function isUnionType(t: AvroType): t is UnionType {
  return t.typeName === "union:wrapped" || t.typeName === "union:unwrapped";
}
/** Wrapped unions hold `{branchName: value}` objects (avsc picks them for ambiguous unions). */
export function isWrappedUnion(t: AvroType): boolean {
  return t.typeName === "union:wrapped";
}
export function isEnumType(t: AvroType): t is EnumType {
  return t.typeName === "enum";
}
export function isFixedType(t: AvroType): t is FixedType {
  return t.typeName === "fixed";
}

/** The value type of a map (avsc types it as `any`). */
export function mapValues(t: MapType): AvroType {
  return t.valuesType as AvroType;
}

/** The non-null branch of a `[null, X]` / `[X, null]` union. */
export function nullableInner(t: AvroType): AvroType | undefined {
  if (!isUnionType(t) || t.types.length !== 2) return undefined;
  const [a, b] = t.types as [AvroType, AvroType];
  if (a.typeName === "null" && b.typeName !== "null") return b;
  if (b.typeName === "null" && a.typeName !== "null") return a;
  return undefined;
}

/**
 * Branch index of an unwrapped union value, by avsc's own bucket logic (the
 * same one it encodes with), or -1.
 */
export function unwrappedBranchIndex(t: UnionType, value: unknown): number {
  const index = (t as unknown as { _getIndex(v: unknown): number | undefined })._getIndex(value);
  return index === undefined ? -1 : index;
}

/** Branch index of a wrapped union value (`null` or `{branchName: value}`), or -1. */
export function wrappedBranchIndex(value: unknown, byName: ReadonlyMap<string, number>): number {
  if (value === null) return byName.get("null") ?? -1;
  if (typeof value !== "object" || value === undefined) return -1;
  let found = -1;
  for (const key in value) {
    if (found !== -1) return -1; // more than one key
    found = byName.get(key) ?? -1;
    if (found === -1) return -1;
  }
  return found;
}

export function branchIndexByName(t: UnionType): Map<string, number> {
  const m = new Map<string, number>();
  t.types.forEach((b, i) => m.set(b.branchName ?? b.typeName, i));
  return m;
}

/** Confluent's type name for an Avro type (Java AvroSchema.getType). */
export function avroTypeName(t: AvroType): FieldTypeName {
  switch (t.typeName) {
    case "record":
    case "error":
      return "RECORD";
    case "enum":
      return "ENUM";
    case "array":
      return "ARRAY";
    case "map":
      return "MAP";
    case "union:wrapped":
    case "union:unwrapped":
      return "COMBINED";
    case "fixed":
      return "FIXED";
    case "string":
      return "STRING";
    case "bytes":
      return "BYTES";
    case "int":
      return "INT";
    case "long":
      return "LONG";
    case "float":
      return "FLOAT";
    case "double":
      return "DOUBLE";
    case "boolean":
      return "BOOLEAN";
    default:
      return "NULL";
  }
}

/** A field's type name: nullable unions report their non-null type. */
export function fieldTypeName(t: AvroType): FieldTypeName {
  const inner = nullableInner(t);
  return avroTypeName(inner ?? t);
}

