/**
 * Static type checking of CEL rule expressions, for `kontract lint`. Parses
 * with @bufbuild/cel, the parser the runtime uses, so the checker and the
 * runtime accept the same language; then types the AST against the variables'
 * types (from the schema) and the runtime's own function table. Gradual: dyn
 * matches anything, and only what is known to fail is reported.
 * See docs/cel.md, "Static checking".
 */
import { parse } from "@bufbuild/cel";
import type { Registry } from "@bufbuild/protobuf";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { CelCompileError } from "../errors.js";
import { resolveLimits } from "../limits.js";
import type { CelLimits } from "../limits.js";
import { checkExpr } from "../check.js";
import { ADVISORY_CODES, Checker, qualifiedChain } from "./check.js";
import { forEachChild } from "../ast.js";
import type { DiagnosticCode, Finding } from "./check.js";
import { functionTable, runtimeEnv } from "./functions.js";
import { SourceText } from "./source.js";
import { locateSyntaxError } from "./syntax.js";
import type { CheckType } from "./types.js";

export type { CheckType, ScalarKind } from "./types.js";
export { T as CHECK_TYPES, formatCheckType, isAssignable, isComparable, joinTypes, listOf, mapOf, nullable } from "./types.js";
export { checkTypeOfShape, fieldCheckType, messageCheckType, scalarCheckType } from "./schema-types.js";
export type { DiagnosticCode } from "./check.js";

export interface CheckDiagnostic {
  code: DiagnosticCode;
  message: string;
  /** 1-based, within the expression text (columns in UTF-16 code units). The end is exclusive. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface CheckResult {
  /** The type of the expression; undefined when any diagnostic but an advisory one (has-always-true) was reported. */
  type: CheckType | undefined;
  /**
   * The types the expression may yield, one per leaf branch of a top-level
   * `?:` (nested), where `type` is their join; `[type]` otherwise; empty when
   * `type` is undefined.
   */
  alternatives: CheckType[];
  /** Sorted by position. */
  diagnostics: CheckDiagnostic[];
}

export interface CheckOptions {
  /** Protobuf types: message-typed variables, message literals, enum constants. As given to createCelRuntime. */
  registry?: Registry;
  /** The runtime's limits (defaults: DEFAULT_CEL_LIMITS); exceeding one is a "limit" diagnostic. */
  limits?: Partial<CelLimits>;
}

/**
 * Checks `expr` with the given variables in scope (`now` is implicit, as in the
 * runtime). Never throws for a bad expression: every problem is a diagnostic.
 */
export function checkCel(expr: string, variables: Readonly<Record<string, CheckType>>, options: CheckOptions = {}): CheckResult {
  const source = new SourceText(expr);
  const limits = options.limits === undefined ? DEFAULT_LIMITS : resolveLimits(options.limits);
  const diagnostic = (f: Finding): CheckDiagnostic => ({ code: f.code, message: f.message, ...source.lineColumn(f) });
  if (expr.length > limits.maxExpressionLength) {
    const d = diagnostic({ code: "limit", message: `expression too long: ${expr.length} characters, the limit is ${limits.maxExpressionLength}`, start: 0, end: expr.length });
    return { type: undefined, alternatives: [], diagnostics: [d] };
  }
  const parsed = parseCached(expr);
  if (!("expr" in parsed)) return { type: undefined, alternatives: [], diagnostics: [diagnostic(syntaxFinding(source, parsed.error))] };
  const root = parsed.expr as Expr | undefined;
  if (root === undefined) return { type: undefined, alternatives: [], diagnostics: [diagnostic({ code: "syntax", message: "empty expression", start: 0, end: 0 })] };
  const positions = parsed.sourceInfo?.positions ?? {};
  const checker = new Checker({
    source,
    positions,
    macroCalls: (parsed.sourceInfo?.macroCalls ?? {}) as Record<string, Expr>,
    funcs: functionTable(),
    registry: runtimeEnv(options.registry).registry,
    variables,
  });
  let type: CheckType | undefined = checker.run(root);
  const findings = dedupe(checker.findings);
  // The runtime's own compile-time checks (limits, references, arities) are the
  // last word: whatever it would reject, the checker must not accept.
  const clean = findings.every((f) => ADVISORY_CODES.has(f.code));
  const gate = runtimeGate(root, positions, source, Object.keys(variables), options, limits, clean);
  if (gate !== undefined) findings.push(gate);
  if (!findings.every((f) => ADVISORY_CODES.has(f.code))) type = undefined;
  findings.sort((a, b) => a.start - b.start || a.end - b.end);
  return { type, alternatives: type === undefined ? [] : checker.alternatives(root, type), diagnostics: findings.map(diagnostic) };
}

/**
 * The field paths an expression selects on `variable` (`message.address.city` gives
 * ["address", "city"]), each chain whole, in source order; none where a comprehension
 * rebinds the name, and none for `has()`, which reads presence, not the value. Empty
 * when the expression does not parse (the checker reports that).
 */
export function selectedPaths(expr: string, variable: string): string[][] {
  const parsed = parseCached(expr);
  const paths: string[][] = [];
  const visit = (e: Expr): void => {
    const k = e.exprKind;
    if (k.case === "selectExpr" && !k.value.testOnly) {
      const chain = qualifiedChain(e);
      if (chain !== undefined && chain.parts[0] === variable) {
        paths.push(chain.parts.slice(1));
        return;
      }
    }
    if (k.case === "comprehensionExpr" && (k.value.iterVar === variable || k.value.accuVar === variable)) {
      // The range and the accumulator's start are evaluated in the outer scope.
      if (k.value.iterRange !== undefined) visit(k.value.iterRange);
      if (k.value.accuInit !== undefined) visit(k.value.accuInit);
      return;
    }
    forEachChild(e, visit);
  };
  if ("expr" in parsed && parsed.expr !== undefined) visit(parsed.expr as Expr);
  return paths;
}

const DEFAULT_LIMITS = resolveLimits(undefined);

type Parsed = ReturnType<typeof parse> | { error: unknown };

/**
 * Parses, remembering the last few hundred expressions: a linter sees the same
 * rule text in many contracts and versions, and parsing is most of the cost.
 * The ASTs are only read, never changed.
 */
const parseCache = new Map<string, Parsed>();
const PARSE_CACHE_SIZE = 512;

function parseCached(expr: string): Parsed {
  let parsed = parseCache.get(expr);
  if (parsed === undefined) {
    try {
      parsed = parse(expr);
    } catch (error) {
      parsed = { error };
    }
    if (parseCache.size >= PARSE_CACHE_SIZE) parseCache.delete(parseCache.keys().next().value!);
    parseCache.set(expr, parsed);
  }
  return parsed;
}

function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}:${f.start}:${f.end}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A parse error with the best position we can find. */
function syntaxFinding(source: SourceText, e: unknown): Finding {
  const text = source.text;
  if (e instanceof RangeError) return { code: "limit", message: "expression nested too deeply to parse", start: 0, end: text.length };
  const where = (offset: number) => {
    const p = source.point(offset);
    return `${p.line}:${p.column}`;
  };
  const located = locateSyntaxError(text, where);
  if (located !== undefined) return located;
  const err = e as { message?: unknown; location?: { start?: { offset?: number } } };
  const offset = typeof err.location?.start?.offset === "number" ? err.location.start.offset : 0;
  let message = String(err.message ?? e).replace(/^<input>:\d+:\d+: /, "");
  // Peggy lists every token it would have accepted; keep the message readable.
  const expecting = message.indexOf(" but expecting ");
  if (expecting >= 0 && message.length > expecting + 80) message = message.slice(0, expecting);
  return { code: "syntax", message: `syntax error: ${message}`, start: offset, end: Math.min(text.length, offset + 1) };
}

/** Codes for the runtime's compile errors, by their wording (src/cel/check.ts). */
function gateCode(reason: string): DiagnosticCode {
  if (/too long|too large|too deeply/.test(reason)) return "limit";
  if (/undeclared reference|unknown message type/.test(reason)) return "unknown-variable";
  if (/^unknown (function|method)/.test(reason)) return "unknown-function";
  if (/overload|is a method|is a function|needs a field selection/.test(reason)) return "no-matching-overload";
  return "unsupported";
}

/**
 * The runtime's own compile-time checks (src/cel/check.ts: limits, references,
 * arities) on the same AST. Their rejection is reported when the checker found
 * nothing (a divergence: the checker must not accept what the runtime
 * rejects), and always when it is a limit, which the checker does not count.
 */
function runtimeGate(root: Expr, positions: { readonly [id: string]: number }, source: SourceText, variables: string[], options: CheckOptions, limits: CelLimits, clean: boolean): Finding | undefined {
  const declared = new Set(variables);
  const implicitNow = !declared.has("now");
  if (implicitNow) declared.add("now");
  const position = (id: bigint) => {
    const offset = positions[id.toString()];
    return offset === undefined ? undefined : source.point(offset);
  };
  try {
    checkExpr(root, { limits, variables: declared, implicitNow, container: "", env: runtimeEnv(options.registry), position });
    return undefined;
  } catch (e) {
    if (!(e instanceof CelCompileError)) throw e;
    const code = gateCode(e.reason);
    if (!clean && code !== "limit") return undefined;
    let start = 0;
    if (e.line !== undefined && e.column !== undefined) start = Math.min(source.text.length, source.offsetOfLine(e.line) + e.column - 1);
    return { code, message: e.reason, start, end: code === "limit" ? source.text.length : start };
  }
}
