/**
 * Comparing contracts as a registry does: JSON with sorted keys, where absent,
 * empty lists and empty objects are the same, and rules matched by name. The
 * push plan and `kontract diff` both compare through here.
 */
import { RULE_PHASES, schemaTypeOf, type Contract, type Rule, type RulePhase, type RuleSet } from "./model.js";

/** Sorted-key JSON where absent, empty lists and empty objects count as nothing. */
export function canonical(v: unknown): string {
  return JSON.stringify(normalize(v)) ?? "";
}

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map((x) => normalize(x) ?? null);
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v).sort()) {
    const n = normalize((v as Record<string, unknown>)[key]);
    if (n !== undefined) out[key] = n;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** A schema's text as a registry compares it: Avro and JSON Schema as parsed JSON (spacing and key order do not count), Protobuf with its spacing collapsed. */
export function canonicalSchema(c: Contract): string {
  if (schemaTypeOf(c) === "PROTOBUF") return c.schema.replace(/\s+/g, " ").trim();
  try {
    return canonical(JSON.parse(c.schema));
  } catch {
    return c.schema;
  }
}

/** The fields of a rule, in the order changes are reported. */
const RULE_FIELDS = ["kind", "mode", "type", "expr", "tags", "params", "onSuccess", "onFailure", "disabled", "doc"] as const satisfies readonly (keyof Rule)[];
export type RuleField = (typeof RULE_FIELDS)[number];

/** One rule that differs between two rule sets; a rule is known by its name within its list. */
export type RuleChange =
  | { readonly change: "added"; readonly phase: RulePhase; readonly name: string; readonly after: Rule }
  | { readonly change: "removed"; readonly phase: RulePhase; readonly name: string; readonly before: Rule }
  | { readonly change: "changed"; readonly phase: RulePhase; readonly name: string; readonly before: Rule; readonly after: Rule; readonly fields: readonly RuleField[] };

/** The rules added, removed and changed from `before` to `after`, list by list. */
export function ruleChanges(before: RuleSet | undefined, after: RuleSet | undefined): RuleChange[] {
  const out: RuleChange[] = [];
  for (const phase of RULE_PHASES) {
    const a = byName(before?.[phase]);
    const b = byName(after?.[phase]);
    for (const [name, rule] of b) {
      const old = a.get(name);
      if (old === undefined) {
        out.push({ change: "added", phase, name, after: rule });
        continue;
      }
      const fields = RULE_FIELDS.filter((f) => canonical(f === "disabled" ? old[f] === true : old[f]) !== canonical(f === "disabled" ? rule[f] === true : rule[f]));
      if (fields.length > 0) out.push({ change: "changed", phase, name, before: old, after: rule, fields });
    }
    for (const [name, rule] of a) if (!b.has(name)) out.push({ change: "removed", phase, name, before: rule });
  }
  return out;
}

function byName(rules: readonly Rule[] | undefined): Map<string, Rule> {
  return new Map((rules ?? []).map((r) => [r.name, r]));
}

/** "+name" added, "-name" removed, "~name" changed. */
export function ruleChangeLabel(c: RuleChange): string {
  return `${c.change === "added" ? "+" : c.change === "removed" ? "-" : "~"}${c.name}`;
}
