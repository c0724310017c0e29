/**
 * `kontract check <subject> <file.jsonl>`: runs a file of messages through a
 * subject's contract on the embedded file registry, as a producer (WRITE) or a
 * consumer (READ) would, and reports what passed, what was transformed, and
 * what failed which rule. Failures go to a dead-letter file with their
 * violations, sensitive fields redacted.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync, truncateSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createEngine, redactedJson, DEFAULT_SENSITIVE_TAGS, type Outcome } from "../engine/index.js";
import { FORMATS } from "../format/index.js";
import { createFileRegistry } from "../registry/file-registry.js";
import { loadContractFiles } from "../contract/load-files.js";
import { createContractStore, createDeserializer, createSerializer, type ResolvedContract } from "../serde/index.js";
import { isKontractError, SerializationError, type Violation } from "../errors.js";
import { MAX_JSON_DEPTH, jsonDeeperThan } from "../util/json-depth.js";
import { encodeFrame } from "../wire/index.js";
import { createProgress } from "./progress.js";
import { MAX_LINE_BYTES, forEachLine } from "./lines.js";
import type { CompiledSchema, ProtobufCompiledSchema } from "../format/types.js";
import { withJsonForm } from "../format/avro/index.js";

export const CHECK_USAGE = `Usage: kontract check <subject> <messages.jsonl> [options]

Runs every message (one JSON value per line) through the subject's contract.

Options:
  --rules <dir>       contract directory (default: rules)
  --registry <url>    read the contracts from a Schema Registry instead of --rules
                      (credentials: KONTRACT_REGISTRY_USER/_PASSWORD or _TOKEN)
  --mode <mode>       WRITE (producer, default) or READ (consumer)
  --version <n>       contract version to use (default: latest); kontract's own
                      version is \`kontract --version\`
  --topic <name>      topic name the rules see (default: the subject without -value/-key)
  --dlq <file>        dead-letter file for failures (default: dlq/<subject>.jsonl)
  --json              print the summary as JSON
  --quiet             no progress output
  --exit-zero         exit 0 even when messages fail (a report, not a gate)

Messages are plain JSON: Avro unions unwrapped (or wrapped, as Avro's JSON
encoding writes them), bytes and fixed in base64. The dead-letter file holds
the failures of this run in the same form, with sensitive fields redacted.

Exit codes: 0 every message passed, 1 some failed or were invalid (0 with
--exit-zero), 2 usage or contract errors.
`;

export interface CheckSummary {
  subject: string;
  version: number | undefined;
  mode: "WRITE" | "READ";
  total: number;
  passed: number;
  transformed: number;
  failed: number;
  /** Messages that are not JSON or do not fit the schema. */
  invalid: number;
  /** Violations whose action let the message through (NONE or custom). */
  warnings: number;
  /** Per rule name; built from a Map, so even a name like `__proto__` is an own entry. */
  byRule: Record<string, RuleCount>;
  dlqFile: string | undefined;
}

export interface RuleCount {
  failed: number;
  warned: number;
  action: string;
}

export async function checkCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rules: { type: "string", default: "rules" },
      registry: { type: "string" },
      mode: { type: "string", default: "WRITE" },
      version: { type: "string" },
      topic: { type: "string" },
      dlq: { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      "exit-zero": { type: "boolean", default: false },
    },
  });
  const [subject, file] = positionals;
  if (!subject || !file || positionals.length > 2) throw usage("check needs a subject and a messages file");
  const mode = values.mode.toUpperCase();
  if (mode !== "WRITE" && mode !== "READ") throw usage(`--mode must be WRITE or READ, not ${values.mode}`);
  const version = values.version === undefined ? undefined : Number(values.version);
  if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw usage(`--version must be a positive integer`);

  const size = file === "-" ? 0 : inputSize(file);
  const dlqFile = values.dlq ?? join("dlq", `${subject}.jsonl`);
  if (file !== "-" && resolve(dlqFile) === resolve(file)) throw usage(`--dlq ${dlqFile} is the messages file; name another dead-letter file`);

  if (values.registry !== undefined && argv.some((a) => a === "--rules" || a.startsWith("--rules="))) throw usage("give --rules or --registry, not both");
  // Loaded on demand: the embedded default does not pay for the REST client.
  // The contract folder: only the files that name the subject (or a subject it references) are parsed.
  const registry =
    values.registry !== undefined
      ? (await import("./registry-access.js")).registryFromEnv(values.registry, process.env).registry
      : createFileRegistry({ documents: loadContractFiles(values.rules, { subjects: [subject] }) });
  const engine = createEngine();
  const store = createContractStore({ registry, engine, formats: FORMATS });
  const contract = version === undefined ? await store.latest(subject) : await store.byVersion(subject, version);
  if (contract.plan.compileErrors.length > 0) {
    for (const e of contract.plan.compileErrors) process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
  const topic = values.topic ?? subject.replace(/-(value|key)$/, "");
  // Rules see Avro values as the Java client does (unions wrapped); the user reads and writes plain JSON.
  const io = contract.plan.schema.type === "AVRO" ? withJsonForm(contract.plan.schema, "plain") : contract.plan.schema;
  const summary = await runCheck({ subject, file, size, mode, contract, io, store, topic, dlqFile, quiet: values.quiet || values.json });
  if (summary.total === 0) process.stderr.write(`kontract: warning: ${file === "-" ? "standard input" : file} has no messages\n`);
  out.write(values.json ? JSON.stringify(summary, null, 2) + "\n" : formatSummary(summary));
  return summary.failed + summary.invalid > 0 && !values["exit-zero"] ? 1 : 0;
}

interface RunCheckOptions {
  subject: string;
  file: string;
  /** The file's size in bytes, for progress; 0 for stdin. */
  size: number;
  mode: "WRITE" | "READ";
  contract: ResolvedContract;
  /** The schema for the file's JSON and the dead letters: the contract's, in the plain JSON form. */
  io: CompiledSchema;
  store: ReturnType<typeof createContractStore>;
  topic: string;
  dlqFile: string;
  quiet: boolean;
}

async function runCheck(o: RunCheckOptions): Promise<CheckSummary> {
  const { contract, topic } = o;
  const schema = contract.plan.schema;
  const isKey = o.subject.endsWith("-key");
  const strategy = () => o.subject;
  const serializer = createSerializer({ store: o.store, isKey, subjectNameStrategy: strategy, writerSchema: version(contract) });
  const deserializer = createDeserializer({ store: o.store, isKey, subjectNameStrategy: strategy });
  const indexes = schema.type === "PROTOBUF" ? (schema as ProtobufCompiledSchema).messageIndexes : undefined;
  const sensitive = new Set(DEFAULT_SENSITIVE_TAGS);
  const summary: CheckSummary = {
    subject: o.subject,
    version: contract.version,
    mode: o.mode,
    total: 0,
    passed: 0,
    transformed: 0,
    failed: 0,
    invalid: 0,
    warnings: 0,
    byRule: {},
    dlqFile: undefined,
  };
  const dlq = deadLetterFile(o.dlqFile);
  const byRule = new Map<string, RuleCount>();
  const rule = (name: string, action: string): RuleCount => {
    let count = byRule.get(name);
    if (!count) byRule.set(name, (count = { failed: 0, warned: 0, action }));
    return count;
  };

  let line = 0;
  const invalid = (e: unknown, reason: string, withSubject: boolean): void => {
    summary.invalid++;
    dlq.add(withSubject ? { line, subject: o.subject, error: describe(e), reason } : { line, error: describe(e), reason });
  };
  const tally = (outcome: Outcome): void => {
    // An index, not for...of: the heap profile showed an iterator made per message, violations or none.
    const violations = outcome.violations;
    for (let i = 0; i < violations.length; i++) {
      const v = violations[i]!;
      if (v.action === "ERROR" || v.action === "DLQ") continue;
      summary.warnings++;
      rule(v.rule, v.action).warned++;
    }
    if (outcome.kind === "failed") {
      summary.failed++;
      rule(outcome.rule.name, outcome.action).failed++;
      dlq.add({
        line,
        subject: o.subject,
        rule: outcome.rule.name,
        action: outcome.action,
        ...(outcome.dlqTopic ? { dlqTopic: outcome.dlqTopic } : {}),
        violations: outcome.violations,
        message: safeRedacted(o.io, outcome.value, sensitive),
      });
    } else {
      summary.passed++;
      if (outcome.transformed) summary.transformed++;
    }
  };
  // Each line runs synchronously unless a rule is asynchronous (JSONata): no await, no promise, on the common path.
  const run = (value: unknown): Outcome | Promise<Outcome> => {
    // The producer's verdict without its bytes: check reports, it sends nothing.
    if (o.mode === "WRITE") return serializer.verdict(topic, value);
    const r = deserializer.deserialize(topic, encodeFrame({ id: contract.id!, indexes }, schema.encode(value)));
    return r instanceof Promise ? r.then((x) => x.outcome) : r.outcome;
  };
  const unusable = (e: unknown): void => {
    if (!isKontractError(e)) throw e;
    invalid(e, e.code, true);
  };
  const onLine = (text: string): void | Promise<void> => {
    line++;
    if (text.trim() === "") return;
    summary.total++;
    let value: unknown;
    try {
      if (jsonDeeperThan(text)) throw new SerializationError("message-invalid", `the line is nested deeper than ${MAX_JSON_DEPTH} levels`);
      value = o.io.fromJson(JSON.parse(text));
    } catch (e) {
      invalid(e, "invalid", false);
      return;
    }
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = run(value);
    } catch (e) {
      unusable(e);
      return;
    }
    // forEachLine awaits it before the next line: `line` still counts this one.
    if (outcome instanceof Promise) return outcome.then(tally, unusable);
    tally(outcome);
  };

  const progress = o.quiet ? undefined : createProgress(o.size);
  const input = o.file === "-" ? process.stdin : createReadStream(o.file, { highWaterMark: CHUNK_BYTES });
  let bytes = 0;
  await forEachLine(input, {
    onLine,
    onLongLine: (length) => {
      line++;
      summary.total++;
      invalid(new SerializationError("message-invalid", `the line is longer than ${MAX_LINE_BYTES} bytes (${length})`), "invalid", false);
    },
    onChunk: (soFar) => {
      bytes = soFar;
      progress?.tick(summary.total, bytes);
      return dlq.flush();
    },
  });
  progress?.finish(summary.total, bytes);
  summary.byRule = Object.fromEntries(byRule);
  summary.dlqFile = await dlq.close();
  return summary;
}

/** Input is read a megabyte at a time: one await and one progress check per chunk. */
const CHUNK_BYTES = 1 << 20;
/**
 * Dead letters wait this much for the disk before the check waits for it: a
 * chunk's failures (tens of KB) are written while the next chunk runs, where
 * the stream's default 16 KB made the check stop for the disk on most chunks.
 */
const DLQ_BUFFER_BYTES = 4 << 20;

/**
 * The dead-letter file: created on the first record, written a chunk of input
 * at a time (one write per flush, waiting when the disk is slower than the
 * check). It holds this run's failures only: a run without any empties it.
 *
 * The records wait in an array, joined once per flush: appended to one string
 * (`batch += ...`), they made V8 keep some 4 MB more in the old generation at
 * every young-generation GC (the whole check, not only its failures, ran
 * slower), as `node --trace-gc` on `kontract check` showed.
 */
function deadLetterFile(path: string) {
  let out: ReturnType<typeof createWriteStream> | undefined;
  let batch: string[] = [];
  return {
    add(record: object): void {
      batch.push(JSON.stringify(record, jsonReplacer));
    },
    flush(): Promise<void> | undefined {
      if (batch.length === 0) return undefined;
      if (!out) {
        mkdirSync(dirname(path), { recursive: true });
        out = createWriteStream(path, { highWaterMark: DLQ_BUFFER_BYTES });
      }
      const ok = out.write(batch.join("\n") + "\n");
      batch = [];
      return ok ? undefined : new Promise<void>((resolve) => out!.once("drain", resolve));
    },
    /** The file's path when it holds records. */
    async close(): Promise<string | undefined> {
      await this.flush();
      if (out) {
        const stream = out;
        await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
        return path;
      }
      if (existsSync(path)) truncateSync(path);
      return undefined;
    },
  };
}

/** The size of the messages file; a usage error when it is missing or a folder (a FIFO is fine). */
function inputSize(file: string): number {
  let stat;
  try {
    stat = statSync(file);
  } catch (e) {
    throw usage((e as { code?: unknown }).code === "ENOENT" ? `no such file: ${file}` : `cannot read ${file}: ${describe(e)}`);
  }
  if (stat.isDirectory()) throw usage(`${file} is a folder, not a file of messages`);
  return stat.size;
}

function version(contract: ResolvedContract) {
  return contract.version === undefined ? ({ use: "latest" } as const) : ({ use: "version", version: contract.version } as const);
}

function safeRedacted(schema: CompiledSchema, value: unknown, sensitive: ReadonlySet<string>): unknown {
  try {
    return redactedJson(schema, value, sensitive);
  } catch {
    return "<unrepresentable>";
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  return v;
}

export function formatSummary(s: CheckSummary): string {
  const lines = [
    `${s.subject}${s.version !== undefined ? ` v${s.version}` : ""} (${s.mode}): ${s.total} ${s.total === 1 ? "message" : "messages"}`,
    `  passed       ${s.passed}${s.transformed ? ` (${s.transformed} transformed)` : ""}`,
    `  failed       ${s.failed}`,
    `  invalid      ${s.invalid}`,
  ];
  if (s.warnings) lines.push(`  warnings     ${s.warnings}`);
  const rules = Object.entries(s.byRule).sort((a, b) => b[1].failed + b[1].warned - (a[1].failed + a[1].warned));
  if (rules.length > 0) {
    lines.push("", "  rule                          failed  warned  action");
    for (const [name, r] of rules) lines.push(`  ${name.padEnd(30)}${String(r.failed).padStart(6)}  ${String(r.warned).padStart(6)}  ${r.action}`);
  }
  if (s.dlqFile) lines.push("", `  dead letters: ${s.dlqFile}`);
  return lines.join("\n") + "\n";
}

export class UsageError extends Error {
  override get name(): string {
    return "UsageError";
  }
}

function usage(message: string): UsageError {
  return new UsageError(message);
}

export type { Violation };
