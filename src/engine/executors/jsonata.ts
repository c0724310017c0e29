/**
 * JSONATA: a transform (or condition) over the message's JSON form.
 * Java semantics: a null/undefined result leaves the message unchanged (TRANSFORM)
 * or passes (CONDITION); other condition results go through Jackson's asBoolean(true).
 * Regexes run on RE2, and evaluation is bounded in steps, time, depth and
 * size (jsonata-limits.ts); hitting a bound fails the rule with "rule-cost".
 */
import jsonata from "jsonata";
import { setOwn } from "../../util/own.js";
import { defaultKind, type Rule } from "../../contract/model.js";
import { RuleCompileError } from "../../errors.js";
import type { RuleExecutor, RuleResult } from "../types.js";
import { costError, installLimits, libraryOptions } from "./jsonata-limits.js";
import { Re2RegExp, compileRe2 } from "./re2-regex.js";

interface JsonataError {
  code?: string;
  position?: number;
  message?: string;
  token?: string;
}

export const jsonataExecutor: RuleExecutor = {
  type: "JSONATA",
  compile(rule, env) {
    const expr = rule.expr ?? "";
    if (expr.trim() === "") throw new RuleCompileError(rule.name, "a JSONATA rule needs an expr");
    let expression: jsonata.Expression;
    try {
      expression = jsonata(expr, {
        RegexEngine: Re2RegExp as unknown as RegExpConstructor,
        ...libraryOptions(env.limits),
      } as unknown as Parameters<typeof jsonata>[1]);
    } catch (e) {
      throw new RuleCompileError(rule.name, `JSONata expression does not parse: ${describe(e as JsonataError, expr)}`, { cause: e });
    }
    checkRegexes(rule, expression.ast());
    installLimits(expression, env.limits);
    const isCondition = defaultKind(rule) === "CONDITION";
    const schema = env.schema;
    const fromJson = env.form === "json";
    return {
      async: true,
      run(message): Promise<RuleResult> {
        let input: unknown;
        try {
          input = fromJson ? message : schema.toJson(message);
        } catch (e) {
          return Promise.resolve({ ok: false, message: `message has no JSON form: ${(e as Error).message}`, cause: e });
        }
        return expression.evaluate(input).then(
          (result: unknown): RuleResult => {
            if (result === undefined || result === null) return { ok: true, value: isCondition ? true : message };
            if (isCondition) return { ok: true, value: asBoolean(result) };
            const plain = toPlainJson(result);
            if (fromJson) return { ok: true, value: plain };
            try {
              return { ok: true, value: schema.fromJson(plain) };
            } catch (e) {
              return { ok: false, message: `transform result does not fit the schema: ${(e as Error).message}`, cause: e };
            }
          },
          (e: unknown): RuleResult => {
            const cost = costError(e, env.limits);
            if (cost) return { ok: false, message: cost.message, code: "rule-cost", cause: cost };
            return { ok: false, message: `JSONata evaluation failed: ${describe(e as JsonataError, expr)}`, cause: e };
          },
        );
      },
    };
  },
};

/** Jackson's JsonNode.asBoolean(true). */
function asBoolean(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") {
    const t = v.trim();
    if (t === "true") return true;
    if (t === "false") return false;
  }
  return true;
}

/** JSONata sequences are arrays with extra properties; give plain JSON back. */
function toPlainJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toPlainJson);
  if (typeof v === "object" && v !== null && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) if (val !== undefined && typeof val !== "function") setOwn(out, k, toPlainJson(val));
    return out;
  }
  return v;
}

function describe(e: JsonataError, expr: string): string {
  const msg = e?.message ?? String(e);
  if (typeof e?.position === "number") {
    const upto = expr.slice(0, e.position);
    const line = upto.split("\n").length;
    const column = e.position - upto.lastIndexOf("\n");
    return `${msg} (${e.code ?? "error"} at ${line}:${column})`;
  }
  return e?.code ? `${msg} (${e.code})` : msg;
}

/** Regex literals must be valid RE2; fail at compile time rather than on the first message. */
function checkRegexes(rule: Rule, node: unknown, seen = new Set<unknown>()): void {
  if (typeof node !== "object" || node === null || seen.has(node)) return;
  seen.add(node);
  const n = node as { type?: string; value?: unknown };
  if (n.type === "regex" && n.value instanceof RegExp) {
    try {
      compileRe2(n.value.source, n.value.flags);
    } catch (e) {
      throw new RuleCompileError(rule.name, `regex /${n.value.source}/ is not valid RE2: ${(e as Error).message}`, { cause: e });
    }
  }
  for (const v of Object.values(node)) checkRegexes(rule, v, seen);
}
