/**
 * A kafkajs consumer whose `run` decodes every record through the data
 * contracts before the handler sees it.
 *
 * Offsets: a dead-lettered record counts as processed only once its DLQ write
 * has been acknowledged. A handler error, an ERROR rule, a failed DLQ write or
 * a registry that cannot be reached all throw, so kafkajs does not commit the
 * record's offset and reads it again (after retrying, or after a restart).
 */
import { KontractError, type Violation } from "../errors.js";
import { createDeserializer, type DeserializeResult, type Deserializer, type ReaderSchema } from "../serde/index.js";
import type { MaybePromise } from "../util/maybe.js";
import type { CommitControl, ConsumedMessage as KafkaMessage, ConsumerPort, EachBatchPayload, EachMessagePayload, OutgoingMessage, ProducerPort, RunConfig, RunnableConsumer } from "./client.js";
import { consumerPort, type ConsumerControls, type KafkaConsumer } from "./clients/index.js";
import type { PlatformaticRunConfig } from "./clients/platformatic.js";
import { createContracts, isPoisonPill, keyContractOf, type Contracts, type ContractsOptions, type SubjectOptions } from "./contracts.js";
import { createDeadLetterSender, deadLetterRecord, portOf, resolveDlqTopic, type BatchSender, type DeadLetterCause } from "./dlq.js";
import { ConsumeError, rememberThrown } from "./errors.js";
import { createParking, type ParkOptions, type ParkTransaction, type Processed } from "./parking/runner.js";
import { overlay } from "./overlay.js";
import type { Placement } from "./placement.js";
import type { DlqOptions } from "./producer.js";
import { replayVerifier, type ReplayOptions } from "./replay.js";
import type { ConsumedDeadLetter, ParkedRecord, RetriedRecord } from "./reports.js";
import { retryPlan, type RetryOptions, type RetryPlan } from "./retry.js";
import { retryingEachBatch, type RetryOutlet, type RetryRunnerDeps, type StoppedRecord } from "./retry-runner.js";
import { closingWith, statefulStage, type StatefulOptions, type StatefulStage, type Taken } from "./stateful.js";
import { checkStatefulRetries, statefulOnMainTopics } from "./stateful-retry.js";
import { EXACTLY_ONCE_COMMIT_INTERVAL_MS, transactions, type ExactlyOnceOptions, type OpenTransaction, type Transactions } from "./exactly-once.js";
import { committer, type Committer } from "./commits.js";
import type { Outcome } from "../engine/index.js";

/** How one side (key or value) is read. */
export interface ConsumerSideOptions extends SubjectOptions {
  /**
   * The version to read as. Default `{ use: "writer" }`: the version the record
   * was written with. "latest" / "latest-with-metadata" run the migration rules
   * (UPGRADE or DOWNGRADE) from the writer's version to that one.
   */
  readerSchema?: ReaderSchema;
}

export interface ContractConsumerOptions extends ContractsOptions {
  value?: ConsumerSideOptions;
  /** As for the producer: "auto" (default) decodes keys when the key subject exists; false hands keys over as bytes. */
  key?: "auto" | boolean;
  keySerde?: ConsumerSideOptions;
  /** DLQ topic and producer. Without a producer, a record to dead-letter stops the consumer (nothing is skipped). */
  dlq?: DlqOptions;
  /**
   * Records whose bytes cannot be read (not the wire format, unknown schema id,
   * undecodable payload): "dlq" (default) dead-letters them, "fail" throws a
   * non-retriable ConsumeError, which stops the consumer.
   */
  poisonPill?: "dlq" | "fail";
  /**
   * A rule with onFailure ERROR throws a ConsumeError. "stop" (default) makes
   * it non-retriable: kafkajs stops the consumer without committing the record.
   * "retry" makes it retriable: kafkajs retries it (consumer `retry` options),
   * then restarts the consumer unless `retry.restartOnFailure` says no.
   */
  onError?: "stop" | "retry";
  /** Called after each record's DLQ write succeeded. A throw is handled like a handler error. */
  onDeadLetter?: (record: ConsumedDeadLetter) => void;
  /**
   * Replay from the DLQ. Off by default: a `__rule.name` header then skips
   * nothing, since any producer can write one. With keys, a record skips the
   * rule in its `__rule.name` only when it carries a valid MAC made by
   * `signReplay` with one of them (see docs/kafka.md, "Replay and proof of origin").
   */
  replay?: ReplayOptions;
  /**
   * Order-preserving parking per key (eachMessage only): once a record of a
   * key is dead-lettered, later records of that key are parked in the park
   * topic until it is resolved; other keys flow on. Needs `dlq.producer`.
   * See docs/kafka.md, "Order-preserving parking".
   */
  park?: ParkOptions;
  /** Called after each record's park write is acknowledged. A throw is handled like a handler error. */
  onPark?: (record: ParkedRecord) => void;
  /**
   * Retry topics with backoff (docs/kafka.md, "Retry topics"): a failing record
   * goes to `<topic>-retry-1` ... and after its last attempt to the DLQ, instead
   * of holding its partition. Subscribe to the main topic and `retryTopics(topic)`
   * with the same consumer. eachMessage only (run through the client's eachBatch).
   */
  retry?: ConsumerRetryOptions;
  /** Called after each record's retry-topic write succeeded. A throw fails the record (it is read again). */
  onRetry?: (record: RetriedRecord) => void;
  /**
   * Runs the contracts' stateful rules (docs/stateful.md), their state kept in changelog topics.
   * Without it, stateful rules are not run (they are `disabled` for every other reader).
   */
  stateful?: StatefulOptions;
  /**
   * Exactly-once (docs/stateful.md, "Exactly-once"): a partition's changelog entries, dead letters,
   * completions and offset commit go in one Kafka transaction that stays open across its records
   * until the next commit (every `stateful.commitIntervalMs`, 100 ms by default), written by a
   * transactional producer per partition; the handler runs inside it. A failure drops everything
   * since the last commit and delivers it again. Retry records and park writes go in it too; the
   * Confluent consumer made with `kafkaJS: { autoCommit: false }`. Read the topics with read_committed
   * consumers (the clients' default).
   */
  exactlyOnce?: ExactlyOnceOptions;
}

export interface ConsumerRetryOptions extends RetryOptions {
  /** Writes the retry records (acks=all). Default: `dlq.producer`. */
  producer?: BatchSender | ProducerPort;
}

/** A record as the handler sees it. `M`: the client's consumed record type. */
export interface DecodedMessage<V = unknown, K = unknown, M = KafkaMessage> {
  /** The decoded key, or the key bytes as consumed when the topic has no key contract. */
  readonly key: K | Buffer | null;
  /** The decoded (migrated, transformed) value; null for a tombstone. */
  readonly value: V | null;
  /** Rule failures that let the record through (onFailure NONE or a custom action), key and value. */
  readonly violations: readonly Violation[];
  /** The record as consumed. */
  readonly message: M;
}

/** The client's payload (`P`, its eachMessage argument) plus the decoded key and value. */
export type ContractEachMessagePayload<V = unknown, K = unknown, P = EachMessagePayload> = P & {
  readonly key: K | Buffer | null;
  readonly value: V | null;
  readonly violations: readonly Violation[];
};

/** The client's payload (`P`, its eachBatch argument) plus the decoded records. */
export type ContractEachBatchPayload<V = unknown, K = unknown, P = EachBatchPayload> = P & {
  /**
   * The batch's records that passed, decoded, in offset order. `batch.messages`
   * still holds every record as consumed. Resolving a record's offset also
   * resolves the dead-lettered records right after it.
   */
  readonly messages: readonly DecodedMessage<V, K, BatchRecordOf<P>>[];
  /** The batch's records that went to the DLQ (already written and acknowledged). */
  readonly deadLettered: readonly ConsumedDeadLetter[];
};

type BatchRecordOf<P> = P extends { batch: { messages: readonly (infer M)[] } } ? M : KafkaMessage;

/** The client's `run` options, from its consumer type (@platformatic/kafka: its `consume` options); the port's when it cannot be told. */
type ClientRunConfig<C> = C extends { run(config?: infer R): Promise<void> }
  ? [R] extends [never]
    ? RunConfig
    : NonNullable<R>
  : C extends { consume(options: infer O): Promise<unknown> }
    ? PlatformaticRunConfig<O>
    : RunConfig;
type HandlerPayload<C, H extends "eachMessage" | "eachBatch", D> = ClientRunConfig<C> extends { [k in H]?: infer F } ? (F extends (payload: infer P) => unknown ? P : D) : D;

/** `run`'s argument: the client's own options (partitionsConsumedConcurrently, autoCommit, ...) pass through. */
export type ContractRunConfig<V = unknown, K = unknown, C = KafkaConsumer> = Omit<ClientRunConfig<C>, "eachMessage" | "eachBatch"> & {
  eachMessage?: (payload: ContractEachMessagePayload<V, K, HandlerPayload<C, "eachMessage", EachMessagePayload>>) => Promise<void>;
  eachBatch?: (payload: ContractEachBatchPayload<V, K, HandlerPayload<C, "eachBatch", EachBatchPayload>>) => Promise<void>;
  eachBatchAutoResolve?: boolean;
};

/** The wrapped consumer: the client's consumer (all its methods), with a contract-aware run. */
export type ContractConsumer<V = unknown, K = unknown, C extends KafkaConsumer = KafkaConsumer> = Omit<C, "run" | "consumer" | keyof ConsumerControls<C>> &
  ConsumerControls<C> & {
    run(config: ContractRunConfig<V, K, C>): Promise<void>;
    /** The consumer underneath. */
    readonly consumer: C;
  };

/** A record that stops in the wrapper: it goes to the DLQ instead of the handler. */
class DeadRecord {
  constructor(
    readonly dlqTopic: string,
    readonly record: OutgoingMessage,
    readonly report: ConsumedDeadLetter,
  ) {}
}

/**
 * A passed record as the handler gets it. A class rather than an object
 * literal: V8 pretenures literal sites whose objects outlive a scavenge (all
 * of a batch's do), and a pretenured record would keep its young decoded value
 * alive until the next full GC, promoting every decoded value of every batch.
 */
class DecodedRecord<V, K> implements DecodedMessage<V, K> {
  constructor(
    readonly key: K | Buffer | null,
    readonly value: V | null,
    readonly violations: readonly Violation[],
    readonly message: KafkaMessage,
  ) {}
}

/** One record after decoding: what the handler gets, or a dead letter. */
type Decoded = DecodedMessage | DeadRecord;

/** One side after reading: the deserializer's answer, or bytes that will never be readable. */
type SideResult = DeserializeResult | { readonly kind: "poison"; readonly error: KontractError };

const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);
const NO_DEAD_LETTERS: readonly ConsumedDeadLetter[] = Object.freeze([]);

/** Retriable errors (registry down) propagate: kafkajs retries, nothing is dead-lettered. */
function poisonOrThrow(e: unknown): SideResult {
  if (isPoisonPill(e)) return { kind: "poison", error: e };
  throw e;
}

/** Reads one side. Synchronous once the writer's contract is cached and the rules are synchronous. */
function readSide(reader: Deserializer, topic: string, bytes: Buffer, message: KafkaMessage, skipRule: string | undefined): MaybePromise<SideResult> {
  let r: MaybePromise<DeserializeResult>;
  try {
    r = reader.deserialize(topic, bytes, message.headers, skipRule);
  } catch (e) {
    return poisonOrThrow(e);
  }
  return r instanceof Promise ? r.catch(poisonOrThrow) : r;
}

function mergeViolations(a: readonly Violation[], b: readonly Violation[]): readonly Violation[] {
  return a.length === 0 ? b : b.length === 0 ? a : [...a, ...b];
}

/** Where the decoding of one batch stands. */
interface BatchState<V, K> {
  /** The record being decoded; when decoding stops on an error, the failing one. */
  n: number;
  readonly good: DecodedMessage<V, K>[];
  dead: DeadRecord[] | undefined;
  /** Batch positions of the dead letters. */
  deadAt: Set<number> | undefined;
}

/** A batch decoded up to its end, or up to the record that stops it (`failed`, with what it threw). */
interface DecodedBatch<V, K> {
  readonly state: BatchState<V, K>;
  readonly failed: boolean;
  readonly failure: unknown;
}

/** The handler's payload for a batch: field by field, as for eachMessage (a spread of the client's payload costs microseconds). */
function batchPayload<V, K>(
  payload: EachBatchPayload,
  resolveOffset: EachBatchPayload["resolveOffset"],
  commitOffsetsIfNecessary: EachBatchPayload["commitOffsetsIfNecessary"],
  good: DecodedMessage<V, K>[],
  dead: readonly DeadRecord[] | undefined,
): ContractEachBatchPayload<V, K> {
  const { batch, heartbeat, uncommittedOffsets, isRunning, isStale, pause } = payload;
  return { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale, pause, messages: good, deadLettered: dead ? dead.map((d) => d.report) : NO_DEAD_LETTERS };
}

function collect<V, K>(state: BatchState<V, K>, d: Decoded): void {
  if (d instanceof DeadRecord) {
    (state.dead ??= []).push(d);
    (state.deadAt ??= new Set()).add(state.n);
  } else {
    state.good.push(d as DecodedMessage<V, K>);
  }
}

/**
 * Wraps a consumer of kafkajs or of the KafkaJS API of
 * @confluentinc/kafka-javascript (told apart by shape; see clients/).
 */
export function contractConsumer<V = unknown, K = unknown, C extends KafkaConsumer = KafkaConsumer>(consumer: C, options: ContractConsumerOptions): ContractConsumer<V, K, C> {
  const port = consumerPort(consumer);
  const contracts = createContracts(options);
  const valueReader = sideDeserializer(contracts, false, options.value ?? {});
  const keyReader = sideDeserializer(contracts, true, options.keySerde ?? {});
  const keyContract = keyContractOf(options.key ?? "auto", contracts.registry, keyReader.subject);
  const poisonPolicy = options.poisonPill ?? "dlq";
  const retryErrors = (options.onError ?? "stop") === "retry";
  const verifyReplay = options.replay ? replayVerifier(options.replay) : undefined;
  const dlqProducer = portOf(options.dlq?.producer);
  const retry = options.retry ? retryPlan(options.retry) : undefined;
  /** The topic whose contract a record is read with: a retry topic's records are its main topic's. */
  const contractTopic = retry ? (topic: string): string => retry.stageOf(topic)?.main ?? topic : (topic: string): string => topic;
  if (options.stateful) checkStatefulRetries(options.retry);
  // Stateful rules (docs/stateful.md): judged in afterValue, their changelog written before the offset
  // moves (before the handler runs, after it with the wrapper's commits, or in the transaction).
  const valueStore = contracts.store(options.value ?? {});
  // Exactly-once: a partition's records in a transaction open until the next commit, by a producer per partition (exactly-once.ts).
  const txns: Transactions | undefined = options.exactlyOnce
    ? transactions(options.exactlyOnce, consumer, {
        intervalMs: options.stateful?.commitIntervalMs ?? EXACTLY_ONCE_COMMIT_INTERVAL_MS,
        // Called once the stage below is made (the stage asks the transactions to commit, they take its writes).
        take: (topic, partition): Taken => stateful?.take(topic, partition) ?? NOTHING_TAKEN,
        ...(port.seek ? { seek: port.seek, seekRewindsAll: port.seekRewindsAll === true } : {}),
      })
    : undefined;
  const stateful: StatefulStage | undefined = options.stateful
    ? statefulStage(options.stateful, {
        dlqTopic: (source, rule) => resolveDlqTopic(options.dlq?.topic, contractTopic(source), rule),
        ...(txns ? { commit: (topic: string, partition: number) => txns.commit(topic, partition) } : {}),
        // A partition restored at its assignment runs the version its contract record names.
        contract: (subject, { id, version }) => (id !== undefined ? valueStore.byId(subject, id) : valueStore.byVersion(subject, version!)),
      })
    : undefined;
  // A retry topic's records passed the stateful rules on their first delivery: not judged again (stateful-retry.ts).
  const judging = statefulOnMainTopics(stateful, retry);
  if (stateful) stateful.watchRebalances(port, (topic) => judging(topic) !== undefined);
  // Stateful at-least-once: the wrapper's own commits, after the changelog (commits.ts); set by run().
  let commits: Committer | undefined;
  // After a rebalance (a group join, or on the Confluent client a revocation): a producer of a
  // partition this consumer lost is fenced by the new owner's, so new ones; records handled before
  // it are not committed after it. Told of it before the partitions move (a revocation, a rebalance
  // found between records), the wrapper commits what was handled: the client does not wait for that
  // commit, which lands before the consumer joins again unless the join is quicker.
  if (txns || stateful) {
    port.onGroupJoin?.(() => {
      txns?.forget();
      commits?.forget();
    });
    port.onRevoke?.(() => {
      txns?.forget();
      void commits?.revoking();
    });
    port.onRebalancing?.(() => void commits?.revoking());
  }
  // Where a heartbeat tells the group is rebalancing (kafkajs), the wrapper's commits ask it after
  // each record or batch, so that what was handled is committed before the partitions move.
  const beats = port.rebalancing !== undefined;
  // Only the rebalance is passed on from the wrapper's heartbeat: the client's own, right after the
  // handler, meets any other error as it did before (a handler that throws would have its record
  // delivered again).
  const rebalancingOnly = (e: unknown): void => {
    if (port.rebalancing?.(e) === true) throw e;
  };
  const beat = (payload: { heartbeat(): Promise<void> }): Promise<void> => payload.heartbeat().catch(rebalancingOnly);
  /** An error that says the group is rebalancing: what was handled is committed first (its transactions, or the wrapper's commit). */
  async function passedOn(e: unknown): Promise<never> {
    if (port.rebalancing?.(e) === true) await (txns?.revoking() ?? commits?.revoking());
    throw rememberThrown(e);
  }
  const dlqTimeout = options.dlq?.timeout === undefined ? {} : { timeout: options.dlq.timeout };
  const sender = createDeadLetterSender({ producer: dlqProducer, ...dlqTimeout });

  /**
   * Decodes one record: key (when it has a contract), then value. Returns
   * synchronously unless a contract must be fetched or a rule is asynchronous,
   * so a batch of cached records runs without a Promise per record.
   */
  function decode(topic: string, partition: number, message: KafkaMessage): MaybePromise<Decoded> {
    judging(topic)?.position(topic, partition, message.offset);
    // Replay off: no header is looked at. On: one lookup, and a MAC only for records that ask to skip a rule.
    // An empty rule name (a signed replay of a dead letter without a rule) skips nothing.
    const skip = verifyReplay?.(topic, partition, message) || undefined;
    const key = message.key;
    if (key === null || key === undefined) return decodeValue(topic, partition, message, skip, key, NO_VIOLATIONS);
    const has = keyContract(contractTopic(topic));
    if (has === false) return decodeValue(topic, partition, message, skip, key, NO_VIOLATIONS);
    if (has === true) return decodeKey(topic, partition, message, skip, key);
    return has.then((h) => (h ? decodeKey(topic, partition, message, skip, key) : decodeValue(topic, partition, message, skip, key, NO_VIOLATIONS)));
  }

  function decodeKey(topic: string, partition: number, message: KafkaMessage, skip: string | undefined, bytes: Buffer): MaybePromise<Decoded> {
    const r = readSide(keyReader, contractTopic(topic), bytes, message, skip);
    return r instanceof Promise ? r.then((k) => afterKey(topic, partition, message, skip, k)) : afterKey(topic, partition, message, skip, r);
  }

  function afterKey(topic: string, partition: number, message: KafkaMessage, skip: string | undefined, r: SideResult): MaybePromise<Decoded> {
    if (r.kind !== "deserialized") return stop(topic, partition, message, true, r, NO_VIOLATIONS);
    return decodeValue(topic, partition, message, skip, r.value, r.violations);
  }

  function decodeValue(topic: string, partition: number, message: KafkaMessage, skip: string | undefined, key: unknown, keyViolations: readonly Violation[]): MaybePromise<Decoded> {
    if (message.value === null) return new DecodedRecord<V, K>(key as K | Buffer | null, null, keyViolations, message);
    const r = readSide(valueReader, contractTopic(topic), message.value, message, skip);
    return r instanceof Promise ? r.then((v) => afterValue(topic, partition, message, key, keyViolations, v)) : afterValue(topic, partition, message, key, keyViolations, r);
  }

  function afterValue(topic: string, partition: number, message: KafkaMessage, key: unknown, keyViolations: readonly Violation[], r: SideResult): MaybePromise<Decoded> {
    if (r.kind !== "deserialized") return stop(topic, partition, message, false, r, keyViolations);
    const judged = judging(topic)?.judge(topic, partition, message, r.reader, r.value);
    if (judged !== undefined) return judged instanceof Promise ? judged.then((o) => afterStateful(topic, partition, message, key, keyViolations, r, o)) : afterStateful(topic, partition, message, key, keyViolations, r, judged);
    return new DecodedRecord(key as K | Buffer | null, r.value as V | null, mergeViolations(keyViolations, r.violations), message);
  }

  /** After the stateful rules: a failure stops the record as a READ rule's would. */
  function afterStateful(topic: string, partition: number, message: KafkaMessage, key: unknown, keyViolations: readonly Violation[], r: Extract<SideResult, { kind: "deserialized" }>, o: Outcome | undefined): Decoded {
    const read = mergeViolations(keyViolations, r.violations);
    if (o?.kind === "failed") return stop(topic, partition, message, false, { kind: "failed", outcome: o, writer: r.writer, reader: r.reader }, read);
    return new DecodedRecord(key as K | Buffer | null, r.value as V | null, o === undefined ? read : mergeViolations(read, o.violations), message);
  }

  /** A side that stops the record: throws for ERROR and poisonPill "fail", else builds its dead letter. */
  function stop(topic: string, partition: number, message: KafkaMessage, isKey: boolean, r: Exclude<SideResult, { kind: "deserialized" }>, before: readonly Violation[]): DeadRecord {
    const where = { topic, partition, offset: message.offset };
    const all = r.kind === "failed" ? mergeViolations(before, r.outcome.violations) : before;
    if (r.kind === "poison" && poisonPolicy === "fail") throw new ConsumeError({ ...where, isKey }, r.error, all, false);
    // An ERROR rule that retries goes the DLQ way (retry topics, then the DLQ) instead of stopping.
    if (r.kind === "failed" && r.outcome.action === "ERROR" && !retry?.retriesRule(r.outcome.rule.name)) throw new ConsumeError({ ...where, isKey }, r.outcome.error, all, retryErrors);
    const cause: DeadLetterCause = r.kind === "failed" ? { kind: "rule", outcome: r.outcome, violations: all } : { kind: "poison-pill", error: r.error };
    const dlqTopic = resolveDlqTopic(options.dlq?.topic, contractTopic(topic), r.kind === "failed" ? r.outcome.dlqTopic : undefined);
    return new DeadRecord(dlqTopic, deadLetterRecord({ key: message.key, value: message.value, headers: message.headers, origin: where, cause }), {
      ...where,
      dlqTopic,
      reason: r.kind === "failed" ? "rule" : "poison-pill",
      rule: r.kind === "failed" ? r.outcome.rule.name : undefined,
      isKey,
      violations: all,
      error: r.kind === "failed" ? r.outcome.error : r.error,
    });
  }

  async function deadLetter(list: readonly StoppedRecord[]): Promise<Placement[]> {
    const { placements } = await sender.send(list.map((d) => ({ topic: d.dlqTopic, message: d.record })));
    if (options.onDeadLetter) for (const d of list) options.onDeadLetter(d.report);
    return placements;
  }

  /** Dead-letters one record; resolves to where it went (for parking and retry topics). */
  async function deadLetterOne(d: StoppedRecord): Promise<Processed> {
    const [at] = await deadLetter([d]);
    return { to: "dlq", dlq: { topic: d.dlqTopic, partition: at?.partition, offset: at?.offset } };
  }

  /** decode, then (with stateful rules) their changelog written: the state is durable before the record's offset can move. */
  const decodeDurable: typeof decode =
    stateful === undefined
      ? decode
      : async (topic, partition, message) => {
          const d = await decode(topic, partition, message);
          if (stateful.dirty) await stateful.flush();
          return d;
        };

  /** The handler's payload for a decoded record. Field by field: an object spread of kafkajs's payload costs microseconds per record. */
  function messagePayload(topic: string, partition: number, message: KafkaMessage, payload: Pick<EachMessagePayload, "heartbeat" | "pause">, d: DecodedMessage): ContractEachMessagePayload<V, K> {
    return { topic, partition, message, heartbeat: payload.heartbeat, pause: payload.pause, key: d.key as K | Buffer | null, value: d.value as V | null, violations: d.violations };
  }

  function handOver(
    handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>,
    topic: string,
    partition: number,
    message: KafkaMessage,
    payload: Pick<EachMessagePayload, "heartbeat" | "pause">,
    d: DecodedMessage,
  ): Promise<void> {
    return handler(messagePayload(topic, partition, message, payload, d));
  }

  /**
   * Exactly-once: decodes `message` and hands it over, or dead-letters it, in its partition's open
   * transaction, which writes the partition's state changes and dead letters and commits the offset
   * past it at its next commit (exactly-once.ts). When anything fails the partition goes back to its
   * last commit: its records since come again, judged on the state as committed.
   */
  function deliverInTransaction(t: Transactions, payload: EachMessagePayload, handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>): Promise<void> {
    const { topic, partition, message } = payload;
    const done = t.handle(topic, partition, message, async (txn) => {
      // Parking: the record's way through the parks, its park writes in the transaction too.
      if (parking) await parking.record(topic, partition, message, (m) => processedIn(txn, payload, handler, m), txn);
      else await processedIn(txn, payload, handler, message);
      txn.handled(message);
    });
    return beats ? done.then(() => beat(payload)) : done;
  }

  /** Exactly-once: decodes `message` of the payload's partition and hands it over, or dead-letters it into `txn` (then: where it went). */
  async function processedIn(txn: OpenTransaction, payload: EachMessagePayload, handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>, message: KafkaMessage): Promise<Processed> {
    const { topic, partition } = payload;
    let d = decode(topic, partition, message);
    if (d instanceof Promise) d = await d;
    if (d instanceof DeadRecord) return deadLetterIn(txn, d);
    await handOver(handler, topic, partition, message, payload, d);
    return undefined;
  }

  /**
   * The wrapper commits: decodes and hands over (or dead-letters) without waiting for the changelog
   * write, which goes on behind; the record's offset is committed once that write is acknowledged.
   */
  async function deliverCommitted(c: Committer, payload: EachMessagePayload, handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>): Promise<void> {
    const { topic, partition, message } = payload;
    const ready = c.ready();
    if (ready !== undefined) await ready;
    let d = decode(topic, partition, message);
    if (d instanceof Promise) d = await d;
    if (d instanceof DeadRecord) await deadLetterOne(d);
    else await handOver(handler, topic, partition, message, payload, d);
    c.handled(topic, partition, message);
    const closing = c.after();
    if (closing !== undefined) await closing;
    if (beats) await beat(payload);
  }

  /** Decodes `message` of the payload's partition and hands it to the handler, or dead-letters it (then: where it went). */
  function deliver(payload: EachMessagePayload, handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>, message: KafkaMessage): Promise<Processed> {
    return delivered(payload, handler, message, decodeDurable(payload.topic, payload.partition, message));
  }

  async function delivered(payload: EachMessagePayload, handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>, message: KafkaMessage, decoding: MaybePromise<Decoded>): Promise<Processed> {
    const d = decoding instanceof Promise ? await decoding : decoding;
    if (d instanceof DeadRecord) return deadLetterOne(d);
    await handOver(handler, payload.topic, payload.partition, message, payload, d);
    return undefined;
  }

  // Parking, when asked for: a record's way through the parks decides whether it is delivered (see parking/runner.ts).
  const parking = options.park
    ? createParking(options.park, { producer: dlqProducer, verifiedReplay: (t, p, m) => verifyReplay?.(t, p, m) !== undefined, onPark: options.onPark })
    : undefined;

  function wrapEachMessage(handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>): NonNullable<RunConfig["eachMessage"]> {
    if (txns || commits || parking) {
      return async (payload) => {
        try {
          if (txns) await deliverInTransaction(txns, payload, handler);
          else if (commits) await deliverCommitted(commits, payload, handler);
          else await parking!.record(payload.topic, payload.partition, payload.message, (message) => deliver(payload, handler, message));
        } catch (e) {
          return passedOn(e);
        }
      };
    }
    // A record that decodes synchronously goes to the handler without the wrapper's own async
    // functions and awaits, as a batch does (wrapEachBatch): a Promise per record costs a hook call
    // where the client runs async hooks.
    return (payload) => {
      let d: MaybePromise<Decoded>;
      try {
        d = decodeDurable(payload.topic, payload.partition, payload.message);
      } catch (e) {
        return rejectRemembered(e);
      }
      if (d instanceof Promise || d instanceof DeadRecord) return delivered(payload, handler, payload.message, d).then(nothing, rejectRemembered);
      return handedOver(handler, messagePayload(payload.topic, payload.partition, payload.message, payload, d));
    };
  }

  /** Decodes `records` from `state.n` on until one is asynchronous: returns its Promise, or undefined at the end. */
  function decodeSync(state: BatchState<V, K>, topic: string, partition: number, records: readonly KafkaMessage[]): Promise<Decoded> | undefined {
    for (; state.n < records.length; state.n++) {
      const d = decode(topic, partition, records[state.n]!);
      if (d instanceof Promise) return d;
      collect(state, d);
    }
    return undefined;
  }

  /**
   * Decodes a batch in order up to the first record that must stop it (the ones before it are
   * delivered): a synchronous loop, with an await only for a record that really is asynchronous.
   */
  function decodeBatch(topic: string, partition: number, records: readonly KafkaMessage[]): MaybePromise<DecodedBatch<V, K>> {
    const state: BatchState<V, K> = { n: 0, good: [], dead: undefined, deadAt: undefined };
    const stopped = (failure: unknown) => ({ state, failed: true, failure });
    let pending: Promise<Decoded> | undefined;
    try {
      pending = decodeSync(state, topic, partition, records);
    } catch (e) {
      return stopped(e);
    }
    if (pending === undefined) return { state, failed: false, failure: undefined };
    return (async () => {
      try {
        for (; pending; pending = decodeSync(state, topic, partition, records)) {
          collect(state, await pending);
          state.n++;
        }
      } catch (e) {
        return stopped(e);
      }
      return { state, failed: false, failure: undefined };
    })();
  }

  /**
   * Exactly-once with eachBatch: the batch's records are decoded, handed over and dead-lettered in
   * their partition's open transaction, which commits past the last record processed (the last one
   * the handler resolved, without auto-resolve) at its next commit, or at once when the handler asks
   * (commitOffsetsIfNecessary). When anything fails the partition goes back to its last commit.
   */
  function batchInTransaction(t: Transactions, payload: EachBatchPayload, handler: (payload: ContractEachBatchPayload<V, K>) => Promise<void>, autoResolve: boolean): Promise<void> {
    const { topic, partition, messages: records } = payload.batch;
    if (records.length === 0) return Promise.resolve();
    let last = -1;
    // Not called for a batch passed over after a rewind (Transactions.handle): nothing of it is resolved.
    return t.handle(topic, partition, records[0]!, async (txn) => {
      const decoded = decodeBatch(topic, partition, records);
      const { state, failed, failure } = decoded instanceof Promise ? await decoded : decoded;
      const { n, good, dead, deadAt } = state;
      // Dead letters right after a record go with it, as outside transactions.
      const through = (i: number): number => {
        let j = i;
        while (j + 1 < n && deadAt?.has(j + 1)) j++;
        return j;
      };
      let resolved = deadAt?.has(0) ? through(0) : -1;
      // The records processed up to batch position i go in the transaction, with their dead letters (once each).
      let added = -1;
      const upTo = (i: number): void => {
        if (i <= added) return;
        for (const d of dead ?? []) {
          const at = indexOf(records, d.report.offset);
          if (at > added && at <= i) deadLetterIn(txn, d);
        }
        txn.handled(records[i]!);
        added = i;
      };
      if (good.length > 0) {
        // Resolving only notes how far: the client's offsets move once the handler returned.
        const resolveOffset = (offset: string): void => void (resolved = Math.max(resolved, through(indexOf(records, offset))));
        const commit = async (): Promise<void> => {
          if (resolved >= 0) upTo(resolved);
          await txn.commit();
        };
        await handler(batchPayload(payload, resolveOffset, commit, good, dead));
      }
      // A record that stops the batch (an ERROR rule) fails the transaction: every record since the last commit comes again.
      if (failed) throw failure;
      last = autoResolve ? n - 1 : resolved;
      if (last >= 0) upTo(last);
    }).then(() => {
      if (last >= 0) payload.resolveOffset(records[last]!.offset);
    });
  }

  function wrapEachBatch(
    handler: (payload: ContractEachBatchPayload<V, K>) => Promise<void>,
    autoResolve: boolean,
  ): NonNullable<RunConfig["eachBatch"]> {
    /** The batch after the wrapper's commits are ready, if they are: what is left may wait (a record, the changelog, the DLQ, the handler). */
    const run = async (payload: EachBatchPayload, decoding: MaybePromise<DecodedBatch<V, K>> | undefined): Promise<void> => {
      const { topic, partition, messages: records } = payload.batch;
      const c = commits;
      if (c) {
        const ready = c.ready();
        if (ready !== undefined) await ready;
      }
      const decoded = decoding ?? decodeBatch(topic, partition, records);
      const { state, failed, failure } = decoded instanceof Promise ? await decoded : decoded;
      const { n, good, dead, deadAt } = state;
      // The state changes of the records decoded so far are durable before any of their offsets moves:
      // written now, or (the wrapper commits) before the commit that covers them.
      if (!c && stateful?.dirty) await stateful.flush();

      // Marks the record at batch position i processed: the client's position, and the wrapper's commit.
      const resolveAt = c
        ? (i: number): void => {
            payload.resolveOffset(records[i]!.offset);
            c.handled(topic, partition, records[i]!);
          }
        : (i: number): void => payload.resolveOffset(records[i]!.offset);
      let resolveOffset = c ? (offset: string): void => resolveAt(indexOf(records, offset)) : payload.resolveOffset;
      if (dead && deadAt) {
        // No offset moves before the DLQ writes are acknowledged.
        await deadLetter(dead);
        // Resolving a record also resolves the dead-lettered records right after it.
        const resolveThrough = (i: number): void => {
          let j = i;
          while (j + 1 < n && deadAt.has(j + 1)) j++;
          resolveAt(j);
        };
        // Leading dead letters are done: nothing before them is pending.
        if (deadAt.has(0)) resolveThrough(0);
        const position = new Map<string, number>();
        for (let i = 0; i < n; i++) if (!deadAt.has(i)) position.set(records[i]!.offset, i);
        const resolveOther = resolveOffset;
        resolveOffset = (offset) => {
          const i = position.get(offset);
          if (i === undefined) resolveOther(offset);
          else resolveThrough(i);
        };
      }
      // The wrapper commits: the handler's commit request is its commit, after the changelog.
      if (good.length > 0) await handler(batchPayload(payload, resolveOffset, c ? () => c.commit() : payload.commitOffsetsIfNecessary, good, dead));
      if (failed) {
        // The handler returned: with auto-resolve, everything before the failing record is processed.
        if (autoResolve && n > 0) resolveAt(n - 1);
        const closing = c?.after();
        if (closing !== undefined) await closing;
        throw failure;
      }
      if (c) {
        // The client resolves the whole batch after the handler; the wrapper's commit must know too.
        if (autoResolve && n > 0) c.handled(topic, partition, records[n - 1]!);
        const closing = c.after();
        if (closing !== undefined) await closing;
        if (beats) await beat(payload);
      }
    };
    const t = txns;
    if (t) return (payload) => batchInTransaction(t, payload, handler, autoResolve).then(() => (beats ? beat(payload) : undefined)).catch(passedOn);
    // A batch whose records all decode synchronously, with nothing to dead-letter and no state to
    // flush or commits to wait for (the usual one), goes to the handler without a Promise of the
    // wrapper's own but the one that remembers a thrown error: where a client runs async hooks (the
    // Confluent client's AsyncLocalStorage), every Promise costs a hook call, and its batches are
    // small (32 records).
    return (payload) => {
      if (commits) return run(payload, undefined).catch(passedOn);
      const { topic, partition, messages: records } = payload.batch;
      const decoded = decodeBatch(topic, partition, records);
      if (decoded instanceof Promise || decoded.failed || decoded.state.dead !== undefined || stateful?.dirty) return run(payload, decoded).catch(rejectRemembered);
      const { good } = decoded.state;
      if (good.length === 0) return Promise.resolve();
      return handedOver(handler, batchPayload(payload, payload.resolveOffset, payload.commitOffsetsIfNecessary, good, undefined));
    };
  }

  /** Exactly-once: a dead letter into the partition's open transaction, reported once it committed. */
  function deadLetterIn(txn: OpenTransaction, d: StoppedRecord): Processed {
    txn.add([{ topic: d.dlqTopic, messages: [d.record] }], options.onDeadLetter && (() => options.onDeadLetter!(d.report)));
    return { to: "dlq", dlq: { topic: d.dlqTopic, partition: undefined, offset: undefined } };
  }

  /** Exactly-once: retry records and dead letters into the partition's open transaction, reported once it committed. */
  function retryOutlet(txn: OpenTransaction): RetryOutlet {
    return {
      sender: {
        async send(records) {
          txn.add(records.map((r) => ({ topic: r.topic, messages: [r.message] })));
          return { placements: [], records: [] };
        },
      },
      deadLetter: async (d) => deadLetterIn(txn, d),
      onRetry: options.onRetry && ((r) => txn.add([], () => options.onRetry!(r))),
    };
  }

  function retryDeps(handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>, plan: RetryPlan): RetryRunnerDeps<DecodedMessage> {
    const producer = options.retry?.producer ?? options.dlq?.producer;
    const t = txns;
    return {
      plan,
      // Exactly-once: the state changes go in the record's transaction, not written before it.
      decode: t ? decode : decodeDurable,
      isStopped: (d): d is DeadRecord => d instanceof DeadRecord,
      deliver: (payload, message, d) => handOver(handler, payload.batch.topic, payload.batch.partition, message, payload, d),
      deadLetter: deadLetterOne,
      dlqTopic: (topic) => resolveDlqTopic(options.dlq?.topic, contractTopic(topic), undefined),
      sender: createDeadLetterSender({ producer, purpose: "retry", ...dlqTimeout }),
      onRetry: options.onRetry,
      parking,
      ...(t
        ? {
            transact: (topic: string, partition: number, message: KafkaMessage, work: (out: RetryOutlet, txn: ParkTransaction) => Promise<unknown>) =>
              t.handle(topic, partition, message, async (txn) => {
                await work(retryOutlet(txn), txn);
                txn.handled(message);
              }),
          }
        : {}),
    };
  }

  return overlay(consumer, {
    ...port.methods,
    ...(stateful || txns
      ? closingWith(
          consumer,
          port.methods ?? {},
          async () => void (await Promise.all([stateful?.close(), txns?.close()])),
          // The wrapper's last commit, while the consumer is still a member of its group; the records
          // being handled meanwhile commit as they end (Committer.after, Transactions.closing): kafkajs
          // leaves its group when they have. A commit that fails leaves its records to be delivered
          // again (judged as the first time).
          async () => void (await Promise.all([commits?.close().catch(() => undefined), txns?.closing()])),
        )
      : {}),
    consumer,
    run: (config: ContractRunConfig<V, K, C>) => {
      // The client's payload types are the port's where the wrapper touches them (checked by the adapters).
      const { eachMessage, eachBatch, ...rest } = config as unknown as ContractRunConfig<V, K, RunnableConsumer>;
      if (parking && eachBatch) return Promise.reject(new KontractError("usage", "park: order-preserving parking runs with eachMessage, not eachBatch"));
      // The client would commit the offsets of records handled in a transaction not yet committed.
      if (txns && port.clientCommits?.() === true) {
        return Promise.reject(new KontractError("usage", `exactlyOnce: the ${port.client} consumer commits offsets itself; make it with kafkaJS: { autoCommit: false } (offsets are committed in the transactions)`));
      }
      let wrapped: RunConfig = txns && port.commits ? port.commits.runConfig({ ...rest }) : { ...rest };
      if (stateful && !txns && !retry && !parking) {
        const control = wrapperCommits(port, options.stateful!, rest);
        if (control instanceof KontractError) return Promise.reject(control);
        if (control) {
          wrapped = control.runConfig(wrapped);
          const stage = stateful;
          commits ??= committer({ flush: () => stage.flush(), dirty: () => stage.dirty, backlog: () => stage.backlog, commit: (records) => control.commit(records), intervalMs: options.stateful!.commitIntervalMs ?? 1000 });
        }
      }
      if (retry) {
        if (eachBatch || !eachMessage) return Promise.reject(new KontractError("usage", "retry topics need eachMessage: a failing record is retried alone, not its batch"));
        const each = retryingEachBatch(retryDeps(eachMessage, retry));
        return port.run({ ...wrapped, eachBatch: (payload) => each(payload).catch((e: unknown) => Promise.reject(rememberThrown(e))), eachBatchAutoResolve: false });
      }
      if (eachMessage) wrapped.eachMessage = wrapEachMessage(eachMessage);
      if (eachBatch) wrapped.eachBatch = wrapEachBatch(eachBatch, config.eachBatchAutoResolve ?? true);
      return port.run(wrapped);
    },
  }) as unknown as ContractConsumer<V, K, C>;
}

/**
 * Whether the wrapper commits the offsets of a stateful consumer at-least-once (docs/stateful.md,
 * "Commits"): the client's control of it, undefined when the client commits (`stateful.commits:
 * "client"`, or by default where the wrapper cannot turn the client's commits off or the user commits
 * with `autoCommit: false`), or a usage error for options that contradict it.
 */
function wrapperCommits(port: ConsumerPort, options: StatefulOptions, config: Record<string, unknown>): CommitControl | KontractError | undefined {
  const control = port.commits;
  const mode = options.commits ?? (control?.byDefault && config.autoCommit !== false ? "wrapper" : "client");
  if (mode === "client") return undefined;
  if (control === undefined) return new KontractError("usage", `stateful.commits "wrapper": kontract cannot commit offsets on this ${port.client} consumer (no commitOffsets)`);
  if (config.autoCommit === false) return new KontractError("usage", 'autoCommit: false with stateful.commits "wrapper": kontract commits the offsets itself; leave autoCommit unset, or set stateful.commits "client" to commit them yourself');
  for (const option of ["autoCommitInterval", "autoCommitThreshold"]) {
    if (config[option] !== undefined) return new KontractError("usage", `${option}: a stateful consumer commits every stateful.commitIntervalMs once the changelog is written; set that instead (or stateful.commits "client")`);
  }
  const interval = options.commitIntervalMs;
  if (interval !== undefined && !(Number.isInteger(interval) && interval > 0)) return new KontractError("usage", `stateful.commitIntervalMs must be a positive integer, got ${String(interval)}`);
  return control;
}

/** The batch position of the record at `offset` (offsets increase through a batch). */
function indexOf(records: readonly KafkaMessage[], offset: string): number {
  const at = BigInt(offset);
  let lo = 0;
  let hi = records.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (BigInt(records[mid]!.offset) <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const rejectRemembered = (e: unknown): Promise<never> => Promise.reject(rememberThrown(e));
/** A partition's writes when the consumer has no stateful rules. */
const NOTHING_TAKEN: Taken = { topicMessages: [], committed: () => undefined, aborted: () => undefined };
const nothing = (): void => undefined;

/**
 * The handler's Promise, a thrown error remembered: the one Promise of the wrapper's own on the
 * synchronous paths. A handler from plain JavaScript may return anything or throw at once: taken
 * as an await would take it.
 */
function handedOver<P>(handler: (payload: P) => Promise<void>, payload: P): Promise<void> {
  let handed: Promise<void>;
  try {
    handed = handler(payload);
  } catch (e) {
    return rejectRemembered(e);
  }
  return (handed instanceof Promise ? handed : Promise.resolve(handed)).then(nothing, rejectRemembered);
}

function sideDeserializer(contracts: Contracts, isKey: boolean, side: ConsumerSideOptions): Deserializer {
  return createDeserializer({
    store: contracts.store(side),
    isKey,
    ...(side.subjectNameStrategy === undefined ? {} : { subjectNameStrategy: side.subjectNameStrategy }),
    ...(side.recordName === undefined ? {} : { recordName: side.recordName }),
    ...(side.readerSchema === undefined ? {} : { readerSchema: side.readerSchema }),
  });
}
