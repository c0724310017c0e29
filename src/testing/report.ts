/**
 * The human summary of a test run, and its JUnit XML. Pure.
 */
import { xml } from "../util/xml.js";
import type { CaseResult, TestReport } from "./run.js";

export interface TestFormatOptions {
  readonly color: boolean;
  /** Only failed cases and uncovered rules. */
  readonly quiet?: boolean;
}

const GREEN = "\x1b[32m";
const RED = "\x1b[31m";
const YELLOW = "\x1b[33m";
const DIM = "\x1b[2m";
const UNDERLINE = "\x1b[4m";
const RESET = "\x1b[0m";

export function formatTestReport(report: TestReport, options: TestFormatOptions): string {
  const paint = (code: string, s: string) => (options.color ? code + s + RESET : s);
  const out: string[] = [];
  const byFile = new Map<string, CaseResult[]>();
  for (const c of report.cases) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c]);
  for (const [file, cases] of byFile) {
    const shown = options.quiet ? cases.filter((c) => c.status === "failed") : cases;
    if (shown.length === 0) continue;
    out.push(`${paint(UNDERLINE, file)} ${paint(DIM, cases[0]!.subject)}`);
    for (const c of shown) {
      const mark = c.status === "passed" ? paint(GREEN, "✓") : c.status === "failed" ? paint(RED, "✗") : paint(YELLOW, "-");
      out.push(`  ${mark} ${c.name} ${paint(DIM, `(${c.run}${c.status === "skipped" ? `, skipped: ${c.message}` : ""})`)}`);
      if (c.status === "failed" && c.message) {
        out.push(paint(DIM, `      at ${c.file}:${c.line}:${c.column}`));
        for (const line of c.message.split("\n")) out.push(`      ${line}`);
      }
    }
    out.push("");
  }
  const s = report.summary;
  if (report.coverage) {
    const uncovered = report.coverage.filter((c) => c.status === "uncovered");
    const exempt = report.coverage.filter((c) => c.status === "exempt");
    out.push(`coverage: ${s.covered} of ${s.covered + s.uncovered} rules${exempt.length > 0 ? paint(DIM, ` (${exempt.length} exempt: ${exempt.map((e) => `${e.subject} v${e.version} ${e.rule}, ${e.reason}`).join("; ")})`) : ""}`);
    for (const u of uncovered) out.push(`  ${paint(RED, "✗")} ${u.subject} v${u.version} ${u.rule} ${paint(DIM, `(${u.kind}, ${u.phase})`)}: ${u.reason}`);
    out.push("");
  }
  const parts = [`${s.passed} passed`, `${s.failed} failed`];
  if (s.skipped > 0) parts.push(`${s.skipped} skipped`);
  const ok = s.failed === 0 && s.uncovered === 0;
  out.push(paint(ok ? GREEN : RED, `${ok ? "✔" : "✖"} ${s.cases} case${s.cases === 1 ? "" : "s"} in ${s.files} file${s.files === 1 ? "" : "s"}: ${parts.join(", ")}${s.uncovered > 0 ? `; ${s.uncovered} rule${s.uncovered === 1 ? "" : "s"} not covered` : ""}`));
  return out.join("\n") + "\n";
}

/** One test suite per fixture file (a test case per case), plus one for rule coverage. */
export function testReportJunit(report: TestReport): string {
  const byFile = new Map<string, CaseResult[]>();
  for (const c of report.cases) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c]);
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  for (const [file, cases] of byFile) {
    const f = cases.filter((c) => c.status === "failed").length;
    const sk = cases.filter((c) => c.status === "skipped").length;
    const time = cases.reduce((t, c) => t + c.durationMs, 0) / 1000;
    tests += cases.length;
    failures += f;
    skipped += sk;
    const body = cases.map((c) => {
      const open = `    <testcase classname="${xml(`${c.subject} (${file})`)}" name="${xml(`${c.name} [${c.run}]`)}" file="${xml(file)}" line="${c.line}" time="${(c.durationMs / 1000).toFixed(3)}"`;
      if (c.status === "passed") return `${open}/>`;
      if (c.status === "skipped") return `${open}>\n      <skipped message="${xml(c.message ?? "skipped")}"/>\n    </testcase>`;
      return `${open}>\n      <failure message="${xml(firstLine(c.message))}" type="mismatch">${xml(`${file}:${c.line}:${c.column}\n${c.message ?? ""}`)}</failure>\n    </testcase>`;
    });
    suites.push(`  <testsuite name="${xml(file)}" tests="${cases.length}" failures="${f}" errors="0" skipped="${sk}" time="${time.toFixed(3)}">\n${body.join("\n")}\n  </testsuite>`);
  }
  if (report.coverage) {
    const list = report.coverage.filter((c) => c.status !== "exempt");
    const f = list.filter((c) => c.status === "uncovered").length;
    tests += list.length;
    failures += f;
    const body = list.map((c) => {
      const open = `    <testcase classname="rule coverage" name="${xml(`${c.subject} v${c.version} ${c.rule}`)}"`;
      return c.status === "covered" ? `${open}/>` : `${open}>\n      <failure message="${xml(c.reason ?? "not covered")}" type="uncovered"/>\n    </testcase>`;
    });
    suites.push(`  <testsuite name="rule coverage" tests="${list.length}" failures="${f}" errors="0">\n${body.join("\n")}\n  </testsuite>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kontract test" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}">\n${suites.join("\n")}\n</testsuites>\n`;
}

function firstLine(s: string | undefined): string {
  return (s ?? "failed").split("\n")[0]!;
}
