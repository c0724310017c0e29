/**
 * The linter's vocabulary: diagnostics are data, a report is a list of them
 * plus the sources they point into (for code frames). Nothing here does I/O.
 */
import type { LintCode } from "./codes.js";

export const SEVERITIES = ["error", "warning", "info", "hint"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Lower is more severe: error 0, warning 1, info 2, hint 3. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** True when `s` is at or above `threshold` (error is above warning). */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return severityRank(s) <= severityRank(threshold);
}

/** One finding. Lines and columns are 1-based; the end is exclusive. */
export interface Diagnostic {
  readonly code: LintCode;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  /** What to do about it, when there is something specific to say. */
  readonly hint?: string;
  /** JSON path inside the contract document, e.g. `ruleSet.domainRules[2].expr`. */
  readonly path?: string;
  readonly subject?: string;
  readonly version?: number;
  readonly rule?: string;
}

/** A contract file to lint: its name (as reported) and its text. */
export interface LintSource {
  readonly file: string;
  readonly text: string;
}

export interface LintSummary {
  readonly files: number;
  readonly documents: number;
  readonly rules: number;
  readonly errors: number;
  readonly warnings: number;
  readonly infos: number;
  readonly hints: number;
}

export interface LintReport {
  /** Every diagnostic, sorted by file, line, column, then code. */
  readonly diagnostics: readonly Diagnostic[];
  /** The linted files in order, with their text, so formatters can show code frames. */
  readonly sources: ReadonlyMap<string, string>;
  readonly summary: LintSummary;
}

export function summarize(diagnostics: readonly Diagnostic[], counts: { files: number; documents: number; rules: number }): LintSummary {
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  let hints = 0;
  for (const d of diagnostics) {
    if (d.severity === "error") errors++;
    else if (d.severity === "warning") warnings++;
    else if (d.severity === "info") infos++;
    else hints++;
  }
  return { ...counts, errors, warnings, infos, hints };
}
