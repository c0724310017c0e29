/**
 * Stateful rules end to end on the real broker and registry (docs/stateful.md): uniqueness and
 * per-key order judged by the contract consumer, state written to its changelog topic, and a
 * second consumer restoring that state, so a duplicate is still a duplicate after the move and
 * a record delivered again is not its own duplicate. Once per client under test.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Producer } from "kafkajs";
import type { Contract, Rule } from "../../src/contract/model.js";
import type { Violation } from "../../src/errors.js";
import { changelogTopic, connectKafka, contractConsumer, type GroupReport, contractProducer, type ConsumedDeadLetter, type KafkaAccess } from "../../src/kafka/index.js";
import { ALL_PARTS_IN_3S, type StatefulOrder } from "../helpers/contracts.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { CHANGELOG_ENTRIES_HEADER } from "../../src/kafka/changelog-journal.js";
import { PACKED_BINARY, unpackEntries } from "../../src/kafka/changelog-packed.js";
import { clientsUnderTest, createTopics, kafkaFor, readAll, register, registryFor, text, uniqueIdent, type ClientUnderTest } from "./kafka-support.js";
import type { CrashChildArgs, CrashChildLine } from "./stateful-crash-child.js";

const rules = (dlq: string): Rule[] => [
  { name: "idUnique", kind: "CONDITION", mode: "READ", type: "STATEFUL_UNIQUE", expr: "message.id", params: { "unique.window": "1h", "dlq.topic": dlq }, onFailure: "DLQ", disabled: true },
  { name: "seqIncreases", kind: "CONDITION", mode: "READ", type: "STATEFUL_ORDER", expr: "message.seq", params: { "order.key": "message.customer" }, onFailure: "NONE", disabled: true },
];

const contract = (dlq: string, domainRules: Rule[] = rules(dlq)): Contract => ({
  schemaType: "JSON",
  schema: JSON.stringify({
    $schema: "http://json-schema.org/draft-07/schema#",
    title: uniqueIdent("stateful"),
    type: "object",
    properties: { id: { type: "string" }, customer: { type: "string" }, seq: { type: "integer" }, order: { type: "string" }, parts: { type: "integer" } },
    required: ["id", "customer", "seq"],
  }),
  ruleSet: { domainRules },
});

type Order = StatefulOrder;

interface Seen {
  readonly passed: { id: string; offset: string; violations: string[] }[];
  readonly dead: ConsumedDeadLetter[];
}

let infra: Infra;
let access: KafkaAccess;

before(async () => {
  infra = await ensureInfra();
  access = await connectKafka("kafkajs", infra.brokers);
});

for (const client of clientsUnderTest(() => infra)) {
  describe(`stateful rules on ${client.name}`, () => {
    let producer: Producer;

    before(async () => {
      producer = await client.producer();
    });

    after(async () => {
      await producer?.disconnect();
    });

    async function topicWithContract(domainRules?: (dlq: string) => Rule[]): Promise<{ topic: string; dlq: string }> {
      const topic = uniqueName(`stateful-${client.name}`);
      const dlq = `${topic}.dlq`;
      await createTopics(kafkaFor(infra), [topic, dlq]);
      await register(registryFor(infra), `${topic}-value`, contract(dlq, domainRules?.(dlq)));
      return { topic, dlq };
    }

    async function produce(topic: string, orders: Order[]): Promise<void> {
      await contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: orders.map((value) => ({ value })) });
    }

    /** Runs a stateful contract consumer of `group` until `count` records were handled or dead-lettered, then disconnects it. */
    async function consume(c: ClientUnderTest, topic: string, group: string, applicationId: string, count: number, extra: { onGroup?: (r: GroupReport) => void; until?: () => boolean; started?: () => Promise<void> } = {}): Promise<Seen> {
      const seen: Seen = { passed: [], dead: [] };
      const consumer = contractConsumer(c.consumer({ groupId: group }), {
        registry: registryFor(infra),
        key: false,
        dlq: { producer },
        stateful: { applicationId, access, producer, timerIntervalMs: 100, ...(extra.onGroup ? { onGroup: extra.onGroup } : {}) },
        onDeadLetter: (d) => void seen.dead.push(d),
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ value, message, violations }) => {
            seen.passed.push({ id: (value as Order).id, offset: message.offset, violations: violations.map((v: Violation) => `${v.rule}: ${v.message}`) });
          },
        });
        await extra.started?.();
        await waitFor(() => seen.passed.length + seen.dead.length >= count && (extra.until?.() ?? true), { timeoutMs: 60_000, what: `${count} record(s) of ${topic}` });
      } finally {
        await consumer.disconnect();
      }
      return seen;
    }

    /** A two-partition topic with the unique/order contract, and consumers of one group on it, each named in what it handled. */
    async function twoPartitionGroup(label: string) {
      const topic = uniqueName(`stateful-${label}-${client.name}`);
      const dlq = `${topic}.dlq`;
      await createTopics(kafkaFor(infra), [{ topic, numPartitions: 2 }, dlq]);
      await register(registryFor(infra), `${topic}-value`, contract(dlq));
      const send = async (orders: [number, Order][]) =>
        contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: orders.map(([partition, value]) => ({ partition, value })) });
      const group = uniqueName("g");
      const applicationId = uniqueName("app");
      const seen: { consumer: string; partition: number; id: string; dead: boolean }[] = [];
      const start = async (name: string) => {
        // The wrapper commits (on the Confluent client too, its consumer made without its own commits);
        // consume() above leaves the Confluent client to commit, as it does by default.
        const consumer = contractConsumer(client.consumer({ groupId: group, autoCommit: false }), {
          registry: registryFor(infra),
          key: false,
          dlq: { producer },
          stateful: { applicationId, access, producer, commits: "wrapper" },
          onDeadLetter: (d) => void seen.push({ consumer: name, partition: d.partition, id: `offset ${d.offset}`, dead: true }),
        });
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ partition, value }) => void seen.push({ consumer: name, partition, id: (value as Order).id, dead: false }) });
        return consumer;
      };
      /** A judges a0 (partition 0) and a1 (partition 1) alone, then B joins the group. */
      const aThenB = async () => {
        await send([
          [0, { id: "a0", customer: "c1", seq: 1 }],
          [1, { id: "a1", customer: "c2", seq: 1 }],
        ]);
        const a = await start("A");
        try {
          await waitFor(() => seen.length >= 2, { timeoutMs: 60_000, what: "the first two records" });
          return { a, b: await start("B") };
        } catch (e) {
          await a.disconnect();
          throw e;
        }
      };
      /** Sends a record to each partition every 2 s until `name` has handled one; returns that record. */
      const untilHandledBy = async (name: string) => {
        let round = 0;
        await waitFor(
          async () => {
            if (seen.some((r) => r.consumer === name)) return true;
            round++;
            await send([
              [0, { id: `x0-${name}-${round}`, customer: "c1", seq: 1 + round }],
              [1, { id: `x1-${name}-${round}`, customer: "c2", seq: 1 + round }],
            ]);
            return false;
          },
          { timeoutMs: 90_000, intervalMs: 2_000, what: `a record handled by ${name}` },
        );
        return seen.find((r) => r.consumer === name)!;
      };
      return { send, seen, start, aThenB, untilHandledBy };
    }

    it("judges duplicates and order end to end, dead-letters the duplicate and writes the state to its changelog", async () => {
      const { topic, dlq } = await topicWithContract();
      const applicationId = uniqueName("app");
      await produce(topic, [
        { id: "a", customer: "c1", seq: 1 },
        { id: "b", customer: "c1", seq: 2 },
        { id: "a", customer: "c2", seq: 1 },
        { id: "c", customer: "c1", seq: 2 },
      ]);
      const seen = await consume(client, topic, uniqueName("g"), applicationId, 4);
      assert.deepEqual(seen.passed, [
        { id: "a", offset: "0", violations: [] },
        { id: "b", offset: "1", violations: [] },
        { id: "c", offset: "3", violations: ['seqIncreases: key "c1": sequence 2 does not increase (previous 2)'] },
      ]);
      assert.deepEqual(seen.dead.map((d) => [d.offset, d.rule, d.dlqTopic]), [["2", "idUnique", dlq]]);
      assert.match(seen.dead[0]!.violations.at(-1)!.message, /^duplicate key "a", first seen \d+ ms earlier in record time \(window 3600000 ms\)$/);
      const logged = await readAll(kafkaFor(infra), [changelogTopic(applicationId, topic, "idUnique"), changelogTopic(applicationId, topic, "seqIncreases")]);
      // A window's entries are written a flush's worth per record (dropped by retention, never compacted by key).
      const unique = logged.get(changelogTopic(applicationId, topic, "idUnique"))!;
      assert.ok(unique.every((m) => text(m, CHANGELOG_ENTRIES_HEADER) === PACKED_BINARY), "the window's entries are packed");
      assert.deepEqual(unique.flatMap((m) => unpackEntries(m.value, PACKED_BINARY).map(([key]) => key)), ["a", "b", "c"]);
      assert.deepEqual(logged.get(changelogTopic(applicationId, topic, "seqIncreases"))!.map((m) => m.key!.toString()), ["c1", "c1", "c2"]);
    });

    it("a new contract version mid-stream: its stateful rules take effect and judge on the state the earlier version built", async () => {
      const { topic, dlq } = await topicWithContract((d) => [rules(d)[0]!]);
      const applicationId = uniqueName("app");
      const group = uniqueName("g");
      await produce(topic, [
        { id: "a", customer: "c1", seq: 1, order: "x" },
        { id: "b", customer: "c1", seq: 2, order: "x" },
      ]);
      const seen: Seen = { passed: [], dead: [] };
      const consumer = contractConsumer(client.consumer({ groupId: group }), {
        registry: registryFor(infra),
        key: false,
        dlq: { producer },
        stateful: { applicationId, access, producer },
        onDeadLetter: (d) => void seen.dead.push(d),
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ value, message }) => void seen.passed.push({ id: (value as Order).id, offset: message.offset, violations: [] }) });
        await waitFor(() => seen.passed.length >= 2, { timeoutMs: 60_000, what: "the records of version 1" });
        // Version 2 keeps idUnique and adds orderUnique; the consumer reads each record with its writer's version.
        const v2 = contract(dlq, [
          rules(dlq)[0]!,
          { name: "orderUnique", kind: "CONDITION", mode: "READ", type: "STATEFUL_UNIQUE", expr: "message.order", params: { "unique.window": "1h", "dlq.topic": dlq }, onFailure: "DLQ", disabled: true },
        ]);
        const schema = JSON.parse(v2.schema) as { properties: Record<string, unknown> };
        schema.properties.note = { type: "string" };
        await register(registryFor(infra), `${topic}-value`, { ...v2, schema: JSON.stringify(schema) });
        await produce(topic, [
          { id: "a", customer: "c2", seq: 1, order: "y" },
          { id: "c", customer: "c2", seq: 2, order: "z" },
          { id: "d", customer: "c2", seq: 3, order: "z" },
        ]);
        await waitFor(() => seen.passed.length + seen.dead.length >= 5, { timeoutMs: 60_000, what: "the records of version 2" });
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(seen.passed.map((p) => p.id), ["a", "b", "c"]);
      // a is a duplicate of version 1's a; d repeats c's order under the rule only version 2 has.
      assert.deepEqual(seen.dead.map((d) => [d.offset, d.rule]), [["2", "idUnique"], ["4", "orderUnique"]]);
    });

    it("a second consumer of the group restores the state from the changelog and still judges the duplicate", async () => {
      const { topic } = await topicWithContract();
      const applicationId = uniqueName("app");
      const group = uniqueName("g");
      await produce(topic, [
        { id: "a", customer: "c1", seq: 1 },
        { id: "b", customer: "c1", seq: 2 },
      ]);
      const first = await consume(client, topic, group, applicationId, 2);
      assert.deepEqual(first.passed.map((p) => p.id), ["a", "b"]);
      await produce(topic, [
        { id: "a", customer: "c2", seq: 1 },
        { id: "d", customer: "c1", seq: 1 },
        { id: "e", customer: "c1", seq: 3 },
      ]);
      // The same group: it resumes after b, with no record of a or of c1's sequence but the changelog's.
      const second = await consume(client, topic, group, applicationId, 3);
      assert.deepEqual(second.dead.map((d) => [d.offset, d.rule]), [["2", "idUnique"]]);
      assert.deepEqual(second.passed, [
        { id: "d", offset: "3", violations: ['seqIncreases: key "c1": sequence 1 does not increase (previous 2)'] },
        { id: "e", offset: "4", violations: [] },
      ]);
    });

    it("a consumer that reads the records again (nothing committed) restores the state and does not take them for their own duplicates", async () => {
      const { topic } = await topicWithContract();
      const applicationId = uniqueName("app");
      await produce(topic, [
        { id: "a", customer: "c1", seq: 1 },
        { id: "b", customer: "c1", seq: 2 },
        { id: "a", customer: "c1", seq: 3 },
      ]);
      const first = await consume(client, topic, uniqueName("g"), applicationId, 3);
      // A new group has no committed offset, as after a crash before the first commit: everything comes again.
      const again = await consume(client, topic, uniqueName("g"), applicationId, 3);
      const verdicts = (s: Seen) => ({ passed: s.passed.map((p) => [p.offset, p.id, p.violations]), dead: s.dead.map((d) => [d.offset, d.rule]) });
      assert.deepEqual(verdicts(again), verdicts(first));
      assert.deepEqual(verdicts(first).dead, [["2", "idUnique"]]);
    });

    it("referential integrity: keys of the reference topic pass, deleted and unknown ones fail, and a late key is waited for", async () => {
      const customers = uniqueName(`customers-${client.name}`);
      await createTopics(kafkaFor(infra), [{ topic: customers, configEntries: [{ name: "cleanup.policy", value: "compact" }] }]);
      await producer.send({ topic: customers, messages: [{ key: "c1", value: "Ada" }, { key: "c2", value: "Bob" }, { key: "c2", value: null }] });
      const { topic } = await topicWithContract((dlq) => [
        { name: "customerKnown", kind: "CONDITION", mode: "READ", type: "STATEFUL_REFERENCE", expr: "message.customer", params: { "reference.topic": customers, "reference.wait": "10s", "dlq.topic": dlq }, onFailure: "DLQ", disabled: true },
      ]);
      await produce(topic, [
        { id: "o1", customer: "c1", seq: 1 },
        { id: "o2", customer: "c5", seq: 1 },
      ]);
      // c5 arrives after the order that names it: the order waits for it (up to reference.wait).
      const seen = await consume(client, topic, uniqueName("g"), uniqueName("app"), 2, {
        started: async () => void (await producer.send({ topic: customers, messages: [{ key: "c5", value: "Eve" }] })),
      });
      assert.deepEqual(seen.passed.map((p) => p.id), ["o1", "o2"]);
      await produce(topic, [{ id: "o3", customer: "c2", seq: 1 }]);
      const more = await consume(client, topic, uniqueName("g"), uniqueName("app"), 3);
      assert.deepEqual(more.passed.map((p) => p.id), ["o1", "o2"]);
      assert.deepEqual(more.dead.map((d) => [d.offset, d.rule]), [["2", "customerKnown"]], "c2 was deleted by its tombstone");
      assert.match(more.dead[0]!.violations.at(-1)!.message, /key "c2" is not in the reference topic/);
    });

    it("completeness: a complete order is reported, and an incomplete one times out on the wall clock with no more traffic", async () => {
      const { topic } = await topicWithContract(() => [ALL_PARTS_IN_3S]);
      await produce(topic, [
        { id: "o1", customer: "c1", seq: 0, parts: 2 },
        { id: "o1-a", customer: "c1", seq: 1, order: "o1" },
        { id: "o2", customer: "c1", seq: 0, parts: 3 },
        { id: "o1-b", customer: "c1", seq: 2, order: "o1" },
        { id: "o2-a", customer: "c1", seq: 1, order: "o2" },
      ]);
      const groups: GroupReport[] = [];
      await consume(client, topic, uniqueName("g"), uniqueName("app"), 5, { onGroup: (r) => void groups.push(r), until: () => groups.some((g) => !g.event.complete) });
      assert.deepEqual(
        groups.map((g) => [g.event.key, g.event.complete, g.event.expected, g.event.arrived]),
        [
          ["o1", true, 2, 2],
          ["o2", false, 3, 1],
        ],
      );
      const timedOut = groups[1]!.outcome;
      assert.ok(timedOut.kind === "passed" && timedOut.violations[0]!.message === 'parent "o2": 1 of 3 part(s) arrived within 3000 ms; 2 missing', JSON.stringify(timedOut));
    });

    it("the README's orders/items alarm: an incomplete order is dead-lettered on the wall clock with no more traffic, a complete one written to the completion topic", async () => {
      const topic = uniqueName(`order-events-${client.name}`);
      const dlq = `${topic}.dlq`;
      const completed = `${topic}.completed`;
      await createTopics(kafkaFor(infra), [topic, dlq, completed]);
      await register(registryFor(infra), `${topic}-value`, {
        schemaType: "JSON",
        schema: JSON.stringify({
          $schema: "http://json-schema.org/draft-07/schema#",
          title: uniqueIdent("orderEvent"),
          type: "object",
          properties: { id: { type: "string" }, items: { type: "array", items: { type: "string" } }, order: { type: "string" } },
          required: ["id"],
        }),
        ruleSet: {
          domainRules: [
            {
              name: "allItemsArrive",
              kind: "CONDITION",
              mode: "READ",
              type: "STATEFUL_COMPLETE",
              expr: "message.id",
              params: { "complete.parent": "has(message.items)", "complete.parts": "size(message.items)", "complete.part.of": "message.order", "complete.within": "3s", "complete.topic": completed, "dlq.topic": dlq },
              onFailure: "DLQ",
              disabled: true,
            },
          ],
        },
      });
      await contractProducer(producer, { registry: registryFor(infra), key: false }).send({
        topic,
        messages: [{ id: "o-6", items: ["pen", "ink"] }, { id: "o-7", items: ["a", "b", "c"] }, { id: "i-1", order: "o-6" }, { id: "i-2", order: "o-7" }, { id: "i-3", order: "o-6" }].map((value) => ({ value })),
      });
      const alarms: GroupReport[] = [];
      const seen = await consume(client, topic, uniqueName("g"), uniqueName("app"), 5, { onGroup: (r) => void alarms.push(r), until: () => alarms.some((r) => !r.event.complete) });
      // Every event passed through to the handler; the verdict on o-7 came later, from the timer alone.
      assert.deepEqual(seen.passed.map((p) => p.id), ["o-6", "o-7", "i-1", "i-2", "i-3"]);
      assert.deepEqual(seen.dead, []);
      assert.deepEqual(alarms.map((r) => [r.event.key, r.event.complete, r.dlqTopic]), [["o-6", true, undefined], ["o-7", false, dlq]]);
      const written = await readAll(kafkaFor(infra), [dlq, completed]);
      const [letter] = written.get(dlq)!;
      assert.equal(written.get(dlq)!.length, 1);
      assert.equal(letter!.key!.toString(), "o-7");
      assert.deepEqual(JSON.parse(letter!.value!.toString()), { rule: "allItemsArrive", parent: "o-7", expected: 3, arrived: 1, missing: 2 });
      assert.equal(letter!.headers!["__rule.name"]!.toString(), "allItemsArrive");
      assert.equal(letter!.headers!["__rule.exception"]!.toString(), 'parent "o-7": 1 of 3 part(s) arrived within 3000 ms; 2 missing');
      assert.equal(letter!.headers!["__rule.topic"]!.toString(), topic);
      const done = written.get(completed)!;
      assert.deepEqual(done.map((m) => [m.key!.toString(), JSON.parse(m.value!.toString())]), [["o-6", { rule: "allItemsArrive", topic, partition: 0, parent: "o-6", expected: 2, arrived: 2 }]]);
    });

    it("a partition revoked and reassigned is judged on what its other owner wrote meanwhile, not on the state it had", async () => {
      const { send, seen, aThenB, untilHandledBy } = await twoPartitionGroup("back");
      // A holds both partitions and their state; B joins and takes one of them.
      const { a, b: joined } = await aThenB();
      let b: typeof joined | undefined = joined;
      try {
        // Records until B has handled one: the partition B holds is then known.
        const moved = await untilHandledBy("B");
        // B leaves; the partition comes back to A, which held it before B wrote to its changelog.
        await b.disconnect();
        b = undefined;
        const before = seen.length;
        await send([[moved.partition, { id: moved.id, customer: "c9", seq: 1 }]]);
        // Other records of that partition are still coming (the rounds above): they are unique, never dead.
        const verdict = () => seen.slice(before).find((r) => r.partition === moved.partition && (r.dead || r.id === moved.id));
        await waitFor(verdict, { timeoutMs: 90_000, what: "the repeated record" });
        const last = verdict()!;
        assert.deepEqual([last.consumer, last.partition, last.dead], ["A", moved.partition, true], `${moved.id}, first judged by B, is a duplicate for A too: ${JSON.stringify(seen)}`);
      } finally {
        await b?.disconnect();
        await a.disconnect();
      }
    });

    it("scale-out: a second consumer joins the group, the first leaves, and the second restores both partitions and still judges duplicates", async () => {
      const { send, seen, aThenB } = await twoPartitionGroup("scale");
      // A judges the first records alone, then B joins the group and A leaves it: B holds their state
      // only through the changelog.
      const { a, b } = await aThenB();
      try {
        await a.disconnect();
        await send([
          [0, { id: "a0", customer: "c1", seq: 2 }],
          [1, { id: "a1", customer: "c2", seq: 2 }],
          [0, { id: "b0", customer: "c1", seq: 3 }],
          [1, { id: "b1", customer: "c2", seq: 3 }],
        ]);
        await waitFor(() => seen.length >= 6, { timeoutMs: 90_000, what: "the four records after A left" });
      } finally {
        await b.disconnect();
        await a.disconnect().catch(() => undefined);
      }
      assert.ok(seen.slice(0, 2).every((r) => r.consumer === "A"), JSON.stringify(seen));
      const after = seen.slice(2);
      assert.ok(after.every((r) => r.consumer === "B"), JSON.stringify(seen));
      assert.deepEqual(after.filter((r) => r.dead).map((r) => r.partition).sort(), [0, 1], `the duplicates of a0 and a1 are dead-lettered on both partitions: ${JSON.stringify(seen)}`);
      assert.deepEqual(after.filter((r) => !r.dead).map((r) => r.id).sort(), ["b0", "b1"]);
    });

    it("scale-out: a third consumer joins, and the partition it takes brings its state from the changelog", async () => {
      const { send, seen, start, aThenB, untilHandledBy } = await twoPartitionGroup("third");
      const { a, b } = await aThenB();
      let c: Awaited<ReturnType<typeof start>> | undefined;
      try {
        // A leaves: B holds both partitions, restored from what A wrote. Then C joins and takes one from B.
        await a.disconnect();
        c = await start("C");
        const taken = await untilHandledBy("C");
        const before = seen.length;
        // a0 and a1 were judged by A; their repeats are duplicates for whoever holds each partition now.
        await send([
          [0, { id: "a0", customer: "c1", seq: 100 }],
          [1, { id: "a1", customer: "c2", seq: 100 }],
        ]);
        const dead = () => seen.slice(before).filter((r) => r.dead);
        // Either verdict counts here (a pass is asserted against below): other records are unique and never dead.
        await waitFor(() => seen.slice(before).filter((r) => r.dead || r.id === "a0" || r.id === "a1").length >= 2, { timeoutMs: 90_000, what: "the repeats of a0 and a1" });
        assert.deepEqual(dead().map((r) => r.partition).sort(), [0, 1], `both repeats are dead-lettered: ${JSON.stringify(seen)}`);
        assert.ok(dead().some((r) => r.consumer === "C" && r.partition === taken.partition), `C judged the repeat on the partition it took, on state it only had from the changelog: ${JSON.stringify(seen)}`);
      } finally {
        await c?.disconnect();
        await b.disconnect();
        await a.disconnect().catch(() => undefined);
      }
    });

    it("a consumer killed without leaving the group: the survivor takes its partition after the session timeout, restores its state from the changelog, and misjudges no duplicate or missing reference", async () => {
      const topic = uniqueName(`stateful-kill-${client.name}`);
      const customers = `${topic}.customers`;
      await createTopics(kafkaFor(infra), [{ topic, numPartitions: 2 }, customers]);
      await producer.send({ topic: customers, messages: [{ key: "c1", value: "{}" }, { key: "c2", value: "{}" }] });
      // onFailure NONE: every verdict reaches the handler, named by the record's label (its `order` field).
      const none = (name: string, type: string, expr: string, params: Record<string, string>): Rule => ({ name, kind: "CONDITION", mode: "READ", type, expr, params, onFailure: "NONE", disabled: true });
      await register(
        registryFor(infra),
        `${topic}-value`,
        contract("", [none("idUnique", "STATEFUL_UNIQUE", "message.id", { "unique.window": "1h", "state.copartitioned": "true" }), none("customerKnown", "STATEFUL_REFERENCE", "message.customer", { "reference.topic": customers })]),
      );
      const group = uniqueName("g");
      const applicationId = uniqueName("app");
      const sessionTimeout = 6_000; // the broker's group.min.session.timeout.ms
      /** What each record must fail, by label: the same whoever judges it and however often it is delivered. */
      const expected = new Map<string, string[]>();
      const send = async (records: [partition: number, label: string, id: string, customer: string, fails: string[]][]) => {
        for (const [, label, , , fails] of records) expected.set(label, fails);
        await contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: records.map(([partition, order, id, customer]) => ({ partition, value: { id, customer, seq: 1, order } })) });
      };
      const seen: CrashChildLine[] = [];
      const handled = (consumer: string, label: string) => seen.find((r) => r.consumer === consumer && r.label === label);

      // K, in a child process, judges a0 and a1 alone.
      await send([
        [0, "a0", "a0", "c1", []],
        [1, "a1", "a1", "c2", []],
      ]);
      const args: CrashChildArgs = { name: "K", topic, group, applicationId, sessionTimeout };
      const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./stateful-crash-child.ts", import.meta.url)), JSON.stringify(args)], {
        env: { ...process.env, KONTRACT_TEST_CLIENTS: client.name },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
      createInterface({ input: child.stdout }).on("line", (line) => void seen.push(JSON.parse(line) as CrashChildLine));
      const alive = () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the child consumer exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
        return true;
      };
      let s: { disconnect(): Promise<void> } | undefined;
      let pk = -1;
      try {
        await waitFor(() => alive() && handled("K", "a0") && handled("K", "a1"), { timeoutMs: 90_000, what: "K judging a0 and a1" });
        // S joins: each then holds one partition. Rounds to both partitions until S handled one.
        const survivor = contractConsumer(client.consumer({ groupId: group, sessionTimeout, heartbeatInterval: 500, autoCommit: false }), {
          registry: registryFor(infra),
          key: false,
          stateful: { applicationId, access, producer, commits: "wrapper" },
        });
        s = survivor;
        await survivor.connect();
        await survivor.subscribe({ topics: [topic], fromBeginning: true });
        await survivor.run({
          eachMessage: async ({ partition, message, value, violations }) =>
            void seen.push({ consumer: "S", partition, offset: message.offset, label: (value as Order).order!, failed: violations.map((v) => v.rule) }),
        });
        let round = 0;
        await waitFor(
          async () => {
            if (alive() && seen.some((r) => r.consumer === "S")) return true;
            round++;
            await send([
              [0, `x0-${round}`, `x0-${round}`, "c1", []],
              [1, `x1-${round}`, `x1-${round}`, "c2", []],
            ]);
            return false;
          },
          { timeoutMs: 90_000, intervalMs: 2_000, what: "a record handled by S" },
        );
        const ps = seen.find((r) => r.consumer === "S")!.partition;
        pk = 1 - ps;
        // K holds pk now and judges records there: a new id, and a repeat of the a-record it judged alone.
        await send([
          [pk, "k1", "k1", "c1", []],
          [pk, "k2", `a${pk}`, "c1", ["idUnique"]],
        ]);
        await waitFor(() => alive() && handled("K", "k1") && handled("K", "k2"), { timeoutMs: 60_000, what: `K judging k1 and k2 on partition ${pk}` });
        // Killed mid-stream: no LeaveGroup, no commit; its state changes were written before it handled them.
        child.kill("SIGKILL");
        await send([
          [pk, "d1", "k1", "c1", ["idUnique"]],
          [pk, "d2", `a${pk}`, "c2", ["idUnique"]],
          [pk, "n1", "n1", "c2", []],
          [pk, "n2", "n2", "nobody", ["customerKnown"]],
        ]);
        // S takes pk once the coordinator has waited out K's session.
        await waitFor(() => ["d1", "d2", "n1", "n2"].every((label) => handled("S", label)), { timeoutMs: 90_000, what: `S judging the records sent to partition ${pk} after K was killed` });
      } finally {
        child.kill("SIGKILL");
        await s?.disconnect();
      }
      assert.ok(["d1", "d2", "n1", "n2"].every((label) => handled("S", label)!.partition === pk), JSON.stringify(seen));
      // Every verdict, K's and S's, first delivery or again (records K handled but did not commit), is the record's own.
      const misjudged = seen.filter((r) => JSON.stringify([...r.failed].sort()) !== JSON.stringify(expected.get(r.label)));
      assert.deepEqual(misjudged, [], `records judged otherwise than expected: ${JSON.stringify(seen)}`);
    });
  });
}
