/**
 * Errors of the CEL layer. Compile problems throw CelCompileError; converting a
 * CEL result back to a native value throws CelValueError. Evaluation never
 * throws: it returns a CelFailure value (see failure.ts).
 */
import { KontractError } from "../errors.js";

/**
 * An expression does not parse, exceeds a limit, or uses something the runtime
 * lacks. `line`/`column` are 1-based and relative to the expression text; the
 * engine adds the file and rule when it wraps this into a RuleCompileError.
 */
export class CelCompileError extends KontractError {
  /** The problem without position prefix, e.g. "undeclared reference to 'mesage'". */
  readonly reason: string;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(reason: string, at?: { line: number; column: number }, options: { cause?: unknown } = {}) {
    super("rule-compile", at ? `${at.line}:${at.column}: ${reason}` : reason, { cause: options.cause });
    this.reason = reason;
    this.line = at?.line;
    this.column = at?.column;
  }
  override get name(): string {
    return "CelCompileError";
  }
}

/** A CEL value does not fit the shape it must be converted back to. */
export class CelValueError extends KontractError {
  /** Where in the value, e.g. "items[2].qty"; "" for the value itself. */
  readonly path: string;
  constructor(path: string, message: string) {
    super("rule-runtime", path === "" ? message : `${path}: ${message}`);
    this.path = path;
  }
  override get name(): string {
    return "CelValueError";
  }
}
