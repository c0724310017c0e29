/**
 * The contract consumer's own offset commits for stateful rules at-least-once (docs/stateful.md,
 * "Commits"), as Kafka Streams commits: records are handed over without waiting for the changelog
 * entries they produced, which are sent one write after another; at each commit (every interval,
 * when the handler asks at a batch end, on disconnect) the changelog is flushed, and only once it
 * is acknowledged are the offsets of the records handled before the flush committed. So no offset
 * moves past a record whose state change is not durable, and a crash redelivers at most the records
 * handled since the last commit, which the state recognises by their offsets.
 */
import { partitionKey, type CommitControl, type ConsumedMessage, type HandledRecord } from "./client.js";

export interface CommitterDeps {
  /** Resolves once every state change pending when it was called is acknowledged; rejects when a write failed. */
  flush(): Promise<void>;
  /** True when state changes wait to be written. */
  dirty(): boolean;
  /** How many state changes wait to be written. */
  backlog(): number;
  readonly commit: CommitControl["commit"];
  /** How often to commit, ms. */
  readonly intervalMs: number;
  /** Past this many waiting changes, the next record waits for the changelog. Default 100,000. */
  readonly maxBacklog?: number;
  /** How long an offset commit may take before it counts as failed (its offsets are committed later), ms. Default 30,000. */
  readonly commitTimeoutMs?: number;
}

export interface Committer {
  /** The record was handled or dead-lettered: its offset is committed once the state changes made so far are durable. */
  handled(topic: string, partition: number, message: ConsumedMessage): void;
  /**
   * Before a record or batch is handed over: undefined, or a write of the changelog to wait for, when
   * the last one failed or too many changes wait (backpressure). It rejects with the write's error, so
   * the record is not handed over and the client delivers it again.
   */
  ready(): Promise<void> | undefined;
  /**
   * After a record or batch: starts writing the waiting changes unless a write is under way, and
   * returns undefined. Once closing, returns the commit to wait for before the handler returns: a
   * client that leaves its group after the records being handled (kafkajs) is still a member then.
   * That commit never rejects (a failed one leaves its records to be delivered again).
   */
  after(): Promise<void> | undefined;
  /** Flushes the changelog, then commits the records handled before the call. One at a time; calls meanwhile share the next. */
  commit(): Promise<void>;
  /** After a rebalance: records handled and not committed yet are not committed (their partition may be another's now). */
  forget(): void;
  /**
   * Before a rebalance takes the partitions away, while this member still owns them (a Java
   * consumer's onPartitionsRevoked): flushes the changelog and commits every record handled so far,
   * then forgets them, as forget() does. Never rejects: a failed commit leaves its records to be
   * delivered again, as a rebalance without it would.
   */
  revoking(): Promise<void>;
  /** Stops the interval, then commits what was handled; records handled from now on commit as they end (after). */
  close(): Promise<void>;
}

const noop = (): void => {};

export function committer(deps: CommitterDeps): Committer {
  const maxBacklog = deps.maxBacklog ?? 100_000;
  const commitTimeoutMs = deps.commitTimeoutMs ?? 30_000;
  // The last record handled per partition (a slot per partition, its message replaced per record),
  // and the offset last committed past.
  const latest = new Map<string, { readonly topic: string; readonly partition: number; message: ConsumedMessage }>();
  // The slot of the last record handled, most often the next one's too: no key built per record.
  let lastSlot: { readonly topic: string; readonly partition: number; message: ConsumedMessage } | undefined;
  const committed = new Map<string, string>();
  // Bumped by forget(): a commit begun before a rebalance commits nothing after it.
  let epoch = 0;
  let failed = false;
  let sending: Promise<void> | undefined;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let closing = false;

  const flush = (): Promise<void> =>
    deps.flush().then(
      () => void (failed = false),
      (e: unknown) => {
        failed = true;
        throw e;
      },
    );

  const withTimeout = (p: Promise<void>): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`offset commit took over ${commitTimeoutMs} ms`)), commitTimeoutMs)));
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  };

  async function commitNow(at: number, records: HandledRecord[]): Promise<void> {
    // Every state change of `records` was made before they were handled: pending or under way now.
    await flush();
    if (at !== epoch || records.length === 0) return;
    await withTimeout(deps.commit(records));
    // A rebalance meanwhile forgot what was committed: none of it is known as committed after it.
    if (at === epoch) for (const r of records) committed.set(partitionKey(r.topic, r.partition), r.message.offset);
  }

  /** The records handled since their partition's last commit: a copy of each slot. */
  function uncommitted(): HandledRecord[] {
    const records: HandledRecord[] = [];
    for (const { topic, partition, message } of latest.values()) if (committed.get(partitionKey(topic, partition)) !== message.offset) records.push({ topic, partition, message });
    return records;
  }

  function forget(): void {
    epoch++;
    latest.clear();
    lastSlot = undefined;
    committed.clear();
  }

  function start(): Promise<void> {
    // Records handled from now on are the next commit's.
    const p = commitNow(epoch, uncommitted());
    running = p;
    const done = (): void => {
      if (running === p) running = undefined;
    };
    p.then(done, done);
    return p;
  }

  const commit = (): Promise<void> => {
    if (queued !== undefined) return queued;
    if (running === undefined) return start();
    const next = running.then(noop, noop).then(() => {
      queued = undefined;
      return start();
    });
    queued = next;
    return next;
  };

  // A failed timed commit is tried again at the next tick; a failed flush also holds the next record (ready).
  const timer = setInterval(() => void commit().catch(noop), deps.intervalMs);
  timer.unref();

  return {
    handled(topic, partition, message) {
      let slot = lastSlot;
      if (slot === undefined || slot.partition !== partition || slot.topic !== topic) {
        const k = partitionKey(topic, partition);
        slot = latest.get(k);
        if (slot === undefined) latest.set(k, (slot = { topic, partition, message }));
        lastSlot = slot;
      }
      slot.message = message;
    },
    ready() {
      return failed || deps.backlog() > maxBacklog ? flush() : undefined;
    },
    after() {
      if (closing) return commit().catch(noop);
      if (sending !== undefined || !deps.dirty()) return undefined;
      const s = flush().catch(noop);
      sending = s;
      void s.then(() => {
        if (sending === s) sending = undefined;
      });
      return undefined;
    },
    commit,
    forget,
    async revoking() {
      const records = uncommitted();
      forget();
      if (records.length === 0) return;
      try {
        // Behind a commit under way, whose offsets are older: the last commit to land is the newest.
        await running?.catch(noop);
        await flush();
        await withTimeout(deps.commit(records));
      } catch {
        // Delivered again to whoever owns the partition next.
      }
    },
    async close() {
      closing = true;
      clearInterval(timer);
      await commit();
    },
  };
}
