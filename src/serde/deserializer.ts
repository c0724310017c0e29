/**
 * Deserializing bytes from a topic: read the frame, fetch the writer's contract
 * (once per id), run the encoding rules, decode, migrate to the reader's
 * version, then run the READ rules.
 */
import { SerializationError, type Violation } from "../errors.js";
import { planMigration, runMigration, untouched, type ContractPlan, type FailedOutcome, type MessageContext, type Migration, type PassedOutcome, type Outcome } from "../engine/index.js";
import type { ProtobufCompiledSchema } from "../format/types.js";
import { readIndexes, readPrefix, readSchemaIdHeader, v0SchemaId, type Frame, type Headers } from "../wire/index.js";
import { then, type MaybePromise } from "../util/maybe.js";
import type { ContractStore, ResolvedContract } from "./contracts.js";
import { subjectName, type SubjectNameStrategy } from "./subject.js";

/** Which version a consumer reads as. Migrations need a reader other than the writer. */
export type ReaderSchema =
  | { use: "writer" }
  | { use: "latest" }
  | { use: "latest-with-metadata"; metadata: Readonly<Record<string, string>> };

export interface DeserializerOptions {
  store: ContractStore;
  isKey?: boolean;
  subjectNameStrategy?: SubjectNameStrategy;
  recordName?: string;
  readerSchema?: ReaderSchema;
}

export type DeserializeResult =
  | {
      readonly kind: "deserialized";
      readonly value: unknown;
      readonly outcome: PassedOutcome;
      /** `outcome.violations`, read without making the outcome of a value no rule ran on. */
      readonly violations: readonly Violation[];
      readonly writer: ResolvedContract;
      readonly reader: ResolvedContract;
    }
  | {
      /** A READ or migration rule failed with ERROR or DLQ. */
      readonly kind: "failed";
      readonly outcome: FailedOutcome;
      readonly writer: ResolvedContract;
      readonly reader: ResolvedContract;
    };

export interface Deserializer {
  readonly isKey: boolean;
  /**
   * Throws SerializationError (codes "wire-format", "unknown-schema", "message-invalid")
   * for bytes that cannot be read; rule failures come back as `kind: "failed"`.
   *
   * `skipRule`: the rule a record replayed from the DLQ skips, once its caller
   * has verified that replay tooling wrote it (see kafka/replay). Never read
   * from `headers`: any producer can write a `__rule.name` header.
   */
  deserialize(topic: string, bytes: Uint8Array, headers?: Headers, skipRule?: string): MaybePromise<DeserializeResult>;
  /** `deserialize` for one topic, compiled once (kept per topic): for callers that read many records of a topic. */
  forTopic(topic: string): TopicDeserializer;
  subject(topic: string): string;
}

/** A Deserializer's `deserialize` for one topic. */
export type TopicDeserializer = (bytes: Uint8Array, headers?: Headers, skipRule?: string) => MaybePromise<DeserializeResult>;

const NOT_PROTOBUF = { protobuf: false } as const;
const PROTOBUF = { protobuf: true } as const;

export function createDeserializer(options: DeserializerOptions): Deserializer {
  const { store } = options;
  const isKey = options.isKey ?? false;
  const strategy = options.subjectNameStrategy ?? "topic";
  const readerOpt = options.readerSchema ?? { use: "writer" };
  const readAsWritten = readerOpt.use === "writer";
  /** Read as written with no rule to run (the common consumer): the decoded value is the result. */
  const readsAsIs = (plan: ContractPlan): boolean => readAsWritten && plan.encodeRead.empty && plan.read.empty;
  const subjects = new Map<string, string>();
  const messagePlans = new WeakMap<ResolvedContract, Map<ProtobufCompiledSchema, ContractPlan>>();
  const migrations = new WeakMap<ResolvedContract, Map<ResolvedContract, Migration | Promise<Migration>>>();

  const subject = (topic: string): string => {
    let s = subjects.get(topic);
    if (s === undefined) subjects.set(topic, (s = subjectName(strategy, topic, isKey, options.recordName)));
    return s;
  };

  const readerFor = (s: string): MaybePromise<ResolvedContract> | undefined => {
    switch (readerOpt.use) {
      case "writer":
        return undefined;
      case "latest":
        return store.latest(s);
      case "latest-with-metadata":
        return store.latestWithMetadata(s, readerOpt.metadata);
    }
  };

  /** Protobuf: the plan for the message the indexes name (compiled once per message type). */
  const planForIndexes = (writer: ResolvedContract, indexes: readonly number[] | undefined): ContractPlan => {
    const base = writer.plan;
    if (!indexes || base.schema.type !== "PROTOBUF") return base;
    const schema = base.schema as ProtobufCompiledSchema;
    if (sameIndexes(schema.messageIndexes, indexes)) return base;
    // Keyed by the message's schema, not by the indexes' text: bytes may claim any number of indexes.
    const message = schema.forIndexes(indexes);
    let plans = messagePlans.get(writer);
    if (!plans) messagePlans.set(writer, (plans = new Map()));
    let plan = plans.get(message);
    if (!plan) {
      plan = engineCompile(base, message);
      plans.set(message, plan);
    }
    return plan;
  };

  const migrationFor = (writer: ResolvedContract, reader: ResolvedContract): MaybePromise<Migration> => {
    let byReader = migrations.get(writer);
    if (!byReader) migrations.set(writer, (byReader = new Map()));
    const known = byReader.get(reader);
    if (known) return known;
    const p = (async () => {
      const wv = await store.versionOf(writer);
      const rv = await store.versionOf(reader);
      const lo = Math.min(wv, rv);
      const hi = Math.max(wv, rv);
      const chain = await store.range(writer.subject, lo, hi);
      const versions = chain.map((c, i) => ({ version: lo + i, plan: c.plan }));
      const m = planMigration({ version: wv, plan: writer.plan }, { version: rv, plan: reader.plan }, versions);
      byReader.set(reader, m);
      return m;
    })();
    byReader.set(reader, p);
    p.catch(() => byReader.delete(reader));
    return p;
  };

  /**
   * After the writer's contract is known. The payload is `bytes` from `start`
   * on: no view per message. Every step returns synchronously when nothing is
   * asynchronous.
   */
  const withWriter = (writer: ResolvedContract, bytes: Uint8Array, start: number, fromHeader: boolean, headers: Headers | undefined, skipRule: string | undefined, topic: string, s: string): MaybePromise<DeserializeResult> => {
    let indexes: number[] | undefined;
    if (writer.plan.schema.type === "PROTOBUF") {
      // The prefix was read before the schema type was known: read the message indexes now.
      if (fromHeader) {
        indexes = readSchemaIdHeader(headers, isKey, PROTOBUF)!.indexes;
      } else {
        const read = readIndexes(bytes, start);
        indexes = read.indexes;
        start = read.end;
      }
    }
    const writerPlan = planForIndexes(writer, indexes);
    // Read as written and no rule to run (the common consumer): no rule context to build.
    if (readsAsIs(writerPlan)) return asIs(writer, writer, writerPlan.schema.decode(bytes, start));
    const ctx: MessageContext = { topic, isKey, skipRule };
    if (writerPlan.encodeRead.empty) return decoded(writer, writerPlan, bytes, start, s, ctx);
    return then(writerPlan.encodeRead.run(bytes.subarray(start), ctx), (o) => {
      if (o.kind === "failed") return { kind: "failed", outcome: o, writer, reader: writer } as const;
      if (!(o.value instanceof Uint8Array)) throw new SerializationError("wire-format", "an encoding rule did not return bytes");
      return decoded(writer, writerPlan, o.value, 0, s, ctx);
    });
  };

  /** After the encoding rules: decode, migrate when the reader differs, run the READ rules. */
  const decoded = (writer: ResolvedContract, writerPlan: ContractPlan, bytes: Uint8Array, start: number, s: string, ctx: MessageContext): MaybePromise<DeserializeResult> => {
    const readerP = readerFor(s);
    if (readerP === undefined || readerP === writer) return read(writer, writerPlan, writer, writerPlan.schema.decode(bytes, start), ctx);
    return then(readerP, (reader) => {
      if (reader.id === writer.id && reader.version === writer.version) return read(writer, writerPlan, reader, writerPlan.schema.decode(bytes, start), ctx);
      return then(migrationFor(writer, reader), (m) => {
        if (m.direction === "NONE") return read(writer, writerPlan, reader, writerPlan.schema.decode(bytes, start), ctx);
        // No migration rules on the way: the format's own schema resolution bridges the versions (Avro).
        const decodeFrom = reader.plan.schema.decodeFrom;
        if (m.phases.length === 0 && decodeFrom) return read(writer, reader.plan, reader, decodeFrom.call(reader.plan.schema, bytes.subarray(start), writerPlan.schema), ctx);
        return then(runMigration(m, writerPlan.schema.decode(bytes, start), ctx), (mo) =>
          mo.kind === "failed" ? ({ kind: "failed", outcome: mo, writer, reader } as const) : read(writer, reader.plan, reader, mo.value, ctx),
        );
      });
    });
  };

  /**
   * The deserializer of one topic, compiled once: its subject resolved, and the
   * writer's contract of the last record kept with whether it is read as is
   * (as written, no rule to run), so a run of records of one schema id costs
   * no lookup.
   */
  const forTopic = (topic: string): TopicDeserializer => {
    const s = subject(topic);
    let lastId = 0;
    let lastWriter: ResolvedContract | undefined;
    let lastAsIs = false;
    return (bytes, headers, skipRule) => {
      const fromHeader = headers === undefined ? undefined : readSchemaIdHeader(headers, isKey, NOT_PROTOBUF);
      const v0 = fromHeader ? undefined : v0SchemaId(bytes);
      if (v0 !== undefined) {
        // The usual prefix, read without allocating; the usual writer, the last one.
        if (lastWriter !== undefined && v0 === lastId) {
          return lastAsIs ? asIs(lastWriter, lastWriter, lastWriter.plan.schema.decode(bytes, 5)) : withWriter(lastWriter, bytes, 5, false, headers, skipRule, topic, s);
        }
        const writer = store.byId(s, v0);
        if (writer instanceof Promise) return writer.then((w) => withWriter(w, bytes, 5, false, headers, skipRule, topic, s));
        lastId = v0;
        lastWriter = writer;
        lastAsIs = writer.plan.schema.type !== "PROTOBUF" && readsAsIs(writer.plan);
        return withWriter(writer, bytes, 5, false, headers, skipRule, topic, s);
      }
      let frame: Frame;
      let start = 0;
      if (fromHeader) {
        frame = fromHeader;
      } else {
        const prefix = readPrefix(bytes, NOT_PROTOBUF);
        frame = prefix.frame;
        start = prefix.end;
      }
      const writer = frame.guid !== undefined ? store.byGuid(s, frame.guid) : store.byId(s, frame.id!);
      if (writer instanceof Promise) return writer.then((w) => withWriter(w, bytes, start, fromHeader !== undefined, headers, skipRule, topic, s));
      return withWriter(writer, bytes, start, fromHeader !== undefined, headers, skipRule, topic, s);
    };
  };

  const topics = new Map<string, TopicDeserializer>();
  // A consumer reads runs of one topic: the last one is kept apart from the Map.
  let lastTopic: string | undefined;
  let lastTopicReader: TopicDeserializer | undefined;
  const topicDeserializer = (topic: string): TopicDeserializer => {
    if (topic === lastTopic) return lastTopicReader!;
    let r = topics.get(topic);
    if (r === undefined) topics.set(topic, (r = forTopic(topic)));
    lastTopic = topic;
    return (lastTopicReader = r);
  };

  return {
    isKey,
    subject,
    forTopic: topicDeserializer,
    deserialize: (topic, bytes, headers, skipRule) => topicDeserializer(topic)(bytes, headers, skipRule),
  };
}

function read(writer: ResolvedContract, plan: ContractPlan, reader: ResolvedContract, value: unknown, ctx: MessageContext): MaybePromise<DeserializeResult> {
  if (plan.read.empty) return asIs(writer, reader, value);
  const o = plan.read.run(value, ctx);
  return o instanceof Promise ? o.then((r) => readOutcome(writer, reader, r)) : readOutcome(writer, reader, o);
}

const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);

/**
 * The value as decoded: no READ rule ran. Its outcome is made when asked for:
 * a consumer reading as written with no rule makes one object per record
 * here, not two.
 */
class AsIs {
  readonly kind = "deserialized";
  readonly violations = NO_VIOLATIONS;
  #outcome: PassedOutcome | undefined;
  constructor(
    readonly value: unknown,
    readonly writer: ResolvedContract,
    readonly reader: ResolvedContract,
  ) {}
  get outcome(): PassedOutcome {
    return (this.#outcome ??= untouched(this.value));
  }
}

function asIs(writer: ResolvedContract, reader: ResolvedContract, value: unknown): DeserializeResult {
  return new AsIs(value, writer, reader);
}

function readOutcome(writer: ResolvedContract, reader: ResolvedContract, o: Outcome): DeserializeResult {
  return o.kind === "failed" ? { kind: "failed", outcome: o, writer, reader } : { kind: "deserialized", value: o.value, outcome: o, violations: o.violations, writer, reader };
}


function engineCompile(base: ContractPlan, schema: ProtobufCompiledSchema): ContractPlan {
  return base.recompile(schema);
}

function sameIndexes(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
