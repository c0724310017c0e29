/**
 * GitHub Actions workflow commands: each diagnostic becomes an annotation on
 * the pull request's diff (`::error file=...,line=...::message`).
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import type { LintReport, Severity } from "../types.js";
import type { FormatterOptions } from "./options.js";
import { displayPath } from "./paths.js";

const COMMAND: Record<Severity, string> = { error: "error", warning: "warning", info: "notice", hint: "notice" };

export function github(report: LintReport, options: FormatterOptions): string {
  const lines = report.diagnostics.map((d) => {
    const props = [
      `file=${escapeProperty(displayPath(d.file, options.cwd))}`,
      `line=${d.line}`,
      `col=${d.column}`,
      `endLine=${d.endLine}`,
      `endColumn=${d.endColumn}`,
      `title=${escapeProperty(`kontract ${d.code}`)}`,
    ];
    const text = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
    return `::${COMMAND[d.severity]} ${props.join(",")}::${escapeData(text)}`;
  });
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
