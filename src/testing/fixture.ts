/**
 * Rule-test fixtures: `fixtures/<name>.test.yaml`, one subject per file, with
 * sample messages and what the rules must do to them (see docs/testing.md).
 * Parsing is pure and reports every problem with file:line:col.
 */
import { LineCounter, parseDocument } from "yaml";
import { findNode, nodePosition, type YamlSource } from "../contract/locate.js";
import type { PathSegment } from "../contract/path.js";
import { ContractError, type SourcePosition } from "../errors.js";
import { parseDuration } from "../contract/stateful.js";

export type FixtureMode = "WRITE" | "READ";

/** The version a consumer reads as, for READ cases. */
export type FixtureReader =
  | { readonly use: "writer" }
  | { readonly use: "latest" }
  | { readonly use: "version"; readonly version: number }
  | { readonly use: "metadata"; readonly metadata: Readonly<Record<string, string>> };

export interface Expectation {
  /** No rule failed and the message went on. */
  readonly passes?: true;
  /** Exactly these rules failed (any order). */
  readonly violates?: readonly string[];
  /** The action taken for the message: ERROR or DLQ when it stopped, NONE when it went on. */
  readonly action?: string;
  /** The message after the rules, in the JSON form (compared after normalizing both through the schema). */
  readonly transformedTo?: unknown;
  readonly hasTransformedTo: boolean;
  /** The message does not fit the schema (true), or fails with an error containing this text. */
  readonly invalid?: true | string;
}

export interface FixtureCase {
  readonly name: string;
  readonly message: unknown;
  readonly mode: FixtureMode;
  /** The writer's version; undefined means the latest. */
  readonly version: number | undefined;
  readonly reader: FixtureReader;
  readonly expect: Expectation;
  /** Skipped with this reason. */
  readonly skip: string | undefined;
  readonly position: SourcePosition;
}

/** One step of a sequence: a message consumed at a time, or the clock moved on to fire timers. */
export type SequenceStep =
  | { readonly kind: "message"; readonly at: number; readonly message: unknown; readonly expect: Expectation; readonly position: SourcePosition }
  | {
      readonly kind: "timers";
      readonly at: number;
      /** Completeness groups expected to close at this time, by key. */
      readonly completed: readonly string[];
      readonly incomplete: readonly string[];
      readonly position: SourcePosition;
    };

/**
 * Ordered messages consumed by one consumer of one partition, for stateful rules
 * (docs/stateful.md): each step's `at` is both its record time and the virtual wall clock.
 */
export interface FixtureSequence {
  readonly name: string;
  readonly version: number | undefined;
  readonly reader: FixtureReader;
  /** Reference topics' keys, present from the start. */
  readonly references: Readonly<Record<string, readonly string[]>>;
  readonly steps: readonly SequenceStep[];
  readonly skip: string | undefined;
  readonly position: SourcePosition;
}

export interface Fixture {
  readonly file: string;
  readonly subject: string;
  /** The topic the rules see (default: the subject without -value / -key). */
  readonly topic: string;
  readonly cases: readonly FixtureCase[];
  readonly sequences: readonly FixtureSequence[];
  readonly position: SourcePosition;
}

/** A fixture file that cannot be run. */
export class FixtureError extends ContractError {
  override get name(): string {
    return "FixtureError";
  }
}

const TOP_KEYS = ["subject", "topic", "version", "mode", "reader", "cases", "sequences"];
const SEQUENCE_KEYS = ["name", "version", "reader", "references", "steps", "skip"];
const STEP_KEYS = ["at", "message", "expect", "timers"];
const CASE_KEYS = ["name", "message", "mode", "version", "reader", "expect", "skip"];
const EXPECT_KEYS = ["passes", "violates", "action", "transformedTo", "invalid"];

/** Parses one fixture file. Throws FixtureError listing every problem. */
export function parseFixture(text: string, file: string): Fixture {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const source: YamlSource = { file, lineCounter, doc, text };
  const problems: { message: string; position: SourcePosition }[] = [];
  const at = (path: readonly PathSegment[], key = false) => nodePosition(source, findNode(source, path, { key }).node);
  const problem = (path: readonly PathSegment[], message: string, key = false) => problems.push({ message, position: at(path, key) });
  const fail = (): never => {
    const list = problems.map((p) => `${p.position.file}:${p.position.line}:${p.position.column}: ${p.message}`).join("\n  ");
    throw new FixtureError("contract-invalid", `${problems.length === 1 ? "1 problem" : `${problems.length} problems`} in fixture file:\n  ${list}`, { position: problems[0]!.position });
  };
  for (const e of doc.errors) {
    const p = lineCounter.linePos(e.pos[0]);
    problems.push({ message: e.message, position: { file, line: p.line, column: p.col } });
  }
  if (problems.length > 0) fail();
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 10_000 });
  } catch (e) {
    problem([], (e as Error).message);
    fail();
  }
  if (!isObject(data)) {
    problem([], "a fixture file is a mapping with `subject` and `cases`");
    return fail();
  }
  // `x-` keys are free: a place for YAML anchors shared by the cases.
  unknownKeys(Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith("x-"))), TOP_KEYS, [], problem);
  if (typeof data.subject !== "string" || data.subject === "") problem(["subject"], "`subject` is required: the subject whose contract the cases run through");
  if (data.topic !== undefined && (typeof data.topic !== "string" || data.topic === "")) problem(["topic"], "`topic` must be a topic name");
  const defaults = {
    version: version(data.version, ["version"], problem),
    mode: mode(data.mode, ["mode"], problem) ?? "WRITE",
    reader: reader(data.reader, ["reader"], problem) ?? { use: "writer" as const },
  };
  const cases: FixtureCase[] = [];
  const sequences = parseSequences(data.sequences, defaults, problem, at);
  if (data.cases === undefined && sequences.length > 0) {
    // a file of sequences only
  } else if (!Array.isArray(data.cases) || data.cases.length === 0) problem(["cases"], "`cases` is required: a list of {name, message, expect}");
  else {
    const names = new Map<string, number>();
    data.cases.forEach((c: unknown, i: number) => {
      const p: PathSegment[] = ["cases", i];
      if (!isObject(c)) return problem(p, "a case is a mapping {name, message, expect}");
      unknownKeys(c, CASE_KEYS, p, problem);
      const name = typeof c.name === "string" && c.name.trim() !== "" ? c.name : undefined;
      if (name === undefined) problem([...p, "name"], "a case needs a `name`");
      else if (names.has(name)) problem([...p, "name"], `case name ${JSON.stringify(name)} is used twice (first in case ${names.get(name)! + 1})`);
      else names.set(name, i);
      if (!Object.hasOwn(c, "message")) problem(p, "a case needs a `message`: the value in its JSON form");
      const caseMode = mode(c.mode, [...p, "mode"], problem) ?? defaults.mode;
      const caseReader = reader(c.reader, [...p, "reader"], problem) ?? defaults.reader;
      if (caseMode === "WRITE" && c.reader !== undefined) problem([...p, "reader"], "`reader` applies to READ cases only");
      const expect = expectation(c.expect, [...p, "expect"], problem);
      const skip = c.skip === undefined || c.skip === false ? undefined : typeof c.skip === "string" ? c.skip : c.skip === true ? "skipped" : (problem([...p, "skip"], "`skip` is true or a reason"), undefined);
      if (name !== undefined && expect !== undefined) {
        cases.push({
          name,
          message: c.message,
          mode: caseMode,
          version: version(c.version, [...p, "version"], problem) ?? defaults.version,
          reader: caseReader,
          expect,
          skip,
          position: at([...p, "name"]),
        });
      }
    });
  }
  if (problems.length > 0) fail();
  const subject = data.subject as string;
  return {
    file,
    subject,
    topic: typeof data.topic === "string" ? data.topic : subject.replace(/-(value|key)$/, ""),
    cases,
    sequences,
    position: at(["subject"]),
  };
}

function parseSequences(
  v: unknown,
  defaults: { version: number | undefined; reader: FixtureReader },
  problem: Problem,
  at: (path: readonly PathSegment[], key?: boolean) => SourcePosition,
): FixtureSequence[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length === 0) {
    problem(["sequences"], "`sequences` is a list of {name, steps}");
    return [];
  }
  const out: FixtureSequence[] = [];
  const names = new Set<string>();
  v.forEach((sq: unknown, i: number) => {
    const p: PathSegment[] = ["sequences", i];
    if (!isObject(sq)) return problem(p, "a sequence is a mapping {name, steps}");
    unknownKeys(sq, SEQUENCE_KEYS, p, problem);
    const name = typeof sq.name === "string" && sq.name.trim() !== "" ? sq.name : undefined;
    if (name === undefined) problem([...p, "name"], "a sequence needs a `name`");
    else if (names.has(name)) problem([...p, "name"], `sequence name ${JSON.stringify(name)} is used twice`);
    else names.add(name);
    const references: Record<string, string[]> = {};
    if (sq.references !== undefined) {
      if (!isObject(sq.references) || !Object.values(sq.references).every((keys) => Array.isArray(keys) && keys.every((k) => typeof k === "string"))) {
        problem([...p, "references"], "`references` maps a reference topic to the keys it holds: {customers: [c-1, c-2]}");
      } else Object.assign(references, sq.references);
    }
    const steps: SequenceStep[] = [];
    let clock = 0;
    if (!Array.isArray(sq.steps) || sq.steps.length === 0) problem([...p, "steps"], "`steps` is required: a list of {at, message, expect} and {at, timers}");
    else {
      sq.steps.forEach((st: unknown, j: number) => {
        const sp: PathSegment[] = [...p, "steps", j];
        if (!isObject(st)) return problem(sp, "a step is {at, message, expect} or {at, timers: {completed, incomplete}}");
        unknownKeys(st, STEP_KEYS, sp, problem);
        if (st.at !== undefined) {
          const ms = st.at === 0 || st.at === "0" || st.at === "0s" ? 0 : typeof st.at === "string" ? parseDuration(st.at) : undefined;
          if (ms === undefined) problem([...sp, "at"], "`at` is a duration from the start of the sequence (0s, 500ms, 9m, 1h30m)");
          else if (ms < clock) problem([...sp, "at"], "`at` goes back in time: steps are in order");
          else clock = ms;
        }
        const position = at(sp);
        if (st.timers !== undefined) {
          if (Object.hasOwn(st, "message") || st.expect !== undefined) return problem(sp, "a timer step has no message or expect");
          const t = st.timers;
          const keys = (x: unknown) => (x === undefined ? [] : Array.isArray(x) && x.every((k) => typeof k === "string") ? (x as string[]) : undefined);
          const completed = isObject(t) ? keys(t.completed) : undefined;
          const incomplete = isObject(t) ? keys(t.incomplete) : undefined;
          if (!isObject(t) || completed === undefined || incomplete === undefined || Object.keys(t).some((k) => k !== "completed" && k !== "incomplete")) {
            return problem([...sp, "timers"], "`timers` is {completed: [keys], incomplete: [keys]}: the completeness groups closing by then");
          }
          steps.push({ kind: "timers", at: clock, completed, incomplete, position });
          return;
        }
        if (!Object.hasOwn(st, "message")) return problem(sp, "a step needs a `message` (or `timers`)");
        const expect = expectation(st.expect, [...sp, "expect"], problem);
        if (expect !== undefined) steps.push({ kind: "message", at: clock, message: st.message, expect, position });
      });
    }
    const skip = sq.skip === undefined || sq.skip === false ? undefined : typeof sq.skip === "string" ? sq.skip : sq.skip === true ? "skipped" : (problem([...p, "skip"], "`skip` is true or a reason"), undefined);
    if (name !== undefined) {
      out.push({
        name,
        version: version(sq.version, [...p, "version"], problem) ?? defaults.version,
        reader: reader(sq.reader, [...p, "reader"], problem) ?? defaults.reader,
        references,
        steps,
        skip,
        position: at([...p, "name"]),
      });
    }
  });
  return out;
}

type Problem = (path: readonly PathSegment[], message: string, key?: boolean) => void;

function unknownKeys(o: Record<string, unknown>, allowed: readonly string[], at: readonly PathSegment[], problem: Problem): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problem([...at, k], `unknown key \`${k}\` (allowed: ${allowed.join(", ")})`, true);
}

function version(v: unknown, at: readonly PathSegment[], problem: Problem): number | undefined {
  if (v === undefined || v === "latest") return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    problem(at, "`version` is a positive integer or `latest`");
    return undefined;
  }
  return v;
}

function mode(v: unknown, at: readonly PathSegment[], problem: Problem): FixtureMode | undefined {
  if (v === undefined) return undefined;
  if (v !== "WRITE" && v !== "READ") {
    problem(at, "`mode` is WRITE (a producer serializes the message) or READ (a consumer deserializes it)");
    return undefined;
  }
  return v;
}

function reader(v: unknown, at: readonly PathSegment[], problem: Problem): FixtureReader | undefined {
  if (v === undefined) return undefined;
  if (v === "writer" || v === "latest") return { use: v };
  if (isObject(v) && Object.keys(v).length === 1) {
    if (typeof v.version === "number" && Number.isInteger(v.version) && v.version >= 1) return { use: "version", version: v.version };
    if (isObject(v.metadata) && Object.keys(v.metadata).length > 0 && Object.values(v.metadata).every((x) => typeof x === "string")) {
      return { use: "metadata", metadata: v.metadata as Record<string, string> };
    }
  }
  problem(at, "`reader` is `writer`, `latest`, `{version: N}` or `{metadata: {property: \"value\"}}` (latest with metadata)");
  return undefined;
}

function expectation(v: unknown, at: readonly PathSegment[], problem: Problem): Expectation | undefined {
  if (v === "pass" || v === "passes") return { passes: true, hasTransformedTo: false };
  if (v === "invalid") return { invalid: true, hasTransformedTo: false };
  if (!isObject(v)) {
    problem(at, "`expect` is `pass`, `invalid`, or a mapping with passes, violates, action, transformedTo or invalid");
    return undefined;
  }
  unknownKeys(v, EXPECT_KEYS, at, problem);
  const e: { passes?: true; violates?: string[]; action?: string; transformedTo?: unknown; hasTransformedTo: boolean; invalid?: true | string } = { hasTransformedTo: Object.hasOwn(v, "transformedTo") };
  if (v.passes !== undefined) {
    if (v.passes !== true) problem([...at, "passes"], "`passes` is true (to expect violations, use `violates`)");
    else e.passes = true;
  }
  if (v.violates !== undefined) {
    const list = typeof v.violates === "string" ? [v.violates] : v.violates;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string" && x !== "")) problem([...at, "violates"], "`violates` is a rule name or a non-empty list of rule names");
    else e.violates = list as string[];
  }
  if (v.action !== undefined) {
    if (typeof v.action !== "string" || v.action === "") problem([...at, "action"], "`action` is NONE, ERROR, DLQ or a custom action name");
    else e.action = v.action;
  }
  if (e.hasTransformedTo) e.transformedTo = v.transformedTo;
  if (v.invalid !== undefined) {
    if (v.invalid !== true && (typeof v.invalid !== "string" || v.invalid === "")) problem([...at, "invalid"], "`invalid` is true or a text the error must contain");
    else e.invalid = v.invalid as true | string;
  }
  if (e.invalid !== undefined && (e.passes || e.violates || e.action || e.hasTransformedTo)) problem(at, "`invalid` cannot be combined with other expectations");
  if (e.passes && (e.violates || (e.action !== undefined && e.action !== "NONE"))) problem(at, "`passes` means no rule fails: it cannot be combined with `violates` or an action");
  if (!e.passes && !e.violates && !e.hasTransformedTo && e.invalid === undefined) problem(at, "`expect` needs passes, violates, transformedTo or invalid");
  return e;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
