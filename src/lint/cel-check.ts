/**
 * The linter's only door to CEL: the static type checker (src/cel/checker)
 * and the runtime compiler (src/cel). Every expression goes through both:
 * the checker finds type errors with positions, the runtime proves it can
 * run what the checker accepted ("the checker and the runtime accept the
 * same language").
 *
 * While the checker is not available this module falls back to the runtime
 * compiler alone (syntax, unknown names and functions, limits), with every
 * type unknown.
 */
import type { Registry } from "@bufbuild/protobuf";
import { CelCompileError, createCelRuntime, type CelRuntime } from "../cel/index.js";
import type { CelShape } from "../cel/shape.js";

export type CheckType =
  | { readonly kind: "int" | "uint" | "double" | "string" | "bytes" | "bool" | "null" | "timestamp" | "duration" | "dyn" | "type" }
  | { readonly kind: "list"; readonly element: CheckType }
  | { readonly kind: "map"; readonly key: CheckType; readonly value: CheckType }
  | { readonly kind: "record"; readonly name: string; readonly fields: ReadonlyMap<string, CheckType> }
  | { readonly kind: "message"; readonly typeName: string }
  | { readonly kind: "optional-null"; readonly inner: CheckType };

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
  /** The expression's type; undefined when unknown (it does not check, or no checker). */
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

/** True when the static checker is wired in (types are known, not just syntax). */
export const CHECKER_AVAILABLE = false;

/** Type-checks `expr` with the given variables. Never throws. */
export function checkExpression(expr: string, variables: Readonly<Record<string, CheckType>>, options: { registry?: Registry } = {}): CheckResult {
  const error = runtimeError(expr, Object.keys(variables), options.registry);
  return { type: undefined, diagnostics: error ? [fromCompileError(expr, error)] : [] };
}

/** The check type of a format's CelShape (Protobuf: pass the message descriptor). */
export function typeOfShape(_shape: CelShape, _options: { desc?: unknown } = {}): CheckType {
  return T.dyn;
}

export function formatType(t: CheckType): string {
  switch (t.kind) {
    case "list":
      return `list(${formatType(t.element)})`;
    case "map":
      return `map(${formatType(t.key)}, ${formatType(t.value)})`;
    case "record":
      return t.name === "" ? "record" : t.name;
    case "message":
      return t.typeName;
    case "optional-null":
      return `nullable(${formatType(t.inner)})`;
    default:
      return t.kind;
  }
}

/** Whether a value of type `from` can be stored where `to` is expected. */
export function assignable(_from: CheckType, _to: CheckType): boolean {
  return true;
}

const runtimes = new WeakMap<object, CelRuntime>();
let defaultRuntime: CelRuntime | undefined;

function runtimeFor(registry: Registry | undefined): CelRuntime {
  if (!registry) return (defaultRuntime ??= createCelRuntime());
  let rt = runtimes.get(registry);
  if (!rt) runtimes.set(registry, (rt = createCelRuntime({ registry })));
  return rt;
}

/** What the runtime says when compiling, or undefined when it accepts the expression. */
export function runtimeError(expr: string, variables: readonly string[], registry: Registry | undefined): CelCompileError | undefined {
  try {
    runtimeFor(registry).compile(expr, variables);
    return undefined;
  } catch (e) {
    if (e instanceof CelCompileError) return e;
    return new CelCompileError(e instanceof Error ? e.message : String(e));
  }
}

/** A runtime compile error as a checker diagnostic, classified by its reason. */
export function fromCompileError(expr: string, e: CelCompileError): CheckDiagnostic {
  const reason = e.reason;
  let code: CheckCode = "unsupported";
  if (reason.startsWith("syntax error") || reason === "empty expression") code = "syntax";
  else if (reason.startsWith("undeclared reference")) code = "unknown-variable";
  else if (reason.startsWith("unknown function") || reason.startsWith("unknown method")) code = "unknown-function";
  else if (reason.startsWith("no overload") || / is a (function|method)/.test(reason)) code = "no-matching-overload";
  else if (/too long|too large|too deeply|nested too/.test(reason)) code = "limit";
  else if (reason.startsWith("unknown message type")) code = "unknown-variable";
  const line = e.line ?? 1;
  const column = e.column ?? 1;
  // The runtime gives a start only: cover the identifier (or one character) there.
  const lineText = expr.split(/\r\n?|\n/)[line - 1] ?? "";
  const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(lineText.slice(column - 1));
  const length = e.line === undefined ? Math.max(1, lineText.length) : Math.max(1, word ? word[0].length : 1);
  return { code, message: reason, line, column, endLine: line, endColumn: column + length };
}
