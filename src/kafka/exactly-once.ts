/**
 * Exactly-once for the contract consumer (docs/stateful.md, "Exactly-once"), as Kafka Streams under
 * EOS: a partition's records are handled into an open transaction that spans them until the next
 * commit (every commit interval, at an eachBatch handler's commitOffsetsIfNecessary, on close), which
 * writes their changelog entries, dead letters and completions and commits the offset past the last
 * one, all in one Kafka transaction. Its writes wait in memory until then (the stateful stage's
 * pending changes, the dead letters), so a record costs no broker round trip: the transaction's
 * begin, writes, offsets and commit are made once per commit.
 *
 * When anything fails (a handler, an ERROR rule, a write, the commit), everything since the last
 * commit is dropped (the broker transaction, if one is under way, aborted), the partition's state
 * is dropped with its pending changes (restored as committed at its next record), and the partition
 * is rewound to the first record since that commit: each of them comes again and is judged as if it
 * came once.
 *
 * One transactional producer per consumed partition, with the transactional id
 * `<transactionalId>-<topic>-<partition>`, as Kafka Streams' first exactly-once mode did: the id is
 * stable per partition, so whichever consumer owns the partition registers it (at its first record
 * there), which aborts the previous owner's transaction under way and fences its producer (its
 * commit fails). kafkajs commits offsets in a transaction with the group id only, so on kafkajs this
 * id is the whole fence; the Confluent client and @platformatic/kafka also send the consumer's group
 * generation (KIP-447), so the group coordinator refuses a former owner's offsets too.
 *
 * A partition's work and commits run one after the other; partitions run side by side.
 */
import { partitionKey, type ConsumedMessage, type ConsumerGroup, type TopicMessages, type TransactionPort, type TransactionalProducerPort } from "./client.js";
import { boundedWrites } from "./bounded-writes.js";
import { transactionalPort, type KafkaProducer } from "./clients/index.js";
import { KontractError, isKontractError } from "../errors.js";
import { TransactionError, isFenced } from "./errors.js";
import { nextOffset } from "./clients/kafkajs.js";
import type { Taken } from "./stateful.js";

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

/** How often an open transaction commits under exactly-once by default, ms: Kafka Streams' commit.interval.ms under EOS. */
export const EXACTLY_ONCE_COMMIT_INTERVAL_MS = 100;

export interface TransactionsDeps {
  /** How often every open transaction commits, ms. */
  readonly intervalMs: number;
  /** The partition's state changes and completeness writes, taken at each of its commits (the stateful stage's). */
  readonly take?: (topic: string, partition: number) => Taken;
  /** Delivers the partition again from `offset` (the consumer port's seek). */
  readonly seek?: (topic: string, partition: number, offset: string) => void;
  /** The seek reads every partition again from its committed offset (@platformatic/kafka): the others commit first. */
  readonly seekRewindsAll?: boolean;
}

/** The partition's open transaction, as the work handed to `handle` sees it. */
export interface OpenTransaction {
  /** The record was handled (or dead-lettered): the commit moves the group's position past it. */
  handled(message: ConsumedMessage): void;
  /** Writes to make in the commit (dead letters), and what to tell once it committed. */
  add(topicMessages: TopicMessages[], committed?: () => void): void;
  /** Commits now (an eachBatch handler's commitOffsetsIfNecessary); the records after it open the next. */
  commit(): Promise<void>;
}

export interface Transactions {
  /**
   * Runs `work` for records of the partition, from `first` on, in its open transaction, after the
   * partition's earlier work and commits. When `work` fails, everything since the last commit is
   * dropped and the partition rewound (see above); the work's error is rethrown as it is.
   */
  handle(topic: string, partition: number, first: ConsumedMessage, work: (txn: OpenTransaction) => Promise<void>): Promise<void>;
  /** Commits the partition's open transaction, and its stateful writes, after its work under way. Rejects with a TransactionError when it failed (then rewound). */
  commit(topic: string, partition: number): Promise<void>;
  /** The consumer's group, for TransactionPort.sendOffset. */
  readonly group: ConsumerGroup;
  /**
   * After a rebalance (where the client did not tell before its partitions went, see revoking): every open
   * transaction is dropped, as the partition's new owner would abort it, and its partition rewound;
   * every partition's next transaction starts on a new producer (which fences any other).
   */
  forget(): void;
  /**
   * Before a rebalance takes the partitions away, while this member still owns them (kafkajs, found
   * between records): commits every open transaction, as Kafka Streams commits a revoked task's.
   * Never rejects: a transaction that fails to commit has rewound its partition.
   */
  revoking(): Promise<void>;
  /** Commits what was handled (while the consumer is a member of its group); work that ends from now on commits as it ends. */
  closing(): Promise<void>;
  /** Commits what is left, then disconnects the producers; records delivered from now on are refused. */
  close(): Promise<void>;
}

/** What a partition's open transaction holds: nothing is on the broker until its commit. */
interface Open {
  /** The offset of its first record, where a failure rewinds to. */
  first: string | undefined;
  last: ConsumedMessage | undefined;
  writes: TopicMessages[];
  told: (() => void)[];
}

interface Lane {
  readonly topic: string;
  readonly partition: number;
  producer: Promise<TransactionalProducerPort> | undefined;
  /** Settles when the partition's last work or commit has. */
  tail: Promise<unknown>;
  /** Fenced on kafkajs: no new producer until a rebalance (one would fence the partition's real owner). */
  fenced: boolean;
  open: Open | undefined;
  /**
   * Rewound to this offset: records of the partition the client hands over before it (fetched
   * before the seek took effect) are passed over, to come again after it, in order.
   */
  awaiting: string | undefined;
}

const noop = (): void => {};

export function transactions(options: ExactlyOnceOptions, consumer: object, deps: TransactionsDeps): Transactions {
  const lanes = new Map<string, Lane>();
  const group: ConsumerGroup = { groupId: options.groupId, consumer };
  const retired = new Set<Promise<unknown>>();
  let closed = false;
  let closing = false;

  const retire = (lane: Lane): void => {
    const p = lane.producer;
    lane.producer = undefined;
    if (p === undefined) return;
    const stopping = p.then((port) => port.disconnect()).catch(() => undefined);
    retired.add(stopping);
    void stopping.then(() => retired.delete(stopping));
  };

  const producerOf = (lane: Lane): Promise<TransactionalProducerPort> => {
    if (lane.fenced) return Promise.reject(new TransactionError(lane.topic, lane.partition, true, new Error("this consumer's producer was fenced by a newer owner of the partition; waiting for a rebalance")));
    if (lane.producer === undefined) {
      const made = (async () => {
        const port = transactionalPort(options.producer(`${options.transactionalId}-${lane.topic}-${lane.partition}`));
        try {
          await port.connect();
        } catch (e) {
          await port.disconnect().catch(() => undefined);
          // A usage error (a producer made wrong) stops the consumer as it is.
          throw isKontractError(e) && e.code === "usage" ? e : new TransactionError(lane.topic, lane.partition, isFenced(e), e);
        }
        return port;
      })();
      lane.producer = made;
      made.catch(() => lane.producer === made && (lane.producer = undefined));
    }
    return lane.producer;
  };

  /** After the partition's work and commits: `step`, then the lane's next. */
  function queue<T>(lane: Lane, step: () => Promise<T>): Promise<T> {
    const result = lane.tail.then(step);
    lane.tail = result.catch(noop);
    return result;
  }

  /**
   * Drops everything since the partition's last commit and rewinds it to `from` (when records since
   * then were handed over before the failing one: a failing record alone comes again by itself).
   */
  async function drop(lane: Lane, from: string | undefined, failing: string | undefined): Promise<void> {
    lane.open = undefined;
    deps.take?.(lane.topic, lane.partition).aborted();
    if (from === undefined || from === failing || deps.seek === undefined) return;
    // @platformatic/kafka reads every partition again from its committed offset: the others commit first.
    if (deps.seekRewindsAll) await Promise.all([...lanes.values()].filter((l) => l !== lane && l.open !== undefined).map((l) => commitQueued(l).catch(noop)));
    try {
      deps.seek(lane.topic, lane.partition, from);
      lane.awaiting = from;
    } catch {
      // A consumer no longer connected: it reads from the committed offsets when it runs again.
    }
  }

  /** Commits the lane's open transaction now (the caller is on its tail). */
  async function commitNow(lane: Lane): Promise<void> {
    const open = lane.open;
    lane.open = undefined;
    const taken = deps.take?.(lane.topic, lane.partition);
    const writes = open === undefined ? [] : open.writes;
    if (taken !== undefined) for (const t of taken.topicMessages) writes.push(t);
    if (writes.length === 0 && open?.last === undefined) return taken?.committed();
    let txn: TransactionPort | undefined;
    let port: TransactionalProducerPort | undefined;
    try {
      port = await producerOf(lane);
      txn = await port.begin();
      for (const call of boundedWrites(writes).calls) await txn.write(call);
      if (open?.last !== undefined) await txn.sendOffset(group, lane.topic, lane.partition, open.last);
      await txn.commit();
    } catch (e) {
      const fenced = isFenced(e);
      if (txn !== undefined && !fenced) await txn.abort().catch(() => undefined);
      taken?.aborted();
      // A producer whose transaction failed may be in an error state (kafkajs, librdkafka's abortable
      // and fatal errors): the next transaction starts on a new one, which registers the id again.
      if (lane.producer !== undefined) retire(lane);
      // kafkajs cannot tell the coordinator its generation: a new producer of a fenced consumer could
      // commit offsets of a partition it no longer owns. Its lane waits for the next rebalance.
      if (fenced && port?.client === "kafkajs") lane.fenced = true;
      await drop(lane, open?.first, undefined);
      throw e instanceof TransactionError ? e : new TransactionError(lane.topic, lane.partition, fenced, e);
    }
    taken?.committed();
    if (open === undefined) return;
    for (const tell of open.told) {
      try {
        tell();
      } catch {
        // A report callback that throws after the commit (onDeadLetter, onRetry): nothing is left to redo, and the others are told.
      }
    }
  }

  const commitQueued = (lane: Lane): Promise<void> => queue(lane, () => commitNow(lane));

  const laneOf = (topic: string, partition: number): Lane => {
    const key = partitionKey(topic, partition);
    let lane = lanes.get(key);
    if (lane === undefined) lanes.set(key, (lane = { topic, partition, producer: undefined, tail: Promise.resolve(), fenced: false, open: undefined, awaiting: undefined }));
    return lane;
  };

  /** Commits every open transaction; a failed one has rewound its partition already. */
  const commitOpen = (): Promise<unknown> => Promise.all([...lanes.values()].filter((lane) => lane.open !== undefined).map((lane) => commitQueued(lane).catch(noop)));

  // Every open transaction commits each interval.
  const timer = setInterval(() => void commitOpen(), deps.intervalMs);
  timer.unref();

  return {
    group,
    handle(topic, partition, first, work) {
      // A client that goes on delivering after its consumer was closed (a record retried in place) gets no new producer.
      if (closed) return Promise.reject(new KontractError("usage", `exactlyOnce: the consumer is closed; ${topic}[${partition}] is not handled`));
      const lane = laneOf(topic, partition);
      return queue(lane, async () => {
        if (lane.awaiting !== undefined) {
          if (first.offset !== lane.awaiting) return;
          lane.awaiting = undefined;
        }
        // Where records handled from now on start: the work's first, or past a commit it made.
        let from = first.offset;
        const open = (): Open => (lane.open ??= { first: from, last: undefined, writes: [], told: [] });
        try {
          // The partition's producer registers its id before its first record: a former owner's commit fails from then on.
          await producerOf(lane);
          open();
          await work({
            handled: (message) => void (open().last = message),
            add(topicMessages, committed) {
              const o = open();
              for (const t of topicMessages) o.writes.push(t);
              if (committed !== undefined) o.told.push(committed);
            },
            async commit() {
              const last = lane.open?.last;
              await commitNow(lane);
              if (last !== undefined) from = nextOffset(last.offset);
            },
          });
        } catch (e) {
          // A failed commit has dropped its transaction already.
          await drop(lane, lane.open?.first, first.offset);
          throw e;
        }
        if (closing) await commitNow(lane);
      });
    },
    commit: (topic, partition) => commitQueued(laneOf(topic, partition)),
    forget() {
      for (const lane of lanes.values()) {
        void queue(lane, async () => {
          lane.fenced = false;
          lane.awaiting = undefined;
          retire(lane);
          // @platformatic/kafka reads its assigned partitions from their committed offsets after every join: no rewind.
          await drop(lane, deps.seekRewindsAll ? undefined : lane.open?.first, undefined);
        }).catch(noop);
      }
    },
    async revoking() {
      await commitOpen();
    },
    async closing() {
      closing = true;
      clearInterval(timer);
      await Promise.all([...lanes.values()].map((lane) => commitQueued(lane).catch(noop)));
    },
    async close() {
      await this.closing();
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
