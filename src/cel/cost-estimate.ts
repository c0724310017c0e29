/**
 * A static estimate of how a rule's evaluation cost grows with the message,
 * for lint (docs/lint.md, `cel-cost`): the degree d of the polynomial n^d
 * bounding it for messages of size n. Modelled on cel-go's checker/cost.go,
 * which estimates costs from size estimates of the inputs; here only the
 * exponent matters, so a rule that is linear in the message (d <= 1) passes
 * and one that is quadratic or worse is reported, before large messages make
 * it spend its cost budget at run time.
 *
 * Elements of message data are parts of it: a loop that only reads each
 * element's own fields is linear in total, since the elements' sizes add up
 * to the message's. Only reads of whole message data (the variables, or a
 * loop variable of an enclosing loop's collection) inside a loop multiply.
 */
import { parse } from "@bufbuild/cel";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";

interface Estimate {
  /** Size of the value as a degree: 1 for message data, 0 for literals and elements of message data. */
  readonly size: number;
  /** Cost of evaluating it, as a degree. */
  readonly cost: number;
}

const CONSTANT: Estimate = { size: 0, cost: 0 };

/** Functions whose work is the product of two operands' sizes (cel-go: strCost * substrCost). */
const PRODUCT = new Set(["contains", "matches"]);
/** Functions whose work is linear in their operands (cel-go's string traversals, and the strings extension). */
const LINEAR = new Set([
  "startsWith",
  "endsWith",
  "indexOf",
  "lastIndexOf",
  "lowerAscii",
  "upperAscii",
  "trim",
  "replace",
  "split",
  "join",
  "substring",
  "charAt",
  "format",
]);

/** The cost degree of `e`, where `data` are the variables holding message data. */
function estimate(e: Expr | undefined, data: ReadonlySet<string>, scope: ReadonlyMap<string, number>): Estimate {
  if (e === undefined) return CONSTANT;
  const k = e.exprKind;
  switch (k.case) {
    case "identExpr": {
      const bound = scope.get(k.value.name);
      return { size: bound ?? (data.has(k.value.name) ? 1 : 0), cost: 0 };
    }
    case "selectExpr":
      return estimate(k.value.operand, data, scope);
    case "listExpr":
      return combine(k.value.elements.map((x) => estimate(x, data, scope)));
    case "structExpr":
      return combine(k.value.entries.flatMap((x) => [estimate(x.value, data, scope), x.keyKind.case === "mapKey" ? estimate(x.keyKind.value, data, scope) : CONSTANT]));
    case "callExpr": {
      const operands = [...(k.value.target ? [k.value.target] : []), ...k.value.args].map((x) => estimate(x, data, scope));
      const all = combine(operands);
      const fn = k.value.function;
      let own = 0;
      if (PRODUCT.has(fn)) own = operands.reduce((n, o) => n + o.size, 0);
      else if (LINEAR.has(fn)) own = all.size;
      else if (fn === "@in") own = operands[1]?.size ?? 0;
      // replace can multiply sizes: s.replace('', s).
      const size = fn === "replace" ? operands.reduce((n, o) => n + o.size, 0) : all.size;
      return { size, cost: Math.max(all.cost, own) };
    }
    case "comprehensionExpr": {
      const c = k.value;
      const range = estimate(c.iterRange, data, scope);
      const init = estimate(c.accuInit, data, scope);
      // The loop variable is an element: a part of the collection, not all of it.
      const inner = new Map(scope);
      inner.set(c.iterVar, 0);
      if (c.iterVar2 !== "") inner.set(c.iterVar2, 0);
      inner.set(c.accuVar, Math.max(init.size, range.size));
      const body = combine([estimate(c.loopCondition, data, inner), estimate(c.loopStep, data, inner)]);
      const after = new Map(scope);
      after.set(c.accuVar, Math.max(init.size, range.size, body.size));
      const result = estimate(c.result, data, after);
      // range.size iterations (a degree), each of body.cost; a range of constant size adds nothing.
      const loop = range.size === 0 ? body.cost : range.size + body.cost;
      return { size: result.size, cost: Math.max(range.cost, init.cost, loop, result.cost) };
    }
    default:
      return CONSTANT;
  }
}

function combine(xs: readonly Estimate[]): Estimate {
  let size = 0;
  let cost = 0;
  for (const x of xs) {
    if (x.size > size) size = x.size;
    if (x.cost > cost) cost = x.cost;
  }
  return { size, cost };
}

/**
 * The degree d of n^d bounding the cost of evaluating `expr` on messages of
 * size n, when `dataVariables` hold the message's data. Undefined when the
 * expression does not parse (the checker reports that).
 */
export function costDegree(expr: string, dataVariables: readonly string[]): number | undefined {
  let root: Expr | undefined;
  try {
    root = parse(expr).expr as Expr | undefined;
  } catch {
    return undefined;
  }
  return root === undefined ? undefined : estimate(root, new Set(dataVariables), new Map()).cost;
}
