/**
 * CEL results as state keys and sequence values, and the compiled expressions
 * that produce them: compiled once per rule on the engine's CEL runtime (its
 * cost budget applies), run natively per message when the expression allows.
 */
import { isCelFailure, type CelRuntime, type CelShape } from "../../cel/index.js";
import { RuleCompileError, isKontractError } from "../../errors.js";
import type { Rule } from "../../contract/model.js";
import { failureResult } from "../executors/cel-common.js";
import type { RuleResult } from "../types.js";

export type Failure = Extract<RuleResult, { ok: false }>;

/** A compiled expression over `message`: its value, or a rule failure when it did not evaluate. */
export type Evaluate = (message: unknown) => { readonly value: unknown } | Failure;

export function compileExpr(rule: Rule, cel: CelRuntime, shape: CelShape, expr: string, what: string): Evaluate {
  let program;
  try {
    program = cel.compile(expr, ["message"]).typed({ message: shape });
  } catch (e) {
    const detail = isKontractError(e) || e instanceof Error ? e.message : String(e);
    throw new RuleCompileError(rule.name, `${what} expression does not compile: ${detail}`, { cause: e });
  }
  const bindings: Record<string, unknown> = { message: undefined };
  const run = program.run;
  // One result object per expression, refilled per message: evaluation is synchronous.
  const result = { value: undefined as unknown };
  return (message) => {
    bindings.message = message;
    const r = run(bindings);
    if (isCelFailure(r)) return failureResult(r);
    result.value = r;
    return result;
  };
}

/** A key's text: strings as they are, integers in decimal. Anything else is refused. */
export function keyText(r: unknown, what: string): string | Failure {
  if (typeof r === "string") return r;
  if (typeof r === "bigint") return r.toString();
  if (typeof r === "number" && Number.isInteger(r)) return String(r);
  return { ok: false, message: `${what} must be a string or an integer, not ${describe(r)}` };
}

/** A value that orders: integers (bigint), doubles, strings; timestamps become epoch nanoseconds. */
export type Sequence = bigint | number | string;

export function sequenceValue(r: unknown): Sequence | Failure {
  if (typeof r === "bigint" || typeof r === "string") return r;
  if (typeof r === "number" && !Number.isNaN(r)) return Number.isInteger(r) ? BigInt(r) : r;
  if (r instanceof Date) return BigInt(r.getTime()) * 1_000_000n;
  if (typeof r === "object" && r !== null && typeof (r as { seconds?: unknown }).seconds === "bigint") {
    const t = r as { seconds: bigint; nanos?: number };
    return t.seconds * 1_000_000_000n + BigInt(t.nanos ?? 0);
  }
  return { ok: false, message: `the sequence must be an int, a double, a string or a timestamp, not ${describe(r)}` };
}

/** -1, 0 or 1; undefined when the two cannot be compared (a string against a number). */
export function compareSequences(a: Sequence, b: Sequence): number | undefined {
  if (typeof a === "string" || typeof b === "string") return typeof a === typeof b ? (a < b ? -1 : a > b ? 1 : 0) : undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The changelog form of a sequence: its type survives the round trip. */
export function encodeSequence(s: Sequence): string {
  return typeof s === "bigint" ? `i:${s}` : typeof s === "number" ? `d:${s}` : `s:${s}`;
}

export function decodeSequence(text: string): Sequence | undefined {
  const body = text.slice(2);
  switch (text.slice(0, 2)) {
    case "i:":
      return /^-?[0-9]+$/.test(body) ? BigInt(body) : undefined;
    case "d:": {
      const n = Number(body);
      return Number.isNaN(n) ? undefined : n;
    }
    case "s:":
      return body;
  }
  return undefined;
}

function describe(r: unknown): string {
  if (r === null) return "null";
  if (typeof r === "object") return Array.isArray(r) ? "a list" : "a map or message";
  return `a ${typeof r}`;
}

/** The rule failure for a partition whose state is full: never a silent eviction of live state. */
export function capacityFailure(maxKeys: number): Failure {
  return {
    ok: false,
    code: "state-capacity",
    message: `the rule holds ${maxKeys} keys in this partition (state.max.keys) and cannot take one more; raise state.max.keys, shorten the window, or add partitions`,
  };
}
