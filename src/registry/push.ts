/**
 * Applying a push plan (plan.ts) to a registry: referenced subjects first,
 * each subject's versions in order, and every stored version read back and
 * checked, so that a registry that accepts `metadata` or `ruleSet` without
 * storing them (some ccompat APIs do) is an error, never a success.
 */
import type { Contract, Metadata, RegisteredContract, RuleSet, SubjectConfig } from "../contract/model.js";
import { RegistryError } from "../errors.js";
import { canonical } from "../contract/compare.js";
import { type ConfigChange, type PushPlan, type SubjectPlan } from "./plan.js";
import type { SchemaRegistry } from "./types.js";

export interface PushedVersion {
  readonly subject: string;
  /** The local version number. */
  readonly version: number;
  /** What the registry stored it as. */
  readonly registered: RegisteredContract;
}

export interface PushResult {
  readonly pushed: readonly PushedVersion[];
  /** Subjects not pushed because a local version conflicts with a registered one. */
  readonly refused: readonly string[];
  /** Subjects whose config was set. */
  readonly configured: readonly string[];
}

/**
 * Registers what `plan` says, in order. Throws the registry's RegistryError
 * (a compatibility refusal keeps the registry's own message) or a
 * RegistryError naming what a stored version lost; `onPushed` has seen every
 * version registered before that.
 */
export async function applyPushPlan(registry: PushTarget, plan: PushPlan, onPushed: (v: PushedVersion) => void = () => {}): Promise<PushResult> {
  const pushed: PushedVersion[] = [];
  const refused: string[] = [];
  const configured: string[] = [];
  for (const subject of referencedFirst(plan.subjects)) {
    if (subject.conflicts.length > 0) {
      refused.push(subject.subject);
      continue;
    }
    // Config first: a compatibility group or level decides whether the versions are accepted.
    if (subject.config !== undefined) {
      await applyConfig(registry, subject.subject, subject.config);
      configured.push(subject.subject);
    }
    for (const v of subject.toRegister) {
      const registered = await registry.register(subject.subject, v.contract);
      const lost = lostParts(v.contract, registered);
      if (lost.length > 0) {
        throw new RegistryError(
          `registered ${subject.subject} v${v.version} as v${registered.version}, but the registry did not store ${lost.join(", ")}: it does not keep data contracts (metadata and ruleSet), so their rules would not reach clients`,
          { code: "registry" },
        );
      }
      const done = { subject: subject.subject, version: v.version, registered };
      pushed.push(done);
      onPushed(done);
    }
  }
  return { pushed, refused, configured };
}

/** What a push needs of a registry: registering versions, and subject config for subjects that set one. */
export type PushTarget = SchemaRegistry & Partial<Pick<ConfigAccess, "getConfig" | "updateConfig">>;

interface ConfigAccess {
  getConfig(subject: string): Promise<SubjectConfig | undefined>;
  updateConfig(subject: string, config: SubjectConfig): Promise<unknown>;
}

/** Sets the keys the files give (the others stay as they are), then reads the config back. */
async function applyConfig(registry: PushTarget, subject: string, change: ConfigChange): Promise<void> {
  if (registry.updateConfig === undefined || registry.getConfig === undefined) {
    throw new RegistryError(`${subject}: the files set a subject config, and this registry client cannot write configs`, { code: "registry" });
  }
  await registry.updateConfig(subject, { ...change.current, ...change.wanted });
  const stored = await registry.getConfig(subject);
  const lost = (Object.keys(change.wanted) as (keyof SubjectConfig)[]).filter((k) => canonical(stored?.[k]) !== canonical(change.wanted[k]));
  if (lost.length > 0) throw new RegistryError(`set the config of ${subject}, but the registry did not store ${lost.join(", ")}`, { code: "registry" });
}

/** Subjects whose versions reference other subjects come after those subjects. */
function referencedFirst(subjects: readonly SubjectPlan[]): SubjectPlan[] {
  const byName = new Map(subjects.map((s) => [s.subject, s]));
  const ordered: SubjectPlan[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: SubjectPlan): void => {
    if (state.get(s.subject) !== undefined) return; // done, or a cycle the registry will report
    state.set(s.subject, "visiting");
    for (const v of s.toRegister) {
      for (const ref of v.contract.references ?? []) {
        const target = byName.get(ref.subject);
        if (target) visit(target);
      }
    }
    state.set(s.subject, "done");
    ordered.push(s);
  };
  for (const s of subjects) visit(s);
  return ordered;
}

/**
 * What was sent and is missing from what the registry stored. A registry may
 * add to a contract (default or override metadata and rules, `confluent:version`),
 * never drop from it.
 */
export function lostParts(sent: Contract, stored: Contract): string[] {
  return [...lostMetadata(sent.metadata, stored.metadata), ...lostRules(sent.ruleSet, stored.ruleSet)];
}

function lostMetadata(sent: Metadata | undefined, stored: Metadata | undefined): string[] {
  const lost: string[] = [];
  for (const [key, value] of Object.entries(sent?.properties ?? {})) if (stored?.properties?.[key] !== value) lost.push(`metadata.properties.${key}`);
  for (const [path, tags] of Object.entries(sent?.tags ?? {})) {
    const kept = new Set(stored?.tags?.[path] ?? []);
    if (!tags.every((t) => kept.has(t))) lost.push(`metadata.tags["${path}"]`);
  }
  const sensitive = new Set(stored?.sensitive ?? []);
  for (const s of sent?.sensitive ?? []) if (!sensitive.has(s)) lost.push(`metadata.sensitive ${s}`);
  return lost;
}

function lostRules(sent: RuleSet | undefined, stored: RuleSet | undefined): string[] {
  const lost: string[] = [];
  for (const phase of ["domainRules", "migrationRules", "encodingRules"] as const) {
    const kept = new Set((stored?.[phase] ?? []).map((r) => canonical(r)));
    for (const rule of sent?.[phase] ?? []) if (!kept.has(canonical(rule))) lost.push(`ruleSet.${phase} ${rule.name}`);
  }
  return lost;
}
