/**
 * Field walkers for JSON messages, after Java JsonSchema.toTransformedMessage
 * with the combinator semantics of data-contracts.md: a `type` array picks
 * the first type the value has, `allOf` visits every branch, `anyOf` every
 * branch the value validates against, `oneOf` the first one, `$ref` is
 * followed (not for null, as Java's ReferenceSchema), and sibling
 * `properties`/`items` are visited too. Each property starts a field context;
 * primitive values reached from it (through arrays, combinators and refs) are
 * visited with its tags. Full names carry array indexes, as in Java:
 * "$.items[2].sku".
 *
 * Walkers are compiled per tag set. Subtrees whose fields cannot match are
 * pruned at compile time, exactly for fields whose name is fixed, and with
 * the index-aware pattern check for fields inside arrays. Below a recursive
 * `$ref` the walk is built lazily and checks tags per visit. Messages are
 * copied on write and never mutated.
 */
import type { ValidateFunction } from "ajv";
import { type CelShape, SHAPES } from "../../cel/shape.js";
import type { Metadata } from "../../contract/model.js";
import { fieldTags } from "../../contract/tags.js";
import type { FieldInfo, FieldTypeName, FieldVisitor, FieldWalker } from "../types.js";
import { isOfType, primitiveTypeName } from "./leaf.js";
import { type Loc, isObjectSchema } from "./locate.js";
import { type JsonType, type Parts, type PartsOf, jsonTypeName } from "./parts.js";
import type { JsonShapes } from "./shape.js";
import { INDEX, allMetadataTags, templateTags } from "./tags.js";
import { setOwn } from "../../util/own.js";

/** Walks one value; returns it unchanged (===) or a changed copy. */
type Step = (
  value: unknown,
  path: string,
  field: PropDesc | undefined,
  fullName: string,
  container: unknown,
  containerShape: CelShape,
  visit: FieldVisitor,
) => unknown;

/** A property as a field context. */
interface PropDesc {
  readonly name: string;
  readonly typeName: FieldTypeName;
  /** Tags fixed at compile time: pruning was exact, no check per visit. */
  readonly exact: boolean;
  /** Every tag the field may have, for pruning. */
  readonly possibleTags: ReadonlySet<string>;
  info(fullName: string, leaf: FieldTypeName): FieldInfo;
}

export interface JsonWalkerEnv {
  readonly partsOf: PartsOf;
  readonly shapes: JsonShapes;
  readonly validatorAt: (loc: Loc) => ValidateFunction;
  readonly metadata: Metadata | undefined;
  readonly root: Loc;
}

const INFO_CACHE_LIMIT = 1024;

export function compileJsonWalker(env: JsonWalkerEnv, tags: ReadonlySet<string> | undefined): FieldWalker {
  const { partsOf, shapes, validatorAt, metadata } = env;
  const anyTag = !tags || tags.size === 0;
  const intersects = (set: ReadonlySet<string>): boolean => {
    if (anyTag) return true;
    for (const t of set) if (tags!.has(t)) return true;
    return false;
  };
  const metadataTags = allMetadataTags(metadata);

  // The type the value validates as, as Java sets it per subschema: a null is NULL, even in a nullable field.
  const leafInfo = (desc: { name: string; typeName: FieldTypeName }, fullName: string, typeName: FieldTypeName, tagSet: ReadonlySet<string>): FieldInfo =>
    Object.freeze(
      desc.typeName === "COMBINED"
        ? { fullName, name: desc.name, typeName, tags: tagSet, primitive: true, inCombined: true }
        : { fullName, name: desc.name, typeName, tags: tagSet, primitive: true },
    );

  /** `template` is the full name with "[*]" for indexes; undefined below recursion. */
  const makeDesc = (name: string, loc: Loc, template: string | undefined): PropDesc => {
    const inline = partsOf(loc).inlineTags;
    const typeName = jsonTypeName(partsOf, loc);
    if (template !== undefined && !template.includes(INDEX)) {
      const tagSet: ReadonlySet<string> = fieldTags(template, inline, metadata);
      const infos = new Map<FieldTypeName, FieldInfo>();
      const desc: PropDesc = {
        name,
        typeName,
        exact: true,
        possibleTags: tagSet,
        info: (_fullName, leaf) => {
          let info = infos.get(leaf);
          if (!info) {
            info = leafInfo(desc, template, leaf, tagSet);
            infos.set(leaf, info);
          }
          return info;
        },
      };
      return desc;
    }
    const infos = new Map<string, FieldInfo>();
    const desc: PropDesc = {
      name,
      typeName,
      exact: false,
      possibleTags: template !== undefined ? templateTags(template, inline, metadata) : new Set([...inline, ...metadataTags]),
      info: (fullName, leaf) => {
        const key = `${leaf}\u0000${fullName}`;
        let info = infos.get(key);
        if (!info) {
          info = leafInfo(desc, fullName, leaf, fieldTags(fullName, inline, metadata));
          if (infos.size >= INFO_CACHE_LIMIT) infos.clear();
          infos.set(key, info);
        }
        return info;
      },
    };
    return desc;
  };

  const leafStep = (leaf: FieldTypeName, exact: boolean): Step => {
    const check = !anyTag && !exact;
    return (value, path, field, fullName, container, containerShape, visit) => {
      if (field === undefined || value === undefined || (value !== null && typeof value === "object")) return value;
      const info = field.info(fullName, leaf);
      if (check && !intersects(info.tags)) return value;
      return visit(value, { field: info, container, containerShape, path });
    };
  };

  /** How children are built: statically (pruned by template) or lazily below recursion. */
  interface Mode {
    readonly dynamic: boolean;
    sub(loc: Loc, field: PropDesc | undefined, owner: CelShape, template: string | undefined): Step | undefined;
    prop(name: string, loc: Loc, template: string | undefined): PropDesc;
  }

  const compose = (loc: Loc, field: PropDesc | undefined, owner: CelShape, template: string | undefined, mode: Mode): Step | undefined => {
    const p = partsOf(loc);
    const steps: Step[] = [];
    const own = ownPart(loc, p, field, owner, template, mode);
    if (own) steps.push(own);
    if (p.ref) {
      const r = mode.sub(p.ref, field, owner, template);
      if (r) steps.push((value, ...rest) => (value === null || value === undefined ? value : r(value, ...rest)));
    }
    for (const branch of p.allOf) {
      const s = mode.sub(branch, field, owner, template);
      if (s) steps.push(s);
    }
    const anyOf = p.anyOf
      .map((b) => ({ step: mode.sub(b, field, owner, template), loc: b }))
      .filter((b): b is { step: Step; loc: Loc } => b.step !== undefined)
      .map((b) => ({ step: b.step, valid: validatorAt(b.loc) }));
    if (anyOf.length > 0) {
      steps.push((value, ...rest) => {
        let v = value;
        for (const b of anyOf) if (b.valid(v) === true) v = b.step(v, ...rest);
        return v;
      });
    }
    const oneOf = p.oneOf.map((b) => ({ step: mode.sub(b, field, owner, template), loc: b }));
    // Branches after the last walkable one never matter; earlier ones still claim values first.
    while (oneOf.length > 0 && oneOf[oneOf.length - 1]!.step === undefined) oneOf.pop();
    if (oneOf.length > 0) {
      const branches = oneOf.map((b) => ({ step: b.step, valid: validatorAt(b.loc) }));
      steps.push((value, ...rest) => {
        for (const b of branches) if (b.valid(value) === true) return b.step ? b.step(value, ...rest) : value;
        return value;
      });
    }
    return sequence(steps);
  };

  const ownPart = (loc: Loc, p: Parts, field: PropDesc | undefined, owner: CelShape, template: string | undefined, mode: Mode): Step | undefined => {
    if (p.enumValues !== undefined) return undefined; // ENUM: not a primitive, never visited
    const forType = (t: JsonType): Step | undefined => {
      if (t === "object") return p.properties.length > 0 ? objectPart(loc, p, owner, template, mode) : undefined;
      if (t === "array") return p.items ? arrayPart(p.items, field, template, mode) : undefined;
      const leaf = primitiveTypeName(t)!;
      if (mode.dynamic) return leafStep(leaf, false);
      return field && intersects(field.possibleTags) ? leafStep(leaf, field.exact) : undefined;
    };
    if (p.types !== undefined && p.types.length > 0) {
      if (p.types.length === 1) return forType(p.types[0]!);
      const table = p.types.map((t) => ({ type: t, step: forType(t) }));
      if (table.every((e) => e.step === undefined)) return undefined;
      return (value, ...rest) => {
        for (const e of table) if (isOfType(value, e.type)) return e.step ? e.step(value, ...rest) : value;
        return value;
      };
    }
    if (p.properties.length > 0) return objectPart(loc, p, owner, template, mode);
    if (p.items) return arrayPart(p.items, field, template, mode);
    return undefined;
  };

  const objectPart = (loc: Loc, p: Parts, owner: CelShape, template: string | undefined, mode: Mode): Step | undefined => {
    const props: { name: string; desc: PropDesc; step: Step }[] = [];
    for (const [name, propLoc] of p.properties) {
      const propTemplate = template === undefined ? undefined : `${template}.${name}`;
      const desc = mode.prop(name, propLoc, propTemplate);
      const step = mode.sub(propLoc, desc, shapes.shapeOf(propLoc), propTemplate);
      if (step) props.push({ name, desc, step });
    }
    if (props.length === 0) return undefined;
    const fixedShape = recordOf(owner) ?? recordOf(shapes.shapeOf(loc));
    return (value, path, _field, _fullName, _container, _containerShape, visit) => {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
      const containerShape = fixedShape ?? pickRecord(owner, value) ?? SHAPES.dyn;
      let out: Record<string, unknown> | undefined;
      for (const { name, desc, step } of props) {
        const current = (out ?? value) as Record<string, unknown>;
        if (!Object.hasOwn(current, name)) continue; // absent: not visited (Java would see null)
        const old = current[name];
        if (old === undefined) continue;
        const fullName = `${path}.${name}`;
        // Later properties see earlier ones' new values, as Java mutates the object in place.
        const next = step(old, fullName, desc, fullName, current, containerShape, visit);
        if (next !== old) {
          out ??= { ...(value as Record<string, unknown>) };
          setOwn(out, name, next);
        }
      }
      return out ?? value;
    };
  };

  const arrayPart = (items: Loc, field: PropDesc | undefined, template: string | undefined, mode: Mode): Step | undefined => {
    const item = mode.sub(items, field, shapes.shapeOf(items), template === undefined ? undefined : template + INDEX);
    if (!item) return undefined;
    return (value, path, f, fullName, container, containerShape, visit) => {
      if (!Array.isArray(value)) return value;
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const old: unknown = value[i];
        const next = item(old, `${path}[${i}]`, f, fullName, container, containerShape, visit);
        if (next !== old) {
          out ??= value.slice();
          out[i] = next;
        }
      }
      return out ?? value;
    };
  };

  // Below a recursive $ref: one lazily built step per (node, owner shape); tags checked per visit.
  const dynamicSteps = new Map<object, Map<CelShape, Step>>();
  const dynamicDescs = new WeakMap<object, PropDesc>();
  const dynamicMode: Mode = {
    dynamic: true,
    sub: (loc, _field, owner) => dynamicStep(loc, owner),
    prop: (name, loc) => {
      const key = loc.node as object;
      let desc = dynamicDescs.get(key);
      if (!desc) {
        desc = makeDesc(name, loc, undefined);
        dynamicDescs.set(key, desc);
      }
      return desc;
    },
  };
  const dynamicStep = (loc: Loc, owner: CelShape): Step | undefined => {
    if (!isObjectSchema(loc.node)) return undefined;
    let byOwner = dynamicSteps.get(loc.node);
    if (!byOwner) dynamicSteps.set(loc.node, (byOwner = new Map()));
    let step = byOwner.get(owner);
    if (!step) {
      let built: Step | undefined | null = null;
      step = (...args) => {
        if (built === null) built = compose(loc, undefined, owner, undefined, dynamicMode);
        return built ? built(...args) : args[0];
      };
      byOwner.set(owner, step);
    }
    return step;
  };
  const reachableInline = inlineTagsReachable(partsOf);

  const stack = new Set<unknown>();
  const staticMode: Mode = {
    dynamic: false,
    sub: (loc, field, owner, template) => {
      if (!isObjectSchema(loc.node)) return undefined;
      if (stack.has(loc.node)) {
        // Recursion: full names are unbounded from here on; prune only if no tag can ever match.
        const possible = new Set([...reachableInline(loc), ...metadataTags, ...(field?.possibleTags ?? [])]);
        return intersects(possible) ? dynamicStep(loc, owner) : undefined;
      }
      stack.add(loc.node);
      try {
        return compose(loc, field, owner, template, staticMode);
      } finally {
        stack.delete(loc.node);
      }
    },
    prop: (name, loc, template) => makeDesc(name, loc, template),
  };

  const root = staticMode.sub(env.root, undefined, shapes.root, "$");
  if (!root) return (message) => message;
  return (message, visit) => root(message, "$", undefined, "$", undefined, SHAPES.dyn, visit) as typeof message;
}

function sequence(steps: readonly Step[]): Step | undefined {
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  return (value, ...rest) => {
    let v = value;
    for (const s of steps) v = s(v, ...rest);
    return v;
  };
}

function recordOf(shape: CelShape): CelShape | undefined {
  if (shape.kind === "record") return shape;
  if (shape.kind === "nullable") return recordOf(shape.inner);
  return undefined;
}

function pickRecord(shape: CelShape, value: unknown): CelShape | undefined {
  if (shape.kind === "union") {
    const branch = shape.branches[shape.pick(value)];
    return branch ? (recordOf(branch) ?? pickRecord(branch, value)) : undefined;
  }
  return recordOf(shape);
}

/** Inline tags of every property reachable from a node (for pruning below recursion). */
function inlineTagsReachable(partsOf: PartsOf): (loc: Loc) => ReadonlySet<string> {
  const cache = new WeakMap<object, Set<string>>();
  return (start) => {
    const key = start.node as object;
    const cached = cache.get(key);
    if (cached) return cached;
    const tags = new Set<string>();
    const seen = new Set<unknown>();
    const walk = (loc: Loc): void => {
      if (!isObjectSchema(loc.node) || seen.has(loc.node)) return;
      seen.add(loc.node);
      const p = partsOf(loc);
      for (const [, propLoc] of p.properties) {
        for (const t of partsOf(propLoc).inlineTags) tags.add(t);
        walk(propLoc);
      }
      if (p.items) walk(p.items);
      if (p.ref) walk(p.ref);
      for (const b of [...p.allOf, ...p.anyOf, ...p.oneOf]) walk(b);
    };
    walk(start);
    cache.set(key, tags);
    return tags;
  };
}
