/**
 * The client port: what the contract producer, the contract consumer and the
 * DLQ sender need from a Kafka client, and nothing more.
 *
 * Produce: write a batch of topic messages (key, value, headers, partition,
 * timestamp) and learn where each one landed. Consume: run a handler per
 * record (eachMessage) or per fetched batch (eachBatch), with offsets moving
 * only past what the handler finished (resolveOffset), and a way to hold a
 * partition (pause) when a record must not be skipped.
 *
 * The shapes are kafkajs's, declared here so that no client's types or code
 * are needed to use kontract: kafkajs and the KafkaJS API of
 * @confluentinc/kafka-javascript take and give them as they are; an adapter
 * (src/kafka/clients/) maps each client's differences onto them
 * (@platformatic/kafka's: a stream of messages, run through the handlers). Which adapter
 * applies is told by the object given (see producerPort / consumerPort).
 */
import type { Placement } from "./placement.js";

/** The Kafka clients kontract runs on, by npm package. */
export const KAFKA_CLIENTS = {
  kafkajs: "kafkajs",
  confluent: "@confluentinc/kafka-javascript",
  platformatic: "@platformatic/kafka",
} as const;

export type KafkaClientName = keyof typeof KAFKA_CLIENTS;

/** Record headers: a value per name, several for a repeated header. */
export interface RecordHeaders {
  [name: string]: Buffer | string | (Buffer | string)[] | undefined;
}

/** A record to write, its key and value already bytes. */
export interface OutgoingMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: RecordHeaders;
  timestamp?: string;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/** The broker's answer for one partition of a write (kafkajs's RecordMetadata). */
export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  offset?: string;
  timestamp?: string;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
}

/** Per-call write options where the client takes them per call (kafkajs); others configure them on the producer. */
export interface WriteOptions {
  acks?: number;
  timeout?: number;
  compression?: number;
}

/** A kafkajs-shaped producer: kafkajs's, or the KafkaJS API of @confluentinc/kafka-javascript. */
export interface BatchProducer {
  sendBatch(batch: { topicMessages?: TopicMessages[] } & WriteOptions): Promise<RecordMetadata[]>;
}

/** What a write resolves to: where each message landed, in call order, and the client's answer. */
export interface Written {
  readonly placements: readonly Placement[];
  readonly records: RecordMetadata[];
}

/** The producer side of the port. */
export interface ProducerPort {
  readonly client: KafkaClientName;
  /**
   * Writes every message in one call; rejects when any write failed (then
   * some may have been written). Messages of a topic keep their order per
   * partition. The message objects are the adapter's to change.
   */
  write(topicMessages: TopicMessages[], options: WriteOptions): Promise<Written>;
}

/** One partition of one topic. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A topic and partition as one Map key (no topic name holds a NUL). */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** A consumed record (kafkajs's KafkaMessage). `headers` may be missing (Confluent: a record without any). */
export interface ConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  attributes: number;
  offset: string;
  headers?: RecordHeaders;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: ConsumedMessage;
  heartbeat(): Promise<void>;
  /** Holds this partition: nothing more of it is fetched until resumed. Returns the resume function. */
  pause(): () => void;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: ConsumedMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

export interface EachBatchPayload {
  batch: Batch;
  /** Marks the batch's records up to this offset processed: the next commit covers them. */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(offsets?: unknown): Promise<void>;
  uncommittedOffsets(): unknown;
  isRunning(): boolean;
  isStale(): boolean;
}

/**
 * The options of `run` the port knows; each client's own options pass through
 * untouched. Handlers in method syntax: a client's own payload types (kafkajs's
 * KafkaMessage is a union) are then accepted where they overlap the port's.
 */
export interface RunConfig {
  eachMessage?(payload: EachMessagePayload): Promise<void>;
  eachBatch?(payload: EachBatchPayload): Promise<void>;
  eachBatchAutoResolve?: boolean;
  [option: string]: unknown;
}

/** A kafkajs-shaped consumer: kafkajs's, or the KafkaJS API of @confluentinc/kafka-javascript. */
export interface RunnableConsumer {
  run(config: RunConfig): Promise<void>;
}

/** The consumer side of the port. */
export interface ConsumerPort {
  readonly client: KafkaClientName;
  /**
   * Runs the handlers. A handler that throws leaves its record uncommitted:
   * the client reads it again, retrying, or stops at it when the error is a
   * non-retriable kontract error (a rule with onFailure ERROR and onError
   * "stop", a DLQ write that cannot succeed).
   */
  run(config: RunConfig): Promise<void>;
  /**
   * Calls `listener` each time the consumer joins its group again, when its
   * partitions may have moved (kafkajs GROUP_JOIN, @platformatic/kafka's
   * `consumer:group:join`). Absent where the client does not tell: the
   * Confluent client's KafkaJS API, which reports no rebalance to a consumer
   * it did not create (its adapter tells revocations instead: onRevoke).
   */
  onGroupJoin?(listener: () => void): void;
  /**
   * Where the wrapper can commit offsets itself instead of the client (stateful consumers,
   * docs/stateful.md "Commits"). Absent where it cannot.
   */
  readonly commits?: CommitControl;
  /**
   * Calls `listener` with the partitions this consumer is losing, when the client revokes them in a
   * rebalance, before it goes on with its new assignment (the Confluent client's KafkaJS API:
   * librdkafka's rebalance callback). Absent where the client does not tell (kafkajs,
   * @platformatic/kafka: their group joins say that partitions may have moved, not which).
   */
  onRevoke?(listener: (partitions: readonly TopicPartition[]) => void): void;
  /**
   * Whether an error from the payload's `heartbeat` says that the group is rebalancing: this member
   * still owns its partitions, under its generation, until it joins again, which the client does
   * once the handler passes the error on (kafkajs: REBALANCE_IN_PROGRESS). The wrapper's commits ask
   * after each record and commit before passing it on. Absent where the client heartbeats on its own.
   */
  rebalancing?(error: unknown): boolean;
  /**
   * Calls `listener` when the client finds, between records, that its group is rebalancing, just
   * before it joins again (kafkajs's REBALANCING event); the listener cannot hold the join up. Absent
   * where the client does not tell.
   */
  onRebalancing?(listener: () => void): void;
  /**
   * Calls `listener` with the partitions the group gives this consumer at a rebalance, before their
   * records are handed over, and after the onGroupJoin and onRevoke listeners of the same rebalance:
   * kafkajs's GROUP_JOIN (its member assignment) and @platformatic/kafka's `consumer:group:join` (its
   * assignments) tell the whole assignment; the Confluent client's KafkaJS API (librdkafka's rebalance
   * callback, as onRevoke) the whole one under the eager protocol, the partitions added under the
   * cooperative one. A partition may be told again. Absent where the client does not tell.
   */
  onAssign?(listener: (partitions: readonly TopicPartition[]) => void): void;
  /**
   * Delivers the partition's records again from `offset`, the next record of it handed over being
   * that one (exactly-once: after an abort, every record since the last commit comes again). kafkajs
   * and the Confluent client: the consumer's `seek` (the Confluent adapter then leaves out its own seek
   * back to a record whose handler threw, which would come after it); @platformatic/kafka: its
   * stream is opened again from the group's committed offsets, every partition's (`seekRewindsAll`).
   */
  seek?(topic: string, partition: number, offset: string): void;
  /** The seek reads every partition again from its committed offset (@platformatic/kafka). */
  readonly seekRewindsAll?: boolean;
  /**
   * Whether the client commits offsets itself as configured on the consumer, out of the wrapper's
   * reach (the Confluent client's `kafkaJS: { autoCommit }`, read once it is connected); undefined
   * where the wrapper sets it in `run` or cannot tell.
   */
  clientCommits?(): boolean | undefined;
  /**
   * Methods the wrapped consumer adds or replaces, for a client that lacks
   * what the port needs (@platformatic/kafka: paused/resume, a close that
   * stops the run first).
   */
  readonly methods?: Readonly<Record<string, (...args: never[]) => unknown>>;
}

/** A record whose offset the wrapper commits: the group's position moves past it. */
export interface HandledRecord {
  readonly topic: string;
  readonly partition: number;
  readonly message: ConsumedMessage;
}

/** The wrapper's own offset commits on a client. */
export interface CommitControl {
  /**
   * Whether the wrapper commits by default: false where the client's own committing is set on the
   * consumer, out of the wrapper's sight (the Confluent client's `kafkaJS: { autoCommit }`).
   */
  readonly byDefault: boolean;
  /** `config` with the client's own committing turned off (where `run` sets it). */
  runConfig(config: RunConfig): RunConfig;
  /** Commits, for the consumer's group, the position past each record (its offset + 1). */
  commit(records: readonly HandledRecord[]): Promise<void>;
}

/**
 * One open transaction of a transactional producer (exactly-once, docs/stateful.md): its writes,
 * the consumed offsets it commits for the consumer's group, then commit or abort. Nothing it wrote
 * is seen by a read_committed reader until commit; after abort, never.
 */
export interface TransactionPort {
  /** Writes in the transaction; resolves once the broker acknowledged them. */
  write(topicMessages: TopicMessages[]): Promise<void>;
  /**
   * Commits, in the transaction, the consumer's position past `message` of `topic`/`partition`
   * (its offset + 1). `group` is the consumer's: kafkajs takes the group id, the Confluent client
   * and @platformatic/kafka the consumer (whose group generation lets the coordinator refuse a
   * member that is no longer the partition's owner, KIP-447).
   */
  sendOffset(group: ConsumerGroup, topic: string, partition: number, message: ConsumedMessage): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** The consumer whose offsets a transaction commits, and its group id (kafkajs's consumers do not tell it). */
export interface ConsumerGroup {
  readonly groupId: string;
  readonly consumer: object;
}

/** A transactional producer on the client port: one transaction at a time. */
export interface TransactionalProducerPort {
  readonly client: KafkaClientName;
  /** Connects and registers the transactional id (fencing any earlier producer with the same id). */
  connect(): Promise<void>;
  begin(): Promise<TransactionPort>;
  disconnect(): Promise<void>;
}
