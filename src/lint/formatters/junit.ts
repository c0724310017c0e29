/**
 * JUnit XML, for CI test reports: one test suite per file, one failing test
 * case per diagnostic at or above the fail severity, one passing test case for
 * a file without such diagnostics. Lower severities go to the suite's
 * system-out.
 */
import type { Diagnostic, LintReport } from "../types.js";
import { atLeast } from "../types.js";
import type { FormatterOptions } from "./options.js";
import { displayPath } from "./paths.js";
import { xml } from "../../util/xml.js";

export function junit(report: LintReport, options: FormatterOptions): string {
  const files = [...new Set([...report.sources.keys(), ...report.diagnostics.map((d) => d.file)])];
  let tests = 0;
  let failures = 0;
  const suites = files.map((file) => {
    const mine = report.diagnostics.filter((d) => d.file === file);
    const failing = mine.filter((d) => atLeast(d.severity, options.failSeverity));
    const other = mine.filter((d) => !atLeast(d.severity, options.failSeverity));
    const name = displayPath(file, options.cwd);
    const cases = failing.length === 0 ? [`    <testcase classname="${xml(name)}" name="${xml(`${name}: no problems`)}"/>`] : failing.map((d) => testcase(name, d));
    tests += cases.length;
    failures += failing.length;
    const out = other.length === 0 ? "" : `\n    <system-out>${xml(other.map((d) => line(name, d)).join("\n"))}</system-out>`;
    return `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failing.length}" errors="0">\n${cases.join("\n")}${out}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kontract lint" tests="${tests}" failures="${failures}" errors="0">\n${suites.join("\n")}\n</testsuites>\n`;
}

function testcase(file: string, d: Diagnostic): string {
  const where = [d.subject, d.version !== undefined ? `v${d.version}` : undefined, d.rule].filter((x) => x !== undefined).join(" ");
  const name = `${d.code} at ${d.line}:${d.column}${where ? ` (${where})` : ""}`;
  return `    <testcase classname="${xml(file)}" name="${xml(name)}">\n      <failure message="${xml(d.message)}" type="${d.severity}">${xml(line(file, d) + (d.hint ? `\nhint: ${d.hint}` : ""))}</failure>\n    </testcase>`;
}

function line(file: string, d: Diagnostic): string {
  return `${file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`;
}
