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
import { celView, fromCel, isCelFailure } from "../../cel/index.js";
import { RuleCompileError } from "../../errors.js";
import type { FieldInfo, FieldTypeName } from "../../format/types.js";
import type { RuleExecutor, RuleResult } from "../types.js";
import { compileGuarded, failureMessage, guardPasses } from "./cel-common.js";
import { renderValue } from "../redact.js";

const VARIABLES = ["value", "fullName", "name", "typeName", "tags", "message"] as const;
const INT_BIGINT: CelShape = { kind: "int", bigint: true };

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
      return SHAPES.bytes;
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
    return {
      async: false,
      run(message): RuleResult {
        let failure: RuleResult | undefined;
        const out = walker(message, (value, visit) => {
          if (failure) return value;
          const field = visit.field;
          const shape = leafShape(field.typeName, value);
          const celValue = celView(value, shape);
          bindings.value = celValue;
          bindings.fullName = field.fullName;
          bindings.name = field.name;
          bindings.typeName = field.typeName;
          bindings.tags = tagList(field);
          bindings.message = celView(visit.container, visit.containerShape);
          if (!guardPasses(program, bindings)) return value;
          const r = program.body.run(bindings);
          if (isCelFailure(r)) {
            failure = { ok: false, message: failureMessage(r), field: visit.path, fieldValue: renderValue(value, field, sensitive), cause: r };
            return value;
          }
          if (isCondition) {
            if (r === false) {
              failure = { ok: false, field: visit.path, fieldValue: renderValue(value, field, sensitive) };
            }
            return value;
          }
          if (r === celValue) return value;
          if (r === null) return null;
          try {
            const out = fromCel(r, shape.kind === "null" ? SHAPES.dyn : shape);
            // avsc wants Buffers for bytes; CEL hands back plain Uint8Arrays.
            if (Buffer.isBuffer(value) && out instanceof Uint8Array && !Buffer.isBuffer(out)) return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
            return out;
          } catch (e) {
            failure = {
              ok: false,
              message: `transform result does not fit field ${field.fullName}: ${(e as Error).message}`,
              field: visit.path,
              cause: e,
            };
            return value;
          }
        });
        if (failure) return failure;
        return isCondition ? { ok: true, value: true } : { ok: true, value: out };
      },
    };
  },
};
