/**
 * Machine-readable output: the summary and every diagnostic.
 */
import type { LintReport } from "../types.js";
import type { FormatterOptions } from "./options.js";

export function json(report: LintReport, _options: FormatterOptions): string {
  return JSON.stringify({ version: 1, summary: report.summary, diagnostics: report.diagnostics }, null, 2) + "\n";
}
