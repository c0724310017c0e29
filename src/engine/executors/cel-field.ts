/**
 * CEL_FIELD: runs once per primitive field whose tags intersect the rule's tags
 * (every primitive field when the rule has none), binding `value`, `fullName`,
 * `name`, `typeName`, `tags` and `message` (the containing record).
 *
 * Java semantics: a null field value is bound as CEL null and the rule runs
 * (the JS client skips it); a CONDITION fails on the first field whose result is false.
 */
import { defaultKind } from "../../contract/model.js";
import type { CelShape } from "../../cel/shape.js";
import { SHAPES } from "../../cel/shape.js";
import { celView, fromCel, isCelFailure, isSameValue } from "../../cel/index.js";
import { RuleCompileError } from "../../errors.js";
import type { FieldInfo, FieldTypeName, FieldVisit } from "../../format/types.js";
import type { RuleExecutor, RuleResult } from "../types.js";
import { compileGuarded, failureResult, runGuard, spentBudget, typedGuarded } from "./cel-common.js";
import type { GuardedProgram, TypedGuardedProgram } from "./cel-common.js";
import { renderValue } from "../redact.js";

const VARIABLES = ["value", "fullName", "name", "typeName", "tags", "message"] as const;
const INT_BIGINT: CelShape = { kind: "int", bigint: true };
const TAGS: CelShape = { kind: "list", element: SHAPES.string };

/** How a leaf value of a Confluent type name looks to CEL, given its native JS value. */
export function leafShape(typeName: FieldTypeName, value: unknown): CelShape {
  if (value === null || value === undefined) return SHAPES.null;
  switch (typeName) {
    case "INT":
    case "LONG":
      return typeof value === "bigint" ? INT_BIGINT : SHAPES.int;
    case "FLOAT":
    case "DOUBLE":
      return SHAPES.double;
    case "STRING":
    case "ENUM":
      return SHAPES.string;
    case "BYTES":
    case "FIXED":
      return Buffer.isBuffer(value) ? SHAPES.bufferBytes : SHAPES.bytes;
    case "BOOLEAN":
      return SHAPES.bool;
    default:
      return SHAPES.dyn;
  }
}

const tagLists = new WeakMap<FieldInfo, readonly string[]>();
function tagList(field: FieldInfo): readonly string[] {
  let list = tagLists.get(field);
  if (!list) {
    list = Object.freeze([...field.tags].sort());
    tagLists.set(field, list);
  }
  return list;
}

export const celFieldExecutor: RuleExecutor = {
  type: "CEL_FIELD",
  compile(rule, env) {
    if (env.form === "json") {
      throw new RuleCompileError(rule.name, "CEL_FIELD rules run on domain and encoding rules only, not in migrationRules");
    }
    const program = compileGuarded(rule, env, VARIABLES);
    const isCondition = defaultKind(rule) === "CONDITION";
    const walker = env.schema.fieldWalker(rule.tags && rule.tags.length > 0 ? new Set(rule.tags) : undefined);
    const sensitive = env.sensitiveTags;
    const bindings: Record<string, unknown> = {};
    const typed = typedPrograms(program);
    // The visitor and its verdict live with the compiled rule, not per message (a closure and
    // its context per run were a fifth of what the rule allocated): runs are synchronous and
    // never nested, so one run's `failure` is reset before the next.
    let failure: RuleResult | undefined;
    // Per field, what its last visit looked up: one Map lookup per visit instead of three.
    const leaves = new Map<FieldInfo, LeafPrograms>();
    const visitor = (value: unknown, visit: FieldVisit): unknown => {
      if (failure) return value;
      const field = visit.field;
      const shape = leafShape(field.typeName, value);
      let leaf = leaves.get(field);
      if (leaf === undefined || leaf.container !== visit.containerShape || leaf.shape !== shape) {
        leaf = { container: visit.containerShape, shape, fast: typed(visit.containerShape, shape), tags: tagList(field) };
        leaves.set(field, leaf);
      }
      const fast = leaf.fast;
      bindings.fullName = field.fullName;
      bindings.name = field.name;
      bindings.typeName = field.typeName;
      bindings.tags = leaf.tags;
      let r: unknown;
      let bound: unknown;
      if (fast !== undefined) {
        // The native fast path: the same variables, held natively (docs/cel.md).
        bindings.value = value;
        bindings.message = visit.container;
        const guard = runGuard(fast, bindings);
        if (guard !== true && !spentBudget(guard)) return value;
        r = guard === true ? fast.body.run(bindings) : guard;
      } else {
        bindings.value = bound = celView(value, shape);
        bindings.message = celView(visit.container, visit.containerShape);
        const guard = runGuard(program, bindings);
        if (guard !== true && !spentBudget(guard)) return value;
        r = guard === true ? program.body.run(bindings) : guard;
      }
      if (isCelFailure(r)) {
        failure = { ...failureResult(r), field: visit.path, fieldValue: renderValue(value, field, sensitive) };
        return value;
      }
      if (isCondition) {
        if (r === false) failure = { ok: false, field: visit.path, fieldValue: renderValue(value, field, sensitive) };
        return value;
      }
      if (fast !== undefined ? isSameValue(r, value) : r === bound) return value;
      return transformed(r, value, shape, field, visit);
    };

    /** A transform's new field value, or the old one with `failure` set. */
    const transformed = (r: unknown, value: unknown, shape: CelShape, field: FieldInfo, visit: FieldVisit): unknown => {
      const path = visit.path;
      if (r === null) {
        if (takesNull(visit.containerShape, field.name)) return null;
        failure = { ok: false, message: `transform result does not fit field ${field.fullName}: the field does not take null`, field: path };
        return value;
      }
      try {
        return fromCel(r, shape.kind === "null" ? SHAPES.dyn : shape);
      } catch (e) {
        failure = {
          ok: false,
          message: `transform result does not fit field ${field.fullName}: ${(e as Error).message}`,
          field: path,
          cause: e,
        };
        return value;
      }
    };

    return {
      async: false,
      run(message): RuleResult {
        failure = undefined;
        const out = walker(message, visitor);
        const failed = failure;
        failure = undefined;
        if (failed) return failed;
        return isCondition ? PASSED : { ok: true, value: out };
      },
    };
  },
};

/** A field's programs for one (containing record shape, leaf shape) pair, and its tags as CEL sees them. */
interface LeafPrograms {
  readonly container: CelShape;
  readonly shape: CelShape;
  readonly fast: TypedGuardedProgram | undefined;
  readonly tags: readonly string[];
}

/** A field condition's pass: the same frozen result every time. */
const PASSED: RuleResult = Object.freeze({ ok: true, value: true });

/**
 * Whether a primitive leaf of field `name` of a record may be null: the
 * field's shape, through its lists and maps down to the leaf, is nullable (or
 * untyped). A null elsewhere is a misfit the rule must report, not the encoder.
 */
function takesNull(container: CelShape, name: string): boolean {
  let shape = container.kind === "record" ? container.fields.get(name) : undefined;
  while (shape !== undefined && (shape.kind === "list" || shape.kind === "map")) shape = shape.kind === "list" ? shape.element : shape.value;
  if (shape === undefined) return true;
  switch (shape.kind) {
    case "nullable":
    case "null":
    case "dyn":
    case "native":
      return true;
    case "union":
      return shape.branches.some((b) => b.kind === "null");
    default:
      return false;
  }
}

/**
 * Native programs per (containing record shape, leaf shape): a field rule sees
 * fields of several types, so it is typed once per combination, on first use.
 * Undefined when the combination runs on the interpreter.
 */
function typedPrograms(program: GuardedProgram): (container: CelShape, leaf: CelShape) => TypedGuardedProgram | undefined {
  const byContainer = new Map<CelShape, Map<CelShape, TypedGuardedProgram | null>>();
  return (container, leaf) => {
    let byLeaf = byContainer.get(container);
    if (byLeaf === undefined) {
      byLeaf = new Map();
      byContainer.set(container, byLeaf);
    }
    let typed = byLeaf.get(leaf);
    if (typed === undefined) {
      const shapes = { value: leaf, fullName: SHAPES.string, name: SHAPES.string, typeName: SHAPES.string, tags: TAGS, message: container };
      const t = typedGuarded(program, shapes);
      typed = t.body.native && (t.guard === undefined || t.guard.native) ? t : null;
      byLeaf.set(leaf, typed);
    }
    return typed ?? undefined;
  };
}
