/**
 * Shared by the CEL and CEL_FIELD executors: compiling a guarded expression
 * once and evaluating it with Java's guard semantics.
 */
import type { Rule } from "../../contract/model.js";
import { RuleCompileError, isKontractError } from "../../errors.js";
import { isCelFailure, type CelFailure, type CelProgram, type CelShape, type CelTypedProgram } from "../../cel/index.js";
import { splitGuard } from "../guard.js";
import type { CompiledSchema } from "../../format/types.js";
import type { ExecutorEnv, RuleResult } from "../types.js";

export interface GuardedProgram {
  readonly guard: CelProgram | undefined;
  readonly body: CelProgram;
}

export function compileGuarded(rule: Rule, env: ExecutorEnv, variables: readonly string[]): GuardedProgram {
  const expr = rule.expr ?? "";
  if (expr.trim() === "") throw new RuleCompileError(rule.name, `a ${rule.type} rule needs an expr`);
  const { guard, body } = splitGuard(expr, env.param("cel.ignore.guard.separator") === "true");
  return {
    guard: guard === undefined ? undefined : compileOne(rule, env, guard, variables, "guard"),
    body: compileOne(rule, env, body, variables, guard === undefined ? undefined : "body"),
  };
}

function compileOne(rule: Rule, env: ExecutorEnv, expr: string, variables: readonly string[], part: string | undefined): CelProgram {
  try {
    return env.cel.compile(expr, variables);
  } catch (e) {
    const detail = isKontractError(e) || e instanceof Error ? e.message : String(e);
    throw new RuleCompileError(rule.name, `${part ? part + " " : ""}expression does not compile: ${detail}`, { cause: e });
  }
}

/**
 * The guard's result: `true` when there is no guard. The body runs only on
 * exactly `true`; a guard that fails to evaluate counts as false (Java), for
 * interpreted and native programs alike, unless it spent its cost budget
 * (spentBudget): that fails the rule, as skipping it would let a costly
 * message bypass it.
 */
export function runGuard(program: GuardedProgram | TypedGuardedProgram, bindings: Record<string, unknown>): unknown {
  return program.guard === undefined ? true : program.guard.run(bindings);
}

/** Whether a CEL result is an evaluation stopped for spending its cost budget. */
export function spentBudget(r: unknown): r is CelFailure {
  return isCelFailure(r) && r.code !== undefined;
}

/** A guarded program for variables held natively (see CelProgram.typed). */
export interface TypedGuardedProgram {
  readonly guard: CelTypedProgram | undefined;
  readonly body: CelTypedProgram;
}

export function typedGuarded(program: GuardedProgram, shapes: Readonly<Record<string, CelShape>>): TypedGuardedProgram {
  return { guard: program.guard?.typed(shapes), body: program.body.typed(shapes) };
}

/** A CEL failure as a rule result: a spent budget keeps its code, so callers can tell it apart. */
export function failureResult(r: CelFailure): Extract<RuleResult, { ok: false }> {
  const message = failureMessage(r);
  return r.code === undefined ? { ok: false, message, cause: r } : { ok: false, message, cause: r, code: r.code };
}

export function failureMessage(r: unknown): string {
  const detail = typeof r === "object" && r !== null && "message" in r ? String((r as { message: unknown }).message) : String(r);
  return `Could not execute CEL script: ${detail}`;
}

/**
 * A transform's new message checked against the schema: a failure result when
 * it does not fit, so a misfit goes through onFailure (DLQ, ERROR) rather than
 * reaching the encoder, or a consumer's handler, as it is.
 */
export type Fit = (message: unknown) => RuleResult | undefined;

export function fitSchema(schema: CompiledSchema): Fit {
  return (message) => {
    const problem = schema.validate(message)?.[0];
    if (problem === undefined) return undefined;
    return { ok: false, message: `transform result does not fit the schema: ${problem.path === "" ? "the root" : problem.path}: ${problem.message}` };
  };
}
