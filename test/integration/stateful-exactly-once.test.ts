/**
 * Exactly-once for stateful rules and the DLQ (docs/stateful.md, "Exactly-once") on the real
 * broker, once per client under test: a partition's records share a transaction until the commit
 * interval, which writes their changelog entries and dead letters and commits the offset past
 * them. What is checked is what a read_committed reader sees: far fewer commits than records; after
 * a failure several records into an open transaction, or a crash between the writes and the commit,
 * nothing of the failed transaction; after the redelivery, each record judged once (a duplicate
 * still a duplicate, a first occurrence not its own duplicate); and a producer fenced by a newer
 * owner of the partition commits nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Producer } from "kafkajs";
import type { Contract, Rule } from "../../src/contract/model.js";
import { changelogTopic, connectKafka, contractConsumer, contractProducer, readTopic, retryTopics, type ConsumedDeadLetter, type KafkaProducer, type RetryOptions } from "../../src/kafka/index.js";
import { isFenced } from "../../src/kafka/errors.js";
import { CHANGELOG_ENTRIES_HEADER } from "../../src/kafka/changelog-journal.js";
import { unpackEntries } from "../../src/kafka/changelog-packed.js";
import { uniqueName, waitFor } from "../helpers/infra.js";
import { accessForFile, clientsUnderTest, testClientNames, createTopics, kafkaFor, register, registryFor, text, uniqueIdent, withAdmin } from "./kafka-support.js";

const rules = (dlq: string): Rule[] => [
  { name: "idUnique", kind: "CONDITION", mode: "READ", type: "STATEFUL_UNIQUE", expr: "message.id", params: { "unique.window": "1h", "dlq.topic": dlq }, onFailure: "DLQ", disabled: true },
];

const contract = (dlq: string): Contract => ({
  schemaType: "JSON",
  schema: JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", title: uniqueIdent("eos"), type: "object", properties: { id: { type: "string" } }, required: ["id"] }),
  ruleSet: { domainRules: rules(dlq) },
});

/** What the test does at a transaction's commit, told the offset the transaction commits (the next to read). */
interface CommitHooks {
  /** Called before the real commit; a throw fails it. */
  beforeCommit?(next: bigint): Promise<void>;
  /** True: the abort that follows does nothing, as if the process had died (the transaction stays open on the broker). */
  skipAbort?(next: bigint): boolean;
  /** Every rejection of a producer or transaction call. */
  rejected?(e: unknown): void;
}

/**
 * The client's producer with the calls kontract's adapters make watched: the offset a transaction
 * commits (kafkajs and Confluent `sendOffsets`, @platformatic/kafka `addOffset`), its commit and
 * abort. Methods run on the real object (platformatic's use private fields).
 */
function watched<T extends object>(target: T, hooks: CommitHooks, state: { next?: bigint } = {}): T {
  const proxy: T = new Proxy(target, {
    get(t, prop) {
      const v = Reflect.get(t, prop, t) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        const run = async (): Promise<unknown> => {
          if (prop === "sendOffsets") state.next = BigInt((args[0] as { topics: { partitions: { offset: string }[] }[] }).topics[0]!.partitions[0]!.offset);
          if (prop === "addOffset") state.next = (args[0] as { offset: bigint }).offset + 1n;
          if (prop === "commit" && state.next !== undefined) await hooks.beforeCommit?.(state.next);
          if (prop === "abort" && state.next !== undefined && hooks.skipAbort?.(state.next)) return undefined;
          const out = await (v as (...a: unknown[]) => unknown).apply(t, args);
          // kafkajs's transaction() and platformatic's beginTransaction() return the transaction; Confluent's, the producer.
          if ((prop === "transaction" || prop === "beginTransaction") && typeof out === "object" && out !== null) return out === t ? proxy : watched(out, hooks, state);
          return out;
        };
        return run().catch((e: unknown) => {
          hooks.rejected?.(e);
          throw e;
        });
      };
    },
  });
  return proxy;
}

const file = accessForFile();

// A partition's first transaction aborted leaves its changelog with no committed record: the restore must end, not wait.
// (The Confluent client's native binding is built for the Node that runs kafkajs and Confluent suites.)
for (const reader of (["kafkajs", "confluent"] as const).filter((c) => testClientNames().includes(c))) {
  it(`readTopic through ${reader} ends on a topic holding only an aborted transaction`, async () => {
    const topic = uniqueName("eos-aborted-only");
    await createTopics(kafkaFor(file.infra), [topic]);
    const writer = kafkaFor(file.infra).producer({ transactionalId: uniqueName("txn"), idempotent: true, maxInFlightRequests: 1 });
    await writer.connect();
    try {
      const t = await writer.transaction();
      await t.send({ topic, messages: [{ key: "k", value: "v" }] });
      await t.abort();
    } finally {
      await writer.disconnect();
    }
    assert.deepEqual(await readTopic(await connectKafka(reader, file.infra.brokers), topic, { idleTimeoutMs: 20_000 }), []);
  });
}

for (const client of clientsUnderTest(() => file.infra)) {
  describe(`exactly-once stateful rules and DLQ on ${client.name}`, () => {
    let producer: Producer;

    before(async () => {
      producer = await client.producer();
    });

    after(async () => {
      await producer?.disconnect();
    });

    async function setup(ids: string[]) {
      const topic = uniqueName(`eos-${client.name}`);
      const dlq = `${topic}.dlq`;
      await createTopics(kafkaFor(file.infra), [topic, dlq]);
      await register(registryFor(file.infra), `${topic}-value`, contract(dlq));
      await contractProducer(producer, { registry: registryFor(file.infra), key: false }).send({ topic, messages: ids.map((id) => ({ value: { id } })) });
      const applicationId = uniqueName("app");
      return { topic, dlq, applicationId, changelog: changelogTopic(applicationId, topic, "idUnique"), group: uniqueName("g"), transactionalId: uniqueName("txn") };
    }

    /** A stateful contract consumer in exactly-once mode; `handle` runs for each record that passed (through eachMessage, or eachBatch). */
    async function start(s: Awaited<ReturnType<typeof setup>>, hooks: CommitHooks, handle: (id: string, offset: string, topic: string) => Promise<void>, dead: ConsumedDeadLetter[], batches = false, commitIntervalMs?: number, retry?: RetryOptions, session?: { sessionTimeout: number; heartbeatInterval: number }) {
      // The Confluent client's own commits are off: offsets move in the transactions only.
      const consumer = contractConsumer(client.consumer({ groupId: s.group, autoCommit: false, ...session }), {
        registry: registryFor(file.infra),
        key: false,
        stateful: { applicationId: s.applicationId, access: file.access, ...(commitIntervalMs === undefined ? {} : { commitIntervalMs }) },
        exactlyOnce: { transactionalId: s.transactionalId, groupId: s.group, producer: (id) => watched(client.transactionalProducer(id) as KafkaProducer & object, hooks) },
        onDeadLetter: (d) => void dead.push(d),
        ...(retry === undefined ? {} : { retry }),
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [s.topic, ...(retry === undefined ? [] : retryTopics(s.topic, retry))], fromBeginning: true });
      if (batches) {
        await consumer.run({
          eachBatch: async ({ messages }) => {
            for (const m of messages) await handle((m.value as { id: string }).id, m.message.offset, s.topic);
          },
        });
      } else {
        await consumer.run({ eachMessage: async ({ topic, value, message }) => handle((value as { id: string }).id, message.offset, topic) });
      }
      return consumer;
    }

    /** Keys (or "dead letter") of the records of `topics` as a read_uncommitted reader sees them, as they come. */
    async function uncommittedReader(topics: string[]) {
      const seen = new Map<string, string[]>(topics.map((t) => [t, []]));
      const reader = kafkaFor(file.infra).consumer({ groupId: uniqueName("uncommitted"), readUncommitted: true, maxWaitTimeInMs: 100 });
      await reader.connect();
      await reader.subscribe({ topics, fromBeginning: true });
      await reader.run({ eachMessage: async ({ topic, message }) => void seen.get(topic)!.push(...entryKeys(message)) });
      await waitFor(async () => (await reader.describeGroup()).state === "Stable", { timeoutMs: 30_000, what: "the uncommitted reader's group" });
      return Object.assign(seen, { stop: () => reader.disconnect() });
    }

    const committed = (group: string, topic: string) =>
      withAdmin(kafkaFor(file.infra), async (admin) => (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions.find((p) => p.partition === 0)!.offset);

    /** Keys of a topic as a read_committed reader sees them (kafkajs's default isolation). */
    const keys = async (topic: string) => (await readTopic(file.access, topic)).flatMap((r) => entryKeys(r.message));

    it("the happy path writes the state, the dead letter and the offsets in the records' transactions", async () => {
      const s = await setup(["a", "b", "a", "c"]);
      const passed: string[] = [];
      const dead: ConsumedDeadLetter[] = [];
      const consumer = await start(s, {}, async (id) => void passed.push(id), dead);
      try {
        await waitFor(async () => (await committed(s.group, s.topic)) === "4", { timeoutMs: 60_000, what: "the group's offset at 4" });
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(passed, ["a", "b", "c"]);
      assert.deepEqual(dead.map((d) => [d.offset, d.rule]), [["2", "idUnique"]]);
      assert.deepEqual(await keys(s.changelog), ["a", "b", "c"]);
      const letters = await readTopic(file.access, s.dlq);
      assert.deepEqual(letters.map((r) => r.message.headers?.["__connect.errors.offset"]?.toString()), ["2"]);
    });

    it("eachBatch: a batch's records in one transaction; the first one failing at its commit leaves nothing visible, and its records come again and are judged once", async () => {
      const s = await setup(["a", "b", "a", "c"]);
      const passed: string[] = [];
      const dead: ConsumedDeadLetter[] = [];
      const commits: bigint[] = [];
      const hooks: CommitHooks = {
        async beforeCommit(next) {
          commits.push(next);
          if (commits.length === 1) throw new Error(`test: crash before committing offset ${next}`);
        },
      };
      const consumer = await start(s, hooks, async (id, offset) => void passed.push(`${id}@${offset}`), dead, true);
      try {
        await waitFor(async () => (await committed(s.group, s.topic)) === "4", { timeoutMs: 90_000, what: "the group's offset at 4" });
      } finally {
        await consumer.disconnect();
      }
      assert.ok(commits.length >= 2, "the failed transaction's records went again in another");
      // The handler runs in the transaction: the aborted batch's records were handed over twice. The duplicate never passed.
      assert.deepEqual([...new Set(passed)].sort(), ["a@0", "b@1", "c@3"]);
      assert.deepEqual(dead.map((d) => [d.offset, d.rule]), [["2", "idUnique"]], "the dead letter is reported once, after its commit");
      assert.deepEqual(await keys(s.changelog), ["a", "b", "c"]);
      const letters = await readTopic(file.access, s.dlq);
      assert.deepEqual(letters.map((r) => r.message.headers?.["__connect.errors.offset"]?.toString()), ["2"]);
    });

    it("eachMessage: the records of a commit interval share one transaction, far fewer commits than records", async () => {
      // 50 keys, 10 of them again (dead letters), and a last one that passes: handled, the rest was.
      const ids = [...Array.from({ length: 60 }, (_, i) => `k${i % 50}`), "last"];
      const s = await setup(ids);
      const passed: string[] = [];
      const dead: ConsumedDeadLetter[] = [];
      let commits = 0;
      // An interval longer than the test: the records wait in one open transaction until disconnect commits it.
      const consumer = await start(s, { beforeCommit: async () => void commits++ }, async (id) => void passed.push(id), dead, false, 600_000);
      try {
        await waitFor(() => passed.includes("last"), { timeoutMs: 60_000, what: "every record handled" });
        assert.equal(commits, 0, "nothing committed before the interval");
        assert.equal(await committed(s.group, s.topic), "-1");
        assert.deepEqual(await keys(s.changelog), [], "a read_committed reader sees nothing of the open transaction");
      } finally {
        await consumer.disconnect();
      }
      assert.equal(commits, 1, "one transaction for the 61 records");
      assert.equal(await committed(s.group, s.topic), "61");
      assert.equal(passed.length, 51);
      assert.deepEqual(dead.map((d) => d.offset), Array.from({ length: 10 }, (_, i) => String(50 + i)));
      assert.equal(new Set(await keys(s.changelog)).size, 51);
      assert.equal((await readTopic(file.access, s.dlq)).length, 10);
    });

    it("a handler failing several records into an open transaction rolls all of them back: none visible to read_committed, each delivered again and judged once", async () => {
      const s = await setup(["a", "b", "a", "c", "d"]);
      const passed: string[] = [];
      const dead: ConsumedDeadLetter[] = [];
      let commits = 0;
      let failed = false;
      const consumer = await start(
        s,
        { beforeCommit: async () => void commits++ },
        async (id, offset) => {
          passed.push(`${id}@${offset}`);
          // c comes after a, b and the duplicate a in the same open transaction.
          if (offset === "3" && !failed) {
            failed = true;
            throw new Error("test: the handler fails on c");
          }
        },
        dead,
        false,
        600_000,
      );
      try {
        await waitFor(() => passed.filter((p) => p === "d@4").length === 1, { timeoutMs: 60_000, what: "d handled" });
        assert.equal(commits, 0);
        assert.deepEqual(await keys(s.changelog), []);
        assert.equal((await readTopic(file.access, s.dlq)).length, 0);
      } finally {
        await consumer.disconnect();
      }
      // a and b were handed over again after the failure (the handler runs in the transaction): the partition went back to offset 0.
      assert.deepEqual(passed, ["a@0", "b@1", "c@3", "a@0", "b@1", "c@3", "d@4"]);
      // The duplicate a was judged a duplicate both times (never a first occurrence), reported once: after the commit.
      assert.deepEqual(dead.map((d) => [d.offset, d.rule]), [["2", "idUnique"]]);
      assert.equal(commits, 1);
      assert.equal(await committed(s.group, s.topic), "5");
      assert.deepEqual(await keys(s.changelog), ["a", "b", "c", "d"]);
      const letters = await readTopic(file.access, s.dlq);
      assert.deepEqual(letters.map((r) => r.message.headers?.["__connect.errors.offset"]?.toString()), ["2"]);
    });

    it("a crash after the changelog and DLQ writes and before the commit leaves nothing visible, and the redelivered records are judged once", async () => {
      // The first commit past the duplicate fails once its writes are on the log and is not aborted (a
      // killed process): the partition's next producer registers the id, which aborts it. The second fails and is aborted.
      const s = await setup(["a", "b", "a", "c"]);
      const passed: string[] = [];
      const dead: ConsumedDeadLetter[] = [];
      // A read_uncommitted reader sees the writes of every transaction, committed or not. It starts once
      // the consumer created the changelog topic (on its first restore).
      let reader: ReturnType<typeof uncommittedReader> | undefined;
      const uncommitted = () => (reader ??= waitFor(() => withAdmin(kafkaFor(file.infra), async (admin) => (await admin.listTopics()).includes(s.changelog)), { timeoutMs: 30_000, what: "the changelog topic" }).then(() => uncommittedReader([s.changelog, s.dlq])));
      // The first two transactions past the duplicate (offset 2), which hold its dead letter, fail.
      let failures = 0;
      const hooks: CommitHooks = {
        async beforeCommit(next) {
          if (next <= 2n || failures === 2) return;
          failures++;
          // The "crash" comes once the transaction's writes are on the log: its dead letter.
          const seen = await uncommitted();
          await waitFor(() => seen.get(s.dlq)!.length === failures, { timeoutMs: 20_000, what: "the transaction's dead letter on the log, uncommitted" });
          throw new Error(`test: crash before commit ${failures}`);
        },
        skipAbort: () => failures === 1,
      };
      // Commits every 300 ms: the records may span several transactions.
      const consumer = await start(s, hooks, async (id) => void passed.push(id), dead, false, 300);
      const seen = await uncommitted().catch(async (e: unknown) => {
        await consumer.disconnect();
        throw e;
      });
      try {
        await waitFor(async () => (await committed(s.group, s.topic)) === "4", { timeoutMs: 90_000, what: "the group's offset at 4" });
        // The two failed transactions' dead letters and the committed one's, all on the log.
        await waitFor(() => seen.get(s.dlq)!.length >= 3, { timeoutMs: 20_000, what: "three dead letters, read uncommitted" });
      } finally {
        await consumer.disconnect();
        await seen.stop();
      }
      assert.equal(failures, 2);
      // The handler runs in the transaction (records after a failure are handed over again); the duplicate never passed.
      assert.deepEqual([...new Set(passed)].sort(), ["a", "b", "c"]);
      // Only the committed dead letter was reported.
      assert.deepEqual(dead.map((d) => d.offset), ["2"]);
      // read_committed: one entry per key, one dead letter, though the failed transactions wrote theirs too.
      assert.deepEqual(await keys(s.changelog), ["a", "b", "c"]);
      assert.equal((await readTopic(file.access, s.dlq)).length, 1);
    });

    it("retry topics: a record whose handler fails goes to its retry topic in the partition's transaction, with its offset, and is handled from there, judged once", async () => {
      const retry = { attempts: 2, backoff: { delayMs: 200 } } as const;
      const s = await setup(["a", "b", "a"]);
      await createTopics(kafkaFor(file.infra), retryTopics(s.topic, retry));
      const passed: string[] = [];
      const dead: ConsumedDeadLetter[] = [];
      const consumer = await start(
        s,
        {},
        async (id, _offset, topic) => {
          passed.push(`${id}@${topic === s.topic ? "main" : "retry"}`);
          if (id === "b" && topic === s.topic) throw new Error("test: b fails on the main topic");
        },
        dead,
        false,
        undefined,
        retry,
      );
      const [retry1] = retryTopics(s.topic, retry);
      try {
        await waitFor(async () => (await committed(s.group, s.topic)) === "3" && (await committed(s.group, retry1!)) === "1", { timeoutMs: 90_000, what: "the main topic's offset at 3, the retry topic's at 1" });
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(passed, ["a@main", "b@main", "b@retry"]);
      // b was judged on its first delivery only: not its own duplicate on the retry topic.
      assert.deepEqual(dead.map((d) => [d.offset, d.rule]), [["2", "idUnique"]]);
      assert.equal((await readTopic(file.access, retry1!)).length, 1, "one retry record, written in the main record's transaction");
      assert.deepEqual(await keys(s.changelog), ["a", "b"]);
      assert.equal((await readTopic(file.access, s.dlq)).length, 1);
    });

    /**
     * Consumer A, whose handler holds the record at offset 1 (x) until released: what it handled
     * (`passed`, prefixed A:), its dead letters and every rejected producer call are recorded.
     */
    async function holdingX(s: Awaited<ReturnType<typeof setup>>, commitIntervalMs?: number, session?: { sessionTimeout: number; heartbeatInterval: number }) {
      const passed: string[] = [];
      const dead: ConsumedDeadLetter[] = [];
      const rejected: unknown[] = [];
      let release: () => void = () => {};
      const held = new Promise<void>((r) => (release = r));
      const a = { passed, dead, rejected, holding: false, release: () => release(), consumer: undefined as unknown as Awaited<ReturnType<typeof start>> };
      a.consumer = await start(
        s,
        { rejected: (e) => void rejected.push(e) },
        async (id, offset) => {
          passed.push(`A:${id}`);
          if (offset === "1" && !a.holding) {
            a.holding = true;
            await held;
          }
        },
        dead,
        false,
        commitIntervalMs,
        undefined,
        session,
      );
      return a;
    }

    it("a producer fenced by a newer owner of the partition's transactional id commits nothing; the group goes on from what was committed", async () => {
      const s = await setup(["a", "x", "y"]);
      // No commit before A's disconnect: a and x are both in its open transaction when the newer owner registers.
      const a = await holdingX(s, 600_000);
      const { passed, dead, rejected, release } = a;
      // A newer owner registers the partition's transactional id (kafkajs's producer: the id is the broker's, whatever the client).
      const owner = kafkaFor(file.infra).producer({ transactionalId: `${s.transactionalId}-${s.topic}-0`, idempotent: true, maxInFlightRequests: 1 });
      try {
        await waitFor(() => a.holding, { timeoutMs: 60_000, what: "A holding x" });
        await owner.connect();
        await (await owner.transaction()).abort();
        release();
        // A's disconnect commits what it handled: fenced.
        await a.consumer.disconnect();
        assert.ok(rejected.some((e) => isFenced(e)), `A's transaction fenced: ${rejected.map(String).join("; ")}; committed ${await committed(s.group, s.topic)}; ${passed.join(",")}`);
        assert.equal(await committed(s.group, s.topic), "-1", "neither a nor x committed");
      } finally {
        release();
        await a.consumer.disconnect().catch(() => undefined);
        await owner.disconnect();
      }
      // B takes over the group where it stands: a, x and y are judged on the state as committed (none).
      const b = await start(s, {}, async (id) => void passed.push(`B:${id}`), dead);
      try {
        await waitFor(async () => (await committed(s.group, s.topic)) === "3", { timeoutMs: 60_000, what: "the group's offset at 3" });
      } finally {
        await b.disconnect();
      }
      assert.deepEqual(dead, []);
      // Each state entry is there once: from B's transactions, not the fenced one.
      assert.deepEqual(await keys(s.changelog), ["a", "x", "y"]);
    });

    // kafkajs heartbeats between records only: a handler that outlasts the session gets its member
    // evicted by the group while it still runs, a zombie. (The other clients heartbeat from a thread or
    // a timer of their own, so a long handler does not evict them.)
    if (client.name === "kafkajs") {
      // kafkajs joins again only once the handler passed on the heartbeat's rebalance error: the
      // wrapper commits the open transactions first, as Kafka Streams commits a revoked task's.
      it("a rebalance while records are handled: the open transaction commits before the consumer joins again, and no record is handled twice", async () => {
        const s = await setup(["a", "b", "c", "d", "e"]);
        const session = { sessionTimeout: 30_000, heartbeatInterval: 500 };
        const handled: string[] = [];
        const dead: ConsumedDeadLetter[] = [];
        const groupState = async () => (await withAdmin(kafkaFor(file.infra), (admin) => admin.describeGroups([s.group]))).groups[0]!.state;
        let b: Promise<Awaited<ReturnType<typeof start>>> | undefined;
        // No commit falls due during the test (600 s): only the one before the rebalance can commit A's records.
        const a = await start(
          s,
          {},
          async (id, offset) => {
            handled.push(`A:${id}@${offset}`);
            if (offset !== "4" || b !== undefined) return;
            // B joins at A's last record; A's handler returns once the group waits for A and a heartbeat is due.
            b = start(s, {}, async (bid, boffset) => void handled.push(`B:${bid}@${boffset}`), dead, false, 600_000, undefined, session);
            await waitFor(async () => (await groupState()) === "PreparingRebalance", { timeoutMs: 30_000, what: "the group rebalancing for B" });
            await new Promise((r) => setTimeout(r, 1_000));
          },
          dead,
          false,
          600_000,
          undefined,
          session,
        );
        try {
          await waitFor(() => b !== undefined, { timeoutMs: 60_000, what: "B started" });
          await b;
          await waitFor(async () => (await committed(s.group, s.topic)) === "5", { timeoutMs: 30_000, what: "A's five records committed" });
          await contractProducer(producer, { registry: registryFor(file.infra), key: false }).send({ topic: s.topic, messages: ["f", "g", "h"].map((id) => ({ value: { id } })) });
          await waitFor(() => handled.length >= 8, { timeoutMs: 60_000, what: "all eight records handled" });
        } finally {
          await (await b)?.disconnect();
          await a.disconnect();
        }
        assert.deepEqual(handled.slice(0, 5), ["A:a@0", "A:b@1", "A:c@2", "A:d@3", "A:e@4"]);
        assert.deepEqual(handled.map((h) => h.split(":")[1]).sort(), ["a@0", "b@1", "c@2", "d@3", "e@4", "f@5", "g@6", "h@7"], `each record handled once: ${handled.join(", ")}`);
        assert.deepEqual(dead, []);
        assert.deepEqual((await keys(s.changelog)).slice(0, 5), ["a", "b", "c", "d", "e"]);
      });

      it("a zombie: a member evicted by its group while its handler runs commits nothing after the new owner took the partition, and does not fence it", async () => {
        const s = await setup(["a", "x", "y", "a"]);
        const session = { sessionTimeout: 6_000, heartbeatInterval: 500 };
        const a = await holdingX(s, undefined, session);
        const { passed, dead, rejected, release } = a;
        let b: Awaited<ReturnType<typeof start>> | undefined;
        try {
          await waitFor(() => a.holding, { timeoutMs: 60_000, what: "A holding x" });
          // B joins; the group waits for A, whose session runs out while x's handler holds it: B takes the partition.
          b = await start(s, {}, async (id) => void passed.push(`B:${id}`), dead, false, undefined, undefined, session);
          await waitFor(async () => (await committed(s.group, s.topic)) === "4", { timeoutMs: 90_000, what: "B committing the partition's four records" });
          assert.ok(passed.includes("B:x") && passed.includes("B:y"), passed.join(","));
          // The zombie's handler ends: what it handled goes to a transaction of the id B registered.
          release();
          await waitFor(() => rejected.some((e) => isFenced(e)), { timeoutMs: 30_000, what: `A's transaction fenced (${rejected.map(String).join("; ")})` });
          // A rejoins its group; whoever owns the partition then, a record written now is committed once.
          await contractProducer(producer, { registry: registryFor(file.infra), key: false }).send({ topic: s.topic, messages: [{ value: { id: "z" } }] });
          await waitFor(async () => (await committed(s.group, s.topic)) === "5", { timeoutMs: 90_000, what: "the group's offset at 5" });
        } finally {
          release();
          await a.consumer.disconnect().catch(() => undefined);
          await b?.disconnect();
        }
        // Each entry once (none from the zombie's transaction), one dead letter: the duplicate a, judged by B.
        assert.deepEqual(await keys(s.changelog), ["a", "x", "y", "z"]);
        const letters = await readTopic(file.access, s.dlq);
        assert.deepEqual(letters.map((r) => r.message.headers?.["__connect.errors.offset"]?.toString()), ["3"]);
      });
    }
  });
}

/** A record's keys: a packed changelog record's entry keys (a window's changelog), else its own key. */
function entryKeys(message: { key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }): string[] {
  const packed = text(message as Parameters<typeof text>[0], CHANGELOG_ENTRIES_HEADER);
  if (packed !== undefined) return unpackEntries(message.value, packed).map(([key]) => key);
  return [message.key?.toString() ?? ""];
}
