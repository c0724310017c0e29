/**
 * Exactly-once for the contract consumer (docs/stateful.md, "Exactly-once"): each record's (or batch's)
 * changelog entries, dead letters, completions and its offset commit go in one Kafka transaction.
 *
 * One transactional producer per consumed partition, with the transactional id
 * `<transactionalId>-<topic>-<partition>`, as Kafka Streams' first exactly-once mode did: the id is
 * stable per partition, so whichever consumer owns the partition registers it, which aborts the
 * previous owner's open transaction and fences its producer (its commit fails). kafkajs commits
 * offsets in a transaction with the group id only, so on kafkajs this id is the whole fence; the
 * Confluent client and @platformatic/kafka also send the consumer's group generation (KIP-447), so
 * the group coordinator refuses a former owner's offsets too.
 *
 * Transactions of one partition run one after the other (a producer has one open at a time);
 * partitions run side by side.
 */
import type { ConsumerGroup, TransactionPort, TransactionalProducerPort } from "./client.js";
import { transactionalPort, type KafkaProducer } from "./clients/index.js";
import { KontractError } from "../errors.js";
import { TransactionError, isFenced } from "./errors.js";

export interface ExactlyOnceOptions {
  /**
   * Prefix of the transactional ids: partition P of topic T is written by a producer with the id
   * `<transactionalId>-<T>-<P>`. The same for every consumer of the group and across restarts (as
   * Kafka Streams' application.id); no other group may use it.
   */
  readonly transactionalId: string;
  /** The consumer's group id: kafkajs commits offsets in a transaction by group id (its consumers do not tell it). */
  readonly groupId: string;
  /**
   * Makes a producer (not connected) with the given transactional id, of the consumer's client:
   * kafkajs `kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })`, the
   * Confluent client `kafka.producer({ kafkaJS: { transactionalId, idempotent: true } })`,
   * @platformatic/kafka `new Producer({ ..., transactionalId, idempotent: true })`.
   */
  readonly producer: (transactionalId: string) => KafkaProducer;
}

export interface Transactions {
  /**
   * Runs `work` in a transaction of the partition's producer, after the partition's earlier ones:
   * commits when it resolves; aborts and rejects with a TransactionError when anything fails.
   */
  run<T>(topic: string, partition: number, work: (txn: TransactionPort) => Promise<T>): Promise<T>;
  /** The consumer's group, for TransactionPort.sendOffset. */
  readonly group: ConsumerGroup;
  /** After a rebalance: every partition's next transaction starts on a new producer (which fences any other). */
  forget(): void;
  /** Disconnects the producers. */
  close(): Promise<void>;
}

interface Lane {
  producer: Promise<TransactionalProducerPort> | undefined;
  /** Settles when the partition's last transaction has. */
  tail: Promise<unknown>;
  /** Fenced on kafkajs: no new producer until a rebalance (one would fence the partition's real owner). */
  fenced: boolean;
}

export function transactions(options: ExactlyOnceOptions, consumer: object): Transactions {
  const lanes = new Map<string, Lane>();
  const group: ConsumerGroup = { groupId: options.groupId, consumer };
  const retired = new Set<Promise<unknown>>();
  let closed = false;

  const retire = (lane: Lane): void => {
    const p = lane.producer;
    lane.producer = undefined;
    if (p === undefined) return;
    const closing = p.then((port) => port.disconnect()).catch(() => undefined);
    retired.add(closing);
    void closing.then(() => retired.delete(closing));
  };

  const producerOf = (lane: Lane, id: string): Promise<TransactionalProducerPort> => {
    if (lane.producer === undefined) {
      const made = (async () => {
        const port = transactionalPort(options.producer(id));
        try {
          await port.connect();
        } catch (e) {
          await port.disconnect().catch(() => undefined);
          throw e;
        }
        return port;
      })();
      lane.producer = made;
      made.catch(() => lane.producer === made && (lane.producer = undefined));
    }
    return lane.producer;
  };

  async function once<T>(lane: Lane, topic: string, partition: number, work: (txn: TransactionPort) => Promise<T>): Promise<T> {
    if (lane.fenced) throw new TransactionError(topic, partition, true, new Error("this consumer's producer was fenced by a newer owner of the partition; waiting for a rebalance"));
    let txn: TransactionPort | undefined;
    // Which failures are the transaction's (wrapped in a TransactionError) and which are the work's
    // own (a handler error, an ERROR rule: rethrown as they are, after the abort).
    let failure: { error: unknown } | undefined;
    const ours = <R>(p: Promise<R>): Promise<R> =>
      p.catch((error: unknown) => {
        failure = { error };
        throw error;
      });
    try {
      const port = await ours(producerOf(lane, `${options.transactionalId}-${topic}-${partition}`));
      const t = (txn = await ours(port.begin()));
      const out = await work({
        write: (m) => ours(t.write(m)),
        sendOffset: (g, tp, p, m) => ours(t.sendOffset(g, tp, p, m)),
        commit: () => ours(t.commit()),
        abort: () => ours(t.abort()),
      });
      await ours(t.commit());
      return out;
    } catch (e) {
      const fenced = isFenced(failure?.error ?? e);
      if (txn !== undefined && !fenced) await txn.abort().catch(() => undefined);
      if (failure === undefined && !fenced) throw e;
      // A producer whose transaction failed may be in an error state (kafkajs, librdkafka's abortable
      // and fatal errors): the next transaction starts on a new one, which registers the id again.
      const port = lane.producer;
      retire(lane);
      // kafkajs cannot tell the coordinator its generation: a new producer of a fenced consumer could
      // commit offsets of a partition it no longer owns. Its lane waits for the next rebalance.
      if (fenced && (await port?.catch(() => undefined))?.client === "kafkajs") lane.fenced = true;
      throw new TransactionError(topic, partition, fenced, failure?.error ?? e);
    }
  }

  return {
    group,
    run(topic, partition, work) {
      // A client that goes on delivering after its consumer was closed (a record retried in place) gets no new producer.
      if (closed) return Promise.reject(new KontractError("usage", `exactlyOnce: the consumer is closed; ${topic}[${partition}] is not handled`));
      const key = `${topic}\u0000${partition}`;
      let lane = lanes.get(key);
      if (lane === undefined) lanes.set(key, (lane = { producer: undefined, tail: Promise.resolve(), fenced: false }));
      const l = lane;
      const result = l.tail.then(() => once(l, topic, partition, work));
      l.tail = result.catch(() => undefined);
      return result;
    },
    forget() {
      for (const lane of lanes.values()) {
        lane.fenced = false;
        retire(lane);
      }
    },
    async close() {
      closed = true;
      for (const lane of lanes.values()) {
        await lane.tail;
        retire(lane);
      }
      lanes.clear();
      await Promise.all([...retired]);
    },
  };
}
