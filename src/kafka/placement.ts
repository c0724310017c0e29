/**
 * Where each message of a send landed. kafkajs answers per partition (base
 * offset), not per message, and picks partitions inside `send`, so the
 * per-message placement is derived: from an explicit `partition`, from a
 * single-partition answer, or from trackingPartitioner(), which remembers the
 * partition kafkajs chose for each message object.
 */
import type { OutgoingMessage, RecordMetadata } from "./client.js";
import { requireKafkaClient } from "./clients/index.js";

/** kafkajs's partitioner factory (`createPartitioner`), declared here so that kafkajs loads only when used. */
export type PartitionerFactory = () => (args: { topic: string; partitionMetadata: unknown[]; message: OutgoingMessage }) => number;

const assigned = new WeakMap<object, number>();
/** Whether any trackingPartitioner assigned a partition: until then no message is looked up in `assigned` (a WeakMap lookup per message). */
let tracking = false;

/**
 * Wraps a kafkajs partitioner so that send results carry exact partitions and
 * offsets for every message. Pass it when creating the producer:
 * `kafka.producer({ createPartitioner: trackingPartitioner() })`.
 * Default: kafkajs's DefaultPartitioner (Java-compatible murmur2).
 */
export function trackingPartitioner(given?: PartitionerFactory): PartitionerFactory {
  const create = given ?? requireKafkaClient<{ Partitioners: { DefaultPartitioner: PartitionerFactory } }>("kafkajs", "trackingPartitioner()").Partitioners.DefaultPartitioner;
  return () => {
    const partitioner = create();
    return (args) => {
      const p = partitioner(args);
      // kafkajs hands the partitioner the very message objects given to send (also on retries: last wins).
      assigned.set(args.message, p);
      tracking = true;
      return p;
    };
  };
}

export interface Placement {
  readonly partition: number | undefined;
  readonly offset: string | undefined;
}

/** What kafkajs answered for one topic of a send. */
interface TopicAnswer {
  /** The partition when kafkajs answered for exactly one. */
  only: number | undefined;
  answers: number;
  /** Base offset per partition: a number while exact in doubles, a bigint beyond. */
  readonly base: Map<number, number | bigint>;
  /** Messages placed so far per partition (for this topic's merged run), but `only`'s. */
  readonly seen: Map<number, number>;
  /** Messages placed so far in `only`: counted here, as a single-partition send is the common case. */
  onlySeen: number;
  /** False once a message of the topic has no known partition or base offset. */
  exact: boolean;
}

/** Offsets past this stay exact as doubles for any batch kafkajs can send. */
const SAFE_BASE = Number.MAX_SAFE_INTEGER - 2 ** 32;

/**
 * Placement of every message, in the order of `topicMessages` then messages,
 * given kafkajs's answer for exactly that send.
 */
export function placeMessages(topicMessages: readonly { topic: string; messages: readonly OutgoingMessage[] }[], records: readonly RecordMetadata[]): Placement[] {
  const byTopic = new Map<string, TopicAnswer>();
  for (const r of records) {
    let a = byTopic.get(r.topicName);
    if (!a) byTopic.set(r.topicName, (a = { only: undefined, answers: 0, base: new Map(), seen: new Map(), onlySeen: 0, exact: true }));
    a.only = a.answers++ === 0 ? r.partition : undefined;
    const b = r.baseOffset ?? r.offset;
    if (b !== undefined && b !== null && Number(b) >= 0) {
      const n = Number(b);
      a.base.set(r.partition, n <= SAFE_BASE ? n : BigInt(b));
    }
  }
  let total = 0;
  for (const t of topicMessages) total += t.messages.length;

  // First pass: every message's partition, and whether each topic's offsets can be known.
  // Offsets are positions within each partition's run: only sound when every partition is known.
  const partitions = new Array<number | undefined>(total);
  let slot = 0;
  for (const { topic, messages } of topicMessages) {
    const a = byTopic.get(topic);
    for (const message of messages) {
      const p = (tracking ? assigned.get(message) : undefined) ?? message.partition ?? a?.only;
      partitions[slot++] = p;
      if (a && a.exact && (p === undefined || !a.base.has(p))) a.exact = false;
    }
  }

  // Second pass: kafkajs merges entries of the same topic in order before partitioning, so
  // counting per topic and partition across entries, in order, gives each message's offset.
  const out: Placement[] = new Array<Placement>(total);
  slot = 0;
  for (const { topic, messages } of topicMessages) {
    const a = byTopic.get(topic);
    for (let i = 0; i < messages.length; i++, slot++) {
      const partition = partitions[slot];
      let offset: string | undefined;
      if (a !== undefined && a.exact && partition !== undefined) {
        let n: number;
        if (partition === a.only) n = a.onlySeen++;
        else a.seen.set(partition, (n = a.seen.get(partition) ?? 0) + 1);
        const base = a.base.get(partition)!;
        offset = typeof base === "number" ? String(base + n) : (base + BigInt(n)).toString();
      }
      out[slot] = { partition, offset };
    }
  }
  return out;
}
