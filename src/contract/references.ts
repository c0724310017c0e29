/**
 * The contracts a contract's schema references, transitively, from a set the
 * caller holds (the linted files, one side of a diff): what a format's
 * compile needs as its `references`.
 */
import type { Contract, SchemaReference } from "./model.js";

/** A reference the set does not hold; `top` when the contract itself names it (not one of its references). */
export interface MissingReference {
  readonly reference: SchemaReference;
  readonly index: number;
  readonly top: boolean;
}

/** References deeper than this are not followed (a cycle, or a chain no registry would hold). */
const MAX_REFERENCE_DEPTH = 32;

/** By reference name, first seen first; `find` looks a subject's version up. */
export function collectReferences(contract: Contract, find: (subject: string, version: number) => Contract | undefined): { references: Map<string, Contract>; missing: MissingReference[] } {
  const references = new Map<string, Contract>();
  const missing: MissingReference[] = [];
  const visit = (c: Contract, top: boolean, depth: number): void => {
    if (depth > MAX_REFERENCE_DEPTH) return;
    (c.references ?? []).forEach((reference, index) => {
      if (references.has(reference.name)) return;
      const target = find(reference.subject, reference.version);
      if (target === undefined) {
        missing.push({ reference, index, top });
        return;
      }
      references.set(reference.name, target);
      visit(target, false, depth + 1);
    });
  };
  visit(contract, true, 0);
  return { references, missing };
}
