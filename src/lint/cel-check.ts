/**
 * The linter's only door to the static CEL type checker (src/cel/checker).
 * The checker parses with the runtime's parser and runs the runtime's own
 * compile-time checks on the same AST, so whatever the runtime could not run
 * is reported ("the checker and the runtime accept the same language").
 */
import type { DescMessage, Registry } from "@bufbuild/protobuf";
import { checkCel, checkTypeOfShape, formatCheckType, isAssignable, type CheckType } from "../cel/checker/index.js";
import type { CelShape } from "../cel/shape.js";

export type { CheckType };

export type CheckCode = "syntax" | "unknown-field" | "unknown-variable" | "unknown-function" | "no-matching-overload" | "type-mismatch" | "unsupported" | "limit" | "regex";

/** Positions are 1-based within the expression; the end is exclusive. */
export interface CheckDiagnostic {
  readonly code: CheckCode;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface CheckResult {
  /** The expression's type; undefined when unknown (it does not check). */
  readonly type: CheckType | undefined;
  readonly diagnostics: readonly CheckDiagnostic[];
}

export const T = {
  int: { kind: "int" },
  uint: { kind: "uint" },
  double: { kind: "double" },
  string: { kind: "string" },
  bytes: { kind: "bytes" },
  bool: { kind: "bool" },
  null: { kind: "null" },
  timestamp: { kind: "timestamp" },
  dyn: { kind: "dyn" },
} as const satisfies Record<string, CheckType>;

export function listOf(element: CheckType): CheckType {
  return { kind: "list", element };
}

export function nullableOf(inner: CheckType): CheckType {
  if (inner.kind === "dyn" || inner.kind === "null" || inner.kind === "optional-null") return inner;
  return { kind: "optional-null", inner };
}

/** Type-checks `expr` with the given variables. Never throws. */
export function checkExpression(expr: string, variables: Readonly<Record<string, CheckType>>, options: { registry?: Registry } = {}): CheckResult {
  return checkCel(expr, variables, options);
}

/** The check type of a format's CelShape (Protobuf: pass the message descriptor). */
export function typeOfShape(shape: CelShape, options: { desc?: DescMessage } = {}): CheckType {
  return checkTypeOfShape(shape, options);
}

export function formatType(t: CheckType): string {
  return formatCheckType(t);
}

/** Whether a value of type `from` can be stored where `to` is expected. */
export function assignable(from: CheckType, to: CheckType): boolean {
  return isAssignable(from, to);
}
