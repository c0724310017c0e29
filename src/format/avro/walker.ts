/**
 * Field walkers for Avro values (Java AvroSchema.toTransformedMessage):
 * unions resolve their branch per value, arrays and maps recurse into their
 * elements, records start a new field context. Only primitive leaves are
 * visited, with the tags of the record field that holds them.
 *
 * Walkers are compiled per tag set and pruned: a record none of whose
 * reachable fields can match is never entered. Values are copied on write:
 * untouched subtrees are shared with the input, which is never mutated.
 */
import type { CelShape } from "../../cel/shape.js";
import { isPrimitiveName, type FieldInfo, type FieldTypeName, type FieldVisitor, type FieldWalker } from "../types.js";
import {
  type AvroType,
  type RecordType,
  type UnionType,
  avroTypeName,
  branchIndexByName,
  isArrayType,
  isMapType,
  isRecordType,
  isUnionType,
  isWrappedUnion,
  mapValues,
  unwrappedBranchIndex,
  wrappedBranchIndex,
} from "./avsc.js";
import type { AvroFields } from "./fields.js";
import type { ParsedAvro } from "./parse.js";
import type { AvroShapes } from "./shape.js";
import { appendKey, cloneObject, recordCopier, setOwn } from "./values.js";

/** Walks one value; returns it unchanged (===) or a changed copy. */
type Step = (value: unknown, path: string, container: unknown, visit: FieldVisitor) => unknown;

interface Context {
  readonly field: FieldInfo;
  readonly shape: CelShape;
}

export function compileAvroWalker(
  parsed: ParsedAvro,
  fields: AvroFields,
  shapes: AvroShapes,
  tags: ReadonlySet<string> | undefined,
): FieldWalker {
  const matches = (f: FieldInfo): boolean => {
    if (!tags || tags.size === 0) return true;
    for (const t of f.tags) if (tags.has(t)) return true;
    return false;
  };
  const infoOf = (record: RecordType, fieldName: string): FieldInfo => fields.byFullName.get(`${record.name ?? ""}.${fieldName}`)!;
  const needed = neededRecords(parsed.root, (r, f) => matches(infoOf(r, f)));

  const recordSteps = new Map<RecordType, Step>();
  const leafInfos = new Map<string, FieldInfo>();

  // The type of the union branch the value resolves to, as Java sets it: a null is NULL, even in a nullable field.
  const leafInfo = (field: FieldInfo, typeName: FieldTypeName): FieldInfo => {
    if (typeName === field.typeName) return field;
    const key = `${field.fullName}\u0000${typeName}`;
    let info = leafInfos.get(key);
    if (!info) {
      info = Object.freeze(field.typeName === "COMBINED" ? { ...field, typeName, primitive: true, inCombined: true } : { ...field, typeName, primitive: true });
      leafInfos.set(key, info);
    }
    return info;
  };

  const stepFor = (type: AvroType, ctx: Context | undefined): Step | undefined => {
    if (isRecordType(type)) return needed.has(type) ? recordStep(type) : undefined;
    if (isArrayType(type)) {
      const item = stepFor(type.itemsType, ctx);
      return item && arrayStep(item);
    }
    if (isMapType(type)) {
      const value = stepFor(mapValues(type), ctx);
      return value && mapStep(value);
    }
    if (isUnionType(type)) return unionStep(type, ctx);
    const name = avroTypeName(type);
    if (!ctx || !isPrimitiveName(name) || !matches(ctx.field)) return undefined;
    return leafStep(leafInfo(ctx.field, name), ctx.shape);
  };

  const recordStep = (record: RecordType): Step => {
    const cached = recordSteps.get(record);
    if (cached) return cached;
    const fieldSteps: { name: string; step: Step }[] = [];
    const copy = recordCopier(
      record.fields.map((f) => f.name),
      record.recordConstructor as { prototype: object },
    );
    const step: Step = (value, path, _container, visit) => {
      if (value === null || typeof value !== "object") return value;
      let out: Record<string, unknown> | undefined;
      for (let i = 0; i < fieldSteps.length; i++) {
        const { name, step: fieldStep } = fieldSteps[i]!;
        const current = (out ?? value) as Record<string, unknown>;
        if (!Object.hasOwn(current, name)) continue; // absent key: nothing to visit (as the JS client)
        const old = current[name];
        if (old === undefined) continue;
        // Later fields see earlier fields' new values, as Java mutates the record in place.
        const next = fieldStep(old, path === "" ? name : `${path}.${name}`, current, visit);
        if (next !== old) {
          out ??= copy(value);
          out[name] = next;
        }
      }
      return out ?? value;
    };
    recordSteps.set(record, step); // before the fields: recursive records reuse it
    const shape = shapes.records.get(record.name ?? "")!;
    for (const f of record.fields) {
      const s = stepFor(f.type, { field: infoOf(record, f.name), shape });
      if (s) fieldSteps.push({ name: f.name, step: s });
    }
    return step;
  };

  const unionStep = (type: UnionType, ctx: Context | undefined): Step | undefined => {
    const branches = type.types.map((b) => stepFor(b, ctx));
    if (branches.every((b) => b === undefined)) return undefined;
    if (isWrappedUnion(type)) {
      const byName = branchIndexByName(type);
      return (value, path, container, visit) => {
        const i = wrappedBranchIndex(value, byName);
        const s = i < 0 ? undefined : branches[i];
        if (!s) return value;
        if (value === null) return s(value, path, container, visit);
        const key = type.types[i]!.branchName!;
        const wrapper = value as Record<string, unknown>;
        const inner = wrapper[key];
        const next = s(inner, path, container, visit);
        if (next === inner) return value;
        const copy = cloneObject(wrapper);
        copy[key] = next;
        return copy;
      };
    }
    return (value, path, container, visit) => {
      const i = unwrappedBranchIndex(type, value);
      const s = i < 0 ? undefined : branches[i];
      return s ? s(value, path, container, visit) : value;
    };
  };

  const root = stepFor(parsed.root, undefined);
  if (!root) return (message) => message;
  return (message, visit) => root(message, "", undefined, visit) as typeof message;
}

function leafStep(field: FieldInfo, containerShape: CelShape): Step {
  return (value, path, container, visit) => visit(value, { field, container, containerShape, path });
}

function arrayStep(item: Step): Step {
  return (value, path, container, visit) => {
    if (!Array.isArray(value)) return value;
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const old: unknown = value[i];
      const next = item(old, `${path}[${i}]`, container, visit);
      if (next !== old) {
        out ??= value.slice();
        out[i] = next;
      }
    }
    return out ?? value;
  };
}

function mapStep(entry: Step): Step {
  return (value, path, container, visit) => {
    if (value === null || typeof value !== "object") return value;
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const old = (value as Record<string, unknown>)[key];
      const next = entry(old, appendKey(path, key), container, visit);
      if (next !== old) {
        out ??= { ...(value as Record<string, unknown>) };
        setOwn(out, key, next);
      }
    }
    return out ?? value;
  };
}

/**
 * Records worth entering: those with a matching field that holds primitives
 * directly (through unions, arrays and maps), and those from which such a
 * record can be reached. A fixpoint, since records may be recursive.
 */
function neededRecords(root: AvroType, matches: (record: RecordType, field: string) => boolean): Set<RecordType> {
  const records: RecordType[] = [];
  const children = new Map<RecordType, Set<RecordType>>();
  const needed = new Set<RecordType>();

  const nested = (type: AvroType, into: Set<RecordType>): boolean => {
    // Returns whether `type` holds primitive values outside nested records.
    if (isRecordType(type)) {
      into.add(type);
      return false;
    }
    if (isUnionType(type)) return type.types.map((b) => nested(b, into)).some(Boolean);
    if (isArrayType(type)) return nested(type.itemsType, into);
    if (isMapType(type)) return nested(mapValues(type), into);
    return isPrimitiveName(avroTypeName(type));
  };
  const collect = (record: RecordType): void => {
    if (children.has(record)) return;
    const kids = new Set<RecordType>();
    children.set(record, kids);
    records.push(record);
    for (const f of record.fields) {
      if (nested(f.type, kids) && matches(record, f.name)) needed.add(record);
    }
    for (const k of kids) collect(k);
  };
  const top = new Set<RecordType>();
  nested(root, top);
  for (const r of top) collect(r);

  for (let changed = true; changed; ) {
    changed = false;
    for (const r of records) {
      if (needed.has(r)) continue;
      for (const k of children.get(r)!) {
        if (needed.has(k)) {
          needed.add(r);
          changed = true;
          break;
        }
      }
    }
  }
  return needed;
}
