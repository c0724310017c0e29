/**
 * Check types from schemas: a compiled schema's CelShape (Avro, JSON Schema),
 * and protobuf descriptors (fields of messages, well-known types), mapped the
 * way the runtime presents values to CEL.
 */
import { ScalarType } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage, Registry } from "@bufbuild/protobuf";
import type { CelShape } from "../shape.js";
import { T, listOf, mapOf, nullable, sameType } from "./types.js";
import type { CheckType } from "./types.js";

const byShape = new WeakMap<CelShape, CheckType>();

/**
 * The check type of values of `shape`. `desc` gives the message type of a
 * protobuf schema's "native" shape; without it a native value is dyn.
 */
export function checkTypeOfShape(shape: CelShape, options: { desc?: DescMessage } = {}): CheckType {
  const desc = options.desc;
  if (desc !== undefined) return new ShapeConverter(desc).convert(shape);
  const hit = byShape.get(shape);
  if (hit !== undefined) return hit;
  const t = new ShapeConverter(undefined).convert(shape);
  byShape.set(shape, t);
  return t;
}

class ShapeConverter {
  // Per call: records reached again (recursive schemas) reuse the record being built.
  private readonly seen = new Map<CelShape, CheckType>();

  constructor(private readonly desc: DescMessage | undefined) {}

  convert(shape: CelShape): CheckType {
    const hit = this.seen.get(shape);
    if (hit !== undefined) return hit;
    switch (shape.kind) {
      case "string":
        return shape.enum === undefined ? T.string : { kind: "string", enum: shape.enum };
      case "int":
      case "uint":
      case "double":
      case "bool":
      case "bytes":
      case "null":
        return T[shape.kind];
      case "timestamp":
        return T.timestamp;
      case "dyn":
        return T.dyn;
      case "native":
        return this.desc === undefined ? T.dyn : messageCheckType(this.desc);
      case "nullable":
        return nullable(this.convert(shape.inner));
      case "list":
        return listOf(this.convert(shape.element));
      case "map":
        return mapOf(T.string, this.convert(shape.value));
      case "record": {
        const fields = new Map<string, CheckType>();
        const t: CheckType = shape.required === undefined ? { kind: "record", name: shape.name, fields } : { kind: "record", name: shape.name, fields, required: shape.required };
        this.seen.set(shape, t); // before the fields: recursive records end here
        for (const [name, field] of shape.fields) fields.set(name, this.convert(field));
        return t;
      }
      case "union":
        return this.union(shape.branches);
    }
  }

  /** One type when every non-null branch has it (nullable if a branch is null), else dyn. */
  private union(branches: readonly CelShape[]): CheckType {
    let hasNull = false;
    let common: CheckType | undefined;
    for (const b of branches) {
      const t = this.convert(b);
      if (t.kind === "null") {
        hasNull = true;
        continue;
      }
      if (common === undefined) common = t;
      else if (!sameType(common, t)) return T.dyn;
    }
    if (common === undefined) return hasNull ? T.null : T.dyn;
    return hasNull ? nullable(common) : common;
  }
}

const WRAPPERS: ReadonlyMap<string, CheckType> = new Map<string, CheckType>([
  ["google.protobuf.BoolValue", T.bool],
  ["google.protobuf.BytesValue", T.bytes],
  ["google.protobuf.DoubleValue", T.double],
  ["google.protobuf.FloatValue", T.double],
  ["google.protobuf.Int32Value", T.int],
  ["google.protobuf.Int64Value", T.int],
  ["google.protobuf.StringValue", T.string],
  ["google.protobuf.UInt32Value", T.uint],
  ["google.protobuf.UInt64Value", T.uint],
]);

/**
 * The check type of a message type, as CEL sees it: well-known types become
 * CEL values (Timestamp -> timestamp, wrappers -> nullable scalars, Struct ->
 * map, Any and Value -> dyn); other messages stay messages.
 */
export function messageCheckType(desc: DescMessage | string): CheckType {
  const typeName = typeof desc === "string" ? desc : desc.typeName;
  switch (typeName) {
    case "google.protobuf.Timestamp":
      return T.timestamp;
    case "google.protobuf.Duration":
      return T.duration;
    case "google.protobuf.Any":
    case "google.protobuf.Value":
      return T.dyn;
    case "google.protobuf.Struct":
      return mapOf(T.string, T.dyn);
    case "google.protobuf.ListValue":
      return listOf(T.dyn);
  }
  const wrapped = WRAPPERS.get(typeName);
  if (wrapped !== undefined) return nullable(wrapped);
  return { kind: "message", typeName };
}

export function scalarCheckType(scalar: ScalarType): CheckType {
  switch (scalar) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return T.double;
    case ScalarType.INT32:
    case ScalarType.INT64:
    case ScalarType.SINT32:
    case ScalarType.SINT64:
    case ScalarType.SFIXED32:
    case ScalarType.SFIXED64:
      return T.int;
    case ScalarType.UINT32:
    case ScalarType.UINT64:
    case ScalarType.FIXED32:
    case ScalarType.FIXED64:
      return T.uint;
    case ScalarType.BOOL:
      return T.bool;
    case ScalarType.STRING:
      return T.string;
    case ScalarType.BYTES:
      return T.bytes;
  }
}

function enumCheckType(e: DescEnum): CheckType {
  return e.typeName === "google.protobuf.NullValue" ? T.null : T.int;
}

/** How a field of a protobuf message reads in CEL. */
export function fieldCheckType(field: DescField): CheckType {
  switch (field.fieldKind) {
    case "scalar":
      return scalarCheckType(field.scalar);
    case "enum":
      return enumCheckType(field.enum);
    case "message":
      return messageCheckType(field.message);
    case "list":
      switch (field.listKind) {
        case "scalar":
          return listOf(scalarCheckType(field.scalar));
        case "enum":
          return listOf(enumCheckType(field.enum));
        case "message":
          return listOf(messageCheckType(field.message));
      }
      break;
    case "map": {
      const key = scalarCheckType(field.mapKey);
      switch (field.mapKind) {
        case "scalar":
          return mapOf(key, scalarCheckType(field.scalar));
        case "enum":
          return mapOf(key, enumCheckType(field.enum));
        case "message":
          return mapOf(key, messageCheckType(field.message));
      }
    }
  }
  return T.dyn;
}

const fieldsByDesc = new WeakMap<DescMessage, ReadonlyMap<string, CheckType>>();

/** The fields of a message by their protobuf name (the name CEL uses). */
export function messageFields(desc: DescMessage): ReadonlyMap<string, CheckType> {
  let fields = fieldsByDesc.get(desc);
  if (fields === undefined) {
    const m = new Map<string, CheckType>();
    for (const f of desc.fields) m.set(f.name, fieldCheckType(f));
    fields = m;
    fieldsByDesc.set(desc, fields);
  }
  return fields;
}

/** The descriptor of a message type, or undefined when the registry lacks it. */
export function findMessage(registry: Registry | undefined, typeName: string): DescMessage | undefined {
  return registry?.getMessage(typeName);
}
