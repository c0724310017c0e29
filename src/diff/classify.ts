/**
 * What changes between two sets of contracts, rule by rule, and what each
 * change does to messages. Per subject, the newest version on each side is
 * compared: that is what producers write with and consumers read as.
 *
 * Each change gets one class, the most severe that applies:
 * - breaking: consumers read other data, or cannot read at all (a READ
 *   transform changed, a migration rule removed, an incompatible schema or a
 *   new major version without a migration rule);
 * - tightening: messages that pass today may fail;
 * - loosening: messages that fail today may pass;
 * - neutral: no message's outcome changes.
 * An edited condition may tighten and loosen at once; it is classed
 * tightening, and fixtures (prove.ts) show which messages move which way.
 */
import { canonical, canonicalSchema, ruleChanges, type RuleChange, type RuleField } from "../contract/compare.js";
import type { ContractDocument } from "../contract/document.js";
import { collectReferences } from "../contract/references.js";
import { defaultKind, schemaTypeOf, type Contract, type ExecutionMode, type Rule, type RulePhase, type RuleSet, type SubjectConfig } from "../contract/model.js";
import { actionName } from "../engine/actions.js";
import { modeApplies } from "../engine/index.js";
import { FORMATS } from "../format/index.js";
import { compatibility, type VersionSchema } from "../lint/compat.js";
import { differences } from "../registry/plan.js";

/** Most severe first. */
export const CHANGE_CLASSES = ["breaking", "tightening", "loosening", "neutral"] as const;
export type ChangeClass = (typeof CHANGE_CLASSES)[number];

export interface ContractChange {
  /** What changed: a rule (with its list and name), the schema, metadata, the subject's config, or the subject itself. */
  readonly part: "subject" | "schema" | "references" | "metadata" | "config" | "enableAt" | "rule";
  /** For rule changes. */
  readonly rule?: { readonly phase: RulePhase; readonly name: string; readonly change: "added" | "removed" | "changed"; readonly fields: readonly RuleField[] };
  readonly class: ChangeClass;
  /** What changed, in one line. */
  readonly what: string;
  /** Why it has its class. */
  readonly why: string;
}

export interface SubjectDiff {
  readonly subject: string;
  /** The newest version on each side; undefined where the side has no contract for the subject. */
  readonly from: number | undefined;
  readonly to: number | undefined;
  /** Versions only the second side has, and only the first. */
  readonly versionsAdded: readonly number[];
  readonly versionsRemoved: readonly number[];
  /** Older versions both sides have that differ (a registry never changes a registered version). */
  readonly versionsDiffering: readonly number[];
  readonly changes: readonly ContractChange[];
}

export interface ContractDiff {
  readonly subjects: readonly SubjectDiff[];
}

/** Subject by subject, what changes from `before` to `after` (both in any order). */
export function diffContracts(before: readonly ContractDocument[], after: readonly ContractDocument[]): ContractDiff {
  const a = bySubject(before);
  const b = bySubject(after);
  const subjects = [...new Set([...a.keys(), ...b.keys()])].sort();
  return { subjects: subjects.map((s) => diffSubject(s, a.get(s) ?? [], b.get(s) ?? [])) };
}

/** The most severe class among `classes` (neutral for none). */
export function mostSevere(classes: Iterable<ChangeClass>): ChangeClass {
  let rank = CHANGE_CLASSES.length - 1;
  for (const c of classes) rank = Math.min(rank, CHANGE_CLASSES.indexOf(c));
  return CHANGE_CLASSES[rank]!;
}

function bySubject(documents: readonly ContractDocument[]): Map<string, ContractDocument[]> {
  const out = new Map<string, ContractDocument[]>();
  for (const d of documents) out.set(d.subject, [...(out.get(d.subject) ?? []), d]);
  for (const list of out.values()) list.sort((x, y) => x.version - y.version);
  return out;
}

function diffSubject(subject: string, a: readonly ContractDocument[], b: readonly ContractDocument[]): SubjectDiff {
  const from = a.at(-1);
  const to = b.at(-1);
  const aVersions = new Map(a.map((d) => [d.version, d]));
  const bVersions = new Set(b.map((d) => d.version));
  const base = {
    subject,
    from: from?.version,
    to: to?.version,
    versionsAdded: b.filter((d) => !aVersions.has(d.version)).map((d) => d.version),
    versionsRemoved: a.filter((d) => !bVersions.has(d.version)).map((d) => d.version),
    versionsDiffering: b
      .filter((d) => aVersions.has(d.version) && !(d === to && aVersions.get(d.version) === from) && differences(aVersions.get(d.version)!.contract, d.contract).length > 0)
      .map((d) => d.version),
  };
  if (from === undefined) {
    if (to === undefined) return { ...base, changes: [] };
    return { ...base, changes: [{ part: "subject", class: "neutral", what: `new subject (v${to.version})`, why: "no message of this subject had a contract before" }] };
  }
  if (to === undefined) {
    return { ...base, changes: [{ part: "subject", class: "breaking", what: "the subject's contracts are gone", why: "consumers of this subject lose its schema and rules" }] };
  }
  const changes: ContractChange[] = [];
  // Versions past `from` on the new side: their migration rules bridge reads from `from` to `to`.
  const bridging = b.filter((d) => d.version > from.version);
  const schema = schemaChange(from, to, a, b, bridging);
  if (schema) changes.push(schema);
  if (canonical(from.contract.references) !== canonical(to.contract.references)) {
    changes.push({ part: "references", class: "neutral", what: "schema references changed", why: "the referenced schemas are compared with the schema" });
  }
  const group = configOf(b)?.compatibilityGroup ?? configOf(a)?.compatibilityGroup;
  changes.push(...majorVersionChange(group, from, to, bridging));
  changes.push(...metadataChanges(from.contract, to.contract, group));
  changes.push(...enableAtChange(from.contract.ruleSet, to.contract.ruleSet));
  for (const c of ruleChanges(from.contract.ruleSet, to.contract.ruleSet)) changes.push(classifyRule(c, ""));
  changes.push(...configChanges(configOf(a), configOf(b)));
  return { ...base, changes };
}

/** The subject's config: the newest document that sets one. */
function configOf(documents: readonly ContractDocument[]): SubjectConfig | undefined {
  return documents.findLast((d) => d.config !== undefined)?.config;
}

// --- schema -----------------------------------------------------------------

function schemaChange(from: ContractDocument, to: ContractDocument, a: readonly ContractDocument[], b: readonly ContractDocument[], bridging: readonly ContractDocument[]): ContractChange | undefined {
  const older = from.contract;
  const newer = to.contract;
  if (schemaTypeOf(older) === schemaTypeOf(newer) && canonicalSchema(older) === canonicalSchema(newer)) return undefined;
  const what = `schema v${from.version} -> v${to.version}`;
  const o = compile(older, a);
  const n = compile(newer, b);
  if (typeof n === "string") return { part: "schema", class: "breaking", what, why: `the new schema does not compile: ${n}` };
  if (typeof o === "string") return { part: "schema", class: "neutral", what, why: `the old schema does not compile (${o}); nothing to compare with` };
  const c = compatibility(o, n);
  if (!c.backward && !c.forward) return { part: "schema", class: "neutral", what, why: "compatible both ways: old and new readers read both versions' messages" };
  const modes = migrationModes(bridging);
  const gaps: string[] = [];
  if (c.backward && !modes.has("UPGRADE")) gaps.push(`v${to.version} cannot read messages written with v${from.version} (${c.backward}), and no UPGRADE migration rule bridges them`);
  if (c.forward && !modes.has("DOWNGRADE")) gaps.push(`readers on v${from.version} cannot read v${to.version}'s messages (${c.forward}), and no DOWNGRADE migration rule bridges them`);
  if (gaps.length > 0) return { part: "schema", class: "breaking", what, why: gaps.join("; ") };
  return { part: "schema", class: "neutral", what, why: "incompatible, bridged by migration rules" };
}

function compile(contract: Contract, side: readonly ContractDocument[]): VersionSchema | string {
  const { references } = collectReferences(contract, (subject, version) => side.find((d) => d.subject === subject && d.version === version)?.contract);
  try {
    const compiled = FORMATS[schemaTypeOf(contract)].compile(contract, references.size > 0 ? { references } : {});
    return { contract, compiled, references: references.size > 0 ? references : undefined };
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The directions the enabled migration transforms of `versions` cover. */
function migrationModes(versions: readonly ContractDocument[]): Set<"UPGRADE" | "DOWNGRADE"> {
  const out = new Set<"UPGRADE" | "DOWNGRADE">();
  for (const d of versions) {
    for (const r of d.contract.ruleSet?.migrationRules ?? []) {
      if (r.disabled === true || defaultKind(r) !== "TRANSFORM") continue;
      if (modeApplies(r, "UPGRADE")) out.add("UPGRADE");
      if (modeApplies(r, "DOWNGRADE")) out.add("DOWNGRADE");
    }
  }
  return out;
}

/** A new value of the compatibility group's property is a new major version: without migration rules, consumers break. */
function majorVersionChange(group: string | undefined, from: ContractDocument, to: ContractDocument, bridging: readonly ContractDocument[]): ContractChange[] {
  if (group === undefined) return [];
  const before = from.contract.metadata?.properties?.[group];
  const after = to.contract.metadata?.properties?.[group];
  if (before === after) return [];
  const what = `${group} ${before ?? "(unset)"} -> ${after ?? "(unset)"}: a new major version`;
  if (migrationModes(bridging).size === 0) {
    return [{ part: "metadata", class: "breaking", what, why: `no migration rule in v${bridging.map((d) => d.version).join(", v") || to.version} bridges the two major versions, so consumers on one cannot read the other's messages as their own` }];
  }
  return [{ part: "metadata", class: "neutral", what, why: "migration rules bridge the two major versions" }];
}

// --- metadata and config ------------------------------------------------------

/** Properties (but the compatibility group's, a major version of its own), sensitive names and field tags. */
function metadataChanges(before: Contract, after: Contract, group: string | undefined): ContractChange[] {
  const out: ContractChange[] = [];
  const a = before.metadata;
  const b = after.metadata;
  const aProps = a?.properties ?? {};
  const bProps = b?.properties ?? {};
  const changedProps = [...new Set([...Object.keys(aProps), ...Object.keys(bProps)])].filter((k) => k !== "confluent:version" && k !== group && aProps[k] !== bProps[k]).sort();
  if (changedProps.length > 0) out.push({ part: "metadata", class: "neutral", what: `properties changed: ${changedProps.join(", ")}`, why: "properties select versions (use.latest.with.metadata); they do not change messages" });
  if (canonical(sortedSet(a?.sensitive)) !== canonical(sortedSet(b?.sensitive))) {
    out.push({ part: "metadata", class: "neutral", what: "sensitive properties changed", why: "only what is redacted in output changes" });
  }
  for (const path of [...new Set([...Object.keys(a?.tags ?? {}), ...Object.keys(b?.tags ?? {})])].sort()) {
    const was = new Set(a?.tags?.[path] ?? []);
    const now = new Set(b?.tags?.[path] ?? []);
    const gained = [...now].filter((t) => !was.has(t));
    const lost = [...was].filter((t) => !now.has(t));
    if (gained.length === 0 && lost.length === 0) continue;
    const effects = [...tagEffects(gained, after.ruleSet, "gained"), ...tagEffects(lost, before.ruleSet, "lost")];
    const what = `tags of ${path}: ${[...gained.map((t) => `+${t}`), ...lost.map((t) => `-${t}`)].join(" ")}`;
    out.push(effects.length === 0 ? { part: "metadata", class: "neutral", what, why: "no rule selects these tags" } : { part: "metadata", class: mostSevere(effects.map((e) => e.class)), what, why: effects.map((e) => e.why).join("; ") });
  }
  return out;
}

function sortedSet(list: readonly string[] | undefined): string[] {
  return [...new Set(list ?? [])].sort();
}

interface Effect {
  readonly class: ChangeClass;
  readonly why: string;
}

/** A field that gains (or loses) a tag comes under (or out of) the rules that select the tag. */
function tagEffects(tags: readonly string[], ruleSet: RuleSet | undefined, how: "gained" | "lost"): Effect[] {
  const out: Effect[] = [];
  for (const phase of ["domainRules", "encodingRules"] as const) {
    for (const rule of ruleSet?.[phase] ?? []) {
      if (rule.disabled === true || !(rule.tags ?? []).some((t) => tags.includes(t))) continue;
      if (defaultKind(rule) === "CONDITION") {
        if (rejectingModes(rule).size > 0) out.push(how === "gained" ? { class: "tightening", why: `condition ${rule.name} now checks the field` } : { class: "loosening", why: `condition ${rule.name} no longer checks the field` });
      } else if (modeApplies(rule, "READ")) {
        out.push({ class: "breaking", why: `READ transform ${rule.name} ${how === "gained" ? "now changes" : "no longer changes"} the field for consumers` });
      } else {
        out.push({ class: "neutral", why: `WRITE transform ${rule.name} ${how === "gained" ? "now changes" : "no longer changes"} the field in messages written from now on` });
      }
    }
  }
  return out;
}

const CLIENT_RUNS = new Set([undefined, "ALL", "CLIENT"]);

function enableAtChange(before: RuleSet | undefined, after: RuleSet | undefined): ContractChange[] {
  if (before?.enableAt === after?.enableAt) return [];
  const was = CLIENT_RUNS.has(before?.enableAt);
  const now = CLIENT_RUNS.has(after?.enableAt);
  const what = `ruleSet.enableAt ${before?.enableAt ?? "(unset)"} -> ${after?.enableAt ?? "(unset)"}`;
  if (was === now) return [{ part: "enableAt", class: "neutral", what, why: `the rules ${now ? "still run" : "still do not run"} in clients` }];
  const rules = [...(now ? after : before)?.domainRules ?? [], ...(now ? after : before)?.encodingRules ?? []].filter((r) => r.disabled !== true);
  const effects = rules.map((r) => (now ? addedEffect(r, "domainRules") : removedEffect(r, "domainRules")));
  return [{ part: "enableAt", class: mostSevere(effects.map((e) => e.class)), what, why: `the rules ${now ? "now run" : "no longer run"} in clients` }];
}

const CONFIG_RULE_SETS = ["defaultRuleSet", "overrideRuleSet"] as const;

function configChanges(before: SubjectConfig | undefined, after: SubjectConfig | undefined): ContractChange[] {
  if (after === undefined) return [];
  const out: ContractChange[] = [];
  const keys = (Object.keys(after) as (keyof SubjectConfig)[]).filter((k) => canonical(before?.[k]) !== canonical(after[k])).sort();
  for (const key of keys) {
    if ((CONFIG_RULE_SETS as readonly string[]).includes(key)) {
      const k = key as (typeof CONFIG_RULE_SETS)[number];
      for (const c of ruleChanges(before?.[k], after[k])) out.push({ ...classifyRule(c, `config.${k}.`), part: "config" });
      continue;
    }
    out.push({ part: "config", class: "neutral", what: `config ${key}: ${show(before?.[key])} -> ${show(after[key])}`, why: key === "compatibility" || key === "compatibilityGroup" ? "it changes what the registry accepts next, not the messages" : "it does not change messages by itself" });
  }
  return out;
}

function show(v: unknown): string {
  return v === undefined ? "(unset)" : typeof v === "string" ? v : JSON.stringify(v);
}

// --- rules --------------------------------------------------------------------

/** The modes in which a rule, when it fails, stops the message: its action there is not NONE (absent means ERROR, as in Java). */
function rejectingModes(rule: Rule): Set<ExecutionMode> {
  const out = new Set<ExecutionMode>();
  if (rule.disabled === true) return out;
  for (const mode of ["WRITE", "READ", "UPGRADE", "DOWNGRADE"] as const) {
    if (!modeApplies(rule, mode)) continue;
    if ((actionName(rule, rule.onFailure, mode) ?? "ERROR") !== "NONE") out.add(mode);
  }
  return out;
}

function runsOnRead(rule: Rule): boolean {
  return rule.disabled !== true && modeApplies(rule, "READ");
}

function addedEffect(rule: Rule, phase: RulePhase): Effect {
  if (rule.disabled === true) return { class: "neutral", why: "it is disabled" };
  if (phase === "migrationRules") return { class: "neutral", why: "reads across versions are migrated by it" };
  if (defaultKind(rule) === "TRANSFORM") {
    return runsOnRead(rule) ? { class: "breaking", why: "a READ transform: consumers read other data" } : { class: "neutral", why: "a WRITE transform: messages written from now on change" };
  }
  const modes = rejectingModes(rule);
  return modes.size > 0 ? { class: "tightening", why: `messages that pass today may fail on ${[...modes].join(" and ")}` } : { class: "neutral", why: "onFailure NONE: failures are only reported" };
}

function removedEffect(rule: Rule, phase: RulePhase): Effect {
  if (rule.disabled === true) return { class: "neutral", why: "it was disabled" };
  if (phase === "migrationRules") return { class: "breaking", why: "reads across versions are no longer migrated by it" };
  if (defaultKind(rule) === "TRANSFORM") {
    return runsOnRead(rule) ? { class: "breaking", why: "a READ transform: consumers read other data" } : { class: "neutral", why: "a WRITE transform: messages written from now on change" };
  }
  const modes = rejectingModes(rule);
  return modes.size > 0 ? { class: "loosening", why: `messages that fail today may pass on ${[...modes].join(" and ")}` } : { class: "neutral", why: "it only reported failures (onFailure NONE)" };
}

/** Fields whose change alters no message's outcome. */
const NEUTRAL_FIELDS: readonly RuleField[] = ["doc", "onSuccess"];

function changedEffects(phase: RulePhase, before: Rule, after: Rule, fields: readonly RuleField[]): Effect[] {
  const was = before.disabled !== true;
  const now = after.disabled !== true;
  if (!was && !now) return [{ class: "neutral", why: "it stays disabled" }];
  if (was && !now) return [{ ...removedEffect(before, phase), why: `disabled: ${removedEffect(before, phase).why}` }];
  if (!was && now) return [{ ...addedEffect(after, phase), why: `enabled: ${addedEffect(after, phase).why}` }];
  const substantive = fields.filter((f) => !NEUTRAL_FIELDS.includes(f));
  if (substantive.length === 0) return [{ class: "neutral", why: `only ${fields.join(" and ")} changed` }];
  if (phase === "migrationRules") return [{ class: "breaking", why: "reads across versions are migrated differently" }];
  if (defaultKind(before) !== defaultKind(after)) return [removedEffect(before, phase), addedEffect(after, phase)];
  if (defaultKind(after) === "TRANSFORM") {
    if (runsOnRead(before) || runsOnRead(after)) return [{ class: "breaking", why: "a READ transform changed: consumers read other data" }];
    const effects: Effect[] = [{ class: "neutral", why: "a WRITE transform: messages written from now on change" }];
    if (fields.includes("onFailure") || fields.includes("mode")) effects.push(...rejectionEffects(before, after));
    return effects;
  }
  const effects: Effect[] = [];
  const rejectsNow = rejectingModes(after).size > 0;
  if (rejectsNow && ["expr", "type", "params"].some((f) => fields.includes(f as RuleField))) {
    effects.push({ class: "tightening", why: "the condition changed: messages that pass today may fail (and some that fail may pass)" });
  }
  if (fields.includes("tags") && rejectsNow) {
    const a = new Set(before.tags ?? []);
    const b = new Set(after.tags ?? []);
    if ([...b].some((t) => !a.has(t))) effects.push({ class: "tightening", why: "it checks fields of more tags" });
    if ([...a].some((t) => !b.has(t))) effects.push({ class: "loosening", why: "it checks fields of fewer tags" });
  }
  if (fields.includes("mode") || fields.includes("onFailure")) effects.push(...rejectionEffects(before, after));
  return effects.length > 0 ? effects : [{ class: "neutral", why: `${substantive.join(" and ")} changed, and the rule stops no message` }];
}

/** Modes where a failure newly stops the message (tightening), or no longer does (loosening). */
function rejectionEffects(before: Rule, after: Rule): Effect[] {
  const a = rejectingModes(before);
  const b = rejectingModes(after);
  const gained = [...b].filter((m) => !a.has(m));
  const lost = [...a].filter((m) => !b.has(m));
  const out: Effect[] = [];
  if (gained.length > 0) out.push({ class: "tightening", why: `a failure now stops the message on ${gained.join(" and ")}` });
  if (lost.length > 0) out.push({ class: "loosening", why: `a failure no longer stops the message on ${lost.join(" and ")}` });
  if (out.length === 0) out.push({ class: "neutral", why: "failures stop messages in the same modes (only where they go changed)" });
  return out;
}

function classifyRule(c: RuleChange, prefix: string): ContractChange {
  const list = `${prefix}${c.phase}`;
  const rule = { phase: c.phase, name: c.name, change: c.change, fields: c.change === "changed" ? c.fields : [] };
  const effects = c.change === "added" ? [addedEffect(c.after, c.phase)] : c.change === "removed" ? [removedEffect(c.before, c.phase)] : changedEffects(c.phase, c.before, c.after, c.fields);
  const cls = mostSevere(effects.map((e) => e.class));
  const ofClass = effects.filter((e) => e.class === cls).concat(effects.filter((e) => e.class !== cls));
  const r = c.change === "removed" ? c.before : c.after;
  const what =
    c.change === "added"
      ? `rule ${c.name} added to ${list} (${describeRule(r)})`
      : c.change === "removed"
        ? `rule ${c.name} removed from ${list}`
        : c.fields.includes("disabled")
          ? `rule ${c.name} in ${list} ${c.after.disabled === true ? "disabled" : "enabled"}${c.fields.length > 1 ? `; ${c.fields.filter((f) => f !== "disabled").join(", ")} changed` : ""}`
          : `rule ${c.name} in ${list}: ${c.fields.map((f) => fieldChange(f, c.before, c.after)).join(", ")}`;
  return { part: "rule", rule, class: cls, what, why: [...new Set(ofClass.map((e) => e.why))].join("; ") };
}

function describeRule(r: Rule): string {
  return [defaultKind(r), r.type, r.mode ?? "WRITEREAD", ...(r.onFailure !== undefined ? [`onFailure ${r.onFailure}`] : []), ...(r.tags?.length ? [`tags ${r.tags.join(",")}`] : [])].join(", ");
}

/** Short values are shown; expressions and params are only named (they may be long). */
function fieldChange(f: RuleField, before: Rule, after: Rule): string {
  if (f === "mode" || f === "kind" || f === "type" || f === "onFailure" || f === "onSuccess") return `${f} ${show(before[f])} -> ${show(after[f])}`;
  if (f === "tags") return `tags ${(before.tags ?? []).join(",") || "(none)"} -> ${(after.tags ?? []).join(",") || "(none)"}`;
  return `${f} changed`;
}
