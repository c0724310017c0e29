/**
 * Proof by fixtures: every rule-test case of a changed subject runs through
 * both sides' contracts, and the cases whose outcome differs are listed with
 * the class of their move. A case that passed and now fails proves a
 * tightening; one whose message a consumer now reads differently proves a
 * breaking change.
 */
import type { ContractDocument } from "../contract/document.js";
import type { Fixture } from "../testing/fixture.js";
import { runFixtures, type CaseResult, type ObservedOutcome } from "../testing/run.js";
import type { ChangeClass } from "./classify.js";

export interface OutcomeChange {
  readonly file: string;
  readonly line: number;
  readonly subject: string;
  readonly name: string;
  /** What ran, e.g. "WRITE v2" or "READ v1 -> v2", on the new side. */
  readonly run: string;
  readonly before: ObservedOutcome;
  readonly after: ObservedOutcome;
  readonly class: ChangeClass;
  /** The move in words, e.g. "passed -> fails amountPositive (ERROR)". */
  readonly what: string;
}

/** Runs the fixtures of `subjects` on both sides: the cases run per subject, and those whose outcome changes. */
export async function proveWithFixtures(before: readonly ContractDocument[], after: readonly ContractDocument[], fixtures: readonly Fixture[], subjects: ReadonlySet<string>): Promise<{ cases: Map<string, number>; changes: OutcomeChange[] }> {
  const cases = new Map<string, number>();
  const relevant = fixtures.filter((f) => subjects.has(f.subject));
  if (relevant.length === 0) return { cases, changes: [] };
  const [a, b] = await Promise.all([runFixtures({ documents: before, fixtures: relevant, coverage: false }), runFixtures({ documents: after, fixtures: relevant, coverage: false })]);
  const changes: OutcomeChange[] = [];
  a.cases.forEach((was, i) => {
    const now = b.cases[i]!;
    if (was.observed === undefined || now.observed === undefined) return;
    cases.set(now.subject, (cases.get(now.subject) ?? 0) + 1);
    if (sameOutcome(was.observed, now.observed)) return;
    changes.push({ file: now.file, line: now.line, subject: now.subject, name: now.name, run: now.run, before: was.observed, after: now.observed, class: classOf(now, was.observed, now.observed), what: moveOf(was.observed, now.observed) });
  });
  return { cases, changes };
}

function sameOutcome(a: ObservedOutcome, b: ObservedOutcome): boolean {
  return a.kind === b.kind && a.action === b.action && a.digest === b.digest && (a.violated ?? []).join(",") === (b.violated ?? []).join(",");
}

function stops(o: ObservedOutcome): boolean {
  return o.kind === "failed" || o.kind === "invalid";
}

function classOf(c: CaseResult, was: ObservedOutcome, now: ObservedOutcome): ChangeClass {
  const read = c.run.startsWith("READ");
  if (was.kind === "error" || now.kind === "error") return "neutral";
  if (!stops(was) && stops(now)) return read ? "breaking" : "tightening";
  if (stops(was) && !stops(now)) return "loosening";
  // Both went on (or both stopped): a different message on read is what consumers see.
  if (was.digest !== now.digest && now.kind === "passed" && was.kind === "passed") return read ? "breaking" : "neutral";
  return "neutral";
}

function moveOf(was: ObservedOutcome, now: ObservedOutcome): string {
  const a = describe(was);
  const b = describe(now);
  return a === b ? `${b}, but the message differs` : `${a} -> ${b}`;
}

function describe(o: ObservedOutcome): string {
  switch (o.kind) {
    case "passed":
      return o.violated && o.violated.length > 0 ? `passes, reporting ${o.violated.join(", ")}` : "passes";
    case "failed":
      return `fails ${o.violated?.join(", ") ?? ""} (${o.action})`;
    case "invalid":
      return "does not fit the schema";
    case "error":
      return "cannot run";
  }
}
