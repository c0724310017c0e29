/**
 * Mixed batches through the real broker and registry: N valid and M invalid
 * messages give exactly N records on the topic and M in the DLQ, with the
 * right headers, on produce (WRITE rules) and on consume (READ rules, with
 * eachMessage and eachBatch). Offsets of dead-lettered records are committed;
 * a record replayed from the DLQ, signed with a replay key, skips the rule that
 * sent it there. Once per client under test (kafka-support: clientsUnderTest).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kafka, KafkaMessage, Producer } from "kafkajs";
import type { Contract, Rule } from "../../src/contract/model.js";
import type { Violation } from "../../src/errors.js";
import { DLQ_HEADERS, ProduceRejectedError, contractConsumer, contractProducer, signReplay, type ConsumedDeadLetter } from "../../src/kafka/index.js";
import { ORDER_SCHEMA, order } from "../helpers/contracts.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { clientsUnderTest, countRecords, createTopics, kafkaFor, readAll, register, registryFor, text, uniqueIdent, withAdmin } from "./kafka-support.js";

const N = 40;
const M = 10;

const schema = (): string => JSON.stringify({ ...(JSON.parse(ORDER_SCHEMA) as object), title: uniqueIdent("Order") });

const rule = (r: Partial<Rule> & Pick<Rule, "name" | "mode" | "expr" | "onFailure">): Rule => ({ kind: "CONDITION", type: "CEL", ...r });

let infra: Infra;
let kafka: Kafka;

before(async () => {
  infra = await ensureInfra();
  kafka = kafkaFor(infra);
});

for (const client of clientsUnderTest(() => infra)) {
  describe(`on ${client.name}`, () => {
    let producer: Producer;

    before(async () => {
      producer = await client.producer();
    });

    after(async () => {
      await producer?.disconnect();
    });

    /** N valid and M invalid orders, interleaved: every fifth one is invalid (by `bad`). */
    function mixed(bad: (o: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown>[] {
      const out: Record<string, unknown>[] = [];
      for (let i = 0; i < N + M; i++) out.push(i % 5 === 4 ? bad(order({ id: `bad-${i}` })) : order({ id: `ok-${i}` }));
      return out;
    }

    describe("produce: WRITE rules on a mixed batch", () => {
      it("N valid + M invalid: exactly N on the topic, M in the DLQ with the reference headers and redacted values", async () => {
        const topic = uniqueName("mixed-w");
        const otherTopic = uniqueName("mixed-w2");
        const dlq = `${topic}-dlq`;
        await createTopics(kafka, [topic, otherTopic, dlq]);
        const registry = registryFor(infra);
        const contract: Contract = {
          schemaType: "JSON",
          schema: schema(),
          ruleSet: {
            domainRules: [
              rule({ name: "smallQty", mode: "WRITE", expr: "message.qty < 100", onFailure: "NONE" }),
              rule({ name: "positive", mode: "WRITE", expr: "message.amount > 0.0", onFailure: "DLQ", doc: "amount must be positive" }),
            ],
          },
        };
        await register(registry, `${topic}-value`, contract);
        await register(registry, `${otherTopic}-value`, contract);
        const p = contractProducer(producer, { registry, key: false, dlq: { topic: (t) => (t === otherTopic ? dlq : undefined) } });
        const orders = mixed((o) => ({ ...o, amount: -5, qty: 500 }));
        // Two topics in one sendBatch; both dead-letter into the same DLQ.
        const result = await p.sendBatch({
          topicMessages: [
            { topic, messages: orders.slice(0, 30).map((value) => ({ value })) },
            { topic: otherTopic, messages: orders.slice(30).map((value) => ({ value })) },
          ],
        });
        assert.equal(result.messages.filter((m) => m.status === "sent").length, N);
        assert.equal(result.messages.filter((m) => m.status === "dead-lettered").length, M);
        assert.equal((await countRecords(kafka, topic)) + (await countRecords(kafka, otherTopic)), N);
        assert.equal(await countRecords(kafka, dlq), M);

        const dead = (await readAll(kafka, [dlq])).get(dlq)!;
        assert.deepEqual(new Set(dead.map((m) => JSON.parse(m.value!.toString()).id)), new Set(orders.filter((o) => String(o.id).startsWith("bad")).map((o) => o.id)));
        for (const m of dead) {
          const value = JSON.parse(m.value!.toString()) as Record<string, unknown>;
          assert.equal(value.email, "<REDACTED>");
          assert.deepEqual(value.address, { city: "Paris", zip: "<REDACTED>" });
          assert.equal(text(m, DLQ_HEADERS.ruleName), "positive");
          assert.equal(text(m, DLQ_HEADERS.ruleMode), "WRITE");
          assert.ok([`${topic}-value`, `${otherTopic}-value`].includes(text(m, DLQ_HEADERS.ruleSubject)!));
          assert.equal(text(m, DLQ_HEADERS.ruleTopic), text(m, DLQ_HEADERS.topic));
          assert.equal(text(m, DLQ_HEADERS.ruleException), "amount must be positive");
          assert.equal(text(m, DLQ_HEADERS.exceptionClass), "RuleViolationError");
          const violations = JSON.parse(text(m, DLQ_HEADERS.violations)!) as Violation[];
          assert.deepEqual(
            violations.map((v) => [v.rule, v.action]),
            [
              ["smallQty", "NONE"],
              ["positive", "DLQ"],
            ],
          );
        }
        // Reports point at the records that are really there.
        const firstDead = result.messages.find((m) => m.status === "dead-lettered")!;
        assert.equal(JSON.parse(dead[Number(firstDead.offset)]!.value!.toString()).id, orders[firstDead.index]!.id);
      });

      it("one ERROR failure in a batch writes nothing of it", async () => {
        const topic = uniqueName("mixed-e");
        await createTopics(kafka, [topic, `${topic}-dlq`]);
        const registry = registryFor(infra);
        await register(registry, `${topic}-value`, {
          schemaType: "JSON",
          schema: schema(),
          ruleSet: {
            domainRules: [
              rule({ name: "positive", mode: "WRITE", expr: "message.amount > 0.0", onFailure: "DLQ" }),
              rule({ name: "hasCity", mode: "WRITE", expr: "message.address.city != ''", onFailure: "ERROR" }),
            ],
          },
        });
        const p = contractProducer(producer, { registry, key: false });
        const orders = mixed((o) => ({ ...o, amount: -1 }));
        orders[17] = order({ id: "no-city", address: { city: "", zip: "1" } });
        const err = await p.send({ topic, messages: orders.map((value) => ({ value })) }).catch((e: unknown) => e);
        assert.ok(err instanceof ProduceRejectedError);
        assert.deepEqual(
          err.rejected.map((r) => r.index),
          [17],
        );
        assert.equal(await countRecords(kafka, topic), 0);
        assert.equal(await countRecords(kafka, `${topic}-dlq`), 0, "not even the DLQ messages of the call");
      });
    });

    describe("consume: READ rules on a mixed topic", () => {
      const topic = uniqueName("mixed-r");
      const dlqA = `${topic}-dlq`;
      const dlqB = `${topic}-dlq-batch`;
      let sourceRecords: KafkaMessage[];
      const TOTAL = N + M + 1; // plus one poison pill

      before(async () => {
        await createTopics(kafka, [topic, dlqA, dlqB]);
        const registry = registryFor(infra);
        await register(registry, `${topic}-value`, {
          schemaType: "JSON",
          schema: schema(),
          ruleSet: { domainRules: [rule({ name: "smallQty", mode: "READ", expr: "message.qty < 100", onFailure: "DLQ" })] },
        });
        const p = contractProducer(producer, { registry, key: false });
        await p.send({ topic, messages: mixed((o) => ({ ...o, qty: 500 })).map((value, i) => ({ key: `k-${i}`, value, headers: { "x-trace": `t-${i}` } })) });
        await producer.send({ topic, messages: [{ key: "poison", value: Buffer.from("definitely not the wire format") }] });
        sourceRecords = (await readAll(kafka, [topic])).get(topic)!;
        assert.equal(sourceRecords.length, TOTAL);
      });

      async function consumeAll(mode: "eachMessage" | "eachBatch", dlq: string) {
        const groupId = uniqueName(`mixed-${mode}`);
        const dead: ConsumedDeadLetter[] = [];
        const consumer = contractConsumer(client.consumer({ groupId }), {
          registry: registryFor(infra),
          key: false,
          dlq: { producer, topic: dlq },
          onDeadLetter: (d) => dead.push(d),
        });
        const delivered: string[] = [];
        await consumer.connect();
        try {
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          if (mode === "eachMessage") {
            await consumer.run({ eachMessage: async ({ value }) => void delivered.push((value as { id: string }).id) });
          } else {
            await consumer.run({ eachBatch: async ({ messages }) => void delivered.push(...messages.map((m) => (m.value as { id: string }).id)) });
          }
          await waitFor(() => delivered.length + dead.length >= TOTAL, { timeoutMs: 30_000, what: "every record handled or dead-lettered" });
          // The group's committed offset covers the dead letters too.
          await waitFor(
            async () => {
              const [committed] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
              return committed!.partitions[0]!.offset === String(TOTAL);
            },
            { timeoutMs: 15_000, what: "offsets committed through the last record" },
          );
        } finally {
          await consumer.disconnect();
        }
        return { groupId, delivered, dead };
      }

      for (const [mode, dlq] of [
        ["eachMessage", dlqA],
        ["eachBatch", dlqB],
      ] as const) {
        it(`${mode}: N handed over, M + the poison pill in the DLQ byte for byte, offsets committed`, async () => {
          const { delivered, dead } = await consumeAll(mode, dlq);
          assert.equal(delivered.length, N);
          assert.ok(delivered.every((id) => id.startsWith("ok-")));
          assert.equal(await countRecords(kafka, dlq), M + 1);
          assert.deepEqual(
            dead.map((d) => d.reason).filter((r) => r === "poison-pill"),
            ["poison-pill"],
          );
          const records = (await readAll(kafka, [dlq])).get(dlq)!;
          for (const r of records) {
            const offset = text(r, DLQ_HEADERS.offset)!;
            const source = sourceRecords[Number(offset)]!;
            assert.ok(r.value!.equals(source.value!), `value of offset ${offset} byte for byte`);
            assert.ok(r.key!.equals(source.key!), `key of offset ${offset} byte for byte`);
            assert.equal(text(r, DLQ_HEADERS.topic), topic);
            assert.equal(text(r, DLQ_HEADERS.partition), "0");
            if (source.key!.toString() === "poison") {
              assert.equal(text(r, DLQ_HEADERS.ruleName), undefined);
              assert.equal(text(r, DLQ_HEADERS.exceptionClass), "SerializationError");
            } else {
              assert.equal(text(r, "x-trace"), text(source, "x-trace"), "original headers kept");
              assert.equal(text(r, DLQ_HEADERS.ruleName), "smallQty");
              assert.equal(text(r, DLQ_HEADERS.ruleMode), "READ");
              assert.equal(text(r, DLQ_HEADERS.ruleTopic), topic);
            }
          }
        });
      }

      it("a DLQ record replayed signed (signReplay) skips the rule in its __rule.name header; the same record unsigned does not", async () => {
        const dead = (await readAll(kafka, [dlqA])).get(dlqA)!.find((r) => text(r, DLQ_HEADERS.ruleName) === "smallQty")!;
        const replayTopic = uniqueName("mixed-replay");
        await createTopics(kafka, [replayTopic]);
        const keys = ["integration-replay-key-0123456789"];
        const unverified: string[] = [];
        const again: ConsumedDeadLetter[] = [];
        // Same subject as the source topic: the record is read as it was written there.
        const consumer = contractConsumer(client.consumer({ groupId: uniqueName("replay") }), {
          registry: registryFor(infra),
          key: false,
          value: { subjectNameStrategy: () => `${topic}-value` },
          dlq: { producer, topic: dlqA },
          replay: { keys, onUnverified: (u) => void unverified.push(`${u.offset} ${u.rule} ${u.reason}`) },
          onDeadLetter: (d) => void again.push(d),
        });
        const original = { key: dead.key, value: dead.value, headers: dead.headers as Record<string, Buffer> };
        await producer.send({
          topic: replayTopic,
          messages: [original, signReplay(original, { topic: replayTopic, rule: "smallQty" }, keys[0]!)],
        });
        const got: { id: string; qty: number }[] = [];
        await consumer.connect();
        try {
          await consumer.subscribe({ topics: [replayTopic], fromBeginning: true });
          await consumer.run({ eachMessage: async ({ value }) => void got.push(value as { id: string; qty: number }) });
          await waitFor(() => got.length === 1 && again.length === 1, { timeoutMs: 20_000, what: "the replayed records" });
        } finally {
          await consumer.disconnect();
        }
        assert.equal(got[0]!.qty, 500, "the signed record skipped the READ rule smallQty");
        assert.deepEqual([again[0]!.offset, again[0]!.rule], ["0", "smallQty"], "the unsigned one ran it and went back to the DLQ");
        assert.deepEqual(unverified, ["0 smallQty missing-mac"]);
      });
    });
  });
}
