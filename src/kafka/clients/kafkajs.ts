/**
 * kafkajs on the client port: its API is the port's shape, so the adapter only
 * derives per-message placements from kafkajs's per-partition answer (exact
 * with trackingPartitioner(), see placement.ts).
 */
import type { BatchProducer, ConsumerPort, HandledRecord, ProducerPort, RunnableConsumer, TopicMessages, TopicPartition, TransactionalProducerPort } from "../client.js";
import { placeMessages } from "../placement.js";

export function kafkajsProducer(producer: BatchProducer): ProducerPort {
  return {
    client: "kafkajs",
    async write(topicMessages, options) {
      const records = await producer.sendBatch({ ...options, topicMessages });
      return { placements: placeMessages(topicMessages, records), records };
    },
  };
}

/**
 * kafkajs already stops on a non-retriable error from a handler (the consumer
 * crashes with restart: false) and retries a retriable one (`retry`, then
 * `retry.restartOnFailure`): the port's semantics as they are.
 */
export function kafkajsConsumer(consumer: RunnableConsumer): ConsumerPort {
  const events = consumer as Partial<GroupEvents>;
  const committing = consumer as Partial<OffsetCommitter>;
  const seeking = consumer as Partial<Seeker>;
  return {
    client: "kafkajs",
    run: (config) => consumer.run(config),
    ...(typeof seeking.seek === "function" ? { seek: (topic: string, partition: number, offset: string) => seeking.seek!({ topic, partition, offset }) } : {}),
    ...(typeof committing.commitOffsets === "function" ? { commits: { byDefault: true, runConfig: (config) => ({ ...config, autoCommit: false }), commit: (records) => committing.commitOffsets!(commitList(records)) } } : {}),
    ...(typeof events.on === "function" && typeof events.events?.GROUP_JOIN === "string" ? groupJoins((listener) => events.on!(events.events!.GROUP_JOIN, listener), (e) => assignmentOf((e as JoinEvent | undefined)?.payload?.memberAssignment)) : {}),
    ...(typeof events.on === "function" && typeof events.events?.REBALANCING === "string" ? { onRebalancing: (listener: () => void) => void events.on!(events.events!.REBALANCING!, listener) } : {}),
    // kafkajs heartbeats from its runner, after each record and batch, and from the payload's heartbeat.
    rebalancing: (error) => (error as { type?: unknown } | null)?.type === "REBALANCE_IN_PROGRESS",
  };
}

/** kafkajs's GROUP_JOIN event, as far as the port reads it: the member's assignment, partitions per topic. */
interface JoinEvent {
  readonly payload?: { readonly memberAssignment?: Readonly<Record<string, readonly number[]>> };
}

const assignmentOf = (assignment: Readonly<Record<string, readonly number[]>> | undefined): TopicPartition[] =>
  Object.entries(assignment ?? {}).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));

/**
 * The port's onGroupJoin and onAssign on a client event that follows every join (`subscribe`, once,
 * at the first listener): the join listeners first, then the assignment ones with what `assigned`
 * reads from the event, so a listener that forgets at a join never undoes what another starts for
 * the new assignment.
 */
export function groupJoins(subscribe: (listener: (event: unknown) => void) => unknown, assigned: (event: unknown) => readonly TopicPartition[]): Pick<ConsumerPort, "onGroupJoin" | "onAssign"> {
  const joins: (() => void)[] = [];
  const assigns: ((partitions: readonly TopicPartition[]) => void)[] = [];
  let subscribed = false;
  const listen = (): void => {
    if (subscribed) return;
    subscribed = true;
    subscribe((event) => {
      for (const listener of joins) listener();
      if (assigns.length === 0) return;
      const partitions = assigned(event);
      for (const listener of assigns) listener(partitions);
    });
  };
  return {
    onGroupJoin: (listener) => {
      joins.push(listener);
      listen();
    },
    onAssign: (listener) => {
      assigns.push(listener);
      listen();
    },
  };
}

/** kafkajs's and the Confluent client's commitOffsets. */
export interface OffsetCommitter {
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
}

/** kafkajs's and the Confluent client's seek: the partition's next fetch starts at `offset` (kafkajs: records of it still in the batch being handled are not handed over). */
export interface Seeker {
  seek(to: { topic: string; partition: number; offset: string }): void;
}

/** The offsets to commit past `records`, as commitOffsets takes them. */
export const commitList = (records: readonly HandledRecord[]): { topic: string; partition: number; offset: string }[] =>
  records.map((r) => ({ topic: r.topic, partition: r.partition, offset: nextOffset(r.message.offset) }));

/** kafkajs's instrumentation events, as far as the port uses them. */
interface GroupEvents {
  on(event: string, listener: (event: unknown) => void): unknown;
  readonly events: { readonly GROUP_JOIN: string; readonly REBALANCING?: string };
}

/** A kafkajs producer made with `transactionalId` (and `idempotent: true, maxInFlightRequests: 1`). */
export interface KafkajsTransactionalProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  transaction(): Promise<{
    sendBatch(batch: { topicMessages: TopicMessages[]; acks?: number }): Promise<unknown>;
    sendOffsets(offsets: { consumerGroupId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<void>;
    commit(): Promise<void>;
    abort(): Promise<void>;
  }>;
}

/**
 * kafkajs's transactions: its TxnOffsetCommit carries the group id only (no generation), so a
 * zombie is fenced by the transactional id alone (one per partition, see exactly-once.ts).
 */
export function kafkajsTransactional(producer: KafkajsTransactionalProducer): TransactionalProducerPort {
  return {
    client: "kafkajs",
    async connect() {
      await producer.connect();
      // kafkajs registers the id (InitProducerId) at its first transaction, not on connect: an empty
      // one does it now (its abort is local), so a former owner's commit fails from this point on.
      await (await producer.transaction()).abort();
    },
    disconnect: () => producer.disconnect(),
    async begin() {
      const t = await producer.transaction();
      return {
        write: async (topicMessages) => void (await t.sendBatch({ topicMessages, acks: -1 })),
        sendOffset: (group, topic, partition, message) => t.sendOffsets({ consumerGroupId: group.groupId, topics: [{ topic, partitions: [{ partition, offset: nextOffset(message.offset) }] }] }),
        commit: () => t.commit(),
        abort: () => t.abort(),
      };
    },
  };
}

/** The offset a group commits after handling the record at `offset`: the next one to read. */
export const nextOffset = (offset: string): string => (BigInt(offset) + 1n).toString();
