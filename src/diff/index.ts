/**
 * `kontract diff` as a library: rule-level changes between two sets of
 * contracts, classed by what they do to messages, and proved on fixtures.
 */
import type { ContractDocument } from "../contract/document.js";
import type { Fixture } from "../testing/fixture.js";
import { diffContracts, mostSevere, type ChangeClass, type SubjectDiff } from "./classify.js";
import { proveWithFixtures, type OutcomeChange } from "./prove.js";

export { CHANGE_CLASSES, diffContracts, mostSevere, type ChangeClass, type ContractChange, type ContractDiff, type SubjectDiff } from "./classify.js";
export { proveWithFixtures, type OutcomeChange } from "./prove.js";

export interface SubjectComparison extends SubjectDiff {
  /** The subject's fixture cases run on both sides (undefined: no fixtures given, or the subject did not change). */
  readonly fixtures: { readonly cases: number; readonly changes: readonly OutcomeChange[] } | undefined;
}

export interface ContractComparison {
  readonly subjects: readonly SubjectComparison[];
}

/** The diff of `before` and `after`, with the fixtures of every changed subject run on both sides. */
export async function compareContracts(before: readonly ContractDocument[], after: readonly ContractDocument[], fixtures: readonly Fixture[] = []): Promise<ContractComparison> {
  const diff = diffContracts(before, after);
  const changed = new Set(diff.subjects.filter((s) => s.changes.length > 0 && s.from !== undefined && s.to !== undefined).map((s) => s.subject));
  const proof = changed.size > 0 && fixtures.length > 0 ? await proveWithFixtures(before, after, fixtures, changed) : undefined;
  return {
    subjects: diff.subjects.map((s) => {
      const cases = proof?.cases.get(s.subject);
      return { ...s, fixtures: cases === undefined ? undefined : { cases, changes: proof!.changes.filter((c) => c.subject === s.subject) } };
    }),
  };
}

/** Every class a comparison shows: of its changes and of the fixture cases whose outcome moved. */
export function classesOf(comparison: ContractComparison): Set<ChangeClass> {
  const out = new Set<ChangeClass>();
  for (const s of comparison.subjects) {
    for (const c of s.changes) out.add(c.class);
    for (const c of s.fixtures?.changes ?? []) out.add(c.class);
  }
  return out;
}

/** The most severe class of one subject's changes and fixture moves, or undefined when nothing changed. */
export function subjectClass(s: SubjectComparison): ChangeClass | undefined {
  const classes = [...s.changes.map((c) => c.class), ...(s.fixtures?.changes ?? []).map((c) => c.class)];
  return classes.length === 0 ? undefined : mostSevere(classes);
}
