/**
 * Resolving onSuccess/onFailure to an action, as the Java client does.
 */
import type { ExecutionMode, Rule } from "../contract/model.js";
import { defaultMode } from "../contract/model.js";
import { RuleCompileError } from "../errors.js";
import type { RuleAction, RuleOverride } from "./types.js";

export type ResolvedAction =
  | { readonly kind: "NONE" }
  | { readonly kind: "ERROR" }
  | { readonly kind: "DLQ" }
  | { readonly kind: "custom"; readonly action: RuleAction };

export const NONE: ResolvedAction = { kind: "NONE" };
export const ERROR: ResolvedAction = { kind: "ERROR" };
export const DLQ: ResolvedAction = { kind: "DLQ" };

/**
 * The action name for one side of a rule. The "A,B" form applies only to
 * WRITEREAD and UPDOWN rules: WRITE/UPGRADE take A, READ/DOWNGRADE take B.
 * Parts are not trimmed (Java does not trim either). An empty part means the default.
 */
export function actionName(rule: Rule, value: string | undefined, mode: ExecutionMode): string | undefined {
  if (value === undefined || value === "") return undefined;
  const ruleMode = defaultMode(rule);
  if ((ruleMode === "WRITEREAD" || ruleMode === "UPDOWN") && value.includes(",")) {
    const parts = value.split(",");
    const part = mode === "WRITE" || mode === "UPGRADE" ? parts[0] : parts[1];
    return part === undefined || part === "" ? undefined : part;
  }
  return value;
}

export function resolveAction(
  rule: Rule,
  name: string | undefined,
  fallback: ResolvedAction,
  custom: ReadonlyMap<string, RuleAction>,
): ResolvedAction {
  if (name === undefined) return fallback;
  switch (name) {
    case "NONE":
      return NONE;
    case "ERROR":
      return ERROR;
    case "DLQ":
      return DLQ;
  }
  const action = custom.get(name);
  if (!action) {
    throw new RuleCompileError(rule.name, `unknown action "${name}"; known: NONE, ERROR, DLQ${[...custom.keys()].map((k) => ", " + k).join("")}`, {
      code: "rule-unknown-action",
    });
  }
  return { kind: "custom", action };
}

/** Overrides for a rule, most specific first: by rule name, by type, then the default. */
export function overridesFor(rule: Rule, overrides: readonly RuleOverride[]): RuleOverride[] {
  const byName = overrides.filter((o) => o.rule !== undefined && o.rule === rule.name);
  const byType = overrides.filter((o) => o.rule === undefined && o.type !== undefined && o.type.toUpperCase() === rule.type.toUpperCase());
  const byDefault = overrides.filter((o) => o.rule === undefined && o.type === undefined);
  return [...byName, ...byType, ...byDefault];
}

export function firstDefined<K extends keyof RuleOverride>(list: readonly RuleOverride[], key: K): RuleOverride[K] | undefined {
  for (const o of list) if (o[key] !== undefined) return o[key];
  return undefined;
}
