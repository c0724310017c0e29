/**
 * What `kontract dlq` does, as library functions: read a DLQ topic to its
 * current end, and replay dead letters to their origin topic, exactly once.
 *
 * Replay is idempotent across interrupted runs. Each replayed record and a
 * marker for it (`<dlq>.replayed`, a compacted topic keyed by the dead
 * letter's partition and offset) are written in one Kafka transaction, so a
 * crash leaves both or neither. A run first takes over the replay's
 * transactional id (which aborts a crashed run's open transaction), writes a
 * sentinel to the ledger and reads the ledger up to it: every marker committed
 * before is then known, and those dead letters are not sent again.
 */
import { randomUUID } from "node:crypto";
import { KontractError } from "../errors.js";
import type { ConsumedMessage, OutgoingMessage } from "./client.js";
import { loadKafkaClient } from "./clients/index.js";
import { ownHeaders } from "./dlq.js";
import { deadLetterMatches, parseDeadLetter, type DeadLetter, type DeadLetterFilter } from "./dead-letters.js";
import { REPLAY_HEADERS, signReplay, type ReplayKey } from "./replay.js";

/** A Kafka client's entry object: kafkajs's `Kafka`, or `KafkaJS.Kafka` of @confluentinc/kafka-javascript. */
export interface KafkaAccess {
  readonly client: "kafkajs" | "confluent";
  readonly kafka: {
    admin(): AdminLike;
    consumer(config: object): ConsumerLike;
    producer(config?: object): ProducerLike;
  };
}

interface AdminLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** kafkajs answers read_committed ends (the last stable offset) whatever it is given; the Confluent client when asked (isolationLevel 1). */
  fetchTopicOffsets(topic: string, options?: { isolationLevel?: number }): Promise<{ partition: number; offset?: string; high?: string; low: string }[]>;
  createTopics(options: { topics: { topic: string; numPartitions?: number; replicationFactor?: number; configEntries?: { name: string; value: string }[] }[]; waitForLeaders?: boolean }): Promise<boolean>;
  listTopics(): Promise<string[]>;
}

interface ConsumerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(options: { topics: string[]; fromBeginning?: boolean }): Promise<void>;
  run(config: { eachBatch(payload: { batch: { partition: number; messages: ConsumedMessage[]; lastOffset(): string } }): Promise<void>; autoCommit?: boolean }): Promise<void>;
  /** The partitions assigned (the Confluent client's KafkaJS API). */
  assignment?(): unknown[];
}

interface ProducerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: OutgoingMessage[] }): Promise<unknown>;
  transaction(): Promise<{ send(record: { topic: string; messages: OutgoingMessage[] }): Promise<unknown>; commit(): Promise<void>; abort(): Promise<void> }>;
}

/**
 * Ends as a read_committed reader can reach them: an open transaction's records are past the last
 * stable offset, and the readers below never see them (nor an aborted one's).
 */
export const READ_COMMITTED = { isolationLevel: 1 } as const;

/** A KafkaAccess on `brokers` through an installed client (loaded now; KafkaClientMissingError names the package when it is not). */
export async function connectKafka(client: KafkaAccess["client"], brokers: readonly string[]): Promise<KafkaAccess> {
  if (client === "kafkajs") {
    const { Kafka, logLevel } = await loadKafkaClient<typeof import("kafkajs")>("kafkajs");
    return { client, kafka: new Kafka({ clientId: "kontract-dlq", brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 3 } }) as never };
  }
  const { KafkaJS } = await loadKafkaClient<typeof import("@confluentinc/kafka-javascript")>("confluent");
  return { client, kafka: new KafkaJS.Kafka({ kafkaJS: { clientId: "kontract-dlq", brokers: [...brokers], logLevel: KafkaJS.logLevel.NOTHING } }) as never };
}

export interface ReadOptions {
  /** Give up when no record arrives for this long while the topic is not read to its end. Default 15 000 ms. */
  readonly idleTimeoutMs?: number;
}

/**
 * Every record of `topic` up to its end when called, in offset order per
 * partition. The end is each partition's high watermark. kafkajs reports the
 * offsets of transaction markers too, so its reads end exactly; the Confluent
 * client does not, so a partition that ends in markers (a topic written in
 * transactions, e.g. by a replay) counts as read once nothing more arrives for
 * `settleMs`.
 */
export async function readTopic(access: KafkaAccess, topic: string, options: ReadOptions = {}): Promise<{ partition: number; message: ConsumedMessage }[]> {
  const admin = access.kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new KontractError("usage", `no topic ${topic}`);
    ends = new Map((await admin.fetchTopicOffsets(topic, READ_COMMITTED)).filter((p) => BigInt(p.high ?? p.offset ?? "0") > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high ?? p.offset ?? "0")]));
  } finally {
    await admin.disconnect();
  }
  const out: { partition: number; message: ConsumedMessage }[] = [];
  if (ends.size === 0) return out;
  const waiting = new Set(ends.keys());
  await consumeUntil(access, topic, {
    take(partition, message) {
      if (BigInt(message.offset) < (ends.get(partition) ?? 0n)) out.push({ partition, message });
    },
    reached(partition, lastOffset) {
      const end = ends.get(partition);
      if (end === undefined || BigInt(lastOffset) >= end - 1n) waiting.delete(partition);
      return waiting.size === 0;
    },
    // Without records read, only once the partitions were assigned for SETTLE_MS: a topic whose
    // records are all aborted (a partition's first transaction failed) has nothing to deliver.
    settled: (assigned) => access.client === "confluent" && (out.length > 0 || assigned),
    idleTimeoutMs: options.idleTimeoutMs ?? 15_000,
    what: () => `read ${topic} to its end (partitions ${[...waiting].join(", ")} not reached)`,
  });
  return out.sort((a, b) => a.partition - b.partition || (BigInt(a.message.offset) < BigInt(b.message.offset) ? -1 : 1));
}

interface Consumption {
  take(partition: number, message: ConsumedMessage): void;
  /** A partition was read up to `lastOffset` (markers included, where the client says); true ends the read. */
  reached(partition: number, lastOffset: string): boolean;
  /** Asked after SETTLE_MS without records (`assigned`: and with partitions assigned that long): true ends the read as complete. */
  settled(assigned: boolean): boolean;
  readonly idleTimeoutMs: number;
  what(): string;
}

const SETTLE_MS = 3_000;

/** A batch as a throwaway consumer hands it over. */
export type ReadBatch = (batch: { partition: number; messages: ConsumedMessage[]; lastOffset(): string }) => void;

/**
 * Starts a consumer in a group of its own (`<groupPrefix>-<uuid>`, nothing committed) reading
 * `topic` from its beginning, and returns it running: disconnect it to stop. It reads committed
 * records only (read_committed, the clients' default, said here since exactly-once depends on it):
 * an aborted changelog entry or dead letter never counts.
 */
export async function readFromBeginning(access: KafkaAccess, topic: string, groupPrefix: string, each: ReadBatch): Promise<Pick<ConsumerLike, "disconnect" | "assignment">> {
  const groupId = `${groupPrefix}-${randomUUID()}`;
  const consumer =
    access.client === "confluent"
      ? access.kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false, readUncommitted: false } })
      : access.kafka.consumer({ groupId, maxWaitTimeInMs: 100, retry: { retries: 3 }, readUncommitted: false });
  await consumer.connect();
  try {
    await consumer.subscribe(access.client === "confluent" ? { topics: [topic] } : { topics: [topic], fromBeginning: true });
    // kafkajs hands eachBatch no batch whose records were all filtered out (an aborted transaction and
    // its marker): its end is told only by the batch event, without which a changelog holding only an
    // aborted transaction (a partition's first one failed) would never be read to its end.
    const events = consumer as Partial<FilteredBatchEvents>;
    if (access.client === "kafkajs" && typeof events.on === "function" && events.events?.END_BATCH_PROCESS) {
      events.on(events.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic === topic && payload.batchSize === 0) each({ partition: payload.partition, messages: [], lastOffset: () => payload.lastOffset });
      });
    }
    await consumer.run({ ...(access.client === "kafkajs" ? { autoCommit: false } : {}), eachBatch: async ({ batch }) => each(batch) });
  } catch (e) {
    await consumer.disconnect();
    throw e;
  }
  return consumer;
}

/** kafkajs's END_BATCH_PROCESS event, as far as readFromBeginning uses it. */
interface FilteredBatchEvents {
  on(event: string, listener: (e: { payload: { topic: string; partition: number; batchSize: number; lastOffset: string } }) => void): unknown;
  readonly events: { readonly END_BATCH_PROCESS: string };
}

/** Runs a throwaway consumer (no committed offsets) over `topic` from its beginning until told to stop. */
async function consumeUntil(access: KafkaAccess, topic: string, c: Consumption): Promise<void> {
  let done = false;
  let last = Date.now();
  const consumer = await readFromBeginning(access, topic, "kontract-dlq", (batch) => {
    if (done) return;
    last = Date.now();
    for (const m of batch.messages) c.take(batch.partition, m);
    if (c.reached(batch.partition, batch.lastOffset())) done = true;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let assignedAt: number | undefined;
      const timer = setInterval(() => {
        const now = Date.now();
        const idle = now - last;
        if (assignedAt === undefined && (consumer.assignment?.().length ?? 0) > 0) assignedAt = now;
        if (!done && idle >= SETTLE_MS && c.settled(assignedAt !== undefined && now - assignedAt >= SETTLE_MS)) done = true;
        if (done) {
          clearInterval(timer);
          resolve();
        } else if (idle > c.idleTimeoutMs) {
          clearInterval(timer);
          reject(new KontractError("usage", `could not ${c.what()}: nothing arrived for ${c.idleTimeoutMs} ms`));
        }
      }, 50);
    });
  } finally {
    await consumer.disconnect();
  }
}

/** The dead letters of a DLQ topic that match `filter`. */
export async function readDeadLetters(access: KafkaAccess, topic: string, filter: DeadLetterFilter = {}, options: ReadOptions = {}): Promise<DeadLetter[]> {
  return (await readTopic(access, topic, options)).map((r) => parseDeadLetter(topic, r.partition, r.message)).filter((d) => deadLetterMatches(d, filter));
}

export interface ReplayDeadLettersOptions extends ReadOptions {
  readonly filter?: DeadLetterFilter;
  /** Send here instead of each record's origin topic. */
  readonly to?: string;
  /** Plan only: nothing is sent or marked. */
  readonly dryRun?: boolean;
  /**
   * Sign replays (signReplay) so consumers holding the key skip the rule that
   * dead-lettered each record. Without it, records carry `__rule.name` (Java
   * consumers skip that rule on trust) but kontract consumers run every rule.
   */
  readonly replayKey?: ReplayKey;
  /** Records per transaction. Default 500. */
  readonly batchSize?: number;
}

export interface ReplayPlanEntry {
  readonly deadLetter: DeadLetter;
  /** Where it goes; undefined when the record names no origin and no `to` was given. */
  readonly target: string | undefined;
  /**
   * no-target: the record names no origin and no `to` was given. not-replayable:
   * it was dead-lettered on produce, so it holds the message's JSON form with
   * sensitive fields redacted, not bytes a consumer can read: fix the source
   * and produce it again.
   */
  readonly status: "to-send" | "already-replayed" | "no-target" | "not-replayable";
}

export interface ReplayReport {
  readonly entries: readonly ReplayPlanEntry[];
  /** Sent in this run. */
  readonly sent: number;
}

/** Header naming the dead letter a replayed record came from: `<dlq topic>/<partition>/<offset>`. */
export const REPLAY_SOURCE_HEADER = "__kontract.replay.source";
/** Header naming the record the dead letter was made of, in its consumed topic: `<topic>/<partition>/<offset>` (main-topic coordinates after retry topics). */
export const REPLAY_ORIGIN_HEADER = "__kontract.replay.origin";

const SENTINEL_KEY = "__kontract.sentinel";

/** The ledger topic of a DLQ: which of its records were replayed. */
export const replayLedgerTopic = (dlqTopic: string): string => `${dlqTopic}.replayed`;

/**
 * Sends the matching dead letters back to their origin topic (or `to`), byte
 * for byte, each at most once however often the replay runs.
 */
export async function replayDeadLetters(access: KafkaAccess, dlqTopic: string, options: ReplayDeadLettersOptions = {}): Promise<ReplayReport> {
  const letters = await readDeadLetters(access, dlqTopic, options.filter ?? {}, options);
  const ledger = replayLedgerTopic(dlqTopic);
  const producer = access.kafka.producer(
    access.client === "confluent"
      ? { kafkaJS: { transactionalId: `kontract-replay-${dlqTopic}`, idempotent: true, maxInFlightRequests: 1 } }
      : { transactionalId: `kontract-replay-${dlqTopic}`, idempotent: true, maxInFlightRequests: 1 },
  );
  const dryRun = options.dryRun === true;
  // Connecting takes over the transactional id: a crashed run's open transaction is aborted before the ledger is read.
  if (!dryRun) await producer.connect();
  try {
    const done = await replayedSet(access, ledger, dryRun ? undefined : producer, options);
    const entries: ReplayPlanEntry[] = letters.map((d) => {
      const target = options.to ?? d.origin.topic;
      const status = d.origin.partition === undefined ? "not-replayable" : target === undefined ? "no-target" : done.has(ledgerKey(d)) ? "already-replayed" : "to-send";
      return { deadLetter: d, target, status };
    });
    let sent = 0;
    if (!dryRun) {
      const todo = entries.filter((e) => e.status === "to-send");
      const size = options.batchSize ?? 500;
      for (let i = 0; i < todo.length; i += size) {
        const chunk = todo.slice(i, i + size);
        const txn = await producer.transaction();
        try {
          for (const e of chunk) await txn.send({ topic: e.target!, messages: [replayRecord(e.deadLetter, e.target!, options.replayKey)] });
          await txn.send({ topic: ledger, messages: chunk.map((e) => ({ key: ledgerKey(e.deadLetter), value: JSON.stringify({ to: e.target, at: new Date().toISOString() }) })) });
          await txn.commit();
        } catch (e) {
          await txn.abort().catch(() => {});
          throw e;
        }
        sent += chunk.length;
      }
    }
    return { entries, sent };
  } finally {
    if (!dryRun) await producer.disconnect();
  }
}

function ledgerKey(d: DeadLetter): string {
  return `${d.partition}/${d.offset}`;
}

/** The replayed record: the dead letter's key, value and own headers, with the rule to skip and where it came from. */
function replayRecord(d: DeadLetter, target: string, key: ReplayKey | undefined): OutgoingMessage {
  const headers = ownHeaders(d.headers);
  headers[REPLAY_SOURCE_HEADER] = `${d.topic}/${d.partition}/${d.offset}`;
  const { origin } = d;
  if (origin.topic !== undefined && origin.partition !== undefined && origin.offset !== undefined) headers[REPLAY_ORIGIN_HEADER] = `${origin.topic}/${origin.partition}/${origin.offset}`;
  const message: OutgoingMessage = { key: d.key, value: d.value, headers };
  // Without a rule (a poison pill, a handler or registry failure), signed with an empty rule name: it skips
  // nothing, and still proves that the replay tooling wrote it (a parked key's head resolves only on such proof).
  if (d.rule === undefined) return key !== undefined ? signReplay(message, { topic: target, rule: "" }, key) : message;
  if (key !== undefined) return signReplay(message, { topic: target, rule: d.rule }, key);
  return { ...message, headers: { ...headers, [REPLAY_HEADERS.rule]: d.rule } };
}

/**
 * The dead letters the ledger marks as replayed. With a producer, a sentinel
 * is written first and the ledger read up to it, so nothing committed before
 * is missed; without one (dry run), the ledger is read to its current end.
 */
async function replayedSet(access: KafkaAccess, ledger: string, producer: ProducerLike | undefined, options: ReadOptions): Promise<Set<string>> {
  const admin = access.kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(ledger)) {
      if (producer === undefined) return new Set();
      await admin.createTopics({ topics: [{ topic: ledger, numPartitions: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] }] });
    }
  } finally {
    await admin.disconnect();
  }
  const done = new Set<string>();
  const mark = (message: ConsumedMessage): void => {
    const key = message.key?.toString("utf8");
    if (key !== undefined && key !== SENTINEL_KEY && message.value !== null) done.add(key);
  };
  if (producer === undefined) {
    for (const r of await readTopic(access, ledger, options)) mark(r.message);
    return done;
  }
  const nonce = randomUUID();
  const txn = await producer.transaction();
  await txn.send({ topic: ledger, messages: [{ key: SENTINEL_KEY, value: nonce }] });
  await txn.commit();
  let seen = false;
  await consumeUntil(access, ledger, {
    take(_p, message) {
      if (message.key?.toString("utf8") === SENTINEL_KEY) seen ||= message.value?.toString("utf8") === nonce;
      else mark(message);
    },
    reached: () => seen,
    settled: () => false,
    idleTimeoutMs: options.idleTimeoutMs ?? 15_000,
    what: () => `read the replay ledger ${ledger} up to this run's sentinel`,
  });
  return done;
}
