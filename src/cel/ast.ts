/** Walking @bufbuild/cel's parsed AST. */
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";

/** Calls `visit` on each direct sub-expression of `e`, in source order (a comprehension: range, init, condition, step, result). */
export function forEachChild(e: Expr, visit: (child: Expr) => void): void {
  const k = e.exprKind;
  const each = (child: Expr | undefined): void => {
    if (child !== undefined) visit(child);
  };
  switch (k.case) {
    case "selectExpr":
      each(k.value.operand);
      return;
    case "callExpr":
      each(k.value.target);
      k.value.args.forEach(each);
      return;
    case "listExpr":
      k.value.elements.forEach(each);
      return;
    case "structExpr":
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === "mapKey") each(entry.keyKind.value);
        each(entry.value);
      }
      return;
    case "comprehensionExpr":
      [k.value.iterRange, k.value.accuInit, k.value.loopCondition, k.value.loopStep, k.value.result].forEach(each);
      return;
    default:
      return;
  }
}
