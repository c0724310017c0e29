/**
 * Rule-test fixtures: `fixtures/<name>.test.yaml`, one subject per file, with
 * sample messages and what the rules must do to them (see docs/testing.md).
 * Parsing is pure and reports every problem with file:line:col.
 */
import { LineCounter, parseDocument } from "yaml";
import { findNode, nodePosition, type YamlSource } from "../contract/locate.js";
import type { PathSegment } from "../contract/path.js";
import { ContractError, type SourcePosition } from "../errors.js";

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

export interface Fixture {
  readonly file: string;
  readonly subject: string;
  /** The topic the rules see (default: the subject without -value / -key). */
  readonly topic: string;
  readonly cases: readonly FixtureCase[];
  readonly position: SourcePosition;
}

/** A fixture file that cannot be run. */
export class FixtureError extends ContractError {
  override get name(): string {
    return "FixtureError";
  }
}

const TOP_KEYS = ["subject", "topic", "version", "mode", "reader", "cases"];
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
  if (!Array.isArray(data.cases) || data.cases.length === 0) problem(["cases"], "`cases` is required: a list of {name, message, expect}");
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
    position: at(["subject"]),
  };
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
