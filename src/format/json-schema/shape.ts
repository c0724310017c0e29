/**
 * How JSON messages look to CEL. Objects with `properties` are records (their
 * properties merged with those of `allOf` branches and `$ref` targets);
 * undeclared properties are not visible to CEL. Objects without properties
 * are maps. Shapes are cached per schema node, so recursive schemas give
 * cyclic shapes.
 */
import type { ValidateFunction } from "ajv";
import { type CelShape, SHAPES } from "../../cel/shape.js";
import { DEFAULT_BASE } from "./ajv.js";
import { isOfType } from "./leaf.js";
import { type Loc, isObjectSchema } from "./locate.js";
import { type JsonType, type PartsOf, hasOwnShape, nullableBranch } from "./parts.js";

type RecordShape = Extract<CelShape, { kind: "record" }>;

export interface JsonShapes {
  readonly root: CelShape;
  shapeOf(loc: Loc): CelShape;
}

export function jsonShapes(partsOf: PartsOf, root: Loc, validatorAt: (loc: Loc) => ValidateFunction): JsonShapes {
  const cache = new WeakMap<object, CelShape>();
  // Separate from `cache`: a nullable object node's shape wraps its record shape.
  const records = new WeakMap<object, RecordShape>();
  const inProgress = new Set<object>();
  const names = new Set<string>();

  const shapeOf = (loc: Loc): CelShape => {
    const node = loc.node;
    if (!isObjectSchema(node)) return SHAPES.dyn;
    const cached = cache.get(node);
    if (cached) return cached;
    // A cycle that reaches no record or wrapper registered early (e.g. $ref chains).
    if (inProgress.has(node)) return records.get(node) ?? SHAPES.dyn;
    inProgress.add(node);
    try {
      const shape = compute(loc);
      cache.set(node, shape);
      return shape;
    } finally {
      inProgress.delete(node);
    }
  };

  const compute = (loc: Loc): CelShape => {
    const node = loc.node as object;
    const p = partsOf(loc);
    if (p.enumValues !== undefined) return enumShape(p.enumValues, p.title ?? `#${loc.pointer}`);
    if (p.types !== undefined && p.types.length > 0) {
      let types: JsonType[] = [...p.types];
      if (types.includes("integer") && types.includes("number")) types = types.filter((t) => t !== "integer");
      const nonNull = types.filter((t) => t !== "null");
      if (nonNull.length === 0) return SHAPES.null;
      if (nonNull.length === 1 && nonNull.length === types.length) return typeShape(nonNull[0]!, loc, true);
      if (nonNull.length === 1) {
        // Registered before the inner shape so recursive references see the nullable form.
        const wrapper = { kind: "nullable", inner: SHAPES.dyn } as { kind: "nullable"; inner: CelShape };
        cache.set(node, wrapper);
        wrapper.inner = typeShape(nonNull[0]!, loc, false);
        return wrapper;
      }
      const branches = types.map((t) => typeShape(t, loc, false));
      return { kind: "union", branches, pick: (v) => types.findIndex((t) => isOfType(v, t)) };
    }
    if (p.properties.length > 0) return objectShape(loc, true);
    if (p.items !== undefined) return { kind: "list", element: shapeOf(p.items) };
    const alternatives = p.oneOf.length > 0 ? p.oneOf : p.anyOf;
    if (alternatives.length > 0) {
      const inner = nullableBranch(partsOf, p);
      if (inner) return { kind: "nullable", inner: shapeOf(inner) };
      const validators = alternatives.map(validatorAt);
      return { kind: "union", branches: alternatives.map(shapeOf), pick: (v) => validators.findIndex((valid) => valid(v) === true) };
    }
    if (p.allOf.length > 0) {
      const merged = objectShape(loc, true);
      return merged.kind === "record" ? merged : shapeOf(p.allOf[0]!);
    }
    if (p.ref !== undefined && !hasOwnShape(p)) return shapeOf(p.ref);
    return SHAPES.dyn;
  };

  /** `own`: the shape is the node's whole shape (so a record may be registered as such early). */
  const typeShape = (t: JsonType, loc: Loc, own: boolean): CelShape => {
    switch (t) {
      case "integer":
        return SHAPES.int;
      case "number":
        return SHAPES.double;
      case "string":
        return SHAPES.string;
      case "boolean":
        return SHAPES.bool;
      case "null":
        return SHAPES.null;
      case "array": {
        const items = partsOf(loc).items;
        return { kind: "list", element: items ? shapeOf(items) : SHAPES.dyn };
      }
      case "object":
        return objectShape(loc, own);
    }
  };

  const objectShape = (loc: Loc, own: boolean): CelShape => {
    const required = new Set<string>();
    const props = collectProperties(loc, required);
    if (props.size === 0) {
      const extra = partsOf(loc).additionalProperties;
      return { kind: "map", value: extra ? shapeOf(extra) : SHAPES.dyn };
    }
    const node = loc.node as object;
    const existing = records.get(node);
    if (existing) return existing;
    const fields = new Map<string, CelShape>();
    const shape: RecordShape = { kind: "record", name: recordName(loc), fields, required };
    records.set(node, shape); // before the fields: recursive references end here
    if (own) cache.set(node, shape);
    for (const [name, propLoc] of props) fields.set(name, shapeOf(propLoc));
    return shape;
  };

  /**
   * Own properties, then those of allOf branches and the $ref target (first wins).
   * `required` collects the required names of all of them: each must hold.
   */
  const collectProperties = (loc: Loc, required: Set<string>, into = new Map<string, Loc>(), seen = new Set<unknown>()): Map<string, Loc> => {
    if (seen.has(loc.node)) return into;
    seen.add(loc.node);
    const p = partsOf(loc);
    for (const [name, propLoc] of p.properties) if (!into.has(name)) into.set(name, propLoc);
    for (const name of p.required) required.add(name);
    for (const branch of p.allOf) collectProperties(branch, required, into, seen);
    if (p.ref) collectProperties(p.ref, required, into, seen);
    return into;
  };

  const recordName = (loc: Loc): string => {
    const title = partsOf(loc).title;
    const where = `${loc.base === DEFAULT_BASE ? "" : loc.base}#${loc.pointer}`;
    let name = title !== undefined && !names.has(title) ? title : where;
    for (let i = 2; names.has(name); i++) name = `${where}.${i}`;
    names.add(name);
    return name;
  };

  return { root: shapeOf(root), shapeOf };
}

function enumShape(values: readonly unknown[], name: string): CelShape {
  if (values.length > 0 && values.every((v) => typeof v === "string")) return { kind: "string", enum: { name, symbols: values as string[] } };
  if (values.length > 0 && values.every((v) => Number.isInteger(v))) return SHAPES.int;
  if (values.length > 0 && values.every((v) => typeof v === "number")) return SHAPES.double;
  if (values.length > 0 && values.every((v) => typeof v === "boolean")) return SHAPES.bool;
  return SHAPES.dyn;
}
