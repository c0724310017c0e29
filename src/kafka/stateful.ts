/**
 * Durable state for stateful rules (docs/stateful.md), on Kafka itself.
 *
 * Each rule's state in each partition lives in memory (src/engine/stateful)
 * and in a compacted changelog topic per rule, partition for partition, as in
 * Kafka Streams: `<applicationId>-<topic>-<rule>-changelog`. A partition's
 * state is restored from its changelog the first time one of its records
 * arrives, before that record is judged, or at its assignment when its
 * contract has completeness timers (restoreAssigned); its changes are written (acks all)
 * before the wrapper lets the record's offset move. Records delivered again are
 * recognised by their offset (see engine/stateful/types.ts, Moment.offset).
 */
import type { ContractPlan, GroupOutcome, MessageContext, Outcome, StatefulPartition } from "../engine/index.js";
import { CHANGELOG_ENTRIES_HEADER, changelogJournal, isPacked } from "./changelog-journal.js";
import { unpackEntries } from "./changelog-packed.js";
import { writeBounded } from "./bounded-writes.js";
import { referenceTable, type ReferenceTable } from "../engine/index.js";
import { statefulRules, statefulSpec, type StatefulSpec } from "../contract/stateful.js";
import type { ResolvedContract } from "../serde/index.js";
import type { MaybePromise } from "../util/maybe.js";
import { partitionKey, type ConsumedMessage, type ConsumerPort, type OutgoingMessage, type ProducerPort, type TopicMessages, type TopicPartition } from "./client.js";
import type { KafkaProducer } from "./clients/index.js";
import { deadLetterRecord, portOf } from "./dlq.js";
import { READ_COMMITTED, readFromBeginning, readTopic, type KafkaAccess } from "./dead-letter-tools.js";
import { lastText } from "./replay.js";
import { isKontractError, KontractError } from "../errors.js";
import { withGetters } from "../util/getters.js";

export interface StatefulOptions {
  /**
   * Names the changelog topics, as Kafka Streams' application.id: every consumer of one group
   * must use the same one, and no other group may.
   */
  readonly applicationId: string;
  /** Reads the changelog topics on restore and creates them (connectKafka). */
  readonly access: KafkaAccess;
  /**
   * Writes the changelog (acks all): a client's producer, or one on the client port. Not used with
   * the consumer's `exactlyOnce` (its transactional producers write it); required without.
   */
  readonly producer?: KafkaProducer | ProducerPort;
  /** The wall clock (epoch ms) for completeness timers and reference waits. Default Date.now. */
  readonly clock?: () => number;
  /** How often completeness timers are checked, ms. Default 1000. */
  readonly timerIntervalMs?: number;
  /** Told about every completeness group that completed or timed out (the latter after its onFailure ran). */
  readonly onGroup?: (report: GroupReport) => void;
  /** Replication factor of the changelog topics kontract creates. Default: the broker's. */
  readonly replicationFactor?: number;
  /**
   * Who commits the consumer's offsets (at-least-once; docs/stateful.md, "Commits"). "wrapper": kontract,
   * every `commitIntervalMs`, at batch ends where the handler asks (commitOffsetsIfNecessary) and on
   * disconnect, each time after the changelog entries of the records it commits are acknowledged;
   * records are handed over without waiting for their changelog write. "client": the client, as it is
   * configured; the changelog is then written and acknowledged before each record (eachMessage) or
   * batch (eachBatch) is handed over. Default "wrapper" on kafkajs and @platformatic/kafka unless
   * run() is given `autoCommit: false`; "client" on the Confluent client, whose own committing is set on
   * its consumer: give "wrapper" only for a consumer made with `kafkaJS: { autoCommit: false }`.
   */
  readonly commits?: "wrapper" | "client";
  /** How often the wrapper commits ("wrapper" commits), ms. Default 1000; with the consumer's `exactlyOnce`, how often a partition's transaction commits, default 100. */
  readonly commitIntervalMs?: number;
  /**
   * Told of each failure that no record meets: restoring a partition at its assignment (its contract
   * from the registry, its changelogs from the broker), a `state-store` error; a retriable one is
   * tried again with backoff for as long as the partition stays assigned. A throw is ignored.
   */
  readonly onError?: (error: KontractError) => void;
}

export interface GroupReport extends GroupOutcome {
  readonly topic: string;
  readonly partition: number;
  /** The dead-letter topic a timed-out group of a DLQ rule was written to. */
  readonly dlqTopic?: string;
}

/** What the contract consumer tells the stage: where a rule's dead letters go (its dlq option, then the rule's). */
export interface StageContext {
  dlqTopic(sourceTopic: string, ruleTopic: string | undefined): string;
  /**
   * Exactly-once: commits the partition's open transaction (docs/stateful.md, "Exactly-once"), which
   * takes the partition's pending writes (`take`) and tells them committed or aborted. The stage then
   * writes nothing outside transactions: the changes a completeness timer makes go in the next commit
   * of their partition, asked for at once (with no traffic there may be no other).
   */
  commit?(topic: string, partition: number): Promise<void>;
  /**
   * The contract a partition's state was last judged with, as its contract record names it (restore
   * at assignment). Without it, partitions are restored at their first record only.
   */
  contract?(subject: string, identity: ContractIdentity): MaybePromise<ResolvedContract>;
}

/** Which version of a subject: its schema id, and its version where known. */
export interface ContractIdentity {
  readonly id?: number | undefined;
  readonly version?: number | undefined;
}

/** A partition's pending writes for its transaction, and what to do once it committed or aborted. */
export interface Taken {
  readonly topicMessages: TopicMessages[];
  /** Tells onGroup of the groups the writes closed. */
  committed(): void;
  /** Drops the partition's state: its next record restores it as committed. */
  aborted(): void;
}

/** The changelog topic of one rule on one source topic. */
export function changelogTopic(applicationId: string, topic: string, rule: string): string {
  return `${applicationId}-${topic}-${rule}-changelog`;
}

/**
 * The contract records of a source topic: per partition (the source partition's number) and subject
 * (the record key), the identity of the contract whose rules last judged the partition's records
 * (`{"id","version"}`), so that a consumer given the partition restores its state, and starts its
 * completeness timers, before any record (docs/stateful.md, "Restored at assignment"). Compacted.
 * Never a rule's changelog: those end in `-changelog`.
 */
export function contractsTopic(applicationId: string, topic: string): string {
  return `${applicationId}-${topic}-contracts`;
}

export interface StatefulStage {
  /**
   * Judges a record that passed its per-message rules, restoring its partition's state first when
   * this consumer has not seen the partition yet. Undefined when the contract has no stateful rules.
   */
  judge(topic: string, partition: number, message: ConsumedMessage, contract: ResolvedContract, value: unknown): MaybePromise<Outcome | undefined>;
  /**
   * Told the offset of every record of a partition before it is decoded. An offset that does not
   * follow on from the last one (the partition was revoked and reassigned, the client reports no
   * rebalance, and another owner may have changed its state meanwhile) drops the partition's state:
   * its next record restores it from the changelog.
   */
  position(topic: string, partition: number, offset: string): void;
  /** True when state changes wait to be written. */
  readonly dirty: boolean;
  /** How many state changes and completeness writes wait to be written. */
  readonly backlog: number;
  /**
   * Writes the pending state changes, after any write under way (one at a time, so the changelog
   * keeps their order); resolves once the broker acknowledged them, and every change pending when it
   * was called, all.
   */
  flush(): Promise<void>;
  /** Exactly-once: takes the partition's pending changelog entries, dead letters and completions, to write in its transaction. */
  take(topic: string, partition: number): Taken;
  /** Forgets every partition's state (after a rebalance): the next record of each restores it again. */
  forget(): void;
  /**
   * Forgets on every group join of a consumer that reports them (kafkajs, @platformatic/kafka), and
   * the partitions it loses where the client names them (the Confluent client's revocations), so a
   * partition that moved away and back is restored with what its other owner wrote meanwhile, and
   * the timers of a partition that moved away stop here. Restores the partitions it is given whose
   * contract has completeness rules at once (`judges`: of the topics whose records it judges), so
   * their timers run before any record comes.
   */
  watchRebalances(port: ConsumerPort, judges?: (topic: string) => boolean): void;
  /** Restores each of `partitions` whose contract record names a contract with completeness rules, without waiting for a record. */
  assigned(partitions: readonly TopicPartition[]): void;
  /** Stops the timers and the readers of reference topics. */
  close(): Promise<void>;
}

interface Held {
  /** Its key in `held`. */
  readonly id: string;
  /** The contract version whose rules `state` runs (another object of the same version replaces it). */
  contract: ResolvedContract;
  readonly state: StatefulPartition;
  readonly topic: string;
  readonly partition: number;
  /** Settles once the partition's state is restored. */
  restored: Promise<void> | undefined;
  /** A record waits for (or was judged on) it. A restore at assignment that nothing joined stops when its partition is dropped. */
  joined: boolean;
  /** Restored at assignment from its contract record, which then need not be written again. */
  readonly recorded: boolean;
  /** What each of its records is judged with, made once: the engine reads both synchronously, during `run`. */
  readonly context: MessageContext;
  readonly moment: { record: number; now: number; offset: number };
}

export function statefulStage(options: StatefulOptions, context: StageContext): StatefulStage {
  if (options.producer === undefined && context.commit === undefined) throw new KontractError("usage", "stateful.producer is required (it writes the changelog), unless the consumer runs exactlyOnce");
  const port = portOf(options.producer);
  const clock = options.clock ?? Date.now;
  const held = new Map<string, Held>();
  // Dead letters of timed-out groups and completion records: written (acks all) before the changelog
  // entries that close their groups, so a crash in between reports the group again instead of losing it.
  // `from`: the source partition whose state closed the group.
  let outbox: { topic: string; message: OutgoingMessage; from: Held }[] = [];
  // Contract records (contractsTopic) of partitions restored since the last write: written with the
  // changelog entries, in the same call (a crash before it leaves the partition to restore at its
  // first record, or with the version recorded before, which is no loss).
  let marks: { topic: string; message: OutgoingMessage; from: Held }[] = [];
  // Told to onGroup once what the report stands for is durable.
  let reports: GroupReport[] = [];
  // The offset expected next, per topic and partition.
  const positions = new Map<string, number[]>();
  const tables = new Map<string, { table: ReferenceTable; ready: Promise<void>; stop: Promise<() => Promise<void>> }>();
  const created = new Map<string, Promise<void>>();
  // Keys of packed records: unique, so compaction never drops one (random per process, then a counter).
  const packPrefix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-`;
  let packCount = 0;
  // State changes to write, per changelog partition, in order: the rules write them there as they make them.
  const journal = changelogJournal(() => `${packPrefix}${packCount++}`);
  const changesOf = (topic: string, partition: number) => (rule: string, spec: StatefulSpec) => journal.sink(topic, partition, rule, changelogTopic(options.applicationId, topic, rule), spec);
  // Set by close(). A restore under way then stops at its next step, and no reader of a reference topic
  // starts: nothing would stop it, and its connections would keep the process alive.
  let shut = false;
  const stillOpen = (): void => {
    if (shut) throw new KontractError("state-store", "the contract consumer is closed: its stateful rules judge no more records", { retriable: true });
  };
  // A reference topic read as a table, from its beginning and then as it grows, for as long as the stage runs.
  const table = (topic: string): ReferenceTable => {
    let t = tables.get(topic);
    if (t === undefined) {
      t = follow(topic);
      tables.set(topic, t);
    }
    return t.table;
  };

  function follow(topic: string): { table: ReferenceTable; ready: Promise<void>; stop: Promise<() => Promise<void>> } {
    const t = referenceTable();
    // Closed: an empty table that nothing judges against (a restore stops first, see stillOpen).
    if (shut) return { table: t, ready: Promise.resolve(), stop: Promise.resolve(async () => {}) };
    let caughtUp: () => void = () => {};
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    const stop = (async () => {
      const admin = options.access.kafka.admin();
      await admin.connect();
      let ends: Map<number, bigint>;
      try {
        ends = new Map((await admin.fetchTopicOffsets(topic, READ_COMMITTED)).map((p) => [p.partition, BigInt(p.high ?? p.offset ?? "0")]));
      } finally {
        await admin.disconnect();
      }
      const behind = new Set([...ends].filter(([, end]) => end > 0n).map(([p]) => p));
      if (behind.size === 0) caughtUp();
      const consumer = await readFromBeginning(options.access, topic, "kontract-reference", (batch) => {
        for (const m of batch.messages) if (m.key !== null) t.apply(m.key.toString("utf8"), m.value !== null);
        if (behind.has(batch.partition) && BigInt(batch.lastOffset()) >= ends.get(batch.partition)! - 1n) {
          behind.delete(batch.partition);
          if (behind.size === 0) caughtUp();
        }
      });
      return () => consumer.disconnect();
    })();
    return { table: t, ready: Promise.race([ready, stop.then(() => ready)]), stop };
  }

  /** A closed group: its completion record or dead letter goes to the outbox, its report waits for the write. */
  const closed = (h: Held, g: GroupOutcome): void => {
    const { event, outcome } = g;
    let dlqTopic: string | undefined;
    if (event.complete) {
      const topic = g.completionTopic;
      if (topic !== undefined) outbox.push({ topic, from: h, message: { key: event.key, value: JSON.stringify({ rule: g.rule.name, topic: h.topic, partition: h.partition, parent: event.key, expected: event.expected ?? null, arrived: event.arrived }) } });
    } else if (outcome.kind === "failed" && outcome.action === "DLQ") {
      dlqTopic = context.dlqTopic(h.topic, outcome.dlqTopic);
      outbox.push({ topic: dlqTopic, from: h, message: groupDeadLetter(h, g, outcome) });
    }
    reports.push({ ...g, topic: h.topic, partition: h.partition, ...(dlqTopic === undefined ? {} : { dlqTopic }) });
  };

  /** Closes a partition's completeness groups whose time is up (their state changes go to the journal as they are made). */
  const expire = (h: Held, now: number): void => {
    if (h.state.timed) for (const g of h.state.timers(now, h.context)) closed(h, g);
  };

  const report = (list = reports): void => {
    if (list === reports) reports = [];
    for (const r of list) {
      try {
        options.onGroup?.(r);
      } catch {
        // A callback that throws is ignored for that group, as an engine observer is: the timer must go on.
      }
    }
  };

  // Completeness timers fire on the wall clock, traffic or not.
  const timer = setInterval(() => {
    const now = clock();
    const commit = context.commit;
    if (commit === undefined) {
      for (const h of held.values()) if (h.restored === undefined) expire(h, now);
      // Closed groups are written now, not with the next record: with no traffic there may be none.
      // A failed write keeps them pending for the next tick or record.
      if (journal.entries > 0 || outbox.length > 0 || marks.length > 0) void flush().catch(() => undefined);
      return;
    }
    // Exactly-once: the groups a timer closed go in their partition's open transaction, committed now
    // (with no traffic there may be no other commit); an abort drops its state. The changes of records
    // wait for their partition's commit interval.
    const partitions = new Map<string, Held>();
    for (const h of held.values()) {
      if (h.restored !== undefined || !h.state.timed) continue;
      const before = journal.entries + outbox.length;
      expire(h, now);
      if (journal.entries + outbox.length !== before) partitions.set(partitionKey(h.topic, h.partition), h);
    }
    for (const { topic, partition } of partitions.values()) void commit(topic, partition).catch(() => undefined);
  }, options.timerIntervalMs ?? 1000);

  /** Groups entries by topic, in order of first appearance. */
  function byTopic<E>(entries: readonly E[], topicOf: (e: E) => string, messageOf: (e: E) => OutgoingMessage, into: TopicMessages[] = []): TopicMessages[] {
    const lists = new Map<string, OutgoingMessage[]>();
    for (const e of entries) {
      const topic = topicOf(e);
      let list = lists.get(topic);
      if (list === undefined) {
        lists.set(topic, (list = []));
        into.push({ topic, messages: list });
      }
      list.push(messageOf(e));
    }
    return into;
  }

  function drop(topic: string, partition: number): void {
    for (const [id, h] of held) if (h.topic === topic && h.partition === partition) held.delete(id);
  }

  function take(topic: string, partition: number): Taken {
    const mine = (t: string, p: number): boolean => t === topic && p === partition;
    const out = outbox.filter((o) => mine(o.from.topic, o.from.partition));
    const marked = marks.filter((o) => mine(o.from.topic, o.from.partition));
    if (marked.length > 0) marks = marks.filter((o) => !mine(o.from.topic, o.from.partition));
    const told = reports.filter((r) => mine(r.topic, r.partition));
    if (out.length > 0) outbox = outbox.filter((o) => !mine(o.from.topic, o.from.partition));
    if (told.length > 0) reports = reports.filter((r) => !mine(r.topic, r.partition));
    const topicMessages = byTopic(marked.length === 0 ? out : [...out, ...marked], (o) => o.topic, (o) => o.message);
    for (const t of journal.take({ topic, partition }).topicMessages) topicMessages.push(t);
    return { topicMessages, committed: () => report(told), aborted: () => drop(topic, partition) };
  }
  timer.unref();

  // The write under way: flushes run one after the other (see StatefulStage.flush).
  let flushing: Promise<void> = Promise.resolve();
  function flush(): Promise<void> {
    const next = flushing.then(flushPending, flushPending);
    flushing = next.catch(() => undefined);
    return next;
  }

  async function flushPending(): Promise<void> {
    // Exactly-once writes go in transactions (take); nothing is written outside them.
    if (port === undefined) return;
    if (outbox.length > 0) {
      const out = outbox;
      outbox = [];
      try {
        await writeBounded(byTopic(out, (o) => o.topic, (o) => o.message), (calls) => port.write(calls, { acks: -1 }));
      } catch (e) {
        outbox = [...out, ...outbox];
        throw new KontractError("state-store", `writing ${out.length} completion(s) or dead letter(s) of completeness groups failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e, retriable: true });
      }
    }
    if (journal.entries === 0 && marks.length === 0) return report();
    const taken = journal.take();
    const marked = marks;
    marks = [];
    try {
      await writeBounded([...byTopic(marked, (o) => o.topic, (o) => o.message), ...taken.topicMessages], (calls) => port.write(calls, { acks: -1 }));
    } catch (e) {
      // Not written: kept for the next flush, and the record's offset does not move.
      journal.putBack(taken);
      marks = [...marked, ...marks];
      throw new KontractError("state-store", `writing ${taken.entries} state change(s) to the changelog failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e, retriable: true });
    }
    report();
  }

  async function ensureChangelog(plan: ContractPlan, topic: string): Promise<void> {
    const admin = options.access.kafka.admin();
    await admin.connect();
    try {
      const partitions = (await admin.fetchTopicOffsets(topic)).length;
      const topics = statefulRules(plan.contract.ruleSet).map((rule) => {
        let retention: string | undefined;
        try {
          const spec = statefulSpec(rule);
          // Window entries are dropped by retention, not tombstones (engine/stateful/unique.ts); a day of slack.
          if (isPacked(spec)) retention = String(spec.windowMs + 86_400_000);
        } catch {
          // a rule that does not compile fails its messages; its changelog is never written
        }
        const configEntries = retention === undefined ? [{ name: "cleanup.policy", value: "compact" }] : [{ name: "cleanup.policy", value: "compact,delete" }, { name: "retention.ms", value: retention }];
        return { topic: changelogTopic(options.applicationId, topic, rule.name), numPartitions: partitions, ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }), configEntries };
      });
      topics.push({ topic: contractsTopic(options.applicationId, topic), numPartitions: partitions, ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }), configEntries: [{ name: "cleanup.policy", value: "compact" }] });
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  }

  async function restore(h: Held): Promise<void> {
    const plan = h.contract.plan;
    // A restore at assignment that no record joined stops once its partition is dropped (revoked, or
    // another join): its state would be another owner's by the time it was read.
    const wanted = (): void => {
      stillOpen();
      if (!h.joined && held.get(h.id) !== h) throw new Abandoned();
    };
    // This consumer's own changes not yet written must be in the changelog before it is read back.
    // Exactly-once: they wait for their partition's commit; this partition's are applied after the
    // changelog below, and other partitions' belong to theirs.
    wanted();
    if (context.commit === undefined) await flush();
    // Per set of rules: a new contract version may bring a rule whose changelog does not exist yet.
    const key = `${h.topic}\u0000${h.state.rules.map((r) => r.name).join("\u0000")}`;
    let ready = created.get(key);
    if (ready === undefined) {
      ready = ensureChangelog(plan, h.topic);
      created.set(key, ready);
      ready.catch(() => created.delete(key));
    }
    await ready;
    wanted();
    // As a GlobalKTable: the reference tables are read to their end before the first record is judged.
    await Promise.all(referenceTopics(plan).map((topic) => (table(topic), tables.get(topic)!.ready)));
    for (const rule of h.state.rules) {
      wanted();
      const records = await readTopic(options.access, changelogTopic(options.applicationId, h.topic, rule.name));
      for (const { partition, message } of records) {
        if (partition !== h.partition || message.key === null) continue;
        const packed = lastText(message.headers, CHANGELOG_ENTRIES_HEADER);
        if (packed === undefined) h.state.restore(rule.name, message.key.toString("utf8"), message.value === null ? null : message.value.toString("utf8"));
        else for (const [key, value] of unpackEntries(message.value, packed)) h.state.restore(rule.name, key, value);
      }
    }
    wanted();
    // Exactly-once: the changes of the partition's open transaction are not in the changelog yet (a
    // new contract version, a gap in the offsets, dropped the state while it was open): applied after it.
    if (context.commit !== undefined) for (const c of journal.waiting(h.topic, h.partition)) h.state.restore(c.rule, c.key, c.value);
    // The contract whose rules run the partition now, for whoever is given it next (restoreAssigned),
    // written with the changes of the records judged from now on.
    const { subject, id, version } = h.contract;
    if (!h.recorded && (id !== undefined || version !== undefined)) {
      marks.push({ topic: contractsTopic(options.applicationId, h.topic), from: h, message: { key: subject, value: JSON.stringify({ id: id ?? null, version: version ?? null }), partition: h.partition } });
    }
    h.restored = undefined;
  }

  /** A partition's state, held from now on, restoring. `joined`: a record waits for it. */
  function hold(id: string, topic: string, partition: number, contract: ResolvedContract, state: StatefulPartition, joined: boolean, recorded: boolean): Held {
    const h: Held = { id, contract, state, topic, partition, restored: undefined, joined, recorded, context: { topic, isKey: false }, moment: { record: 0, now: 0, offset: -1 } };
    held.set(id, h);
    h.restored = restore(h);
    return h;
  }

  // Restores at assignment (restoreAssigned): the partitions this consumer was given, each with the
  // token of its latest assignment; one that was revoked or given again since is not this restore's.
  const assignments = new Map<string, number>();
  let assignmentCount = 0;
  const retries = new Set<NodeJS.Timeout>();
  const current = (topic: string, partition: number, token: number): boolean => !shut && assignments.get(partitionKey(topic, partition)) === token;

  /**
   * Restores the partitions of `topic` given to this consumer (partition -> assignment token) whose
   * contract record names a contract with completeness rules, so their timers run with no record.
   * A record that comes meanwhile joins the restore (or starts its own, which this one then leaves).
   * Failures are told to onError; retriable ones are tried again with backoff while the partition
   * stays assigned. Nothing is lost meanwhile: the groups stay in the changelog, and the partition's
   * next record restores them.
   */
  async function restoreAssigned(topic: string, tokens: ReadonlyMap<number, number>, attempt: number): Promise<void> {
    const again = new Map<number, number>();
    let failure: unknown;
    try {
      const records = await contractRecords(topic, tokens);
      await Promise.all(
        [...records].map(async ([partition, subjects]) => {
          const token = tokens.get(partition)!;
          for (const [subject, identity] of subjects) {
            try {
              await restoreRecorded(topic, partition, token, subject, identity);
            } catch (e) {
              if (e instanceof Abandoned || !current(topic, partition, token)) continue;
              failure = e;
              if (isRetriable(e)) again.set(partition, token);
              else tell(e, topic, partition, false);
            }
          }
        }),
      );
    } catch (e) {
      failure = e;
      for (const [partition, token] of tokens) if (current(topic, partition, token)) again.set(partition, token);
    }
    if (again.size === 0) return;
    tell(failure, topic, [...again.keys()], true);
    const timer = setTimeout(() => {
      retries.delete(timer);
      void restoreAssigned(topic, again, attempt + 1);
    }, Math.min(RESTORE_BACKOFF_MAX_MS, RESTORE_BACKOFF_MS * 2 ** attempt));
    timer.unref();
    retries.add(timer);
  }

  /** The latest contract record of each subject of each of `partitions` of `topic` (none when the topic has no contract records). */
  async function contractRecords(topic: string, partitions: ReadonlyMap<number, number>): Promise<Map<number, Map<string, ContractIdentity>>> {
    const out = new Map<number, Map<string, ContractIdentity>>();
    const name = contractsTopic(options.applicationId, topic);
    const admin = options.access.kafka.admin();
    await admin.connect();
    let exists: boolean;
    try {
      exists = (await admin.listTopics()).includes(name);
    } finally {
      await admin.disconnect();
    }
    // Written by an older kontract, or not yet: the partitions restore at their first record.
    if (!exists) return out;
    for (const { partition, message } of await readTopic(options.access, name)) {
      if (!partitions.has(partition) || message.key === null) continue;
      let subjects = out.get(partition);
      if (subjects === undefined) out.set(partition, (subjects = new Map()));
      const subject = message.key.toString("utf8");
      const identity = message.value === null ? undefined : contractIdentity(message.value);
      if (identity === undefined) subjects.delete(subject);
      else subjects.set(subject, identity);
    }
    return out;
  }

  async function restoreRecorded(topic: string, partition: number, token: number, subject: string, identity: ContractIdentity): Promise<void> {
    const resolve = context.contract;
    const id = `${partitionKey(topic, partition)}\u0000${subject}`;
    // Held already: a record came first, or the partition was kept (the Confluent client's cooperative protocol).
    if (resolve === undefined || held.has(id) || !current(topic, partition, token)) return;
    let contract: ResolvedContract;
    try {
      const r = resolve(subject, identity);
      contract = r instanceof Promise ? await r : r;
    } catch (e) {
      throw new KontractError("state-store", `restoring ${topic}[${partition}] at its assignment: the contract of ${subject} (${describeIdentity(identity)}) could not be read: ${e instanceof Error ? e.message : String(e)}`, { cause: e, retriable: isRetriable(e) });
    }
    if (held.has(id) || !current(topic, partition, token)) return;
    const state = contract.plan.statefulPartition({ table, changes: changesOf(topic, partition) });
    // Without completeness rules nothing runs without records: the first record restores, as before.
    if (state === undefined || !state.timed) return;
    const h = hold(id, topic, partition, contract, state, false, true);
    try {
      await h.restored;
    } catch (e) {
      if (held.get(id) === h) held.delete(id);
      if (e instanceof Abandoned) throw e;
      throw new KontractError("state-store", `restoring ${topic}[${partition}] at its assignment failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e, retriable: true });
    }
  }

  /** Tells onError of a failed restore at assignment (`retriable`: it is tried again). */
  function tell(e: unknown, topic: string, partitions: number | readonly number[], retriable: boolean): void {
    const error = isKontractError(e) && e.code === "state-store" && e.retriable === retriable ? e : new KontractError("state-store", `restoring ${topic}[${String(partitions)}] at its assignment failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e, retriable });
    try {
      options.onError?.(error);
    } catch {
      // ignored, as onGroup's: the retries go on
    }
  }

  // The key of `held` of the last record judged, most often the next one's too: not built again per record.
  let lastId = { topic: "", partition: -1, subject: "", id: "" };
  const heldId = (topic: string, partition: number, subject: string): string => {
    const l = lastId;
    if (l.partition === partition && l.topic === topic && l.subject === subject) return l.id;
    lastId = { topic, partition, subject, id: `${partitionKey(topic, partition)}\u0000${subject}` };
    return lastId.id;
  };

  /** Judges a record of a restored partition: a clock read if its rules read the clock, and nothing made per record but what the rules make. */
  function run(h: Held, message: ConsumedMessage, value: unknown): MaybePromise<Outcome> {
    if (!h.state.clocked) return judged(h, message, value, 0);
    const now = clock();
    const until = h.state.waitUntil(value, now, now);
    return until === undefined ? judged(h, message, value, now) : waitForReference(h, message, value, now, until);
  }

  function judged(h: Held, message: ConsumedMessage, value: unknown, now: number): Outcome {
    const at = h.moment;
    at.record = Number(message.timestamp);
    at.now = now;
    at.offset = Number(message.offset);
    const outcome = h.state.run(value, h.context, at);
    expire(h, now);
    return outcome;
  }

  /** A record held for a reference table to catch up (first seen at `since`): checked again as time passes (the table fills meanwhile). */
  async function waitForReference(h: Held, message: ConsumedMessage, value: unknown, since: number, until: number): Promise<Outcome> {
    let now = since;
    for (let u: number | undefined = until; u !== undefined; u = h.state.waitUntil(value, since, now)) {
      await new Promise<void>((r) => setTimeout(r, Math.min(u! - now, 100)));
      now = clock();
    }
    return judged(h, message, value, now);
  }

  return withGetters<StatefulStage, "dirty" | "backlog">({
    judge(topic, partition, message, contract, value) {
      const id = heldId(topic, partition, contract.subject);
      let h = held.get(id);
      if (h !== undefined && h.contract !== contract) {
        // The same version resolved another way (by id, by version, as latest): the same rules.
        if (sameVersion(h.contract, contract)) h.contract = contract;
        else {
          // Another contract version (a new latest, or another writer's): its rules take over, on the
          // state rebuilt from the changelog, which `restore` first brings up to date with this one's changes.
          held.delete(id);
          h = undefined;
        }
      }
      if (h === undefined) {
        const state = contract.plan.statefulPartition({ table, changes: changesOf(topic, partition) });
        if (state === undefined) return undefined;
        h = hold(id, topic, partition, contract, state, true, false);
      }
      const hh = h;
      if (hh.restored !== undefined) {
        hh.joined = true;
        return hh.restored.then(
          () => run(hh, message, value),
          (e: unknown) => {
            if (held.get(id) === hh) held.delete(id);
            throw new KontractError("state-store", `restoring the state of ${topic}[${partition}] failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e, retriable: true });
          },
        );
      }
      return run(hh, message, value);
    },
    position(topic, partition, offset) {
      let next = positions.get(topic);
      if (next === undefined) positions.set(topic, (next = []));
      const at = Number(offset);
      const expected = next[partition];
      next[partition] = at + 1;
      if (expected === undefined || expected === at) return;
      // Rare (a rebalance, a record delivered again, a compacted or transactional gap): restoring is always right.
      drop(topic, partition);
    },
    flush,
    take,
    forget() {
      held.clear();
      assignments.clear();
    },
    watchRebalances(port, judges = () => true) {
      port.onGroupJoin?.(() => this.forget());
      port.onRevoke?.((partitions) => {
        for (const { topic, partition } of partitions) {
          drop(topic, partition);
          assignments.delete(partitionKey(topic, partition));
        }
      });
      port.onAssign?.((partitions) => this.assigned(partitions.filter((p) => judges(p.topic))));
    },
    assigned(partitions) {
      if (shut || context.contract === undefined) return;
      const byTopic = new Map<string, Map<number, number>>();
      for (const { topic, partition } of partitions) {
        const key = partitionKey(topic, partition);
        // Told again (the Confluent client tells each rebalance twice): the restore under way is the one.
        if (assignments.has(key)) continue;
        const token = ++assignmentCount;
        assignments.set(key, token);
        // Its records from now on follow the assignment, wherever its committed offset put them:
        // not a gap that would drop the state restored for it (see position).
        const next = positions.get(topic);
        if (next !== undefined) delete next[partition];
        let tokens = byTopic.get(topic);
        if (tokens === undefined) byTopic.set(topic, (tokens = new Map()));
        tokens.set(partition, token);
      }
      for (const [topic, tokens] of byTopic) void restoreAssigned(topic, tokens, 0);
    },
    async close() {
      shut = true;
      clearInterval(timer);
      for (const t of retries) clearTimeout(t);
      retries.clear();
      await Promise.all([...tables.values()].map(async (t) => (await t.stop)()));
      tables.clear();
    },
  }, {
    dirty: () => journal.entries > 0 || outbox.length > 0 || marks.length > 0,
    backlog: () => journal.entries + outbox.length + marks.length,
  });
}

/** How long a failed restore at assignment waits before its next try: doubling from the first, up to the most. */
const RESTORE_BACKOFF_MS = 500;
const RESTORE_BACKOFF_MAX_MS = 30_000;

/** Thrown inside a restore at assignment whose partition was dropped before any record joined it. */
class Abandoned extends Error {}

/** Whether trying again may succeed: a kontract error says; anything else (a broker's) may. */
const isRetriable = (e: unknown): boolean => !isKontractError(e) || e.retriable;

/** Whether two resolutions of a subject are the same version (same schema id, or same version number). */
function sameVersion(a: ResolvedContract, b: ResolvedContract): boolean {
  if (a.subject !== b.subject) return false;
  if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
  return a.version !== undefined && a.version === b.version;
}

/** A contract record's value; undefined when it names nothing this version can read. */
function contractIdentity(value: Buffer): ContractIdentity | undefined {
  try {
    const v = JSON.parse(value.toString("utf8")) as { id?: unknown; version?: unknown };
    const id = Number.isSafeInteger(v.id) ? (v.id as number) : undefined;
    const version = Number.isSafeInteger(v.version) ? (v.version as number) : undefined;
    return id === undefined && version === undefined ? undefined : { id, version };
  } catch {
    return undefined;
  }
}

const describeIdentity = (i: ContractIdentity): string => [i.id === undefined ? "" : `id ${i.id}`, i.version === undefined ? "" : `version ${i.version}`].filter(Boolean).join(", ");

/**
 * The dead letter of a completeness group whose time ran out. There is no record to copy: the value
 * names the parent and what is missing. The parent's key is written only when the (redacted)
 * violation quotes it, so a key over a sensitive field stays out of the DLQ.
 */
function groupDeadLetter(h: Held, g: GroupOutcome, outcome: Extract<Outcome, { kind: "failed" }>): OutgoingMessage {
  const { event } = g;
  const quoted = JSON.stringify(event.key);
  const shown = outcome.violations.some((v) => v.message.includes(quoted));
  const parent = shown ? event.key : "<REDACTED>";
  const value = JSON.stringify({ rule: g.rule.name, parent, expected: event.expected ?? null, arrived: event.arrived, missing: event.expected === undefined ? null : event.expected - event.arrived });
  return deadLetterRecord({ key: shown ? event.key : null, value, headers: undefined, origin: { topic: h.topic, partition: h.partition }, cause: { kind: "rule", outcome } });
}

/** The reference topics a contract's stateful rules read. */
function referenceTopics(plan: ContractPlan): string[] {
  const topics = new Set<string>();
  for (const rule of statefulRules(plan.contract.ruleSet)) {
    try {
      const spec = statefulSpec(rule);
      if (spec.type === "STATEFUL_REFERENCE") topics.add(spec.topic);
    } catch {
      // a rule that does not compile reads nothing
    }
  }
  return [...topics];
}

/**
 * The consumer's `disconnect` and `close` (whichever it has; `methods` are the wrapper's own, which
 * take precedence), each running `before` first (the wrapper's last offset commit, while the consumer
 * is a member of its group) and `closed` (the stateful stage's and the transactions' close) once the consumer is closed.
 */
export function closingWith(consumer: object, methods: object, closed: () => Promise<void>, before?: () => Promise<void>): Record<string, (...args: unknown[]) => Promise<unknown>> {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of ["disconnect", "close"]) {
    const original = (methods as Record<string, unknown>)[name] ?? (consumer as Record<string, unknown>)[name];
    if (typeof original !== "function") continue;
    out[name] = async (...args) => {
      try {
        await before?.();
        return await (original as (...a: unknown[]) => Promise<unknown>).apply(consumer, args);
      } finally {
        await closed();
      }
    };
  }
  return out;
}
