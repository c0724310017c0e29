/**
 * `kontract test [fixtures...]`: runs the rule tests in fixtures/*.test.yaml
 * against the contracts in rules/, offline, and checks that every rule is
 * covered. Exit codes: 0 all passed and covered, 1 a mismatch or an uncovered
 * rule, 2 usage errors or files that cannot be read.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadContractFiles } from "../contract/index.js";
import { parseFixture, runFixtures, formatTestReport, testReportJunit, type Fixture } from "../testing/index.js";
import { UsageError } from "./check.js";
import { loadConfig, type LintCommandIO } from "./lint.js";

export const TEST_USAGE = `Usage: kontract test [fixtures...] [options]

Runs rule tests: each fixture file (fixtures/*.test.yaml) names a subject and
lists sample messages with what the rules must do (pass, violate rules, or
transform the message), in WRITE or READ mode, across versions. Cases run
offline through the real serializer and deserializer on the contracts in
--rules. Every enabled rule must be covered by a case: without fixture paths,
every rule in --rules; with them, the rules of the subjects those fixtures test.

Options:
  --rules <dir>        contract folder (default: rules, or test.rules in the config)
  --junit <file>       also write a JUnit XML report
  --json               print the report as JSON
  --filter <text>      run only cases whose name contains the text (no coverage check)
  --no-coverage        do not require every rule to be covered
  -q, --quiet          print only failures
  --config <file>      configuration file (default: searched upward from here)
  --color, --no-color  force colors on or off

Exit codes: 0 all cases pass and every rule is covered, 1 otherwise, 2 usage error.
Fixture format: docs/testing.md
`;

export async function testCommand(argv: string[], io: LintCommandIO = { stdout: process.stdout, cwd: process.cwd(), env: process.env }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rules: { type: "string" },
      junit: { type: "string" },
      json: { type: "boolean", default: false },
      filter: { type: "string" },
      "no-coverage": { type: "boolean", default: false },
      quiet: { type: "boolean", short: "q", default: false },
      config: { type: "string" },
      "no-config": { type: "boolean", default: false },
      color: { type: "boolean" },
      "no-color": { type: "boolean" },
    },
  });
  const config = loadConfig(io.cwd, values.config, values["no-config"]);
  const rulesDir = values.rules !== undefined ? resolve(io.cwd, values.rules) : resolve(config.baseDir, config.test.rules ?? "rules");
  const paths = positionals.length > 0 ? positionals.map((p) => resolve(io.cwd, p)) : [resolve(config.baseDir, config.test.fixtures ?? "fixtures")];
  const files = findFixtures(paths);
  if (files.length === 0) throw new UsageError(`no fixture files (*.test.yaml) in ${paths.map((p) => display(p, io.cwd)).join(", ")}`);

  const documents = loadContractFiles(rulesDir);
  const fixtures: Fixture[] = files.map((f) => parseFixture(readFileSync(f, "utf8"), display(f, io.cwd)));
  const report = await runFixtures({
    documents,
    fixtures,
    coverage: !values["no-coverage"],
    // Fixture files named on the command line answer for their own subjects; a whole-project run for every subject.
    ...(positionals.length > 0 ? { coverageSubjects: new Set(fixtures.map((f) => f.subject)) } : {}),
    ...(values.filter !== undefined ? { filter: values.filter } : {}),
  });

  const color = values["no-color"] ? false : values.color ?? (Boolean(io.stdout.isTTY) && io.env.NO_COLOR === undefined);
  io.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : formatTestReport(report, { color, quiet: values.quiet }));
  if (values.junit !== undefined) {
    const path = resolve(io.cwd, values.junit);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, testReportJunit(report));
  }
  return report.summary.failed > 0 || report.summary.uncovered > 0 || report.summary.cases === 0 ? 1 : 0;
}

/** *.test.yaml / *.test.yml files: as given, or anywhere under given folders (sorted). */
export function findFixtures(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.test\.ya?ml$/i.test(name)) out.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`no such file or folder: ${p}`);
    }
    if (st.isDirectory()) walk(p);
    else out.push(p);
  }
  return [...new Set(out)];
}

export function display(path: string, cwd: string): string {
  return path.startsWith(cwd + "/") ? path.slice(cwd.length + 1) : path;
}
