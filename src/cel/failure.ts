/**
 * Evaluation failures as values. Programs never throw; an evaluation error is a
 * CelFailure, which callers must treat as a failed rule, never as a pass.
 */
const brand = Symbol.for("kontract/cel-failure");

export interface CelFailure {
  readonly [brand]: true;
  /** What went wrong, e.g. "no such key: agee". Never contains the input message. */
  readonly message: string;
  /** 1-based position in the expression of the sub-expression that failed, when known. */
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly cause: unknown;
  /** "rule-cost" when the evaluation ran out of its cost budget (cost.ts); undefined for any other failure. */
  readonly code: CelFailureCode | undefined;
}

/** The failures callers must tell apart from an ordinary evaluation error. */
export type CelFailureCode = "rule-cost";

class Failure implements CelFailure {
  readonly [brand] = true as const;
  constructor(
    readonly message: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    readonly cause: unknown,
    readonly code: CelFailureCode | undefined,
  ) {}
  toString(): string {
    return this.line === undefined ? this.message : `${this.line}:${this.column}: ${this.message}`;
  }
}

export function celFailure(message: string, at?: { line: number; column: number }, cause?: unknown): CelFailure {
  return new Failure(message, at?.line, at?.column, cause, undefined);
}

/** The evaluation spent its cost budget. No position: the whole evaluation is at fault, not one sub-expression. */
export function costFailure(message: string, cause?: unknown): CelFailure {
  return new Failure(message, undefined, undefined, cause, "rule-cost");
}

export function isCelFailure(v: unknown): v is CelFailure {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[brand] === true;
}
