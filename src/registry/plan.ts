/**
 * What a push would do: the contract versions of local files against what a
 * registry holds, subject by subject. `readRegistryState` reads the registry;
 * `planPush` is pure.
 *
 * Versions pair up in order: the n-th local version of a subject with the n-th
 * version the registry holds. A registered version never changes (a registry
 * returns the existing version for an identical body, and refuses nothing
 * else), so a pair that differs is a conflict, and local versions past the
 * registry's are the ones to register. Confluent registers a metadata-only or
 * ruleSet-only change as a new version with the same schema; the plan says which.
 */
import type { ContractDocument } from "../contract/document.js";
import { canonical, canonicalSchema, ruleChangeLabel, ruleChanges } from "../contract/compare.js";
import type { Contract, Metadata, RegisteredContract, SubjectConfig } from "../contract/model.js";
import { isErrorCode } from "../errors.js";
import type { SchemaRegistry } from "./types.js";

/** What changes from one version to the next. */
export type ContractPart = "schema" | "references" | "metadata" | "ruleSet";

export interface VersionToRegister {
  /** The local version number (the registry may number it otherwise). */
  readonly version: number;
  readonly contract: Contract;
  /** What differs from the version before it (empty for a subject's first version). */
  readonly changed: readonly ContractPart[];
  /** Rule-level changes against the version before it, e.g. "+amountPositive", "~maskPii", "-old". */
  readonly rules: readonly string[];
}

export interface VersionConflict {
  readonly version: number;
  readonly registeredVersion: number;
  readonly changed: readonly ContractPart[];
}

/** Config keys the files set to other values than the registry holds. */
export interface ConfigChange {
  /** The config as the files give it: only these keys are set. */
  readonly wanted: SubjectConfig;
  /** What the registry holds now (undefined: the subject has no config of its own). */
  readonly current: SubjectConfig | undefined;
  readonly changed: readonly (keyof SubjectConfig)[];
}

export interface SubjectPlan {
  readonly subject: string;
  /** Set when the subject's config changes; a push sets it before registering versions. */
  readonly config: ConfigChange | undefined;
  /** The versions the registry holds now. */
  readonly registered: readonly number[];
  readonly toRegister: readonly VersionToRegister[];
  /** Local versions that differ from the registered version they pair with: a push refuses the subject. */
  readonly conflicts: readonly VersionConflict[];
  /** Registered versions past the local ones (another writer, or files behind the registry). */
  readonly notInFiles: readonly number[];
}

export interface PushPlan {
  readonly subjects: readonly SubjectPlan[];
  /** True when a push would register something. */
  readonly changes: boolean;
  readonly conflicts: boolean;
}

/** Every version the registry holds for each subject (none for a subject it does not know). */
export async function readRegistryState(registry: SchemaRegistry, subjects: Iterable<string>): Promise<Map<string, RegisteredContract[]>> {
  const state = new Map<string, RegisteredContract[]>();
  for (const subject of subjects) {
    let versions: number[];
    try {
      versions = await registry.versions(subject);
    } catch (e) {
      if (isErrorCode(e, "unknown-schema")) {
        state.set(subject, []);
        continue;
      }
      throw e;
    }
    const stored: RegisteredContract[] = [];
    for (const v of [...versions].sort((a, b) => a - b)) stored.push(await registry.getVersion(subject, v));
    state.set(subject, stored);
  }
  return state;
}

/** The config of each subject that has one of its own (readSubjectConfigs); undefined for those that do not. */
export type SubjectConfigs = ReadonlyMap<string, SubjectConfig | undefined>;

/** The subjects' own configs, for the subjects whose files set one. */
export async function readSubjectConfigs(registry: { getConfig(subject: string): Promise<SubjectConfig | undefined> }, subjects: Iterable<string>): Promise<Map<string, SubjectConfig | undefined>> {
  const configs = new Map<string, SubjectConfig | undefined>();
  for (const subject of subjects) configs.set(subject, await registry.getConfig(subject));
  return configs;
}

/** The subjects whose documents set a config. */
export function configuredSubjects(documents: readonly ContractDocument[]): Set<string> {
  return new Set(documents.filter((d) => d.config !== undefined).map((d) => d.subject));
}

/** The plan for `documents` (any order) against `state` (from readRegistryState) and `configs` (readSubjectConfigs). */
export function planPush(documents: readonly ContractDocument[], state: ReadonlyMap<string, readonly RegisteredContract[]>, configs: SubjectConfigs = new Map()): PushPlan {
  const bySubject = new Map<string, ContractDocument[]>();
  for (const d of documents) {
    let list = bySubject.get(d.subject);
    if (!list) bySubject.set(d.subject, (list = []));
    list.push(d);
  }
  const subjects = [...bySubject.keys()].sort().map((subject) => planSubject(subject, bySubject.get(subject)!, state.get(subject) ?? [], configs.get(subject)));
  return {
    subjects,
    changes: subjects.some((s) => s.toRegister.length > 0 || s.config !== undefined),
    conflicts: subjects.some((s) => s.conflicts.length > 0),
  };
}

function planSubject(subject: string, documents: readonly ContractDocument[], registered: readonly RegisteredContract[], current: SubjectConfig | undefined): SubjectPlan {
  const local = [...documents].sort((a, b) => a.version - b.version);
  // The newest document that sets a config gives it.
  const wanted = local.findLast((d) => d.config !== undefined)?.config;
  const changedKeys = wanted === undefined ? [] : (Object.keys(wanted) as (keyof SubjectConfig)[]).filter((k) => canonical(wanted[k]) !== canonical(current?.[k]));
  const toRegister: VersionToRegister[] = [];
  const conflicts: VersionConflict[] = [];
  let previous: Contract | undefined;
  local.forEach((doc, i) => {
    const stored = registered[i];
    if (stored !== undefined) {
      const changed = differences(stored, doc.contract);
      if (changed.length > 0) conflicts.push({ version: doc.version, registeredVersion: stored.version, changed });
    } else {
      toRegister.push({
        version: doc.version,
        contract: doc.contract,
        changed: previous === undefined ? [] : differences(previous, doc.contract),
        rules: previous === undefined ? [] : ruleChanges(previous.ruleSet, doc.contract.ruleSet).map(ruleChangeLabel),
      });
    }
    previous = doc.contract;
  });
  return {
    subject,
    config: wanted !== undefined && changedKeys.length > 0 ? { wanted, current, changed: changedKeys } : undefined,
    registered: registered.map((r) => r.version),
    toRegister,
    conflicts,
    notInFiles: registered.slice(local.length).map((r) => r.version),
  };
}

/** The parts in which two contracts differ, compared as the registry compares them (schema text canonically). */
export function differences(a: Contract, b: Contract): ContractPart[] {
  const out: ContractPart[] = [];
  if ((a.schemaType ?? "AVRO") !== (b.schemaType ?? "AVRO") || canonicalSchema(a) !== canonicalSchema(b)) out.push("schema");
  if (canonical(a.references) !== canonical(b.references)) out.push("references");
  if (canonical(authorsMetadata(a.metadata)) !== canonical(authorsMetadata(b.metadata))) out.push("metadata");
  if (canonical(a.ruleSet) !== canonical(b.ruleSet)) out.push("ruleSet");
  return out;
}

/**
 * Metadata as its author wrote it: without the `confluent:version` property
 * that registries add to what they store; undefined when nothing is left.
 */
export function authorsMetadata(metadata: Metadata | undefined): Metadata | undefined {
  if (metadata === undefined) return undefined;
  const { "confluent:version": _added, ...properties } = metadata.properties ?? {};
  const out: Metadata = { ...metadata };
  if (Object.keys(properties).length > 0) out.properties = properties;
  else delete out.properties;
  return Object.keys(out).length > 0 ? out : undefined;
}
