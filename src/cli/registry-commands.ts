/**
 * `kontract plan`, `push` and `pull`: the contracts in rules/ against a
 * registry. `plan` reads the registry and says what a push would register;
 * `push` registers it and checks what the registry stored; `pull` writes what
 * the registry holds as files.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadContractFiles } from "../contract/index.js";
import { configuredSubjects, planPush, readRegistryState, readSubjectConfigs, type PushPlan, type SubjectPlan } from "../registry/plan.js";
import { contractFiles } from "../registry/pull.js";
import { applyPushPlan } from "../registry/push.js";
import { UsageError } from "./check.js";
import { loadConfig } from "./lint.js";
import { registryFromEnv } from "./registry-access.js";

export const PLAN_USAGE = `Usage: kontract plan [paths...] --registry <url> [options]

Compares the contracts in the given folders or files (default: rules) with what
a Schema Registry holds, and prints what a push would do per subject: a new
subject, a new schema version, a metadata-only or ruleSet-only version (Confluent
registers those as new versions with the same schema), or nothing. A local
version that differs from the registered version it pairs with is a conflict:
registered versions never change, so add a new version instead.

Options:
  --registry <url>       the registry (default: $KONTRACT_REGISTRY_URL, else
                         registry.url in kontract.config.yaml)
  --json                 print the plan as JSON
  --detailed-exitcode    exit 1 when a push would change something (0 when not)
  -h, --help             print this help

Credentials come from the environment, never from flags: KONTRACT_REGISTRY_USER
and KONTRACT_REGISTRY_PASSWORD (basic auth), or KONTRACT_REGISTRY_TOKEN (bearer).

Exit codes: 0 planned (with --detailed-exitcode: nothing to change), 1 changes
pending (only with --detailed-exitcode), 2 conflicts, usage errors, contracts
that do not load, or a registry that cannot be reached.
`;

export interface PlanCommandIO {
  readonly stdout: { write(text: string): unknown };
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const PUSH_USAGE = `Usage: kontract push [paths...] --registry <url> [options]

Registers what \`kontract plan\` shows: referenced subjects first, each subject's
versions in order. It is idempotent (a second push registers nothing), refuses
subjects with a conflict, stops at the first version the registry refuses (a
compatibility check, with the registry's own message), and reads every stored
version back: a registry that drops metadata or ruleSet is an error naming what
it lost, never a success.

Options:
  --registry <url>       the registry (default: $KONTRACT_REGISTRY_URL, else
                         registry.url in kontract.config.yaml)
  --dry-run              print the plan and register nothing (= kontract plan)
  --json                 print the plan and the result as JSON
  -h, --help             print this help

Credentials come from the environment, never from flags: KONTRACT_REGISTRY_USER
and KONTRACT_REGISTRY_PASSWORD (basic auth), or KONTRACT_REGISTRY_TOKEN (bearer).

Exit codes: 0 pushed (or nothing to push), 2 conflicts, a refused or lost
registration, usage errors, contracts that do not load, or a registry that
cannot be reached.
`;

export const PULL_USAGE = `Usage: kontract pull [subjects...] --registry <url> [options]

Writes what a registry holds as kontract's files: <subject>.yaml with every
version of the subject, each schema in schemas/<subject>-v<n>.<avsc|json|proto>
beside it. Without subjects, every subject. Files of the same names are
replaced; nothing else is touched. A push of what a pull wrote changes nothing.

Options:
  --registry <url>       the registry (default: $KONTRACT_REGISTRY_URL, else
                         registry.url in kontract.config.yaml)
  --out <dir>            where to write (default: rules)
  -h, --help             print this help

Credentials come from the environment, never from flags: KONTRACT_REGISTRY_USER
and KONTRACT_REGISTRY_PASSWORD (basic auth), or KONTRACT_REGISTRY_TOKEN (bearer).

Exit codes: 0 written, 2 usage errors, an unknown subject, or a registry that
cannot be reached.
`;

const REGISTRY_OPTIONS = {
  registry: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

export async function planCommand(argv: string[], io: PlanCommandIO = { stdout: process.stdout, cwd: process.cwd(), env: process.env }): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...REGISTRY_OPTIONS, "detailed-exitcode": { type: "boolean", default: false } } });
  const { plan, where } = await planFor(values.registry, positionals, io);
  io.stdout.write(values.json ? JSON.stringify(plan, null, 2) + "\n" : formatPlan(plan, where));
  if (plan.conflicts) return 2;
  return values["detailed-exitcode"] && plan.changes ? 1 : 0;
}

export async function pushCommand(argv: string[], io: PlanCommandIO = { stdout: process.stdout, cwd: process.cwd(), env: process.env }): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...REGISTRY_OPTIONS, "dry-run": { type: "boolean", default: false } } });
  const { plan, where, registry } = await planFor(values.registry, positionals, io);
  if (values["dry-run"]) {
    io.stdout.write(values.json ? JSON.stringify(plan, null, 2) + "\n" : formatPlan(plan, where));
    return plan.conflicts ? 2 : 0;
  }
  if (!values.json) io.stdout.write(formatPlan(plan, where));
  const result = await applyPushPlan(registry, plan, (v) => {
    if (!values.json) io.stdout.write(`registered ${v.subject} v${v.version} as v${v.registered.version} (id ${v.registered.id})\n`);
  });
  if (values.json) io.stdout.write(JSON.stringify({ plan, configured: result.configured, pushed: result.pushed.map((v) => ({ subject: v.subject, version: v.version, registeredVersion: v.registered.version, id: v.registered.id })), refused: result.refused }, null, 2) + "\n");
  else if (result.pushed.length > 0 || result.refused.length > 0 || result.configured.length > 0) {
    const configs = result.configured.length > 0 ? ` and the config of ${result.configured.join(", ")}` : "";
    io.stdout.write(`\nPushed ${result.pushed.length} version${result.pushed.length === 1 ? "" : "s"}${configs}${result.refused.length > 0 ? `; refused ${result.refused.join(", ")} (conflicts)` : ""}.\n`);
  }
  return result.refused.length > 0 ? 2 : 0;
}

export async function pullCommand(argv: string[], io: PlanCommandIO = { stdout: process.stdout, cwd: process.cwd(), env: process.env }): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { registry: REGISTRY_OPTIONS.registry, out: { type: "string", default: "rules" } } });
  const { registry } = registryFromEnv(values.registry, io.env, loadConfig(io.cwd, undefined, false).registry.url);
  const subjects = positionals.length > 0 ? positionals : await registry.subjects();
  const state = await readRegistryState(registry, subjects);
  const unknown = [...state].filter(([, versions]) => versions.length === 0).map(([s]) => s);
  if (unknown.length > 0) throw new UsageError(`the registry has no subject ${unknown.join(", ")}`);
  const out = resolve(io.cwd, values.out);
  for (const file of contractFiles(state, await readSubjectConfigs(registry, state.keys()))) {
    const path = join(out, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.text);
    io.stdout.write(`wrote ${relative(io.cwd, path) || path}\n`);
  }
  return 0;
}

/** Loads the contracts and reads what the registry holds of their subjects. */
async function planFor(flag: string | undefined, positionals: readonly string[], io: PlanCommandIO) {
  const { registry, where } = registryFromEnv(flag, io.env, loadConfig(io.cwd, undefined, false).registry.url);
  const paths = (positionals.length > 0 ? positionals : ["rules"]).map((p) => resolve(io.cwd, p));
  const documents = loadContractFiles(paths);
  const state = await readRegistryState(registry, new Set(documents.map((d) => d.subject)));
  const plan = planPush(documents, state, await readSubjectConfigs(registry, configuredSubjects(documents)));
  return { plan, where, registry };
}

/** Like `terraform plan`: a line per subject, `+` to register, `!` a conflict, `=` up to date. */
export function formatPlan(plan: PushPlan, where: string): string {
  const lines = [`Plan against ${where}:`, ""];
  const width = Math.max(0, ...plan.subjects.map((s) => s.subject.length));
  for (const s of plan.subjects) lines.push(...subjectLines(s, width));
  const versions = plan.subjects.reduce((n, s) => n + s.toRegister.length, 0);
  const configs = plan.subjects.filter((s) => s.config !== undefined).length;
  const subjects = plan.subjects.filter((s) => s.toRegister.length > 0).length;
  const conflicts = plan.subjects.reduce((n, s) => n + s.conflicts.length, 0);
  lines.push("");
  if (!plan.changes && !plan.conflicts) lines.push("No changes: the registry holds every version.");
  else lines.push(`Plan: ${versions} version${versions === 1 ? "" : "s"} to register in ${subjects} subject${subjects === 1 ? "" : "s"}${configs > 0 ? `, ${configs} subject config${configs === 1 ? "" : "s"} to set` : ""}${conflicts > 0 ? `; ${conflicts} conflict${conflicts === 1 ? "" : "s"} (a push refuses those subjects)` : ""}.`);
  return lines.join("\n") + "\n";
}

function subjectLines(s: SubjectPlan, width: number): string[] {
  const name = s.subject.padEnd(width);
  const out: string[] = [];
  for (const c of s.conflicts) {
    out.push(`! ${name}  v${c.version} differs from the registered v${c.registeredVersion} (${c.changed.join(", ")}): registered versions never change; add a new version`);
  }
  if (s.config !== undefined) {
    const value = (v: unknown) => (typeof v === "object" ? JSON.stringify(v) : String(v));
    out.push(`~ ${name}  config: ${s.config.changed.map((k) => `${k} ${s.config!.current?.[k] === undefined ? "" : `${value(s.config!.current[k])} -> `}${value(s.config!.wanted[k])}`).join(", ")}`);
  }
  if (s.registered.length === 0 && s.toRegister.length > 0) {
    out.push(`+ ${name}  new subject: ${s.toRegister.map((v) => `v${v.version}`).join(", ")}`);
  } else {
    for (const v of s.toRegister) out.push(`+ ${name}  v${v.version}: ${describeChange(v.changed, v.rules)}`);
  }
  if (out.length === 0) out.push(`= ${name}  up to date (v${s.registered.at(-1) ?? "?"})`);
  if (s.notInFiles.length > 0) out.push(`  ${" ".repeat(width)}  the registry also holds ${s.notInFiles.map((v) => `v${v}`).join(", ")}, which the files do not have`);
  return out;
}

function describeChange(changed: readonly string[], rules: readonly string[]): string {
  if (changed.length === 0) return "the same contract again (the registry keeps its version)";
  const what = changed.includes("schema") ? "new schema version" : `${changed.join(" and ")} only, same schema`;
  return rules.length > 0 ? `${what}; rules ${rules.join(" ")}` : what;
}
