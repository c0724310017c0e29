/**
 * The human format: diagnostics grouped by file, each with a code frame and
 * its hint, then a one-line total.
 */
import type { Diagnostic, LintReport, Severity } from "../types.js";
import { atLeast } from "../types.js";
import { codeFrame } from "./code-frame.js";
import type { FormatterOptions } from "./options.js";

const COLORS: Record<Severity, string> = { error: "\x1b[31m", warning: "\x1b[33m", info: "\x1b[36m", hint: "\x1b[90m" };
const DIM = "\x1b[2m";
const BOLD = "\x1b[1m";
const UNDERLINE = "\x1b[4m";
const RESET = "\x1b[0m";

export function stylish(report: LintReport, options: FormatterOptions): string {
  const paint = (code: string, s: string) => (options.color ? code + s + RESET : s);
  const shown = options.quiet ? report.diagnostics.filter((d) => atLeast(d.severity, options.failSeverity)) : report.diagnostics;
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of shown) byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
  const out: string[] = [];
  for (const [file, list] of byFile) {
    out.push(paint(UNDERLINE, file));
    const source = report.sources.get(file) ?? options.readSource?.(file);
    for (const d of list) {
      const where = `${d.line}:${d.column}`.padEnd(8);
      out.push(`  ${paint(DIM, where)}${paint(COLORS[d.severity], d.severity.padEnd(8))}${d.message}  ${paint(DIM, d.code)}`);
      if (source !== undefined && options.codeFrame !== false) {
        const frame = codeFrame(source, d.line, d.column, d.endLine, d.endColumn, { color: options.color });
        if (frame) out.push(indent(frame, 4));
      }
      if (d.hint) out.push(`    ${paint(BOLD, "hint:")} ${d.hint}`);
      out.push("");
    }
  }
  const s = report.summary;
  const total = shown.length;
  if (total === 0) {
    out.push(paint("\x1b[32m", `✔ no problems`) + paint(DIM, ` (${s.files} file${s.files === 1 ? "" : "s"}, ${s.documents} contract${s.documents === 1 ? "" : "s"}, ${s.rules} rule${s.rules === 1 ? "" : "s"})`));
  } else {
    const failing = shown.some((d) => atLeast(d.severity, options.failSeverity));
    const n = (sev: Severity) => shown.filter((d) => d.severity === sev).length;
    const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;
    const counts = [plural(n("error"), "error"), plural(n("warning"), "warning"), plural(n("info"), "info"), plural(n("hint"), "hint")];
    const warned = shown.some((d) => atLeast(d.severity, "warning"));
    const symbol = failing ? "✖" : warned ? "⚠" : "ℹ";
    out.push(paint(failing ? COLORS.error : warned ? COLORS.warning : COLORS.info, `${symbol} ${total} problem${total === 1 ? "" : "s"} (${counts.join(", ")})`) + paint(DIM, ` in ${s.files} file${s.files === 1 ? "" : "s"}, ${s.rules} rule${s.rules === 1 ? "" : "s"}`));
  }
  return out.join("\n") + "\n";
}

function indent(s: string, n: number): string {
  const pad = " ".repeat(n);
  return s
    .split("\n")
    .map((l) => pad + l)
    .join("\n");
}
