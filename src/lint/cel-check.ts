/**
 * The linter's only door to the static CEL type checker (src/cel/checker).
 * The checker parses with the runtime's parser and runs the runtime's own
 * compile-time checks on the same AST, so whatever the runtime could not run
 * is reported ("the checker and the runtime accept the same language").
 */
export {
  CHECK_TYPES as T,
  checkCel as checkExpression,
  checkTypeOfShape as typeOfShape,
  formatCheckType as formatType,
  isAssignable as assignable,
  listOf,
  mapOf,
  nullable as nullableOf,
  scalarCheckType,
  selectedPaths,
} from "../cel/checker/index.js";
export type { CheckDiagnostic, CheckResult, CheckType } from "../cel/checker/index.js";
export { costDegree } from "../cel/cost-estimate.js";
