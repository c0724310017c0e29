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
import type { ConsumedMessage as KafkaMessage, EachBatchPayload, EachMessagePayload, OutgoingMessage, ProducerPort, RunConfig, RunnableConsumer, TransactionPort } from "./client.js";
import { consumerPort, type ConsumerControls, type KafkaConsumer } from "./clients/index.js";
import type { PlatformaticRunConfig } from "./clients/platformatic.js";
import { createContracts, isPoisonPill, keyContractOf, type Contracts, type ContractsOptions, type SubjectOptions } from "./contracts.js";
import { createDeadLetterSender, deadLetterRecord, portOf, resolveDlqTopic, type BatchSender, type DeadLetterCause } from "./dlq.js";
import { ConsumeError, rememberThrown } from "./errors.js";
import { createParking, type ParkOptions, type Processed } from "./parking/runner.js";
import { overlay } from "./overlay.js";
import type { Placement } from "./placement.js";
import type { DlqOptions } from "./producer.js";
import { replayVerifier, type ReplayOptions } from "./replay.js";
import type { ConsumedDeadLetter, ParkedRecord, RetriedRecord } from "./reports.js";
import { retryPlan, type RetryOptions, type RetryPlan } from "./retry.js";
import { retryingEachBatch, type RetryRunnerDeps, type StoppedRecord } from "./retry-runner.js";
import { closingWith, statefulStage, type StatefulOptions, type Taken } from "./stateful.js";
import { transactions, type ExactlyOnceOptions, type Transactions } from "./exactly-once.js";
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
   * Exactly-once (docs/stateful.md, "Exactly-once"): each record's changelog entries, dead letter,
   * completions and offset commit go in one Kafka transaction, written by a transactional producer
   * per partition; the handler runs inside it (before the commit). eachMessage only, without
   * retry topics or parking. Read the topics with read_committed consumers (the clients' default).
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
  // Exactly-once: a transaction per record, by a producer per partition (exactly-once.ts).
  const txns = options.exactlyOnce ? transactions(options.exactlyOnce, consumer) : undefined;
  // Stateful rules (docs/stateful.md): judged in afterValue, their changelog written before the handler
  // runs (exactly-once: in the record's transaction).
  const stateful = options.stateful
    ? statefulStage(options.stateful, {
        dlqTopic: (source, rule) => resolveDlqTopic(options.dlq?.topic, contractTopic(source), rule),
        ...(txns ? { transact: (topic: string, partition: number, write: (txn: TransactionPort) => Promise<void>) => txns.run(topic, partition, write) } : {}),
      })
    : undefined;
  if (stateful) stateful.watchRebalances(port);
  // A producer of a partition this consumer lost is fenced by the new owner's; after a rebalance, new ones.
  if (txns) port.onGroupJoin?.(() => txns.forget());
  const dlqTimeout = options.dlq?.timeout === undefined ? {} : { timeout: options.dlq.timeout };
  const sender = createDeadLetterSender({ producer: dlqProducer, ...dlqTimeout });

  /**
   * Decodes one record: key (when it has a contract), then value. Returns
   * synchronously unless a contract must be fetched or a rule is asynchronous,
   * so a batch of cached records runs without a Promise per record.
   */
  function decode(topic: string, partition: number, message: KafkaMessage): MaybePromise<Decoded> {
    stateful?.position(topic, partition, message.offset);
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
    const judged = stateful?.judge(topic, partition, message, r.reader.plan, r.value);
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
   * Exactly-once: decodes `message` and hands it over, or dead-letters it, in a transaction that also
   * writes the partition's state changes and commits the offset past it. When anything fails the
   * transaction aborts and the partition's state is dropped: the record comes again and is judged on
   * the state as committed.
   */
  async function deliverInTransaction(t: Transactions, payload: EachMessagePayload, handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>): Promise<void> {
    const { topic, partition, message } = payload;
    let dead: DeadRecord | undefined;
    let taken: Taken | undefined;
    try {
      await t.run(topic, partition, async (txn) => {
        let d = decode(topic, partition, message);
        if (d instanceof Promise) d = await d;
        if (d instanceof DeadRecord) dead = d;
        else await handOver(handler, topic, partition, message, payload, d);
        const topicMessages = stateful ? (taken = stateful.take(topic, partition)).topicMessages : [];
        if (dead) topicMessages.push({ topic: dead.dlqTopic, messages: [dead.record] });
        if (topicMessages.length > 0) await txn.write(topicMessages);
        await txn.sendOffset(t.group, topic, partition, message);
      });
    } catch (e) {
      (taken ?? stateful?.take(topic, partition))?.aborted();
      throw e;
    }
    taken?.committed();
    if (dead) options.onDeadLetter?.(dead.report);
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
    if (txns || parking) {
      return async (payload) => {
        try {
          if (txns) await deliverInTransaction(txns, payload, handler);
          else await parking!.record(payload.topic, payload.partition, payload.message, (message) => deliver(payload, handler, message));
        } catch (e) {
          throw rememberThrown(e);
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

  function wrapEachBatch(
    handler: (payload: ContractEachBatchPayload<V, K>) => Promise<void>,
    autoResolve: boolean,
  ): NonNullable<RunConfig["eachBatch"]> {
    /** The handler's payload: field by field, as for eachMessage (a spread of the payload costs microseconds). */
    const batchPayload = (payload: EachBatchPayload, resolveOffset: EachBatchPayload["resolveOffset"], good: DecodedMessage<V, K>[], dead: DeadRecord[] | undefined): ContractEachBatchPayload<V, K> => {
      const { batch, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale, pause } = payload;
      return { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale, pause, messages: good, deadLettered: dead ? dead.map((d) => d.report) : NO_DEAD_LETTERS };
    };

    /** The batch after its synchronous decoding: what is left may wait (a record, the changelog, the DLQ, the handler). */
    const finish = async (payload: EachBatchPayload, state: BatchState<V, K>, first: Promise<Decoded> | undefined, thrown: { error: unknown } | undefined): Promise<void> => {
      const records = payload.batch.messages;
      // Decode in order up to the first record that must stop the batch; the ones before it are delivered.
      // An await only for a record that really is asynchronous.
      let failure = thrown;
      if (failure === undefined) {
        try {
          for (let pending = first; pending; pending = decodeSync(state, payload.batch.topic, payload.batch.partition, records)) {
            collect(state, await pending);
            state.n++;
          }
        } catch (e) {
          failure = { error: e };
        }
      }
      const { n, good, dead, deadAt } = state;
      // The state changes of the records decoded so far are durable before any of their offsets moves.
      if (stateful?.dirty) await stateful.flush();

      let resolveOffset = payload.resolveOffset;
      if (dead && deadAt) {
        // No offset moves before the DLQ writes are acknowledged.
        await deadLetter(dead);
        // Resolving a record also resolves the dead-lettered records right after it.
        const resolveThrough = (i: number): void => {
          let j = i;
          while (j + 1 < n && deadAt.has(j + 1)) j++;
          payload.resolveOffset(records[j]!.offset);
        };
        // Leading dead letters are done: nothing before them is pending.
        if (deadAt.has(0)) resolveThrough(0);
        const position = new Map<string, number>();
        for (let i = 0; i < n; i++) if (!deadAt.has(i)) position.set(records[i]!.offset, i);
        resolveOffset = (offset) => {
          const i = position.get(offset);
          if (i === undefined) payload.resolveOffset(offset);
          else resolveThrough(i);
        };
      }
      if (good.length > 0) await handler(batchPayload(payload, resolveOffset, good, dead));
      if (failure) {
        // The handler returned: with auto-resolve, everything before the failing record is processed.
        if (autoResolve && n > 0) payload.resolveOffset(records[n - 1]!.offset);
        throw failure.error;
      }
    };

    // A batch whose records all decode synchronously, with nothing to dead-letter and no state to
    // flush (the usual one), goes to the handler without a Promise of the wrapper's own but the one
    // that remembers a thrown error: where a client runs async hooks (the Confluent client's
    // AsyncLocalStorage), every Promise costs a hook call, and its batches are small (32 records).
    return (payload) => {
      const { topic, partition, messages: records } = payload.batch;
      const state: BatchState<V, K> = { n: 0, good: [], dead: undefined, deadAt: undefined };
      let pending: Promise<Decoded> | undefined;
      let thrown: { error: unknown } | undefined;
      try {
        pending = decodeSync(state, topic, partition, records);
      } catch (e) {
        thrown = { error: e };
      }
      if (pending === undefined && thrown === undefined && state.dead === undefined && !stateful?.dirty) {
        if (state.good.length === 0) return Promise.resolve();
        return handedOver(handler, batchPayload(payload, payload.resolveOffset, state.good, undefined));
      }
      return finish(payload, state, pending, thrown).catch(rejectRemembered);
    };
  }

  function retryDeps(handler: (payload: ContractEachMessagePayload<V, K>) => Promise<void>, plan: RetryPlan): RetryRunnerDeps<DecodedMessage> {
    const producer = options.retry?.producer ?? options.dlq?.producer;
    return {
      plan,
      decode: decodeDurable,
      isStopped: (d): d is DeadRecord => d instanceof DeadRecord,
      deliver: (payload, message, d) => handOver(handler, payload.batch.topic, payload.batch.partition, message, payload, d),
      deadLetter: deadLetterOne,
      dlqTopic: (topic) => resolveDlqTopic(options.dlq?.topic, contractTopic(topic), undefined),
      sender: createDeadLetterSender({ producer, purpose: "retry", ...dlqTimeout }),
      onRetry: options.onRetry,
      parking,
    };
  }

  return overlay(consumer, {
    ...port.methods,
    ...(stateful || txns ? closingWith(consumer, port.methods ?? {}, async () => void (await Promise.all([stateful?.close(), txns?.close()]))) : {}),
    consumer,
    run: (config: ContractRunConfig<V, K, C>) => {
      // The client's payload types are the port's where the wrapper touches them (checked by the adapters).
      const { eachMessage, eachBatch, ...rest } = config as unknown as ContractRunConfig<V, K, RunnableConsumer>;
      if (parking && eachBatch) return Promise.reject(new KontractError("usage", "park: order-preserving parking runs with eachMessage, not eachBatch"));
      if (txns && (eachBatch || retry || parking || !eachMessage)) {
        return Promise.reject(new KontractError("usage", "exactlyOnce runs with eachMessage, without retry topics or parking (a transaction per record)"));
      }
      // kafkajs would also commit each offset itself, outside the transaction.
      const wrapped: RunConfig = txns && port.client === "kafkajs" ? { ...rest, autoCommit: false } : { ...rest };
      if (retry) {
        if (eachBatch || !eachMessage) return Promise.reject(new KontractError("usage", "retry topics need eachMessage: a failing record is retried alone, not its batch"));
        const each = retryingEachBatch(retryDeps(eachMessage, retry));
        return port.run({ ...rest, eachBatch: (payload) => each(payload).catch((e: unknown) => Promise.reject(rememberThrown(e))), eachBatchAutoResolve: false });
      }
      if (eachMessage) wrapped.eachMessage = wrapEachMessage(eachMessage);
      if (eachBatch) wrapped.eachBatch = wrapEachBatch(eachBatch, config.eachBatchAutoResolve ?? true);
      return port.run(wrapped);
    },
  }) as unknown as ContractConsumer<V, K, C>;
}

const rejectRemembered = (e: unknown): Promise<never> => Promise.reject(rememberThrown(e));
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
