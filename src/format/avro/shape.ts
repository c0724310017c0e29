/**
 * How avsc values look to CEL. Records are shared by full name, so recursive
 * schemas give cyclic shapes instead of infinite ones.
 */
import { type CelShape, SHAPES } from "../../cel/shape.js";
import {
  type AvroType,
  type EnumType,
  branchIndexByName,
  isArrayType,
  isMapType,
  isRecordType,
  isUnionType,
  isWrappedUnion,
  mapValues,
  nullableInner,
  unwrappedBranchIndex,
  wrappedBranchIndex,
} from "./avsc.js";
import type { ParsedAvro } from "./parse.js";

type RecordShape = Extract<CelShape, { kind: "record" }>;

export interface AvroShapes {
  readonly root: CelShape;
  /** Record shapes by full name: the `containerShape` of field visits. */
  readonly records: ReadonlyMap<string, RecordShape>;
}

const TIMESTAMP_MILLIS: CelShape = { kind: "timestamp", native: "millis" };
const TIMESTAMP_MICROS: CelShape = { kind: "timestamp", native: "micros" };

export function avroShapes(parsed: ParsedAvro): AvroShapes {
  const records = new Map<string, RecordShape>();
  const branchWrappers = new Map<AvroType, RecordShape>();
  const wrapperNames = new Set<string>();

  const shapeOf = (type: AvroType): CelShape => {
    switch (type.typeName) {
      case "int":
        return SHAPES.int;
      case "long": {
        // avsc decodes longs as JS numbers (it throws beyond 2^53), so no bigint here.
        const logical = parsed.logicalTypes.get(type);
        if (logical === "timestamp-millis") return TIMESTAMP_MILLIS;
        if (logical === "timestamp-micros") return TIMESTAMP_MICROS;
        return SHAPES.int;
      }
      case "float":
      case "double":
        return SHAPES.double;
      case "string":
        return SHAPES.string;
      case "enum":
        return { kind: "string", enum: { name: type.name ?? "enum", symbols: (type as EnumType).symbols } };
      case "bytes":
      case "fixed":
        return SHAPES.bufferBytes;
      case "boolean":
        return SHAPES.bool;
      case "null":
        return SHAPES.null;
    }
    if (isRecordType(type)) {
      const name = type.name ?? "";
      const cached = records.get(name);
      if (cached) return cached;
      const fields = new Map<string, CelShape>();
      // avsc records hold every field (null included), so has() is true for all of them.
      const shape: RecordShape = { kind: "record", name, fields, required: new Set(type.fields.map((f) => f.name)) };
      records.set(name, shape); // before the fields: recursive records end here
      for (const f of type.fields) fields.set(f.name, shapeOf(f.type));
      return shape;
    }
    if (isArrayType(type)) return { kind: "list", element: shapeOf(type.itemsType) };
    if (isMapType(type)) return { kind: "map", value: shapeOf(mapValues(type)) };
    if (isUnionType(type)) {
      const inner = nullableInner(type);
      if (inner) return { kind: "nullable", inner: shapeOf(inner) };
      if (isWrappedUnion(type)) {
        // Values are {branchName: value}: each branch looks like a one-field record.
        const byName = branchIndexByName(type);
        const branches = type.types.map((b) => (b.typeName === "null" ? SHAPES.null : wrapperShape(b)));
        return { kind: "union", branches, pick: (v) => wrappedBranchIndex(v, byName) };
      }
      const branches = type.types.map(shapeOf);
      return { kind: "union", branches, pick: (v) => unwrappedBranchIndex(type, v) };
    }
    return SHAPES.dyn;
  };

  const wrapperShape = (branch: AvroType): RecordShape => {
    let shape = branchWrappers.get(branch);
    if (!shape) {
      const key = branch.branchName ?? branch.typeName;
      // Record names stay unique: two `long` branches may differ by logical type.
      let name = `avro.union.${key}`;
      for (let i = 2; wrapperNames.has(name); i++) name = `avro.union.${key}.${i}`;
      wrapperNames.add(name);
      const fields = new Map<string, CelShape>();
      shape = { kind: "record", name, fields };
      branchWrappers.set(branch, shape);
      fields.set(key, shapeOf(branch));
    }
    return shape;
  };

  return { root: shapeOf(parsed.root), records };
}
