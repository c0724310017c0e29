/**
 * Where each message of a send landed. kafkajs answers per partition (base
 * offset), not per message, and picks partitions inside `send`, so the
 * per-message placement is derived: from an explicit `partition`, from a
 * single-partition answer, or from trackingPartitioner(), which remembers the
 * partition kafkajs chose for each message object.
 */
import { Partitioners, type ICustomPartitioner, type Message, type RecordMetadata } from "kafkajs";

const assigned = new WeakMap<object, number>();

/**
 * Wraps a kafkajs partitioner so that send results carry exact partitions and
 * offsets for every message. Pass it when creating the producer:
 * `kafka.producer({ createPartitioner: trackingPartitioner() })`.
 * Default: kafkajs's DefaultPartitioner (Java-compatible murmur2).
 */
export function trackingPartitioner(create: ICustomPartitioner = Partitioners.DefaultPartitioner): ICustomPartitioner {
  return () => {
    const partitioner = create();
    return (args) => {
      const p = partitioner(args);
      // kafkajs hands the partitioner the very message objects given to send (also on retries: last wins).
      assigned.set(args.message, p);
      return p;
    };
  };
}

export interface Placement {
  readonly partition: number | undefined;
  readonly offset: string | undefined;
}

/**
 * Placement of every message, in the order of `topicMessages` then messages,
 * given kafkajs's answer for exactly that send.
 */
export function placeMessages(topicMessages: readonly { topic: string; messages: readonly Message[] }[], records: readonly RecordMetadata[]): Placement[] {
  const byTopic = new Map<string, RecordMetadata[]>();
  for (const r of records) {
    let list = byTopic.get(r.topicName);
    if (!list) byTopic.set(r.topicName, (list = []));
    list.push(r);
  }
  // kafkajs merges entries of the same topic in order before partitioning: count the same way.
  const merged = new Map<string, { message: Message; slot: number }[]>();
  let slot = 0;
  for (const { topic, messages } of topicMessages) {
    let list = merged.get(topic);
    if (!list) merged.set(topic, (list = []));
    for (const message of messages) list.push({ message, slot: slot++ });
  }
  const out: Placement[] = new Array<Placement>(slot);
  for (const [topic, list] of merged) {
    const answers = byTopic.get(topic) ?? [];
    const only = answers.length === 1 ? answers[0]!.partition : undefined;
    const partitions = list.map(({ message }) => assigned.get(message) ?? message.partition ?? only);
    const base = new Map<number, bigint>();
    for (const a of answers) {
      const b = a.baseOffset ?? a.offset;
      if (b !== undefined && b !== null && Number(b) >= 0) base.set(a.partition, BigInt(b));
    }
    // Offsets are positions within each partition's run: only sound when every partition is known.
    const exact = partitions.every((p) => p !== undefined && base.has(p));
    const seen = new Map<number, bigint>();
    list.forEach(({ slot: s }, i) => {
      const partition = partitions[i];
      let offset: string | undefined;
      if (exact && partition !== undefined) {
        const n = seen.get(partition) ?? 0n;
        seen.set(partition, n + 1n);
        offset = (base.get(partition)! + n).toString();
      }
      out[s] = { partition, offset };
    });
  }
  return out;
}
