/**
 * The KafkaJS API of @confluentinc/kafka-javascript on the client port
 * (`new KafkaJS.Kafka({ kafkaJS: {...} })`). It takes kafkajs's shapes, with
 * these differences the adapter absorbs:
 *
 * - `send` / `sendBatch` refuse `acks`, `timeout` and `compression` (they are
 *   producer settings there: `kafkaJS: { acks, timeout, compression }`), so the
 *   adapter drops them; DLQ writes get the producer's acks, -1 (all) unless set.
 * - `send` writes the message objects it is given (partition -1, headers as a
 *   list, timestamps as numbers): the adapter restores `partition` for placement.
 * - `sendBatch` answers once per topic entry: entries of the same topic are
 *   merged first, so each topic and partition has one answer (its lowest offset).
 * - No custom partitioners (librdkafka partitions with murmur2_random), so no
 *   trackingPartitioner: a message's partition is known when it named one or
 *   the topic has one partition, as with kafkajs without tracking.
 * - A record without headers has `headers: undefined` (kafkajs: `{}`).
 * - A handler error never stops the consumer: it logs, seeks back to the
 *   record and reads it again. For a non-retriable kontract error (ERROR rule
 *   with onError "stop", a DLQ write that cannot succeed) the adapter pauses
 *   the record's partition first: it stays at the record, uncommitted, until
 *   `consumer.resume()`, while kafkajs would stop the whole consumer.
 * - Write errors say `retriable: false` unless the producer is transactional,
 *   a broker restart's timeouts included; the adapter marks the transient ones
 *   retriable, or a DLQ or retry-topic write that timed out would pause its
 *   partition for good as if the record were refused.
 * - Its API reports no rebalance (`on` is not implemented): the adapter tells
 *   the port of revoked and assigned partitions from the node-rdkafka consumer under it.
 */
import { isKontractError } from "../../errors.js";
import { partitionKey, type BatchProducer, type ConsumerPort, type EachBatchPayload, type EachMessagePayload, type OutgoingMessage, type ProducerPort, type RunnableConsumer, type TopicMessages, type TopicPartition, type TransactionalProducerPort } from "../client.js";
import { placeMessages } from "../placement.js";
import { commitList, nextOffset, type OffsetCommitter, type Seeker } from "./kafkajs.js";

export function confluentProducer(producer: BatchProducer): ProducerPort {
  return {
    client: "confluent",
    async write(topicMessages) {
      const merged = mergeTopics(topicMessages);
      const given = merged.map((t) => t.messages.map((m) => m.partition));
      const records = await producer.sendBatch({ topicMessages: merged }).catch((e: unknown) => Promise.reject(markTransient(e)));
      merged.forEach((t, i) => t.messages.forEach((m, j) => void (m.partition = given[i]![j])));
      const placed = placeMessages(merged, records);
      return { placements: merged === topicMessages ? placed : unmerge(topicMessages, merged, placed), records };
    },
  };
}

/**
 * librdkafka's codes that say a write did not get through for now (a timeout, no broker, a
 * leader moving), not that the record is refused: the write may succeed when tried again.
 * An unknown topic is not among them: a DLQ topic that does not exist needs someone to create it.
 */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  -195, // ERR__TRANSPORT
  -192, // ERR__MSG_TIMED_OUT
  -187, // ERR__ALL_BROKERS_DOWN
  -185, // ERR__TIMED_OUT
  -184, // ERR__QUEUE_FULL
  -166, // ERR__TIMED_OUT_QUEUE
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  13, // NETWORK_EXCEPTION
  19, // NOT_ENOUGH_REPLICAS
  20, // NOT_ENOUGH_REPLICAS_AFTER_APPEND
  56, // KAFKA_STORAGE_ERROR
]);

/**
 * The client sets `retriable` (what causeRetriable reads) for its transactional producer only:
 * any other write failure says false, a broker restart's timeouts included. The error is the
 * client's, fresh per failure; it is marked here, where the client's codes are known.
 */
function markTransient(e: unknown): unknown {
  if (typeof e === "object" && e !== null && TRANSIENT_CODES.has((e as { code?: unknown }).code as number)) (e as { retriable?: boolean }).retriable = true;
  return e;
}

/** A producer of the Confluent client's KafkaJS API made with `kafkaJS: { transactionalId, idempotent: true }`: it is its own transaction. */
export interface ConfluentTransactionalProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  transaction(): Promise<unknown>;
  sendBatch(batch: { topicMessages: TopicMessages[] }): Promise<unknown>;
  sendOffsets(offsets: { consumer: object; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * The Confluent client's transactions (librdkafka's): connect() runs initTransactions, and
 * sendOffsets takes the consumer, whose group metadata (generation, member id) lets the group
 * coordinator refuse the offsets of a member that lost the partition (KIP-447).
 */
export function confluentTransactional(producer: ConfluentTransactionalProducer): TransactionalProducerPort {
  const transaction = {
    write: async (topicMessages: TopicMessages[]) => void (await producer.sendBatch({ topicMessages: mergeTopics(topicMessages) })),
    sendOffset: (group: { consumer: object }, topic: string, partition: number, message: { offset: string }) =>
      producer.sendOffsets({ consumer: group.consumer, topics: [{ topic, partitions: [{ partition, offset: nextOffset(message.offset) }] }] }),
    commit: () => producer.commit(),
    abort: () => producer.abort(),
  };
  return {
    client: "confluent",
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async begin() {
      await producer.transaction();
      return transaction;
    },
  };
}

/** librdkafka's RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS and __ASSIGN_PARTITIONS: the codes of a rebalance event that takes partitions away, or gives them. */
const REVOKE_PARTITIONS = -174;
const ASSIGN_PARTITIONS = -175;

/** The node-rdkafka consumer under a KafkaJS API consumer, as far as its rebalance events go. */
interface RebalanceEvents {
  on(event: "rebalance", listener: (err: { readonly code?: unknown } | undefined, assignment: readonly TopicPartition[]) => void): unknown;
}

type PartitionsListener = (partitions: readonly TopicPartition[]) => void;

/**
 * Tells `revoked` of every revocation of the consumer's partitions and `assigned` of every
 * assignment. The KafkaJS API reports no rebalance through its own API (`on` is not implemented,
 * and its `rebalance_cb` option is read from the config the application made the consumer with),
 * but the node-rdkafka consumer under it (`_getInternalClient()`, there once connected; marked
 * internal by the client) emits `rebalance` for each assignment and revocation, before the client
 * applies it. Without that method there is no hook, as before it (docs/stateful.md).
 */
function watchRebalances(consumer: RunnableConsumer, revoked: readonly PartitionsListener[], assigned: readonly PartitionsListener[], watched: WeakSet<object>): void {
  if (revoked.length === 0 && assigned.length === 0) return;
  const internal = (consumer as { _getInternalClient?: () => RebalanceEvents | null | undefined })._getInternalClient?.();
  if (typeof internal?.on !== "function" || watched.has(internal)) return;
  watched.add(internal);
  internal.on("rebalance", (err, assignment) => {
    // Emitted twice per rebalance (by node-rdkafka, then by the KafkaJS API): listeners take that.
    const code = err?.code;
    const listeners = code === REVOKE_PARTITIONS ? revoked : code === ASSIGN_PARTITIONS ? assigned : undefined;
    if (listeners === undefined || !Array.isArray(assignment)) return;
    for (const listener of listeners) {
      try {
        listener(assignment);
      } catch {
        // A throw here would stop the client applying the rebalance (it emits inside its callback).
      }
    }
  });
}

export function confluentConsumer(consumer: RunnableConsumer): ConsumerPort {
  const committing = consumer as Partial<OffsetCommitter>;
  const seeking = consumer as Partial<Seeker>;
  const logging = consumer as { logger?: () => { error(message: string): void } };
  const logger = typeof logging.logger === "function" ? () => logging.logger!() : undefined;
  const revoked: PartitionsListener[] = [];
  const assigned: PartitionsListener[] = [];
  const watched = new WeakSet<object>();
  // The last seek asked per partition, numbered: a handler that throws after one must not be sought
  // back to its own record. A handler reads the count only (no key built per record).
  const sought = new Map<string, { readonly offset: string; readonly n: number }>();
  let seeks = 0;
  return {
    client: "confluent",
    // Its autoCommit is set on the consumer (kafkaJS: { autoCommit: false }) and run() refuses it:
    // the wrapper cannot turn it off, nor see it, so it commits only when told the consumer does not.
    ...(typeof committing.commitOffsets === "function" ? { commits: { byDefault: false, runConfig: (config) => config, commit: (records) => committing.commitOffsets!(commitList(records)) } } : {}),
    ...(typeof seeking.seek === "function"
      ? {
          seek(topic: string, partition: number, offset: string) {
            // A partition not assigned now would be sought whenever it is assigned again, from wherever its group then stands.
            const assigned = (consumer as { assignment?: () => readonly TopicPartition[] }).assignment?.();
            if (assigned !== undefined && !assigned.some((a) => a.topic === topic && a.partition === partition)) return;
            sought.set(partitionKey(topic, partition), { offset, n: ++seeks });
            seeking.seek!({ topic, partition, offset });
          },
        }
      : {}),
    clientCommits() {
      // The node-rdkafka consumer's configuration, as the KafkaJS API made it from kafkaJS.autoCommit (librdkafka's default: on).
      const config = (consumer as { _getInternalClient?: () => { globalConfig?: Record<string, unknown> } | null | undefined })._getInternalClient?.()?.globalConfig;
      if (config === undefined) return undefined;
      return config["enable.auto.commit"] !== false && config["enable.auto.commit"] !== "false";
    },
    onRevoke: (listener) => void revoked.push(listener),
    onAssign: (listener) => void assigned.push(listener),
    run(config) {
      // Connected by now: the client's rebalances happen while it runs.
      watchRebalances(consumer, revoked, assigned, watched);
      const { eachMessage, eachBatch } = config;
      const wrapped = { ...config };
      if (eachMessage) {
        wrapped.eachMessage = (payload: EachMessagePayload) => {
          const before = seeks;
          return eachMessage(payload).catch((e: unknown) => {
            const seek = seeks === before ? undefined : sought.get(partitionKey(payload.topic, payload.partition));
            if (seek === undefined || seek.n <= before) return holdOn(payload, e);
            // Rewound during the handler: the client's own seek back to this record would come after
            // that seek and win. Resolved instead; a partition that must wait is paused, then sought again.
            // The client logs a handler's error as it seeks back: so does this, or a handler failing
            // again and again would go unseen.
            logger?.().error(`Consumer encountered error while processing message ${payload.topic}[${payload.partition}]@${payload.message.offset}; kontract sought the partition back to ${seek.offset}, its last commit. Error details: ${e instanceof Error ? e.message : String(e)}`);
            if (isKontractError(e) && !e.retriable) {
              payload.pause();
              seeking.seek!({ topic: payload.topic, partition: payload.partition, offset: seek.offset });
            }
          });
        };
      }
      // A seek marks the batch sought: the client then does not seek back to its first record itself.
      if (eachBatch) wrapped.eachBatch = (payload: EachBatchPayload) => eachBatch(payload).catch((e: unknown) => holdOn(payload, e));
      return consumer.run(wrapped);
    },
  };
}

/** Pauses the partition when retrying cannot help, then throws `e` so the client seeks back to the record. */
function holdOn(payload: { pause(): () => void }, e: unknown): never {
  if (isKontractError(e) && !e.retriable) payload.pause();
  throw e;
}

/** One entry per topic, in order of first appearance; `topicMessages` itself when no topic repeats. */
function mergeTopics(topicMessages: TopicMessages[]): TopicMessages[] {
  const seen = new Set<string>();
  for (const t of topicMessages) {
    if (seen.has(t.topic)) {
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const { topic, messages } of topicMessages) {
        const list = byTopic.get(topic);
        if (list) list.push(...messages);
        else byTopic.set(topic, [...messages]);
      }
      return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    }
    seen.add(t.topic);
  }
  return topicMessages;
}

/** Placements of the merged entries, back in the order of the original ones. */
function unmerge<P>(original: readonly TopicMessages[], merged: readonly TopicMessages[], placed: readonly P[]): P[] {
  const start = new Map<string, number>();
  let slot = 0;
  for (const t of merged) {
    start.set(t.topic, slot);
    slot += t.messages.length;
  }
  const out: P[] = [];
  for (const t of original) {
    const at = start.get(t.topic)!;
    for (let i = 0; i < t.messages.length; i++) out.push(placed[at + i]!);
    start.set(t.topic, at + t.messages.length);
  }
  return out;
}
