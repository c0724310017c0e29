/**
 * `cel-cost`: a rule whose cost grows faster than the message. Such a rule
 * passes on small test messages and fails with `rule-cost` (or stalls a
 * consumer without a budget) on large ones.
 */
import { costDegree } from "./cel-check.js";

export interface CostWarning {
  readonly message: string;
  readonly hint: string;
}

/** The variables of each rule type that hold message data (CEL_FIELD's name, tags... come from the schema). */
function dataVariables(ruleType: string): readonly string[] {
  return ruleType === "CEL_FIELD" ? ["value", "message"] : ["message"];
}

/** The warning for one expression (a guard or a body), or undefined when its cost is at most linear in the message. */
export function celCostWarning(expr: string, ruleType: string): CostWarning | undefined {
  const degree = costDegree(expr, dataVariables(ruleType));
  if (degree === undefined || degree < 2) return undefined;
  return {
    message: `evaluation cost grows as n^${degree} in the message size n (loops over message data nested in each other, or searching message data inside such a loop): large messages exceed the cost budget and fail with rule-cost`,
    hint: "loop over each element's own fields, compare against literals, or raise the budget (CEL limit maxCost, engine limits.celMaxCost) if the data is known to stay small",
  };
}
