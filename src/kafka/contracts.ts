/**
 * What the producer and consumer wrappers share: building contract stores from
 * a registry, asking once whether a key subject exists, and telling poison
 * pills from other failures.
 */
import { createEngine, type EngineOptions } from "../engine/index.js";
import { KontractError, isKontractError, type ErrorCode } from "../errors.js";
import type { SchemaRegistry } from "../registry/types.js";
import { createContractStore, type ContractStore, type SubjectNameStrategy } from "../serde/index.js";
import type { MaybePromise } from "../util/maybe.js";

/**
 * Options both wrappers take: where contracts come from, either a registry
 * (with the engine options and TTL to build stores from it) or a contract
 * store of your own, which a producer and a consumer can share.
 */
export interface ContractsOptions {
  /** Where contracts come from: createRestRegistry({ url }) for a Confluent-compatible registry. Not with `store`. */
  registry?: SchemaRegistry;
  /** Rule engine options (custom executors and actions, overrides, sensitive tags, limits). Not with `store`. */
  engine?: EngineOptions;
  /** How long "latest" answers are reused, ms. Default: forever, as Java's latest.cache.ttl.sec = -1. Not with `store`. */
  latestCacheTtlMs?: number;
  /**
   * A contract store (createContractStore) to resolve and compile contracts
   * with, instead of building one: give the same store to a producer and a
   * consumer and each contract is fetched and compiled once, with one cache
   * of latest versions. It brings its own registry, engine and TTL.
   */
  store?: ContractStore;
}

/** How one side (key or value) finds its subject. */
export interface SubjectOptions {
  /** "topic" (default): `<topic>-value` / `<topic>-key`; "record": the record name; "topic-record": `<topic>-<record>`. */
  subjectNameStrategy?: SubjectNameStrategy;
  /** The record's full name, for the record and topic-record strategies. */
  recordName?: string;
  /** Protobuf: the message of the schema file to write (default: the file's first message). With `store`, set it on the store. */
  messageName?: string;
}

export interface Contracts {
  readonly registry: SchemaRegistry;
  /** Tags whose values are redacted in DLQ records. */
  readonly sensitiveTags: ReadonlySet<string>;
  store(side: SubjectOptions): ContractStore;
}

/**
 * The stores of one wrapper. Sides share one store unless they write
 * different Protobuf messages (a store compiles for one message name).
 */
export function createContracts(options: ContractsOptions): Contracts {
  const given = options.store;
  if (given !== undefined) {
    const extra = (["registry", "engine", "latestCacheTtlMs"] as const).filter((k) => options[k] !== undefined);
    if (extra.length > 0) throw new KontractError("usage", `pass either store or ${extra.join(", ")}: a store brings its own registry, engine and latest-version TTL`);
    return {
      registry: given.registry,
      sensitiveTags: given.engine.sensitiveTags,
      store: (side) => {
        if (side.messageName !== undefined) throw new KontractError("usage", `messageName ${side.messageName}: with a shared store, set messageName on the store (createContractStore({ messageName }))`);
        return given;
      },
    };
  }
  const registry = options.registry;
  if (registry === undefined) throw new KontractError("usage", "no contracts: pass registry (e.g. createRestRegistry({ url })) or store (createContractStore)");
  const engine = createEngine(options.engine);
  const stores = new Map<string | undefined, ContractStore>();
  return {
    registry,
    sensitiveTags: engine.sensitiveTags,
    store: (side) => {
      let store = stores.get(side.messageName);
      if (store === undefined) {
        store = createContractStore({
          registry,
          engine,
          ...(options.latestCacheTtlMs === undefined ? {} : { latestCacheTtlMs: options.latestCacheTtlMs }),
          ...(side.messageName === undefined ? {} : { messageName: side.messageName }),
        });
        stores.set(side.messageName, store);
      }
      return store;
    },
  };
}

/**
 * `key: "auto"`: whether the key subject exists, asked once per subject and
 * remembered. "Subject not found" means no key contract; other registry errors
 * propagate and are not remembered, so the next message asks again.
 */
export function subjectExists(registry: SchemaRegistry): (subject: string) => MaybePromise<boolean> {
  const known = new Map<string, boolean | Promise<boolean>>();
  return (subject) => {
    const k = known.get(subject);
    if (k !== undefined) return k;
    const p = registry.versions(subject).then(
      (versions) => {
        known.set(subject, versions.length > 0);
        return versions.length > 0;
      },
      (e: unknown) => {
        if (isKontractError(e) && e.code === "unknown-schema") {
          known.set(subject, false);
          return false;
        }
        known.delete(subject);
        throw e;
      },
    );
    known.set(subject, p);
    return p;
  };
}

/**
 * The `key` option of both wrappers, per topic: whether its keys go through a
 * key contract. "auto" asks `subjectExists` once per topic, then answers from
 * memory, synchronously.
 */
export function keyContractOf(mode: "auto" | boolean, registry: SchemaRegistry, subjectOf: (topic: string) => string): (topic: string) => MaybePromise<boolean> {
  if (mode !== "auto") return () => mode;
  const exists = subjectExists(registry);
  const decided = new Map<string, boolean>();
  return (topic) => {
    const known = decided.get(topic);
    if (known !== undefined) return known;
    const r = exists(subjectOf(topic));
    if (typeof r === "boolean") decided.set(topic, r);
    return r;
  };
}

const POISON_CODES: ReadonlySet<ErrorCode> = new Set(["wire-format", "unknown-schema", "message-invalid"]);

/**
 * Bytes that will never be readable as they are: not the Confluent wire
 * format, an unknown schema id, or a payload that does not decode. A retriable
 * error (registry down) is never a poison pill.
 */
export function isPoisonPill(e: unknown): e is KontractError {
  return isKontractError(e) && !e.retriable && POISON_CODES.has(e.code);
}

/** kafkajs wants Buffers; serializer output already is one, decoded payloads may not be. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
