/**
 * Resolving contracts from a registry and compiling them once. Every resolved
 * contract is kept by subject and id/version, so after the first message of a
 * schema the hot path is two Map lookups and no await.
 */
import { schemaTypeOf, type Contract, type RegisteredContract, type SchemaType } from "../contract/model.js";
import { ContractError } from "../errors.js";
import { createEngine, type ContractPlan, type Engine } from "../engine/index.js";
import { FORMATS } from "../format/index.js";
import type { CompiledSchema, FormatAdapter } from "../format/types.js";
import type { SchemaRegistry } from "../registry/types.js";
import type { MaybePromise } from "../util/maybe.js";


export interface ResolvedContract {
  readonly subject: string;
  /** Absent only for a schema fetched by GUID from a registry that did not report its id. */
  readonly id: number | undefined;
  readonly guid: string | undefined;
  /** Known when resolved by version, latest or lookup; absent when fetched by id only. */
  readonly version: number | undefined;
  readonly contract: Contract;
  readonly plan: ContractPlan;
}

export interface ContractStoreOptions {
  registry: SchemaRegistry;
  /** Runs the rules. Default: `createEngine()` (the built-in executors and actions). */
  engine?: Engine;
  /** The schema formats. Default: Avro, JSON Schema and Protobuf (`FORMATS`). */
  formats?: Readonly<Partial<Record<SchemaType, FormatAdapter>>>;
  /**
   * How long "latest" and "latest with metadata" stay cached, in ms. Java's
   * latest.cache.ttl.sec defaults to -1 (forever); so does kontract.
   */
  latestCacheTtlMs?: number;
  /** Protobuf: the message to use when serializing; the file's first message otherwise. */
  messageName?: string;
}

export interface ContractStore {
  /** Where the contracts come from. */
  readonly registry: SchemaRegistry;
  /** What compiles and runs their rules. */
  readonly engine: Engine;
  byId(subject: string, id: number): MaybePromise<ResolvedContract>;
  byGuid(subject: string, guid: string): MaybePromise<ResolvedContract>;
  byVersion(subject: string, version: number): MaybePromise<ResolvedContract>;
  latest(subject: string): MaybePromise<ResolvedContract>;
  latestWithMetadata(subject: string, properties: Readonly<Record<string, string>>): MaybePromise<ResolvedContract>;
  /** Registers (or finds) the contract under the subject. */
  register(subject: string, contract: Contract): Promise<ResolvedContract>;
  /** The registered version of this schema under the subject (fails when not registered). */
  lookup(subject: string, contract: Contract): Promise<ResolvedContract>;
  /** The version under which a schema fetched by id is registered in the subject. */
  versionOf(resolved: ResolvedContract): Promise<number>;
  /** Every version from `from` to `to` inclusive, for migrations. */
  range(subject: string, from: number, to: number): Promise<ResolvedContract[]>;
}

interface Timed {
  readonly at: number;
  readonly value: ResolvedContract;
}

export function createContractStore(options: ContractStoreOptions): ContractStore {
  const { registry } = options;
  const engine = options.engine ?? createEngine();
  const formats = options.formats ?? FORMATS;
  const ttl = options.latestCacheTtlMs ?? Infinity;
  const byId = new Map<string, Map<number, ResolvedContract>>();
  const byGuid = new Map<string, ResolvedContract>();
  const byVersion = new Map<string, Map<number, ResolvedContract>>();
  const latest = new Map<string, Timed>();
  const latestMeta = new Map<string, Map<string, Timed>>();
  const inflight = new Map<string, Promise<ResolvedContract>>();

  const sub = <K, V>(m: Map<string, Map<K, V>>, s: string): Map<K, V> => {
    let inner = m.get(s);
    if (!inner) m.set(s, (inner = new Map()));
    return inner;
  };

  /** Coalesces concurrent identical resolutions into one. */
  const once = (key: string, make: () => Promise<ResolvedContract>): Promise<ResolvedContract> => {
    let p = inflight.get(key);
    if (!p) {
      p = make().finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  };

  async function compileSchema(contract: Contract): Promise<CompiledSchema> {
    const type = schemaTypeOf(contract);
    const format = formats[type];
    if (!format) throw new ContractError("schema-invalid", `no format adapter for schema type ${type}`);
    const references = contract.references?.length ? await resolveReferences(contract) : undefined;
    const compile = () => format.compile(contract, { ...(references ? { references } : {}), ...(options.messageName ? { messageName: options.messageName } : {}) });
    // A schema with references is compiled per contract: what they resolve to may differ.
    return references ? compile() : sharedSchema(format, compiledSchemaKey(type, contract, options.messageName), compile);
  }

  async function resolveReferences(contract: Contract, into = new Map<string, Contract>(), depth = 0): Promise<Map<string, Contract>> {
    if (depth > 32) throw new ContractError("schema-invalid", "schema references nest more than 32 levels (a cycle?)");
    for (const ref of contract.references ?? []) {
      if (into.has(ref.name)) continue;
      const target = await registry.getVersion(ref.subject, ref.version);
      into.set(ref.name, target);
      await resolveReferences(target, into, depth + 1);
    }
    return into;
  }

  async function resolve(subject: string, reg: { id?: number | undefined; guid?: string | undefined; version?: number | undefined } & Contract): Promise<ResolvedContract> {
    const contract: Contract = stripIdentity(reg);
    const schema = await compileSchema(contract);
    const plan = engine.compile(subject, contract, schema);
    return { subject, id: reg.id, guid: reg.guid, version: reg.version, contract, plan };
  }

  const remember = (r: ResolvedContract): ResolvedContract => {
    if (r.id !== undefined) sub(byId, r.subject).set(r.id, r);
    if (r.guid) byGuid.set(r.subject + "\u0000" + r.guid, r);
    if (r.version !== undefined) sub(byVersion, r.subject).set(r.version, r);
    return r;
  };

  // With the default TTL (forever) the hot path needs no clock.
  const fresh = (t: Timed | undefined): ResolvedContract | undefined => (t && (ttl === Infinity || Date.now() - t.at < ttl) ? t.value : undefined);

  return {
    registry,
    engine,
    byId(subject, id) {
      return (
        byId.get(subject)?.get(id) ??
        once(`id\u0000${subject}\u0000${id}`, async () => remember(await resolve(subject, await registry.getById(id, subject))))
      );
    },
    byGuid(subject, guid) {
      return (
        byGuid.get(subject + "\u0000" + guid) ??
        once(`guid\u0000${subject}\u0000${guid}`, async () => remember(await resolve(subject, await registry.getByGuid(guid))))
      );
    },
    byVersion(subject, version) {
      return (
        byVersion.get(subject)?.get(version) ??
        once(`v\u0000${subject}\u0000${version}`, async () => remember(await resolve(subject, await registry.getVersion(subject, version))))
      );
    },
    latest(subject) {
      return (
        fresh(latest.get(subject)) ??
        once(`latest\u0000${subject}`, async () => {
          const reg = await registry.getVersion(subject, "latest");
          const r = sub(byVersion, subject).get(reg.version) ?? remember(await resolve(subject, reg));
          latest.set(subject, { at: Date.now(), value: r });
          return r;
        })
      );
    },
    latestWithMetadata(subject, properties) {
      const key = Object.keys(properties)
        .sort()
        .map((k) => `${k}=${properties[k]}`)
        .join("&");
      return (
        fresh(latestMeta.get(subject)?.get(key)) ??
        once(`meta\u0000${subject}\u0000${key}`, async () => {
          const reg = await registry.getLatestWithMetadata(subject, properties);
          const r = sub(byVersion, subject).get(reg.version) ?? remember(await resolve(subject, reg));
          sub(latestMeta, subject).set(key, { at: Date.now(), value: r });
          return r;
        })
      );
    },
    async register(subject, contract) {
      const reg = await registry.register(subject, contract);
      return sub(byVersion, subject).get(reg.version) ?? remember(await resolve(subject, reg));
    },
    async lookup(subject, contract) {
      const reg = await registry.lookup(subject, contract);
      return sub(byVersion, subject).get(reg.version) ?? remember(await resolve(subject, reg));
    },
    async versionOf(resolved) {
      if (resolved.version !== undefined) return resolved.version;
      const reg = await registry.lookup(resolved.subject, resolved.contract);
      return reg.version;
    },
    async range(subject, from, to) {
      const out: ResolvedContract[] = [];
      for (let v = from; v <= to; v++) out.push(await this.byVersion(subject, v));
      return out;
    },
  };
}

/**
 * Compiled schemas, shared by every store in the process (per format adapter):
 * versions that differ only in rules, and several producers and consumers of
 * one schema, compile it once and run the same, already optimized, code. A
 * compiled schema is immutable. Bounded: the least recently used goes first.
 */
const MAX_SHARED_SCHEMAS = 256;
const sharedSchemas = new WeakMap<FormatAdapter, Map<string, CompiledSchema>>();

function sharedSchema(format: FormatAdapter, key: string, compile: () => CompiledSchema): CompiledSchema {
  let byKey = sharedSchemas.get(format);
  if (!byKey) sharedSchemas.set(format, (byKey = new Map()));
  let compiled = byKey.get(key);
  if (compiled) {
    byKey.delete(key);
  } else {
    compiled = compile();
    if (byKey.size >= MAX_SHARED_SCHEMAS) byKey.delete(byKey.keys().next().value!);
  }
  byKey.set(key, compiled);
  return compiled;
}

/** Everything a compiled schema depends on: the schema text, the message to use, and the metadata tags (they tag fields). */
function compiledSchemaKey(type: SchemaType, contract: Contract, messageName: string | undefined): string {
  const tags = contract.metadata?.tags;
  const tagsKey = tags ? JSON.stringify(Object.keys(tags).sort().map((k) => [k, tags[k]])) : "";
  return `${type}\u0000${messageName ?? ""}\u0000${tagsKey}\u0000${contract.schema}`;
}

function stripIdentity(reg: Contract & { id?: number; guid?: string | undefined; version?: number | undefined; subject?: string }): Contract {
  const c: Contract = { schema: reg.schema };
  if (reg.schemaType !== undefined) c.schemaType = reg.schemaType;
  if (reg.references !== undefined) c.references = reg.references;
  if (reg.metadata !== undefined) c.metadata = reg.metadata;
  if (reg.ruleSet !== undefined) c.ruleSet = reg.ruleSet;
  return c;
}

export type { RegisteredContract };
