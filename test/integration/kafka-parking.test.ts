/**
 * Order-preserving parking against the real broker and registry, once per
 * client: keys A and B; A's 2nd record fails a READ rule with onFailure DLQ,
 * so A's later records are parked while B's all arrive. The park survives a
 * consumer restart (state read back from the park topic) and a second
 * consumer joining the group (a rebalance). Resolving the head (its signed
 * replay handled, or an operator's release) delivers A's parked records in
 * order, before any newer one. Every record sent is counted exactly once:
 * handled, or in the DLQ.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Producer } from "kafkajs";
import { contractConsumer, contractProducer, listParks, releasePark, retryTopics, type ParkedRecord, type RetryOptions } from "../../src/kafka/index.js";
import { connectKafka, readDeadLetters, replayDeadLetters, type KafkaAccess } from "../../src/kafka/dead-letter-tools.js";
import { parkCommand } from "../../src/cli/park.js";
import { headRecord, followerRecord, keyHexOf, valueHashOf } from "../../src/kafka/parking/state.js";
import type { RestRegistry } from "../../src/registry/rest/index.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { clientsUnderTest, createTopics, kafkaFor, register, registryFor, uniqueIdent, withAdmin } from "./kafka-support.js";

const REPLAY_KEY = "a replay key of at least thirty-two bytes!";

let infra: Infra;
before(async () => {
  infra = await ensureInfra();
});

const contract = (ns: string) => ({
  schema: JSON.stringify({ type: "record", name: "Order", namespace: ns, fields: [{ name: "id", type: "string" }, { name: "amount", type: "double" }] }),
  ruleSet: { domainRules: [{ name: "amountPositive", kind: "CONDITION" as const, mode: "READ" as const, type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" }] },
});

/** What the consumers of one test saw: handled ids in order, per consumer, and the parked records. */
interface Seen {
  readonly handled: { id: string; key: string; offset: string; by: string }[];
  readonly parked: (ParkedRecord & { by: string })[];
}

const ids = (seen: Seen, key: string): string[] => seen.handled.filter((h) => h.key === key).map((h) => h.id);

for (const client of clientsUnderTest(() => infra)) {
  describe(`order-preserving parking on ${client.name}`, () => {
    let producer: Producer;
    let access: KafkaAccess;
    let registry: RestRegistry;
    const running: { disconnect(): Promise<void> }[] = [];

    before(async () => {
      // The park topic is read with kafkajs when the client under test has no KafkaAccess of its own.
      access = await connectKafka(client.name === "confluent" ? "confluent" : "kafkajs", infra.brokers);
      registry = registryFor(infra);
      producer = await client.producer();
    });

    after(async () => {
      for (const c of running) await c.disconnect().catch(() => {});
      await producer?.disconnect().catch(() => {});
    });

    async function setup(prefix: string, partitions: number, retry?: RetryOptions) {
      const topic = uniqueName(prefix);
      const extra = retry ? retryTopics(topic, retry) : [];
      await createTopics(kafkaFor(infra), [{ topic, numPartitions: partitions }, ...extra, `${topic}-dlq`, { topic: `${topic}-park`, configEntries: [{ name: "cleanup.policy", value: "compact" }] }]);
      await register(registry, `${topic}-value`, contract(uniqueIdent(prefix)));
      const send = contractProducer(producer, { registry, key: false });
      const sent: string[] = [];
      const sendAll = async (records: readonly [key: string, id: string, amount: number, partition?: number][]) => {
        await send.send({ topic, messages: records.map(([key, id, amount, partition]) => ({ key, value: { id, amount }, ...(partition === undefined ? {} : { partition }) })) });
        for (const [, id] of records) sent.push(id);
      };
      return { topic, groupId: uniqueName(`${prefix}-group`), sendAll, sent };
    }

    /** A parking consumer; `exactlyOnce`: its park writes, dead letters and offsets in one transaction per partition (the Confluent consumer made without its own commits). */
    async function start(topic: string, groupId: string, seen: Seen, by: string, retry?: { options: RetryOptions; fails: (id: string) => boolean }, exactlyOnce = false) {
      const consumer = contractConsumer(client.consumer({ groupId, ...(exactlyOnce ? { autoCommit: false as const } : {}) }), {
        registry,
        key: false,
        dlq: { producer },
        replay: { keys: [REPLAY_KEY] },
        park: { groupId, access, refreshMs: 1_000 },
        onPark: (r) => void seen.parked.push({ ...r, by }),
        ...(retry ? { retry: retry.options } : {}),
        ...(exactlyOnce ? { exactlyOnce: { transactionalId: uniqueName(`${groupId}-txn`), groupId, producer: (id: string) => client.transactionalProducer(id) } } : {}),
      });
      running.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic, ...(retry ? retryTopics(topic, retry.options) : [])], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ key, value, message }) => {
          const id = (value as { id: string }).id;
          if (retry?.fails(id)) throw new Error(`downstream refuses ${id}`);
          seen.handled.push({ id, key: String(key), offset: message.offset, by });
        },
      });
      return consumer;
    }

    it("parks A behind its dead letter while B flows; a restart keeps A parked; the signed replay releases A in order", async () => {
      const { topic, groupId, sendAll, sent } = await setup("park-restart", 1);
      const seen: Seen = { handled: [], parked: [] };
      await sendAll([["A", "A1", 1], ["B", "B1", 1], ["A", "A2", -1], ["B", "B2", 1], ["A", "A3", 1], ["A", "A4", 1], ["B", "B3", 1]]);
      const first = await start(topic, groupId, seen, "first");
      await waitFor(() => ids(seen, "B").length === 3 && seen.parked.length === 3, { timeoutMs: 30_000, what: "B's three records, A's head and two followers parked" });
      assert.deepEqual(ids(seen, "A"), ["A1"]);
      assert.deepEqual(ids(seen, "B"), ["B1", "B2", "B3"]);
      assert.deepEqual(seen.parked.map((p) => [p.offset, p.role, p.episode]), [["2", "head", "2"], ["4", "follower", "2"], ["5", "follower", "2"]]);

      // A restart: the new consumer knows of A's park only from the park topic.
      await first.disconnect();
      await sendAll([["A", "A5", 1], ["B", "B4", 1]]);
      await start(topic, groupId, seen, "second");
      await waitFor(() => ids(seen, "B").length === 4 && seen.parked.length === 4, { timeoutMs: 30_000, what: "B4 handled, A5 parked after the restart" });
      assert.deepEqual(ids(seen, "A"), ["A1"], "A stays parked after the restart");
      assert.deepEqual(seen.parked.at(-1)!.by, "second");
      const [park] = await listParks(access, `${topic}-park`, { group: groupId });
      assert.deepEqual([park?.id, park?.state, park?.followers], [`${topic}/0@2`, "parked", 3]);

      // The head's replay, signed: handled (it skips the rule that dead-lettered it), then its followers, in order.
      assert.equal((await replayDeadLetters(access, `${topic}-dlq`, { replayKey: REPLAY_KEY })).sent, 1);
      await waitFor(() => ids(seen, "A").length === 5, { timeoutMs: 30_000, what: "A2 replayed, then A3, A4, A5" });
      await sendAll([["A", "A6", 1]]);
      await waitFor(() => ids(seen, "A").length === 6, { timeoutMs: 30_000, what: "A6 after the release" });
      assert.deepEqual(ids(seen, "A"), ["A1", "A2", "A3", "A4", "A5", "A6"]);
      assert.deepEqual(await listParks(access, `${topic}-park`, { group: groupId }), [], "the park is gone once released");

      // No loss: every record sent is handled exactly once (A2 through its replay), or is the one dead letter.
      assert.deepEqual(seen.handled.map((h) => h.id).sort(), [...sent].sort());
      assert.equal((await readDeadLetters(access, `${topic}-dlq`)).length, 1);
    });

    it("exactly-once: A's head and followers are parked in the partition's transactions, a restart keeps A parked, and the signed replay releases A in order; nothing twice", async () => {
      const { topic, groupId, sendAll, sent } = await setup("park-eos", 1);
      const seen: Seen = { handled: [], parked: [] };
      await sendAll([["A", "A1", 1], ["B", "B1", 1], ["A", "A2", -1], ["B", "B2", 1], ["A", "A3", 1], ["B", "B3", 1]]);
      const first = await start(topic, groupId, seen, "first", undefined, true);
      await waitFor(() => ids(seen, "B").length === 3 && seen.parked.length === 2, { timeoutMs: 30_000, what: "B's three records, A's head and follower parked (told once committed)" });
      assert.deepEqual(ids(seen, "A"), ["A1"]);
      assert.deepEqual(seen.parked.map((p) => [p.offset, p.role, p.episode]), [["2", "head", "2"], ["4", "follower", "2"]]);
      // Committed with the offsets: a new consumer reads the park from the park topic (read_committed).
      await first.disconnect();
      await sendAll([["A", "A4", 1], ["B", "B4", 1]]);
      await start(topic, groupId, seen, "second", undefined, true);
      await waitFor(() => ids(seen, "B").length === 4 && seen.parked.length === 3, { timeoutMs: 30_000, what: "B4 handled, A4 parked after the restart" });
      assert.deepEqual(ids(seen, "A"), ["A1"], "A stays parked after the restart");
      const [park] = await listParks(access, `${topic}-park`, { group: groupId });
      assert.deepEqual([park?.id, park?.state, park?.followers], [`${topic}/0@2`, "parked", 2]);

      assert.equal((await replayDeadLetters(access, `${topic}-dlq`, { replayKey: REPLAY_KEY })).sent, 1);
      await waitFor(() => ids(seen, "A").length === 4, { timeoutMs: 30_000, what: "A2 replayed, then A3 and A4" });
      assert.deepEqual(ids(seen, "A"), ["A1", "A2", "A3", "A4"]);
      await waitFor(async () => (await listParks(access, `${topic}-park`, { group: groupId })).length === 0, { timeoutMs: 30_000, what: "the park gone once its release commits" });
      assert.deepEqual(seen.handled.map((h) => h.id).sort(), [...sent].sort(), "every record handled once (A2 through its replay)");
      assert.equal((await readDeadLetters(access, `${topic}-dlq`)).length, 1);
    });

    it("a second consumer joining the group keeps A parked; an operator's release delivers A's followers in order", async () => {
      const { topic, groupId, sendAll, sent } = await setup("park-rebalance", 2);
      const seen: Seen = { handled: [], parked: [] };
      // A and C on partition 0, B on partition 1.
      await sendAll([["A", "A1", 1, 0], ["B", "B1", 1, 1], ["A", "A2", -1, 0], ["A", "A3", 1, 0]]);
      const first = await start(topic, groupId, seen, "first");
      await waitFor(() => ids(seen, "B").length === 1 && seen.parked.length === 2, { timeoutMs: 30_000, what: "B1 handled, A2 and A3 parked" });

      // A second consumer joins: the partitions are shared out again. Ticks on both partitions until each consumer has one.
      await start(topic, groupId, seen, "second");
      let tick = 0;
      await waitFor(
        async () => {
          tick++;
          await sendAll([["C", `C${tick}`, 1, 0], ["B", `B${tick + 1}`, 1, 1]]);
          const last = (key: string) => seen.handled.filter((h) => h.key === key).at(-1);
          return last("C") !== undefined && last("B")!.by !== last("C")!.by;
        },
        { timeoutMs: 60_000, intervalMs: 1_000, what: "both consumers own a partition" },
      );
      // Partition 0 must be owned by the consumer that did not park A: if the first kept it, it leaves the group.
      if (seen.handled.filter((h) => h.key === "C").at(-1)!.by === "first") await first.disconnect();
      await sendAll([["A", "A4", 1, 0]]);
      await waitFor(() => seen.parked.length === 3, { timeoutMs: 30_000, what: "A4 parked by partition 0's new owner" });
      assert.equal(seen.parked.at(-1)!.by, "second");
      assert.deepEqual(ids(seen, "A"), ["A1"], "A stays parked across the rebalance");

      // The operator gives up on A2 (it stays in the DLQ) and releases A's followers.
      const { released } = await releasePark(access, `${topic}-park`, groupId, `${topic}/0@1`);
      assert.equal(released.followers, 2);
      // A release is picked up by the owner's next re-read of the park topic, and applied at the partition's next record.
      await waitFor(
        async () => {
          tick++;
          await sendAll([["C", `C${tick}`, 1, 0]]);
          return ids(seen, "A").length === 3;
        },
        { timeoutMs: 60_000, intervalMs: 1_000, what: "A3 and A4 released" },
      );
      await sendAll([["A", "A5", 1, 0]]);
      await waitFor(() => ids(seen, "A").length === 4, { timeoutMs: 30_000, what: "A5 after the release" });
      assert.deepEqual(ids(seen, "A"), ["A1", "A3", "A4", "A5"]);

      // No loss: each record handled, but A2, which is in the DLQ. A rebalance may hand a record that was
      // handled but not yet committed to the new owner (at-least-once): such duplicates are counted, not failed.
      const expected = sent.filter((id) => id !== "A2");
      await waitFor(() => new Set(seen.handled.map((h) => h.id)).size === expected.length, { timeoutMs: 30_000, what: "every tick handled" });
      assert.deepEqual([...new Set(seen.handled.map((h) => h.id))].sort(), expected.sort());
      console.log(`${client.name}: ${seen.handled.length - expected.length} record(s) handled again after the rebalance`);
      assert.deepEqual((await readDeadLetters(access, `${topic}-dlq`)).map((d) => d.origin.offset), ["1"]);
    });

    // Exactly-once: the retry records, park writes and the release by the retry in the transactions; the head in the DLQ resolved by its origin.
    for (const exactlyOnce of [false, true]) {
      it(`retry mode${exactlyOnce ? ", exactly-once" : ""}: A is parked while its head is in a retry topic, released in order when the retry succeeds; a head that ends in the DLQ keeps A parked until replayed`, async () => {
        const retry: RetryOptions = { attempts: 2, backoff: { delayMs: 500 } };
        const { topic, groupId, sendAll, sent } = await setup(exactlyOnce ? "park-retry-eos" : "park-retry", 1, retry);
        const seen: Seen = { handled: [], parked: [] };
        // A2 fails once (a downstream hiccup); A5 fails until "fixed".
        const failures = new Set(["A2"]);
        let a5Broken = true;
        await start(topic, groupId, seen, "only", {
          options: retry,
          fails: (id) => (id === "A5" && a5Broken) || failures.delete(id),
        }, exactlyOnce);
        await sendAll([["A", "A1", 1], ["A", "A2", 1], ["A", "A3", 1], ["B", "B1", 1], ["A", "A4", 1], ["B", "B2", 1]]);
        await waitFor(() => ids(seen, "B").length === 2 && seen.parked.length === 3, { timeoutMs: 30_000, what: "B flows, A2 parked as head (in retry-1), A3 and A4 behind it" });
        assert.deepEqual(seen.parked.map((p) => [p.offset, p.role]), [["1", "head"], ["2", "follower"], ["4", "follower"]]);

        // The retry of A2 succeeds; A3 and A4 are delivered at the partition's next record.
        let tick = 0;
        await waitFor(
          async () => {
            await sendAll([["C", `C${++tick}`, 1]]);
            return ids(seen, "A").length === 4;
          },
          { timeoutMs: 30_000, intervalMs: 500, what: "A2 retried, then A3 and A4" },
        );
        assert.deepEqual(ids(seen, "A"), ["A1", "A2", "A3", "A4"]);

        // A5 fails its retry too and ends in the DLQ: A6 stays parked behind it.
        await sendAll([["A", "A5", 1], ["A", "A6", 1]]);
        await waitFor(async () => (await readDeadLetters(access, `${topic}-dlq`)).length === 1 && seen.parked.length === 5, { timeoutMs: 30_000, what: "A5 in the DLQ after its retry, A6 parked" });
        await sendAll([["C", `C${++tick}`, 1]]);
        await waitFor(() => ids(seen, "C").length === tick, { timeoutMs: 30_000, what: "the ticks flow" });
        assert.deepEqual(ids(seen, "A"), ["A1", "A2", "A3", "A4"], "A6 waits behind A5");
        await waitFor(async () => (await listParks(access, `${topic}-park`, { group: groupId }))[0]?.head?.where === "dlq", { timeoutMs: 10_000, what: "the park's head recorded in the DLQ" });

        // Fixed and replayed: A5, then A6.
        a5Broken = false;
        assert.equal((await replayDeadLetters(access, `${topic}-dlq`, { replayKey: REPLAY_KEY })).sent, 1);
        await waitFor(() => ids(seen, "A").length === 6, { timeoutMs: 30_000, what: "A5 replayed, then A6" });
        assert.deepEqual(ids(seen, "A"), ["A1", "A2", "A3", "A4", "A5", "A6"]);
        assert.deepEqual([...new Set(seen.handled.map((h) => h.id))].sort(), [...sent].sort(), "every record handled");
        assert.equal(seen.handled.length, sent.length, "each once");
      });
    }
  });
}

describe("the kontract park command", () => {
  it("list shows parks without keys or values; release records the operator's release; usage errors name what is wrong", async () => {
    const parkTopic = uniqueName("parkcli");
    await createTopics(kafkaFor(infra), [{ topic: parkTopic, configEntries: [{ name: "cleanup.policy", value: "compact" }] }]);
    const scope = { group: "billing", topic: "orders", partition: 3 };
    const key = keyHexOf(Buffer.from("customer-4711"))!;
    const raw = kafkaFor(infra).producer();
    await raw.connect();
    await raw.send({
      topic: parkTopic,
      messages: [
        headRecord(scope, key, { offset: "41", where: "dlq", dlq: { topic: "orders-dlq", partition: 0, offset: "9" }, valueHash: valueHashOf(Buffer.from("x")), parkedAt: Date.UTC(2026, 0, 2, 3, 4, 5) }),
        followerRecord(scope, "41", { key: Buffer.from("customer-4711"), value: Buffer.from("secret payload"), headers: {}, timestamp: "1", attributes: 0, offset: "44" }),
      ],
    });
    await raw.disconnect();
    const run = async (...args: string[]) => {
      let out = "";
      const code = await parkCommand(args, { stdout: { write: (s: string) => void (out += s) }, cwd: process.cwd(), env: { KONTRACT_BROKERS: infra.brokers.join(",") } });
      return { code, out };
    };
    const listed = await run("list", parkTopic);
    assert.equal(listed.code, 0);
    assert.match(listed.out, /orders\/3@41\s+billing\s+parked\s+1\s+2026-01-02 03:04:05\s+orders-dlq\/0@9/);
    assert.ok(!listed.out.includes("customer-4711") && !listed.out.includes("secret payload"), "no key, no value");
    assert.match((await run("list", parkTopic, "--group", "other")).out, /nothing parked/);

    await assert.rejects(run("release", parkTopic, "orders/3@41"), /give --group/);
    await assert.rejects(run("release", parkTopic, "orders/3@40", "--group", "billing"), /no park orders\/3@40 of group billing/);
    const released = await run("release", parkTopic, "orders/3@41", "--group", "billing", "--json");
    assert.deepEqual(JSON.parse(released.out).released.id, "orders/3@41");
    const after = JSON.parse((await run("list", parkTopic, "--json")).out) as { id: string; state: string }[];
    assert.deepEqual(after.map((p) => [p.id, p.state]), [["orders/3@41", "released"]]);
    await assert.rejects(run("release", parkTopic, "orders/3@41", "--group", "billing"), /already released/);
    // A mistyped park topic is an error, not a new topic.
    const missing = uniqueName("parkcli-missing");
    await assert.rejects(run("list", missing), new RegExp(`no topic ${missing}`));
    assert.equal((await withAdmin(kafkaFor(infra), (admin) => admin.listTopics())).includes(missing), false);
  });
});
