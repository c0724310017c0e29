/**
 * The wrapper's own commits for stateful rules at-least-once (docs/stateful.md, "Commits"), on the
 * real broker, once per client: records are handed over without waiting for their changelog write,
 * and the group's offset never moves past a record whose state change is not acknowledged: a
 * changelog write that stalls holds the offset; one that fails holds the offset and the next records,
 * and once it succeeds every entry is in the changelog and the offset moves. The Confluent client's
 * consumer is made with `kafkaJS: { autoCommit: false }` and `stateful.commits: "wrapper"`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Producer } from "kafkajs";
import type { Contract } from "../../src/contract/model.js";
import { changelogTopic, contractConsumer, contractProducer, producerPort, type KafkaProducer } from "../../src/kafka/index.js";
import type { ProducerPort } from "../../src/kafka/client.js";
import { CHANGELOG_ENTRIES_HEADER } from "../../src/kafka/changelog-journal.js";
import { unpackEntries } from "../../src/kafka/changelog-packed.js";
import { uniqueName, waitFor } from "../helpers/infra.js";
import { accessForFile, clientsUnderTest, createTopics, kafkaFor, readAll, register, registryFor, uniqueIdent, withAdmin } from "./kafka-support.js";

const setup = accessForFile();

const contract = (dlq: string): Contract => ({
  schemaType: "JSON",
  schema: JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", title: uniqueIdent("commits"), type: "object", properties: { id: { type: "string" } }, required: ["id"] }),
  ruleSet: {
    domainRules: [{ name: "idUnique", kind: "CONDITION", mode: "READ", type: "STATEFUL_UNIQUE", expr: "message.id", params: { "unique.window": "1h", "dlq.topic": dlq }, onFailure: "DLQ", disabled: true }],
  },
});

/** A changelog producer the test holds: writes wait while `stalled`, and fail while `failing`. */
function heldProducer(real: ProducerPort) {
  let release: () => void = () => {};
  let stalled: Promise<void> | undefined;
  const state = {
    attempts: 0,
    failing: false,
    stall() {
      stalled = new Promise<void>((r) => (release = r));
    },
    release() {
      stalled = undefined;
      release();
    },
  };
  const port: ProducerPort = {
    client: real.client,
    async write(topicMessages, options) {
      state.attempts++;
      if (stalled) await stalled;
      if (state.failing) throw Object.assign(new Error("changelog broker said no"), { retriable: true });
      return real.write(topicMessages, options);
    },
  };
  return { port, state };
}

for (const client of clientsUnderTest(() => setup.infra)) {
  describe(`wrapper commits of stateful rules on ${client.name}`, () => {
    let producer: Producer;

    before(async () => {
      producer = await client.producer();
    });

    after(async () => {
      await producer?.disconnect();
    });

    /** A topic with its DLQ and contract, a sender of ids to it, and a fresh group and application id. */
    async function topicWithContract(prefix: string) {
      const topic = uniqueName(`${prefix}-${client.name}`);
      const dlq = `${topic}.dlq`;
      const kafka = kafkaFor(setup.infra);
      await createTopics(kafka, [topic, dlq]);
      await register(registryFor(setup.infra), `${topic}-value`, contract(dlq));
      const send = (ids: string[]) => contractProducer(producer, { registry: registryFor(setup.infra), key: false }).send({ topic, messages: ids.map((id) => ({ value: { id } })) });
      return { topic, kafka, send, group: uniqueName("g"), applicationId: uniqueName("app") };
    }

    async function fixture() {
      const { topic, kafka, send, group, applicationId } = await topicWithContract("commits");
      const committed = async () => (await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId: group, topics: [topic] })))[0]!.partitions[0]!.offset;
      const changelogKeys = async () => {
        const records = (await readAll(kafka, [changelogTopic(applicationId, topic, "idUnique")])).get(changelogTopic(applicationId, topic, "idUnique")) ?? [];
        return records.flatMap((m) => unpackEntries(m.value, m.headers?.[CHANGELOG_ENTRIES_HEADER]?.toString()).map(([k]) => k)).sort();
      };
      const held = heldProducer(producerPort(producer as unknown as KafkaProducer));
      const seen = { passed: [] as string[], dead: [] as string[] };
      const consumer = contractConsumer(client.consumer({ groupId: group, autoCommit: false }), {
        registry: registryFor(setup.infra),
        key: false,
        dlq: { producer },
        stateful: { applicationId, access: setup.access, producer: held.port, commitIntervalMs: 100, ...(client.name === "confluent" ? { commits: "wrapper" as const } : {}) },
        onDeadLetter: (d) => void seen.dead.push(d.offset),
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      return { topic, send, committed, changelogKeys, held: held.state, seen, consumer };
    }

    it("a changelog write that stalls: the records are handed over meanwhile, and the offset moves only once the write is acknowledged", async () => {
      const f = await fixture();
      try {
        await f.send(["a", "b", "c", "a", "d"]);
        f.held.stall();
        await f.consumer.run({ eachMessage: async ({ value }) => void f.seen.passed.push((value as { id: string }).id) });
        await waitFor(() => f.seen.passed.length + f.seen.dead.length === 5 && f.held.attempts > 0, { timeoutMs: 60_000, what: "all five records handed over while the changelog write stalls" });
        assert.deepEqual(f.seen.passed, ["a", "b", "c", "d"]);
        assert.deepEqual(f.seen.dead, ["3"], "the duplicate is dead-lettered (its DLQ write is not held)");
        // Many commit intervals (100 ms) pass: none may commit past a record whose change is not durable.
        await new Promise((r) => setTimeout(r, 2_000));
        assert.equal(await f.committed(), "-1", "no offset committed while the changelog write stalls");
        f.held.release();
        await waitFor(async () => (await f.committed()) === "5", { timeoutMs: 30_000, what: "the offset past the last record, once the changelog is written" });
        assert.deepEqual(await f.changelogKeys(), ["a", "b", "c", "d"]);
      } finally {
        f.held.release();
        await f.consumer.disconnect();
      }
    });

    it("more changes waiting than one broker request takes (over 1 MiB for one partition): written in bounded writes, and the offset moves", async () => {
      const f = await fixture();
      // 12,000 keys of 300 characters: about 3.8 MB of changelog entries for one partition, several times
      // the broker's default max.message.bytes (1 MiB), which bounds a partition's records in one request.
      const ids = Array.from({ length: 12_000 }, (_, i) => `${String(i).padStart(6, "0")}-${"k".repeat(293)}`);
      try {
        for (let i = 0; i < ids.length; i += 1000) await f.send(ids.slice(i, i + 1000));
        f.held.stall();
        let handed = 0;
        await f.consumer.run({ eachBatch: async ({ messages }) => void (handed += messages.length) });
        await waitFor(() => handed === ids.length, { timeoutMs: 120_000, what: "every record handed over while the changelog write stalls" });
        f.held.release();
        await waitFor(async () => (await f.committed()) === String(ids.length), { timeoutMs: 60_000, what: "the offset past the last record, once the changelog is written" });
        assert.deepEqual(await f.changelogKeys(), ids);
      } finally {
        f.held.release();
        await f.consumer.disconnect();
      }
    });

    // kafkajs heartbeats from the thread that runs the handlers, so a rebalance is found between
    // records and the consumer joins again only after the handler passes the error on: the wrapper
    // commits first. The Confluent client and @platformatic/kafka heartbeat on their own and do not
    // wait for it: there the commit at a revocation is a best effort (docs/stateful.md, "Commits").
    if (client.name === "kafkajs")
      it("a rebalance while records are handled: what was handled is committed before the consumer joins again, and no record comes twice", async () => {
        const { topic, kafka, send, group, applicationId } = await topicWithContract("commits-rebalance");
        const handled: { consumer: string; offset: string }[] = [];
        const start = (name: string, run: (offset: string) => Promise<void> = async () => {}) => {
          const consumer = contractConsumer(client.consumer({ groupId: group, autoCommit: false, heartbeatInterval: 500 }), {
            registry: registryFor(setup.infra),
            key: false,
            dlq: { producer },
            // No commit falls due during the test: only the one before the rebalance can move the offset.
            stateful: { applicationId, access: setup.access, producer, commitIntervalMs: 600_000 },
          });
          const started = (async () => {
            await consumer.connect();
            await consumer.subscribe({ topics: [topic], fromBeginning: true });
            await consumer.run({
              eachMessage: async ({ message }) => {
                handled.push({ consumer: name, offset: message.offset });
                await run(message.offset);
              },
            });
          })();
          return { consumer, started };
        };
        const groupState = async () => (await withAdmin(kafka, (admin) => admin.describeGroups([group]))).groups[0]!.state;
        let b: ReturnType<typeof start> | undefined;
        await send(["a", "b", "c", "d", "e"]);
        // A handles the five records; at the last one B joins the group, and A's handler returns only
        // once the group waits for A to join again and a heartbeat is due: the heartbeat after it finds
        // the rebalance.
        const a = start("A", async (offset) => {
          if (offset !== "4" || b !== undefined) return;
          b = start("B");
          await waitFor(async () => (await groupState()) === "PreparingRebalance", { timeoutMs: 30_000, what: "the group rebalancing for B" });
          await new Promise((r) => setTimeout(r, 1_000));
        });
        try {
          await a.started;
          await waitFor(() => b !== undefined, { timeoutMs: 30_000, what: "B started" });
          await b!.started;
          await send(["f", "g", "h"]);
          await waitFor(() => new Set(handled.map((h) => h.offset)).size === 8, { timeoutMs: 60_000, what: "all eight records handled" });
          await new Promise((r) => setTimeout(r, 1_000));
          const offsets = handled.map((h) => h.offset);
          assert.deepEqual([...offsets].sort(), ["0", "1", "2", "3", "4", "5", "6", "7"], `each record handled once: ${JSON.stringify(handled)}`);
          assert.deepEqual(handled.slice(0, 5).map((h) => h.consumer), ["A", "A", "A", "A", "A"]);
        } finally {
          await b?.consumer.disconnect();
          await a.consumer.disconnect();
        }
      });

    it("a changelog write that fails: the offset holds, later records wait (eachBatch), and once it succeeds every entry is written and the offset moves", async () => {
      const f = await fixture();
      try {
        f.held.failing = true;
        await f.send(["a", "b"]);
        await f.consumer.run({ eachBatch: async ({ messages }) => void f.seen.passed.push(...messages.map((m) => `${(m.value as { id: string }).id}@${m.message.offset}`)) });
        // The first batch is handed over (a client may split the two records into two batches); its write fails.
        await waitFor(() => f.seen.passed.length > 0 && f.held.attempts > 0, { timeoutMs: 60_000, what: "the first records handed over, their changelog write tried" });
        await f.send(["c", "a"]);
        const handed = [...f.seen.passed];
        // Every later batch waits for the changelog: its write is tried again (and fails) before the batch is handed over.
        const tried = f.held.attempts;
        await waitFor(() => f.held.attempts >= tried + 3, { timeoutMs: 60_000, what: "the changelog write tried again" });
        assert.deepEqual(f.seen.passed, handed, "no record is handed over while the changelog cannot be written");
        assert.equal(await f.committed(), "-1", "no offset committed while the changelog write fails");
        f.held.failing = false;
        await waitFor(async () => (await f.committed()) === "4", { timeoutMs: 60_000, what: "the offset past the last record, once the changelog is written" });
        // A client that gives up retrying restarts (kafkajs) from the committed offset, which never moved:
        // records handed over before may come again (at-least-once), judged as the first time.
        assert.deepEqual([...new Set(f.seen.passed)].sort(), ["a@0", "b@1", "c@2"]);
        assert.deepEqual([...new Set(f.seen.dead)], ["3"]);
        assert.deepEqual(await f.changelogKeys(), ["a", "b", "c"], "the entries of the failed writes were kept and written");
      } finally {
        await f.consumer.disconnect();
      }
    });
  });
}
