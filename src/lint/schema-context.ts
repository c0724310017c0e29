/**
 * What a compiled schema means to the CEL checker: the type of `message` for
 * CEL rules, and for every primitive field the types CEL_FIELD binds
 * (`value`, and `message` = the containing record), exactly as the runtime
 * binds them (src/engine/executors/cel-field.ts `leafShape`).
 */
import type { DescMessage, Registry } from "@bufbuild/protobuf";
import type { CelShape } from "../cel/shape.js";
import { isPrimitiveName, type CompiledSchema, type FieldInfo, type FieldTypeName } from "../format/types.js";
import { T, nullableOf, typeOfShape, type CheckType } from "./cel-check.js";

export interface FieldTypes {
  /** `value`: the field's type as the runtime binds it (nullable when the schema allows null). */
  readonly value: CheckType;
  /** `message`: the record containing the field. */
  readonly container: CheckType;
}

/**
 * The types a field walk hands to a rule at this field: a primitive field's own type, a union's
 * primitive branches (the walk resolves each value to one), nothing for records and lists.
 */
export function leafTypes(field: FieldInfo): readonly FieldTypeName[] {
  if (field.primitive) return [field.typeName];
  return field.branches?.filter((t) => t !== "NULL" && isPrimitiveName(t)) ?? [];
}

export interface SchemaContext {
  readonly schema: CompiledSchema;
  /** `message` in CEL rules (domain and encoding rules). */
  readonly messageType: CheckType;
  /** Protobuf types for the checker and runtime; undefined for Avro and JSON Schema. */
  readonly registry: Registry | undefined;
  /** Primitive fields: the ones CEL_FIELD rules visit. */
  readonly primitiveFields: readonly FieldInfo[];
  fieldTypes(field: FieldInfo): FieldTypes;
  /**
   * The schema's fields that `message.<path>` passes through, outermost first (`["address",
   * "street"]`: the address field, then the street field), as far as the path follows records.
   */
  fieldsAlong(path: readonly string[]): FieldInfo[];
}

type RecordShape = Extract<CelShape, { kind: "record" }>;

const contexts = new WeakMap<CompiledSchema, SchemaContext>();

export function schemaContext(schema: CompiledSchema): SchemaContext {
  let ctx = contexts.get(schema);
  if (!ctx) {
    ctx = build(schema);
    contexts.set(schema, ctx);
  }
  return ctx;
}

function build(schema: CompiledSchema): SchemaContext {
  const proto = schema as CompiledSchema & { desc?: DescMessage; registry?: Registry };
  const desc = schema.type === "PROTOBUF" ? proto.desc : undefined;
  const registry = schema.type === "PROTOBUF" ? proto.registry : undefined;
  const messageType = typeOfShape(schema.celShape, desc ? { desc } : {});
  const containers = schema.type === "JSON" ? jsonContainers(schema.celShape) : schema.type === "AVRO" ? avroContainers(schema.celShape) : undefined;
  const cache = new Map<FieldInfo, FieldTypes>();
  const byFullName = new Map(schema.fields.map((f) => [f.fullName, f]));
  return {
    schema,
    messageType,
    registry,
    primitiveFields: schema.fields.filter((f) => f.primitive),
    fieldTypes(field) {
      let types = cache.get(field);
      if (!types) {
        types = schema.type === "PROTOBUF" ? protobufFieldTypes(field, registry) : shapeFieldTypes(field, containers!);
        cache.set(field, types);
      }
      return types;
    },
    fieldsAlong(path) {
      const found: FieldInfo[] = [];
      if (schema.type === "JSON") {
        // JSON Schema full names are the paths themselves.
        for (let i = 1; i <= path.length; i++) {
          const field = byFullName.get(`$.${path.slice(0, i).join(".")}`);
          if (field === undefined) break;
          found.push(field);
        }
        return found;
      }
      // Avro and Protobuf name a field by its record's full name: follow the record shapes.
      let shape: CelShape | undefined = schema.celShape;
      for (const name of path) {
        while (shape?.kind === "nullable") shape = shape.inner;
        const record: { name: string; next: CelShape | undefined } | undefined =
          shape?.kind === "record" ? { name: shape.name, next: shape.fields.get(name) } : shape?.kind === "native" && shape.message ? { name: shape.message.name, next: shape.message.fields.get(name)?.shape } : undefined;
        const field = record && byFullName.get(`${record.name}.${name}`);
        if (field === undefined) break;
        found.push(field);
        shape = record!.next;
      }
      return found;
    },
  };
}

/** `value` as leafShape binds it: by Confluent type name, not by the record's (e.g. timestamp) shape. */
export function valueTypeOf(typeName: FieldTypeName): CheckType {
  switch (typeName) {
    case "INT":
    case "LONG":
      return T.int;
    case "FLOAT":
    case "DOUBLE":
      return T.double;
    case "STRING":
    case "ENUM":
      return T.string;
    case "BYTES":
    case "FIXED":
      return T.bytes;
    case "BOOLEAN":
      return T.bool;
    case "NULL":
      return T.null;
    default:
      return T.dyn;
  }
}

function shapeFieldTypes(field: FieldInfo, containers: ReadonlyMap<string, RecordShape>): FieldTypes {
  const dot = field.fullName.lastIndexOf(".");
  const containerKey = dot < 0 ? "" : field.fullName.slice(0, dot);
  // Avro: the record's full name; JSON Schema: the record's path template.
  const record = containers.get(containerKey);
  const base = valueTypeOf(field.typeName);
  const fieldShape = record?.fields.get(field.name);
  const value = fieldShape !== undefined && mayBeNull(fieldShape) ? nullableOf(base) : base;
  return { value, container: record ? typeOfShape(record) : T.dyn };
}

function mayBeNull(shape: CelShape): boolean {
  return shape.kind === "nullable" || (shape.kind === "union" && shape.branches.some((b) => b.kind === "null"));
}

/** Avro records by full name: a field `ns.Record.f` lives in `ns.Record`. */
function avroContainers(root: CelShape): Map<string, RecordShape> {
  const out = new Map<string, RecordShape>();
  const seen = new Set<CelShape>();
  const walk = (s: CelShape): void => {
    if (seen.has(s)) return;
    seen.add(s);
    switch (s.kind) {
      case "record":
        if (!out.has(s.name)) out.set(s.name, s);
        for (const f of s.fields.values()) walk(f);
        return;
      case "nullable":
        return walk(s.inner);
      case "list":
        return walk(s.element);
      case "map":
        return walk(s.value);
      case "union":
        return s.branches.forEach(walk);
      default:
        return;
    }
  };
  walk(root);
  return out;
}

/**
 * JSON Schema records by field path template (`$`, `$.address`, `$.items[*]`),
 * as the field list names them. A record reused under two paths appears under
 * both; recursion stops at the first repetition on a path.
 */
function jsonContainers(root: CelShape): Map<string, RecordShape> {
  const out = new Map<string, RecordShape>();
  const stack = new Set<CelShape>();
  const walk = (s: CelShape, template: string): void => {
    if (stack.has(s)) return;
    stack.add(s);
    switch (s.kind) {
      case "record":
        if (!out.has(template)) out.set(template, s);
        for (const [name, f] of s.fields) walk(f, `${template}.${name}`);
        break;
      case "nullable":
        walk(s.inner, template);
        break;
      case "list":
        walk(s.element, `${template}[*]`);
        break;
      case "union":
        for (const b of s.branches) walk(b, template);
        break;
      default:
        break;
    }
    stack.delete(s);
  };
  walk(root, "$");
  return out;
}

function protobufFieldTypes(field: FieldInfo, registry: Registry | undefined): FieldTypes {
  const dot = field.fullName.lastIndexOf(".");
  let containerName = field.fullName.slice(0, dot);
  const desc = registry?.getMessage(containerName);
  // Map values are named after the synthetic entry message; the runtime binds the map's owner.
  if (desc?.proto.options?.mapEntry === true && desc.parent) containerName = desc.parent.typeName;
  const container = registry?.getMessage(containerName);
  return { value: valueTypeOf(field.typeName), container: container ? typeOfShape({ kind: "native" }, { desc: container }) : T.dyn };
}
