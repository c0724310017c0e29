/**
 * CEL: a condition or transform over the whole message, bound as `message`.
 */
import { defaultKind } from "../../contract/model.js";
import { SHAPES, type CelShape } from "../../cel/shape.js";
import { celView, fromCel, isCelFailure, isSameValue } from "../../cel/index.js";
import type { RuleExecutor, RuleResult } from "../types.js";
import { compileGuarded, failureResult, fitSchema, runGuard, spentBudget, typedGuarded, type Fit } from "./cel-common.js";

const TRUE: RuleResult = { ok: true, value: true };

export const celExecutor: RuleExecutor = {
  type: "CEL",
  compile(rule, env) {
    const program = compileGuarded(rule, env, ["message"]);
    const shape = env.form === "json" ? SHAPES.dyn : env.schema.celShape;
    const isCondition = defaultKind(rule) === "CONDITION";
    // Migration rules (json form) are checked against the target schema by the migration itself.
    const fit: Fit | undefined = env.form === "json" ? undefined : fitSchema(env.schema);
    // One bindings object per rule, refilled per message: evaluation is synchronous.
    const bindings: Record<string, unknown> = { message: undefined };
    // The native fast path when the rule is within its subset (docs/cel.md); the interpreter otherwise.
    const typed = typedGuarded(program, { message: shape });
    if (isCondition || (typed.body.native && (typed.guard === undefined || typed.guard.native))) {
      const native: Record<string, unknown> = { message: undefined };
      const body = typed.body.run;
      if (isCondition && typed.guard === undefined) {
        // The common rule: one call, and no result object unless it failed.
        return {
          async: false,
          run(message): RuleResult {
            native.message = message;
            const r = body(native);
            return r === true ? TRUE : toResult(r, message, true, false, shape, fit);
          },
          passes: typed.body.test,
        };
      }
      const guard = typed.guard;
      const bodyTest = typed.body.test;
      return {
        async: false,
        run(message): RuleResult {
          native.message = message;
          const guard = runGuard(typed, native);
          if (guard !== true) return spentBudget(guard) ? failureResult(guard) : skipped(message, isCondition);
          const r = body(native);
          return toResult(r, message, isCondition, !isCondition && isSameValue(r, message), shape, fit);
        },
        // A guarded condition passes when its guard is exactly false (skipped: no failure, no spent budget)
        // or when it is true and the body is; anything else takes run().
        passes:
          isCondition && guard?.native === true && bodyTest !== undefined
            ? (message) => {
                native.message = message;
                const g = guard.run(native);
                return g === false || (g === true && bodyTest(message));
              }
            : undefined,
      };
    }
    return {
      async: false,
      run(message): RuleResult {
        const view = celView(message, shape);
        bindings.message = view;
        const guard = runGuard(program, bindings);
        if (guard !== true) return spentBudget(guard) ? failureResult(guard) : skipped(message, isCondition);
        const r = program.body.run(bindings);
        return toResult(r, message, isCondition, r === view, shape, fit);
      },
    };
  },
};

/** A rule whose guard did not pass: a condition holds, a transform leaves the message as it is. */
function skipped(message: unknown, isCondition: boolean): RuleResult {
  return isCondition ? TRUE : { ok: true, value: message };
}

/**
 * A CEL result as a rule result. `identity` is set when a transform returned
 * the message itself: the original object is kept, byte for byte (Java does the same).
 */
function toResult(r: unknown, message: unknown, isCondition: boolean, identity: boolean, shape: CelShape, fit: Fit | undefined): RuleResult {
  if (isCelFailure(r)) return failureResult(r);
  if (isCondition) return r === true ? TRUE : { ok: true, value: r };
  if (identity) return { ok: true, value: message };
  if (r === null) return { ok: true, value: null };
  let value: unknown;
  try {
    value = fromCel(r, shape);
  } catch (e) {
    return { ok: false, message: `transform result does not fit the schema: ${(e as Error).message}`, cause: e };
  }
  return fit?.(value) ?? { ok: true, value };
}
