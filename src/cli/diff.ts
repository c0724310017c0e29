/**
 * `kontract diff <a> <b>`: rule-level changes from a to b, classed by what
 * they do to messages, and proved on the rule tests' fixtures.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { CHANGE_CLASSES, classesOf, compareContracts, subjectClass, type ChangeClass, type ContractComparison, type SubjectComparison } from "../diff/index.js";
import { parseFixture } from "../testing/index.js";
import { UsageError } from "./check.js";
import { loadSource, parseSource, type SourceContext } from "./contract-sources.js";
import { loadConfig } from "./lint.js";
import type { PlanCommandIO } from "./registry-commands.js";
import { display, findFixtures } from "./test.js";

export const DIFF_USAGE = `Usage: kontract diff <a> <b> [options]

Shows what changes from contracts a to contracts b, rule by rule, and what
each change does to messages. a and b are each:
  a folder or file         e.g. rules
  git:<ref>[:<path>]       the files in a git commit, branch or tag, e.g.
                           git:main:rules (path relative to here; default rules)
  a registry URL           http(s)://..., or the word registry for the
                           configured one (--registry, $KONTRACT_REGISTRY_URL,
                           registry.url in kontract.config.yaml)
Per subject, the newest version on each side is compared. Each change is
  breaking     consumers read other data or cannot read: a READ transform
               changed, a migration rule removed, an incompatible schema or a
               new major version without a migration rule
  tightening   messages that pass today may fail
  loosening    messages that fail today may pass
  neutral      no message's outcome changes
The rule tests (fixtures/*.test.yaml) of every changed subject run on both
sides, and the cases whose outcome changes are listed: the proof of the class.

Options:
  --fail-on <classes>    exit 1 when a change (or a fixture case's move) is of
                         one of these comma-separated classes, e.g.
                         tightening,breaking; any for every change
  --fixtures <path>      rule tests to prove changes with (default: fixtures,
                         or test.fixtures in the config, when it exists)
  --no-fixtures          do not run fixtures
  --registry <url>       the registry the word registry stands for
  --json                 print the comparison as JSON
  --config <file>        configuration file (default: searched upward from here)
  -h, --help             print this help

Credentials come from the environment, never from flags: KONTRACT_REGISTRY_USER
and KONTRACT_REGISTRY_PASSWORD (basic auth), or KONTRACT_REGISTRY_TOKEN (bearer).

Exit codes: 0 compared (no change of a --fail-on class), 1 a change of a
--fail-on class, 2 usage errors, contracts that do not load, a git ref or
registry that cannot be read.
`;

export async function diffCommand(argv: string[], io: PlanCommandIO = { stdout: process.stdout, cwd: process.cwd(), env: process.env }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "fail-on": { type: "string" },
      fixtures: { type: "string" },
      "no-fixtures": { type: "boolean", default: false },
      registry: { type: "string" },
      json: { type: "boolean", default: false },
      config: { type: "string" },
    },
  });
  if (positionals.length !== 2) throw new UsageError("diff takes two sources: kontract diff <a> <b> (see kontract diff --help)");
  const failOn = parseFailOn(values["fail-on"]);
  const config = loadConfig(io.cwd, values.config, false);
  const context: SourceContext = { cwd: io.cwd, env: io.env, configuredRegistry: config.registry.url, registryFlag: values.registry };
  const sources = positionals.map(parseSource);
  // Files first: a registry side is read for the subjects the files have (a push never removes a subject).
  const loaded = new Array<Awaited<ReturnType<typeof loadSource>>>(2);
  for (const i of [0, 1]) if (sources[i]!.kind !== "registry") loaded[i] = await loadSource(sources[i]!, context);
  const fileSubjects = loaded.some((l) => l !== undefined) ? new Set(loaded.flatMap((l) => l?.documents.map((d) => d.subject) ?? [])) : undefined;
  for (const i of [0, 1]) if (loaded[i] === undefined) loaded[i] = await loadSource(sources[i]!, context, fileSubjects);
  const [a, b] = loaded as [Awaited<ReturnType<typeof loadSource>>, Awaited<ReturnType<typeof loadSource>>];

  const fixtures = values["no-fixtures"] ? [] : loadFixtures(values.fixtures, resolve(config.baseDir, config.test.fixtures ?? "fixtures"), io.cwd);
  const comparison = await compareContracts(a.documents, b.documents, fixtures);
  const classes = classesOf(comparison);
  // In the classes' order, most severe first.
  const failed = CHANGE_CLASSES.filter((k) => failOn.has(k) && classes.has(k));
  if (values.json) io.stdout.write(JSON.stringify({ from: a.label, to: b.label, ...comparison, failOn: [...failOn], failed }, null, 2) + "\n");
  else io.stdout.write(formatComparison(comparison, a.label, b.label, failed));
  return failed.length > 0 ? 1 : 0;
}

function parseFailOn(value: string | undefined): Set<ChangeClass> {
  if (value === undefined) return new Set();
  const out = new Set<ChangeClass>();
  for (const part of value.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    if (part === "any") for (const c of CHANGE_CLASSES) out.add(c);
    else if ((CHANGE_CLASSES as readonly string[]).includes(part)) out.add(part as ChangeClass);
    else throw new UsageError(`--fail-on: unknown class "${part}" (known: ${CHANGE_CLASSES.join(", ")}, any)`);
  }
  return out;
}

/** The fixtures given, else the default folder when it exists (a project without rule tests diffs without proof). */
function loadFixtures(given: string | undefined, fallback: string, cwd: string) {
  const path = given !== undefined ? resolve(cwd, given) : fallback;
  if (given === undefined && !existsSync(path)) return [];
  return findFixtures([path]).map((f) => parseFixture(readFileSync(f, "utf8"), display(f, cwd)));
}

const MARK: Readonly<Record<ChangeClass, string>> = { breaking: "!", tightening: "+", loosening: "-", neutral: "~" };

/** `failed`: the --fail-on classes the comparison shows. */
export function formatComparison(c: ContractComparison, from: string, to: string, failed: readonly ChangeClass[] = []): string {
  const lines = [`Diff ${from} -> ${to}`, ""];
  for (const s of c.subjects) lines.push(...subjectLines(s), "");
  const counts = new Map<ChangeClass, number>();
  for (const s of c.subjects) for (const ch of s.changes) counts.set(ch.class, (counts.get(ch.class) ?? 0) + 1);
  const moved = c.subjects.reduce((n, s) => n + (s.fixtures?.changes.length ?? 0), 0);
  const changed = c.subjects.filter((s) => s.changes.length > 0).length;
  if (changed === 0) lines.push("No changes.");
  else {
    const parts = CHANGE_CLASSES.filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${k}`);
    lines.push(`${changed} of ${c.subjects.length} subject${c.subjects.length === 1 ? "" : "s"} changed: ${parts.join(", ")}${moved > 0 ? `; ${moved} fixture case${moved === 1 ? "" : "s"} change outcome` : ""}.`);
  }
  if (failed.length > 0) lines.push(`Failing: ${failed.join(", ")} changes (--fail-on).`);
  return lines.join("\n") + "\n";
}

function subjectLines(s: SubjectComparison): string[] {
  const versions = s.from === undefined ? `new, v${s.to}` : s.to === undefined ? `gone, was v${s.from}` : s.from === s.to ? `v${s.to}` : `v${s.from} -> v${s.to}`;
  const extra = [
    ...(s.versionsAdded.length > 0 && s.from !== undefined ? [`adds ${s.versionsAdded.map((v) => `v${v}`).join(", ")}`] : []),
    ...(s.versionsRemoved.length > 0 && s.to !== undefined ? [`drops ${s.versionsRemoved.map((v) => `v${v}`).join(", ")}`] : []),
    ...(s.versionsDiffering.length > 0 ? [`${s.versionsDiffering.map((v) => `v${v}`).join(", ")} differ`] : []),
  ];
  const cls = subjectClass(s);
  const out = [`${s.subject}  ${versions}${extra.length > 0 ? ` (${extra.join("; ")})` : ""}: ${cls ?? "unchanged"}`];
  const width = Math.max(...CHANGE_CLASSES.map((k) => k.length));
  for (const ch of s.changes) {
    out.push(`  ${MARK[ch.class]} ${ch.class.padEnd(width)}  ${ch.what}`);
    out.push(`    ${" ".repeat(width)}  ${ch.why}`);
  }
  if (s.fixtures !== undefined) {
    const n = s.fixtures.changes.length;
    out.push(`  fixtures: ${s.fixtures.cases} case${s.fixtures.cases === 1 ? "" : "s"} run on both sides, ${n === 0 ? "none changes outcome" : `${n} change${n === 1 ? "s" : ""} outcome`}`);
    for (const m of s.fixtures.changes) out.push(`  ${MARK[m.class]} ${m.class.padEnd(width)}  ${m.file}:${m.line} ${JSON.stringify(m.name)} (${m.run}): ${m.what}`);
  }
  return out;
}
