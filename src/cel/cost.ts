/**
 * The evaluation cost budget. Compile-time limits bound the expression, not
 * the input: three nested comprehensions over 600 elements are 216M steps. So
 * every evaluation also gets a budget of cost units, spent as it runs and
 * interrupted when exhausted, in cel-go's units (interpreter/runtimecost.go):
 * one per call, identifier or selection, none for a literal, 10 per list and
 * 30 per map built. Charging every node would tax the hot path, so only
 * comprehension iterations are charged, each with the static cost of the loop
 * condition and step it runs; work outside loops is already bounded by the
 * expression size times the input size. Functions whose work grows with their
 * operands charge cel-go's cost for it before they run: contains, startsWith,
 * endsWith, matches, `in` on a list (funcs.ts, runtime.ts), replace for the
 * size of its result, and the rest of the strings extension for the
 * characters it traverses.
 *
 * The interpreter and the native fast path charge the same units at the same
 * points, so an evaluation exhausts its budget on both paths or on neither.
 */
import { celFunc, CelScalar } from "@bufbuild/cel";
import type { CelFunc } from "@bufbuild/cel";
import { clone, create } from "@bufbuild/protobuf";
import { ExprSchema, Expr_CallSchema, ConstantSchema } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import type { Expr, Expr_Comprehension } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { forEachChild } from "./ast.js";
import { costFailure } from "./failure.js";
import type { CelFailure } from "./failure.js";

/** cel-go's base costs (common/cost.go). */
const LIST_CREATE_COST = 10;
const MAP_CREATE_COST = 30;
const STRUCT_CREATE_COST = 40;
/** cel-go's per-character factor for string traversals. */
export const STRING_TRAVERSAL_FACTOR = 0.1;

/**
 * What an evaluation may still spend. One per runtime, reset by every
 * evaluation: evaluation is synchronous and never re-enters a runtime.
 */
export interface Meter {
  readonly budget: number;
  /** Units left; negative once exhausted, and it stays so until the next reset. */
  left: number;
}

export function createMeter(budget: number): Meter {
  return { budget, left: budget };
}

/** The message of a spent budget; the program's failure (spent) adds the budget. */
export const OVER_BUDGET = "evaluation cost exceeds the budget";

function exceeded(budget: number): string {
  return `${OVER_BUDGET} of ${budget} units (CEL limit maxCost)`;
}

/** Thrown by charges inside @bufbuild/cel functions; the program reports it as spent(meter). */
export class CostExceeded extends Error {
  constructor(budget: number) {
    super(exceeded(budget));
  }
}

/**
 * The result of an evaluation that ran out of budget, whatever the evaluation
 * made of the interruption (&& and || may have absorbed it into a value).
 */
export function spent(meter: Meter): CelFailure {
  return costFailure(exceeded(meter.budget));
}

/**
 * Spends `units`; throws CostExceeded once the budget is gone. Exhaustion is
 * sticky: every later charge of the same evaluation throws too, so a failure
 * that && or || absorbs still stops every loop at its next iteration.
 */
export function charge(meter: Meter, units: number): void {
  if ((meter.left -= units) < 0) throw new CostExceeded(meter.budget);
}

/** ceil(size * 0.1): cel-go's cost of traversing `size` characters. */
export function traversalCost(size: number): number {
  return Math.ceil(size * STRING_TRAVERSAL_FACTOR);
}

/**
 * cel-go's cost of the standard string predicates: contains is a product of
 * both sizes, startsWith and endsWith are charged the receiver's traversal.
 */
export const PREDICATE_COSTS: Readonly<Record<"contains" | "startsWith" | "endsWith", (s: string, arg: string) => number>> = {
  contains: (s, arg) => traversalCost(s.length) * traversalCost(arg.length),
  startsWith: (s) => traversalCost(s.length),
  endsWith: (s) => traversalCost(s.length),
};

/** cel-go's per-character factor for regex patterns: a guess of 4 characters per regex term. */
const REGEX_LENGTH_FACTOR = 0.25;

/** cel-go's cost of `text.matches(pattern)`: ceil((1 + |text|) * 0.1) * ceil(|pattern| * 0.25). */
export function matchCost(textLength: number, patternLength: number): number {
  return Math.ceil((1 + textLength) * STRING_TRAVERSAL_FACTOR) * Math.ceil(patternLength * REGEX_LENGTH_FACTOR);
}

/** The static cost of evaluating `e` once, not counting the iterations of comprehensions inside it. */
function nodeCost(e: Expr | undefined): number {
  if (e === undefined) return 0;
  const k = e.exprKind;
  switch (k.case) {
    case "constExpr":
      return 0;
    case "identExpr":
      return 1;
    case "selectExpr":
      return 1 + nodeCost(k.value.operand);
    case "callExpr": {
      let n = 1 + nodeCost(k.value.target);
      for (const a of k.value.args) n += nodeCost(a);
      return n;
    }
    case "listExpr": {
      let n = LIST_CREATE_COST;
      for (const x of k.value.elements) n += nodeCost(x);
      return n;
    }
    case "structExpr": {
      let n = k.value.messageName === "" ? MAP_CREATE_COST : STRUCT_CREATE_COST;
      for (const entry of k.value.entries) {
        n += nodeCost(entry.value);
        if (entry.keyKind.case === "mapKey") n += nodeCost(entry.keyKind.value);
      }
      return n;
    }
    case "comprehensionExpr":
      // The nested loop charges its own iterations; here, what runs once per evaluation of it.
      return 1 + nodeCost(k.value.iterRange) + nodeCost(k.value.accuInit) + nodeCost(k.value.result);
    default:
      return 1;
  }
}

/** What one iteration of `c` costs: its loop condition and step; at least 1. */
export function iterationCost(c: Expr_Comprehension): number {
  return Math.max(1, nodeCost(c.loopCondition) + nodeCost(c.loopStep));
}

/** The interpreter's charge point; the parser cannot produce the name, so no rule can call it. */
const CHARGE_FUNCTION = "@charge";

/** `@charge(cond, units)`: spends `units`, then yields the loop condition unchanged. */
export function chargeFunc(meter: Meter): CelFunc {
  return celFunc(CHARGE_FUNCTION, [CelScalar.BOOL, CelScalar.INT], CelScalar.BOOL, (cond: boolean, units: bigint) => {
    charge(meter, Number(units));
    return cond;
  });
}

/**
 * A copy of `root` for @bufbuild/cel's planner in which every loop condition
 * charges its iteration first: `@charge(cond, iterationCost)`. The charge
 * carries the comprehension's id, so nothing else's position changes.
 */
export function withCharges(root: Expr): Expr {
  const copy = clone(ExprSchema, root);
  const visit = (e: Expr): void => {
    forEachChild(e, visit);
    const k = e.exprKind;
    if (k.case !== "comprehensionExpr") return;
    const c = k.value;
    const units = iterationCost(c);
    const weight = create(ExprSchema, { id: e.id, exprKind: { case: "constExpr", value: create(ConstantSchema, { constantKind: { case: "int64Value", value: BigInt(units) } }) } });
    const call = create(Expr_CallSchema, { function: CHARGE_FUNCTION, args: [c.loopCondition ?? create(ExprSchema), weight] });
    c.loopCondition = create(ExprSchema, { id: e.id, exprKind: { case: "callExpr", value: call } });
  };
  visit(copy);
  return copy;
}
