/**
 * Java serde configuration (the `props` of a Confluent KafkaAvroSerializer,
 * KafkaJsonSchemaDeserializer, ...) as kontract options, so one config map can
 * be shared between Java services and Node ones. Pure: it maps keys to
 * options and says which keys it cannot honour, and why.
 */
import type { Contract, EnableAt } from "../contract/model.js";
import { ENABLE_AT } from "../contract/model.js";
import type { EngineOptions, RuleOverride } from "../engine/index.js";
import { KontractError } from "../errors.js";
import type { RestRegistryOptions } from "../registry/rest/index.js";
import type { ReaderSchema } from "./deserializer.js";
import type { WriterSchema } from "./serializer.js";
import type { SubjectNameStrategy } from "./subject.js";

export type JavaConfigValue = string | number | boolean;

export interface JavaConfigOptions {
  /**
   * The writer's schema, for the choices Java makes from the record itself:
   * `auto.register.schemas` (true by default in Java) and a lookup of the
   * registered version when neither `use.schema.id` nor a latest version is
   * configured.
   */
  readonly contract?: Contract;
}

export interface JavaConfig {
  /** From `schema.registry.url`, the auth keys, timeouts, retries and `request.header.*`; undefined without a URL. */
  readonly registry: RestRegistryOptions | undefined;
  /** For createContractStore: `latest.cache.ttl.sec`. */
  readonly store: { readonly latestCacheTtlMs?: number };
  /** For createEngine: `rule.executors.<rule | _TYPE_ | _default_>.{disabled,onSuccess,onFailure,param.*}` and `execution.environment`. */
  readonly engine: Pick<EngineOptions, "overrides" | "executionEnvironment">;
  /** For createSerializer: the writer's schema and the subject name strategies. */
  readonly serializer: { readonly writerSchema: WriterSchema | undefined; readonly keySubjectNameStrategy?: SubjectNameStrategy; readonly valueSubjectNameStrategy?: SubjectNameStrategy };
  /** For createDeserializer. */
  readonly deserializer: { readonly readerSchema: ReaderSchema; readonly keySubjectNameStrategy?: SubjectNameStrategy; readonly valueSubjectNameStrategy?: SubjectNameStrategy };
  /** Keys that were given but have no effect here, each with the reason. Secrets are never quoted. */
  readonly ignored: readonly { readonly key: string; readonly reason: string }[];
}

/** Keys of the Java serde that kontract does not need: the Kafka client and Java-only machinery. */
const NOT_APPLICABLE: ReadonlyMap<string, string> = new Map([
  ["key.serializer", "the Kafka client's setting"],
  ["value.serializer", "the Kafka client's setting"],
  ["key.deserializer", "the Kafka client's setting"],
  ["value.deserializer", "the Kafka client's setting"],
  ["rule.service.loader.enable", "kontract has no Java service loader: executors and actions are passed to createEngine"],
  ["specific.avro.reader", "kontract reads Avro as plain objects"],
  ["avro.reflection.allow.null", "kontract reads Avro as plain objects"],
  ["json.fail.invalid.schema", "kontract always validates JSON Schema messages"],
  ["latest.cache.size", "the contract store is bounded by the subjects it serves"],
  ["id.compatibility.strict", "kontract does not check a fixed id against the record's schema"],
  ["latest.compatibility.strict", "kontract writes with the latest version's own schema: there is no record schema to check it against"],
  ["normalize.schemas", "schemas are registered as written"],
  ["rule.metrics.enable", "use the engine observer (EngineOptions.observer)"],
  ["encrypt.nonshared.kek.passthrough", "pass encryptionExecutors({ passthrough: true }) to createEngine (docs/encryption.md)"],
]);

const STRATEGIES: Readonly<Record<string, SubjectNameStrategy>> = {
  TopicNameStrategy: "topic",
  RecordNameStrategy: "record",
  TopicRecordNameStrategy: "topic-record",
};

/**
 * Maps a Java serde config to kontract options. Throws a KontractError
 * (code "usage") naming the key for a value Java would refuse too; keys it
 * cannot honour are listed in `ignored`, never dropped silently.
 */
export function fromJavaConfig(config: Readonly<Record<string, JavaConfigValue>>, options: JavaConfigOptions = {}): JavaConfig {
  const get = (key: string): string | undefined => (Object.hasOwn(config, key) && config[key] !== undefined ? String(config[key]).trim() : undefined);
  const ignored: { key: string; reason: string }[] = [];
  const seen = new Set<string>();
  const read = (key: string): string | undefined => {
    seen.add(key);
    return get(key);
  };

  const registry = registryOptions(read, config, seen);
  const ttl = integer(read, "latest.cache.ttl.sec");
  const store = ttl === undefined || ttl < 0 ? {} : { latestCacheTtlMs: ttl * 1000 };

  const environment = read("execution.environment");
  if (environment !== undefined && !(ENABLE_AT as readonly string[]).includes(environment)) throw usage("execution.environment", `must be one of ${ENABLE_AT.join(", ")}`);
  const engine = {
    overrides: ruleOverrides(config, seen, ignored),
    // Java's default is unset, which skips enableAt=CLIENT rules; a config without the key keeps kontract's default (CLIENT).
    ...(environment !== undefined ? { executionEnvironment: environment as EnableAt } : {}),
  };

  const metadata = pairs(read, "use.latest.with.metadata");
  const latest = boolean(read, "use.latest.version") ?? false;
  const id = integer(read, "use.schema.id");
  const autoRegister = boolean(read, "auto.register.schemas") ?? true;
  const strategies = {
    ...strategy(read, "key.subject.name.strategy", "keySubjectNameStrategy"),
    ...strategy(read, "value.subject.name.strategy", "valueSubjectNameStrategy"),
  };
  // The serializer's choice, in Java's order: a fixed id, auto-registration, latest with metadata, latest, a lookup.
  let writerSchema: WriterSchema | undefined;
  if (id !== undefined && id >= 0) writerSchema = { use: "id", id };
  else if (autoRegister) writerSchema = options.contract !== undefined ? { use: "auto-register", contract: options.contract } : undefined;
  else if (metadata !== undefined) writerSchema = { use: "latest-with-metadata", metadata };
  else if (latest) writerSchema = { use: "latest" };
  else writerSchema = options.contract !== undefined ? { use: "lookup", contract: options.contract } : undefined;
  const readerSchema: ReaderSchema = metadata !== undefined ? { use: "latest-with-metadata", metadata } : latest ? { use: "latest" } : { use: "writer" };

  for (const key of Object.keys(config).sort()) {
    if (seen.has(key)) continue;
    const reason = NOT_APPLICABLE.get(key) ?? (key.startsWith("schema.registry.ssl.") ? "TLS settings come from Node (NODE_EXTRA_CA_CERTS, or a fetch of your own in RestRegistryOptions)" : "not a setting kontract knows");
    ignored.push({ key, reason });
  }
  ignored.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { registry, store, engine, serializer: { writerSchema, ...strategies }, deserializer: { readerSchema, ...strategies }, ignored };
}

function registryOptions(read: (key: string) => string | undefined, config: Readonly<Record<string, JavaConfigValue>>, seen: Set<string>): RestRegistryOptions | undefined {
  const urls = read("schema.registry.url");
  const headers: Record<string, string> = {};
  for (const key of Object.keys(config)) {
    if (!key.startsWith("request.header.")) continue;
    seen.add(key);
    headers[key.slice("request.header.".length)] = String(config[key]);
  }
  const basicSource = read("basic.auth.credentials.source") ?? "URL";
  const legacyUserInfo = read("schema.registry.basic.auth.user.info");
  const userInfo = read("basic.auth.user.info") ?? legacyUserInfo;
  const bearerSource = read("bearer.auth.credentials.source");
  const token = read("bearer.auth.token");
  const connect = integer(read, "http.connect.timeout.ms");
  const readTimeout = integer(read, "http.read.timeout.ms");
  const retries = integer(read, "max.retries");
  const backoff = integer(read, "retries.wait.ms");
  const maxBackoff = integer(read, "retries.max.wait.ms");
  if (urls === undefined || urls === "") return undefined;
  let auth: RestRegistryOptions["auth"];
  if (bearerSource !== undefined) {
    if (bearerSource !== "STATIC_TOKEN") throw usage("bearer.auth.credentials.source", `${bearerSource} is not supported; use STATIC_TOKEN with bearer.auth.token`);
    if (token === undefined || token === "") throw usage("bearer.auth.token", "is required with bearer.auth.credentials.source=STATIC_TOKEN");
    auth = { bearerToken: token };
  } else if (basicSource === "USER_INFO") {
    const colon = userInfo?.indexOf(":") ?? -1;
    // The value is a secret: never quoted.
    if (userInfo === undefined || colon < 0) throw usage("basic.auth.user.info", "must be <user>:<password> with basic.auth.credentials.source=USER_INFO");
    auth = { username: userInfo.slice(0, colon), password: userInfo.slice(colon + 1) };
  } else if (basicSource !== "URL") {
    throw usage("basic.auth.credentials.source", `${basicSource} is not supported; use URL or USER_INFO`);
  }
  const timeoutMs = connect !== undefined || readTimeout !== undefined ? (connect ?? 0) + (readTimeout ?? 0) : undefined;
  return {
    url: urls.split(",").map((u) => u.trim()).filter((u) => u !== ""),
    ...(auth !== undefined ? { auth } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(backoff !== undefined ? { retryBackoffMs: backoff } : {}),
    ...(maxBackoff !== undefined ? { retryMaxBackoffMs: maxBackoff } : {}),
  };
}

const OVERRIDE_KEY = /^rule\.executors\.([^.]+)\.(disabled|onSuccess|onFailure|param\.(.+)|class)$/;

/** `rule.executors.<rule name | _TYPE_ | _default_>.…`, most specific first, as Java looks them up. */
function ruleOverrides(config: Readonly<Record<string, JavaConfigValue>>, seen: Set<string>, ignored: { key: string; reason: string }[]): RuleOverride[] {
  const byTarget = new Map<string, RuleOverride & { params?: Record<string, string> }>();
  for (const key of Object.keys(config).sort()) {
    if (key === "rule.executors" || key === "rule.actions" || key.startsWith("rule.actions.")) {
      seen.add(key);
      ignored.push({ key, reason: "Java classes cannot be loaded: pass executors and actions to createEngine({ executors, actions }); the DLQ topic is the producer's or consumer's dlq.topic option" });
      continue;
    }
    if (!key.startsWith("rule.executors.")) continue;
    seen.add(key);
    const m = OVERRIDE_KEY.exec(key);
    if (m === null || m[2] === "class") {
      ignored.push({ key, reason: m === null ? "not a rule.executors setting kontract knows" : "Java classes cannot be loaded: pass executors to createEngine({ executors })" });
      continue;
    }
    const target = m[1]!;
    let o = byTarget.get(target);
    if (o === undefined) {
      o = target === "_default_" ? {} : /^_.+_$/.test(target) ? { type: target.slice(1, -1) } : { rule: target };
      byTarget.set(target, o);
    }
    const value = String(config[key]).trim();
    if (m[2] === "disabled") {
      if (value !== "true" && value !== "false") throw usage(key, "must be true or false");
      o.disabled = value === "true";
    } else if (m[2] === "onSuccess" || m[2] === "onFailure") {
      o[m[2]] = value;
    } else {
      (o.params ??= {})[m[3]!] = value;
    }
  }
  const rank = (o: RuleOverride) => (o.rule !== undefined ? 0 : o.type !== undefined ? 1 : 2);
  return [...byTarget.values()].sort((a, b) => rank(a) - rank(b));
}

function strategy(read: (key: string) => string | undefined, key: string, option: string): Record<string, SubjectNameStrategy> {
  const value = read(key);
  if (value === undefined) return {};
  const simple = value.slice(value.lastIndexOf(".") + 1);
  const s = STRATEGIES[simple];
  if (s === undefined) throw usage(key, `${value} is not one of ${Object.keys(STRATEGIES).join(", ")}; pass a function as ${option} for your own`);
  return { [option]: s };
}

function boolean(read: (key: string) => string | undefined, key: string): boolean | undefined {
  const v = read(key)?.toLowerCase();
  if (v === undefined) return undefined;
  if (v !== "true" && v !== "false") throw usage(key, "must be true or false");
  return v === "true";
}

function integer(read: (key: string) => string | undefined, key: string): number | undefined {
  const v = read(key);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw usage(key, "must be an integer");
  return Number(v);
}

/** `k=v,k2=v2` (Java's map type). */
function pairs(read: (key: string) => string | undefined, key: string): Record<string, string> | undefined {
  const v = read(key);
  if (v === undefined || v === "") return undefined;
  const out: Record<string, string> = {};
  for (const part of v.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw usage(key, "must be key=value pairs separated by commas");
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function usage(key: string, why: string): KontractError {
  return new KontractError("usage", `Java config ${key}: ${why}`);
}
