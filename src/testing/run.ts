/**
 * Runs rule-test fixtures offline: the contracts go into an embedded file
 * registry, and every case goes through the real serializer (WRITE) or
 * deserializer (READ, with migrations), exactly as a client would run it.
 * No I/O: the caller loads the contract documents and fixture files.
 */
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { canonical } from "../contract/compare.js";
import type { ContractDocument } from "../contract/document.js";
import { BUILTIN_ACTIONS, RULE_PHASES, defaultKind, defaultMode, type Rule, type RulePhase } from "../contract/model.js";
import { createEngine, modeApplies, referenceTable, type ContractPlan, type EngineObserver, type Outcome, type ReferenceTable, type RuleAction, type StatefulPartition } from "../engine/index.js";
import { isStatefulRule } from "../contract/stateful.js";
import { isKontractError, type Violation } from "../errors.js";
import { FORMATS } from "../format/index.js";
import type { ProtobufCompiledSchema } from "../format/types.js";
import { createFileRegistry } from "../registry/file-registry.js";
import { createContractStore, createDeserializer, createSerializer, type ContractStore, type ReaderSchema, type ResolvedContract } from "../serde/index.js";
import { encodeFrame } from "../wire/index.js";
import type { Expectation, Fixture, FixtureCase, FixtureSequence } from "./fixture.js";

export interface CaseResult {
  readonly file: string;
  readonly subject: string;
  readonly name: string;
  readonly line: number;
  readonly column: number;
  readonly status: "passed" | "failed" | "skipped";
  /** Why it failed (or was skipped). */
  readonly message?: string;
  /** What happened, for reports: e.g. "WRITE v2" or "READ v1 -> v2". */
  readonly run: string;
  /** What happened to the message (undefined for skipped cases). */
  readonly observed?: ObservedOutcome;
  readonly durationMs: number;
}

/** What the rules did to a case's message, whatever the case expected. */
export interface ObservedOutcome {
  /** passed: the message went on; failed: a rule stopped it; invalid: it does not fit the schema; error: the case could not run. */
  readonly kind: "passed" | "failed" | "invalid" | "error";
  /** The action taken (passed and failed). */
  readonly action?: string;
  /** The rules that failed, sorted. */
  readonly violated?: readonly string[];
  /** A digest of the resulting message's JSON form: equal digests, equal messages. The message itself is left out of reports. */
  readonly digest?: string;
}

export interface RuleCoverage {
  readonly subject: string;
  readonly version: number;
  readonly rule: string;
  readonly kind: "CONDITION" | "TRANSFORM";
  readonly phase: RulePhase;
  readonly status: "covered" | "uncovered" | "exempt";
  /** For uncovered rules: what is missing. For exempt ones: why. */
  readonly reason?: string;
}

export interface TestSummary {
  readonly files: number;
  readonly cases: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly rules: number;
  readonly covered: number;
  readonly uncovered: number;
}

export interface TestReport {
  readonly cases: readonly CaseResult[];
  /** Undefined when coverage was not computed (filtered runs). */
  readonly coverage: readonly RuleCoverage[] | undefined;
  readonly summary: TestSummary;
}

export interface RunFixturesOptions {
  /** The contracts (e.g. from loadContractFiles("rules")). */
  readonly documents: readonly ContractDocument[];
  readonly fixtures: readonly Fixture[];
  /** Compute rule coverage (default true). */
  readonly coverage?: boolean;
  /**
   * Count coverage over these subjects' rules only (default: every subject in
   * `documents`). A run of some fixture files is not answerable for the
   * subjects they do not test.
   */
  readonly coverageSubjects?: ReadonlySet<string>;
  /** Only cases whose name contains this text. */
  readonly filter?: string;
}

/** What ran in one case: rule names by mode. */
interface Trace {
  readonly ran: { rule: string; mode: string }[];
}

export async function runFixtures(options: RunFixturesOptions): Promise<TestReport> {
  const documents = options.documents;
  let current: Trace = { ran: [] };
  const env = createEnvironment(documents, () => current);
  const results: CaseResult[] = [];
  const seen: Seen = new Map();
  for (const fixture of options.fixtures) {
    for (const c of fixture.cases) {
      if (options.filter !== undefined && !c.name.includes(options.filter)) continue;
      const base = { file: fixture.file, subject: fixture.subject, name: c.name, line: c.position.line, column: c.position.column };
      if (c.skip !== undefined) {
        results.push({ ...base, status: "skipped", message: c.skip, run: describeRun(c, undefined, undefined), durationMs: 0 });
        continue;
      }
      current = { ran: [] };
      const started = performance.now();
      const outcome = await runCase(env, fixture, c);
      const failure = outcome.kind === "error" ? outcome.message : compare(c.expect, outcome);
      const run = describeRun(c, outcome.writerVersion, outcome.readerVersion);
      results.push({ ...base, status: failure ? "failed" : "passed", ...(failure ? { message: failure } : {}), run, observed: observe(outcome), durationMs: performance.now() - started });
      record(seen, fixture.subject, c, outcome, current);
    }
    for (const sq of fixture.sequences) {
      if (options.filter !== undefined && !sq.name.includes(options.filter)) continue;
      await runSequence(env, fixture, sq, {
        push: (r) => results.push(r),
        trace: () => (current = { ran: [] }),
        seen,
      });
    }
  }
  const coverage = options.coverage === false || options.filter !== undefined ? undefined : coverageOf(options.coverageSubjects ? documents.filter((d) => options.coverageSubjects!.has(d.subject)) : documents, seen);
  const passed = results.filter((r) => r.status === "passed").length;
  const failed = results.filter((r) => r.status === "failed").length;
  return {
    cases: results,
    coverage,
    summary: {
      files: options.fixtures.length,
      cases: results.length,
      passed,
      failed,
      skipped: results.length - passed - failed,
      rules: coverage?.length ?? 0,
      covered: coverage?.filter((c) => c.status === "covered").length ?? 0,
      uncovered: coverage?.filter((c) => c.status === "uncovered").length ?? 0,
    },
  };
}

function describeRun(c: FixtureCase, writer: number | undefined, reader: number | undefined): string {
  const w = writer ?? c.version ?? "latest";
  if (c.mode === "WRITE") return `WRITE v${w}`;
  const r = reader ?? (c.reader.use === "writer" ? w : c.reader.use === "version" ? c.reader.version : c.reader.use);
  return r === w ? `READ v${w}` : `READ v${w} -> v${r}`;
}

// --- the environment ------------------------------------------------------

interface Environment {
  has(subject: string, version: number): boolean;
  /** The store for a reader choice; `{version: N}` readers get a registry where N carries a marker property. */
  store(readerVersion?: { subject: string; version: number }): ContractStore;
}

const READER_MARK = "kontract.test.reader";

function createEnvironment(documents: readonly ContractDocument[], trace: () => Trace): Environment {
  // Stand-ins for custom actions the contracts name: the message goes on, as with a real custom action.
  const custom = new Set<string>();
  for (const rule of allRules(documents)) {
    for (const a of [rule.onSuccess, rule.onFailure]) for (const part of (a ?? "").split(",")) if (part !== "" && !(BUILTIN_ACTIONS as readonly string[]).includes(part)) custom.add(part);
  }
  const actions: RuleAction[] = [...custom].map((type) => ({ type, run: () => {} }));
  // The observer sees every rule that runs, on the same path users run: nothing is overridden.
  const observer: EngineObserver = { ruleFinished: (e) => void trace().ran.push({ rule: e.rule.name, mode: e.ctx.mode }) };
  const engine = createEngine({ actions, observer });
  const stores = new Map<string, ContractStore>();
  const make = (docs: readonly ContractDocument[]) => createContractStore({ registry: createFileRegistry({ documents: docs }), engine, formats: FORMATS });
  return {
    has: (subject, version) => documents.some((d) => d.subject === subject && d.version === version),
    store(reader) {
      const key = reader ? `${reader.subject}\u0000${reader.version}` : "";
      let store = stores.get(key);
      if (!store) {
        const docs = reader
          ? documents.map((d) =>
              d.subject === reader.subject && d.version === reader.version
                ? { ...d, contract: { ...d.contract, metadata: { ...d.contract.metadata, properties: { ...d.contract.metadata?.properties, [READER_MARK]: "true" } } } }
                : d,
            )
          : documents;
        store = make(docs);
        stores.set(key, store);
      }
      return store;
    },
  };
}

function* allRules(documents: readonly ContractDocument[]): Generator<Rule> {
  for (const d of documents) for (const phase of RULE_PHASES) for (const r of d.contract.ruleSet?.[phase] ?? []) yield r;
}

// --- one case ---------------------------------------------------------------

type CaseOutcome =
  | { kind: "error"; message: string; writerVersion?: number | undefined; readerVersion?: number | undefined }
  | { kind: "invalid"; message: string; writerVersion: number | undefined; readerVersion: number | undefined }
  | {
      kind: "passed" | "failed";
      action: string;
      violations: readonly Violation[];
      /** JSON form of the resulting message, and how to normalize an expected value for comparison. */
      json: unknown;
      normalize: (expected: unknown) => unknown;
      writerVersion: number | undefined;
      readerVersion: number | undefined;
      /** READ cases: the decoded value and the reader's plan, for stateful rules. */
      read?: { readonly value: unknown; readonly plan: ContractPlan };
    };

async function runCase(env: Environment, fixture: Fixture, c: FixtureCase): Promise<CaseOutcome> {
  const subject = fixture.subject;
  const isKey = subject.endsWith("-key");
  const strategy = () => subject;
  const readerVersion = c.mode === "READ" && c.reader.use === "version" ? { subject, version: c.reader.version } : undefined;
  if (readerVersion && !env.has(subject, readerVersion.version)) return { kind: "error", message: `reader: subject ${subject} has no version ${readerVersion.version}` };
  const store = env.store(readerVersion);
  let writer: ResolvedContract;
  try {
    writer = await (c.version === undefined ? store.latest(subject) : store.byVersion(subject, c.version));
  } catch (e) {
    return { kind: "error", message: `cannot resolve the writer's contract: ${describe(e)}` };
  }
  const wv = writer.version;
  const schema = writer.plan.schema;
  if (writer.plan.compileErrors.length > 0) {
    return { kind: "error", message: `the contract has rules that do not compile: ${writer.plan.compileErrors.map((e) => e.message).join("; ")}`, writerVersion: wv };
  }
  let value: unknown;
  try {
    value = schema.fromJson(c.message);
  } catch (e) {
    return { kind: "invalid", message: describe(e), writerVersion: wv, readerVersion: undefined };
  }
  if (c.mode === "WRITE") {
    const serializer = createSerializer({ store, isKey, subjectNameStrategy: strategy, writerSchema: { use: "version", version: wv! } });
    try {
      const r = await serializer.serialize(fixture.topic, value);
      const o = r.outcome;
      return settled(o.kind, o.kind === "failed" ? o.action : "NONE", o.violations, o.value, schema, wv, undefined);
    } catch (e) {
      if (isKontractError(e) && e.code !== "rule-compile") return { kind: "invalid", message: describe(e), writerVersion: wv, readerVersion: undefined };
      return { kind: "error", message: describe(e), writerVersion: wv };
    }
  }
  // READ: the bytes a producer on the writer's version would have sent, read by a consumer.
  let bytes: Uint8Array;
  try {
    const payload = schema.encode(value);
    const indexes = schema.type === "PROTOBUF" ? (schema as ProtobufCompiledSchema).messageIndexes : undefined;
    bytes = encodeFrame({ id: writer.id!, indexes }, payload);
  } catch (e) {
    return { kind: "invalid", message: describe(e), writerVersion: wv, readerVersion: undefined };
  }
  const readerSchema: ReaderSchema =
    c.reader.use === "writer"
      ? { use: "writer" }
      : c.reader.use === "latest"
        ? { use: "latest" }
        : c.reader.use === "version"
          ? { use: "latest-with-metadata", metadata: { [READER_MARK]: "true" } }
          : { use: "latest-with-metadata", metadata: c.reader.metadata };
  const deserializer = createDeserializer({ store, isKey, subjectNameStrategy: strategy, readerSchema });
  try {
    const r = await deserializer.deserialize(fixture.topic, bytes);
    const readerSchemaCompiled = r.reader.plan.schema;
    const o = settled(r.outcome.kind, r.outcome.kind === "failed" ? r.outcome.action : "NONE", r.outcome.violations, r.outcome.value, readerSchemaCompiled, wv, r.reader.version);
    return o.kind === "passed" ? { ...o, read: { value: r.outcome.value, plan: r.reader.plan } } : o;
  } catch (e) {
    if (isKontractError(e) && (e.code === "message-invalid" || e.code === "wire-format")) return { kind: "invalid", message: describe(e), writerVersion: wv, readerVersion: undefined };
    return { kind: "error", message: describe(e), writerVersion: wv };
  }
}

// --- sequences (stateful rules) ---------------------------------------------------

interface SequenceSink {
  push(result: CaseResult): void;
  /** Starts a fresh trace of the rules that run. */
  trace(): Trace;
  readonly seen: Seen;
}

/**
 * Runs a sequence through one consumer of one partition: each message as a READ case, then the
 * contract's stateful rules on a virtual clock (`at` is record time and wall clock alike), and timer
 * steps firing completeness timers. Each step is reported as a case.
 */
async function runSequence(env: Environment, fixture: Fixture, sq: FixtureSequence, sink: SequenceSink): Promise<void> {
  const tables = new Map<string, ReferenceTable>();
  const table = (topic: string): ReferenceTable => {
    let t = tables.get(topic);
    if (t === undefined) {
      tables.set(topic, (t = referenceTable()));
      for (const key of sq.references[topic] ?? []) t.apply(key, true);
    }
    return t;
  };
  let state: StatefulPartition | undefined;
  let readerVersion: number | undefined;
  const context = { topic: fixture.topic, isKey: fixture.subject.endsWith("-key") };
  for (const [i, step] of sq.steps.entries()) {
    const name = `${sq.name} › step ${i + 1}`;
    const base = { file: fixture.file, subject: fixture.subject, name, line: step.position.line, column: step.position.column };
    const run = `sequence at ${step.at} ms`;
    if (sq.skip !== undefined) {
      sink.push({ ...base, status: "skipped", message: sq.skip, run, durationMs: 0 });
      continue;
    }
    const trace = sink.trace();
    const started = performance.now();
    if (step.kind === "timers") {
      const fired = state?.timers(step.at, context) ?? [];
      const got = { completed: fired.filter((f) => f.event.complete).map((f) => f.event.key).sort(), incomplete: fired.filter((f) => !f.event.complete).map((f) => f.event.key).sort() };
      const want = { completed: [...step.completed].sort(), incomplete: [...step.incomplete].sort() };
      const failure = isDeepStrictEqual(got, want) ? undefined : `expected timers to close ${JSON.stringify(want)}, they closed ${JSON.stringify(got)}`;
      sink.push({ ...base, status: failure ? "failed" : "passed", ...(failure ? { message: failure } : {}), run, durationMs: performance.now() - started });
      // A timed-out group is the completeness rule failing: expected here, it is the rule's negative test.
      if (readerVersion !== undefined) {
        for (const f of fired) {
          const key = coverageKey(fixture.subject, readerVersion, f.rule.name);
          const entry = sink.seen.get(key) ?? { ran: false, violationExpected: false, outputAsserted: false };
          entry.ran = true;
          if (!f.event.complete && step.incomplete.includes(f.event.key)) entry.violationExpected = true;
          sink.seen.set(key, entry);
        }
      }
      continue;
    }
    const c: FixtureCase = { name, message: step.message, mode: "READ", version: sq.version, reader: sq.reader, expect: step.expect, skip: undefined, position: step.position };
    let outcome = await runCase(env, fixture, c);
    if (outcome.kind === "passed" && outcome.read !== undefined) {
      state ??= outcome.read.plan.statefulPartition({ table });
      readerVersion ??= outcome.readerVersion;
      if (state !== undefined) {
        const o = state.run(outcome.read.value, context, { record: step.at, now: step.at, offset: i });
        state.drain();
        outcome = withStateful(outcome, o);
      }
    }
    const failure = outcome.kind === "error" ? outcome.message : compare(step.expect, outcome);
    sink.push({ ...base, status: failure ? "failed" : "passed", ...(failure ? { message: failure } : {}), run, observed: observe(outcome), durationMs: performance.now() - started });
    record(sink.seen, fixture.subject, c, outcome, trace);
  }
}

/** A READ outcome after the stateful rules: they stop the message, or add their violations. */
function withStateful(read: Extract<CaseOutcome, { kind: "passed" | "failed" }>, o: Outcome): CaseOutcome {
  const violations = [...read.violations, ...o.violations];
  return o.kind === "failed" ? { ...read, kind: "failed", action: o.action, violations } : { ...read, violations };
}

function observe(o: CaseOutcome): ObservedOutcome {
  if (o.kind === "error" || o.kind === "invalid") return { kind: o.kind };
  return {
    kind: o.kind,
    action: o.action,
    violated: [...new Set(o.violations.map((v) => v.rule))].sort(),
    digest: createHash("sha256").update(canonical(o.json)).digest("hex").slice(0, 16),
  };
}

function settled(
  kind: "passed" | "failed",
  action: string,
  violations: readonly Violation[],
  value: unknown,
  schema: ResolvedContract["plan"]["schema"],
  writerVersion: number | undefined,
  readerVersion: number | undefined,
): CaseOutcome {
  let json: unknown;
  try {
    json = plain(schema.toJson(value));
  } catch (e) {
    json = `<no JSON form: ${describe(e)}>`;
  }
  const normalize = (expected: unknown): unknown => plain(schema.toJson(schema.fromJson(expected)));
  return { kind, action, violations, json, normalize, writerVersion, readerVersion };
}

/** Why the outcome does not meet the expectation; undefined when it does. */
function compare(expect: Expectation, o: Exclude<CaseOutcome, { kind: "error" }>): string | undefined {
  if (expect.invalid !== undefined) {
    if (o.kind !== "invalid") return `expected the message to be invalid, but it ${o.kind === "passed" ? "passed" : `failed rule ${names(o.violations)}`}`;
    if (typeof expect.invalid === "string" && !o.message.includes(expect.invalid)) return `expected an error containing ${JSON.stringify(expect.invalid)}, got: ${o.message}`;
    return undefined;
  }
  if (o.kind === "invalid") return `the message is invalid: ${o.message}`;
  const problems: string[] = [];
  const actual = [...new Set(o.violations.map((v) => v.rule))].sort();
  if (expect.passes && (o.kind !== "passed" || actual.length > 0)) {
    problems.push(`expected to pass, but ${o.kind === "failed" ? `it failed with ${o.action}` : "it passed with violations"}: ${describeViolations(o.violations)}`);
  }
  if (expect.violates) {
    const wanted = [...new Set(expect.violates)].sort();
    if (!isDeepStrictEqual(wanted, actual)) {
      problems.push(`expected violations of ${wanted.join(", ")}, got ${actual.length === 0 ? "none" : describeViolations(o.violations)}`);
    }
  } else if (!expect.passes && actual.length > 0 && expect.hasTransformedTo) {
    problems.push(`expected no violations, got ${describeViolations(o.violations)}`);
  }
  if (expect.action !== undefined && expect.action !== o.action) problems.push(`expected action ${expect.action}, got ${o.action}`);
  if (expect.hasTransformedTo) {
    if (o.kind === "failed") problems.push(`expected the message to go on, but it failed with ${o.action}`);
    else {
      let want: unknown;
      try {
        want = o.normalize(expect.transformedTo);
      } catch (e) {
        problems.push(`transformedTo does not fit the schema: ${describe(e)}`);
      }
      if (want !== undefined && !isDeepStrictEqual(want, o.json)) {
        problems.push(`the message is not as expected:\n${diff(want, o.json)}`);
      }
    }
  }
  return problems.length === 0 ? undefined : problems.join("\n");
}

function names(violations: readonly Violation[]): string {
  return [...new Set(violations.map((v) => v.rule))].join(", ");
}

function describeViolations(violations: readonly Violation[]): string {
  if (violations.length === 0) return "none";
  return violations.map((v) => `${v.rule} (${v.action}${v.field ? `, ${v.field}` : ""}: ${v.message})`).join("; ");
}

/** The differing paths between two JSON values, as "path: expected ..., got ...". */
function diff(want: unknown, got: unknown, path = "$", out: string[] = []): string {
  if (out.length >= 10) return out.join("\n");
  if (isDeepStrictEqual(want, got)) return out.join("\n");
  if (isPlainObject(want) && isPlainObject(got)) {
    for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) diff(want[k], got[k], `${path}.${k}`, out);
  } else if (Array.isArray(want) && Array.isArray(got) && want.length === got.length) {
    want.forEach((w, i) => diff(w, got[i], `${path}[${i}]`, out));
  } else {
    out.push(`  ${path}: expected ${show(want)}, got ${show(got)}`);
  }
  return out.join("\n");
}

function show(v: unknown): string {
  return v === undefined ? "(absent)" : JSON.stringify(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** JSON-safe copy: bigints as strings, bytes as base64, no undefined. */
function plain(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString("base64") : x)) ?? "null",
  );
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// --- coverage ------------------------------------------------------------------

/** Per subject, version and rule name: whether it ran, failed as expected, or had its output asserted. */
type Seen = Map<string, { ran: boolean; violationExpected: boolean; outputAsserted: boolean }>;

function coverageKey(subject: string, version: number, rule: string): string {
  return `${subject}\u0000${version}\u0000${rule}`;
}

/** Marks the rules a case ran (successes and violations), attributing each to its version. */
function record(seen: Seen, subject: string, c: FixtureCase, o: CaseOutcome, trace: Trace): void {
  if (o.kind === "error" || o.kind === "invalid" || o.writerVersion === undefined) return;
  const wv = o.writerVersion;
  const rv = o.readerVersion ?? wv;
  const ran = [...trace.ran, ...o.violations.map((v) => ({ rule: v.rule, mode: v.mode }))];
  const violated = new Set(o.violations.map((v) => v.rule));
  for (const { rule, mode } of ran) {
    // Domain rules belong to the writer (WRITE) or reader (READ) version; migration rules to the newer version of each edge.
    const versions = mode === "WRITE" ? [wv] : mode === "READ" ? [rv] : range(Math.min(wv, rv) + 1, Math.max(wv, rv));
    for (const v of versions) {
      const key = coverageKey(subject, v, rule);
      const entry = seen.get(key) ?? { ran: false, violationExpected: false, outputAsserted: false };
      entry.ran = true;
      if (violated.has(rule) && c.expect.violates?.includes(rule)) entry.violationExpected = true;
      if (c.expect.hasTransformedTo && !violated.has(rule)) entry.outputAsserted = true;
      seen.set(key, entry);
    }
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v++) out.push(v);
  return out;
}

function coverageOf(documents: readonly ContractDocument[], seen: Seen): RuleCoverage[] {
  const out: RuleCoverage[] = [];
  const sorted = [...documents].sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version));
  for (const d of sorted) {
    const enableAt = d.contract.ruleSet?.enableAt;
    for (const phase of RULE_PHASES) {
      for (const rule of d.contract.ruleSet?.[phase] ?? []) {
        const kind = defaultKind(rule);
        const base = { subject: d.subject, version: d.version, rule: rule.name, kind, phase };
        // A stateful rule's `disabled: true` is its form (docs/stateful.md): sequences cover it.
        if (rule.disabled === true && !isStatefulRule(rule)) {
          out.push({ ...base, status: "exempt", reason: "disabled" });
          continue;
        }
        if (enableAt === "NONE" || enableAt === "GATEWAY" || enableAt === "SERVER") {
          out.push({ ...base, status: "exempt", reason: `enableAt ${enableAt}: never runs in a client` });
          continue;
        }
        if (phase === "encodingRules") {
          out.push({ ...base, status: "exempt", reason: "encoding rules work on bytes: not covered by fixtures" });
          continue;
        }
        const s = seen.get(coverageKey(d.subject, d.version, rule.name));
        const modes = phase === "migrationRules" ? migrationModes(rule) : domainModes(rule);
        let reason: string | undefined;
        if (!s?.ran) reason = isStatefulRule(rule) ? "no sequence runs it (sequences: [...])" : `no case runs it (${modes})`;
        else if (kind === "CONDITION" && !s.violationExpected) reason = "no case expects it to fail (expect: {violates: [...]})";
        else if (kind === "TRANSFORM" && !s.outputAsserted) reason = "no case checks its output (expect: {transformedTo: ...})";
        out.push(reason ? { ...base, status: "uncovered", reason } : { ...base, status: "covered" });
      }
    }
  }
  return out;
}

function domainModes(rule: Rule): string {
  const m = ["WRITE", "READ"].filter((x) => modeApplies(rule, x as "WRITE" | "READ"));
  return m.length === 0 ? `mode ${defaultMode(rule)}` : `a ${m.join(" or ")} case`;
}

function migrationModes(rule: Rule): string {
  const mode = defaultMode(rule);
  return mode === "UPGRADE" ? "a READ case reading an older version" : mode === "DOWNGRADE" ? "a READ case reading a newer version as this one's predecessor" : "a READ case across this version's edge";
}
