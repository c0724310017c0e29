/**
 * Round trip through the real broker and the real registry, for Avro, JSON
 * Schema and Protobuf: contracts (metadata + ruleSet) registered over REST and
 * read back intact, a WRITE rule dead-letters bad orders on produce, a READ
 * transform masks PII on consume.
 * Once per client under test (kafka-support: clientsUnderTest).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kafka, Producer } from "kafkajs";
import type { Contract, Metadata, RuleSet, SchemaType } from "../../src/contract/model.js";
import { DLQ_HEADERS, contractConsumer, contractProducer } from "../../src/kafka/index.js";
import { createContractStore } from "../../src/serde/index.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { clientsUnderTest, countRecords, createTopics, kafkaFor, readAll, register, registryFor, text, uniqueIdent } from "./kafka-support.js";

interface Case {
  type: SchemaType;
  schema: (ns: string) => string;
}

const CASES: Case[] = [
  {
    type: "AVRO",
    schema: (ns) =>
      JSON.stringify({
        type: "record",
        name: "Order",
        namespace: ns,
        fields: [
          { name: "id", type: "string" },
          { name: "amount", type: "double" },
          { name: "email", type: "string" },
        ],
      }),
  },
  {
    type: "JSON",
    schema: (ns) =>
      JSON.stringify({
        $schema: "http://json-schema.org/draft-07/schema#",
        title: ns,
        type: "object",
        properties: { id: { type: "string" }, amount: { type: "number" }, email: { type: "string" } },
        required: ["id", "amount", "email"],
        additionalProperties: false,
      }),
  },
  {
    type: "PROTOBUF",
    schema: (ns) => `syntax = "proto3";\npackage ${ns};\n\nmessage Order {\n  string id = 1;\n  double amount = 2;\n  string email = 3;\n}\n`,
  },
];

const ruleSet = (dlqTopic: string): RuleSet => ({
  domainRules: [
    {
      name: "amountPositive",
      doc: "an order amount is positive",
      kind: "CONDITION",
      mode: "WRITE",
      type: "CEL",
      expr: "message.amount > 0.0",
      params: { "dlq.topic": dlqTopic },
      onFailure: "DLQ",
    },
    { name: "maskEmail", kind: "TRANSFORM", mode: "READ", type: "CEL_FIELD", tags: ["PII"], expr: "'***'" },
  ],
});

const metadata: Metadata = { properties: { owner: "kontract-it", "application.major.version": "1" }, tags: { "**.email": ["PII"] } };

let infra: Infra;
let kafka: Kafka;

before(async () => {
  infra = await ensureInfra();
  kafka = kafkaFor(infra);
});

for (const client of clientsUnderTest(() => infra)) {
  describe(`on ${client.name}`, () => {
    let producer: Producer;
    const topics = new Map<SchemaType, { topic: string; dlq: string; contract: Contract }>();

    before(async () => {
      producer = await client.producer();
      for (const c of CASES) {
        const topic = uniqueName(`rt-${c.type.toLowerCase()}`);
        const dlq = `${topic}.dlq`;
        topics.set(c.type, { topic, dlq, contract: { schemaType: c.type, schema: c.schema(uniqueIdent("rt")), metadata, ruleSet: ruleSet(dlq) } });
      }
      await createTopics(kafka, [...topics.values()].flatMap((t) => [t.topic, t.dlq]));
    });

    after(async () => {
      await producer?.disconnect();
    });

    describe("round trip with contracts registered over the REST API", () => {
      for (const c of CASES) {
        it(`${c.type}: registered metadata and ruleSet read back intact, then enforced on produce`, async () => {
          const { topic, dlq, contract } = topics.get(c.type)!;
          const registry = registryFor(infra);
          await register(registry, `${topic}-value`, contract);
          const stored = await registryFor(infra).getVersion(`${topic}-value`, "latest");
          const { "confluent:version": _v, ...properties } = stored.metadata?.properties ?? {};
          assert.deepEqual({ ...stored.metadata, properties }, metadata);
          assert.deepEqual(stored.ruleSet, contract.ruleSet);

          // key "auto" (default): the topic has no key subject, so keys go as given.
          const p = contractProducer(producer, { registry });
          const orders = [
            { id: "a", amount: 10, email: "a@example.com" },
            { id: "bad-1", amount: -1, email: "secret@example.com" },
            { id: "b", amount: 20, email: "b@example.com" },
            { id: "bad-2", amount: 0, email: "secret2@example.com" },
            { id: "c", amount: 30, email: "c@example.com" },
          ];
          const result = await p.send({ topic, messages: orders.map((value) => ({ key: value.id, value })) });
          assert.deepEqual(
            result.messages.map((m) => (m.status === "sent" ? `${m.topic}@${m.offset}` : `${m.dlqTopic}@${m.offset}`)),
            [`${topic}@0`, `${dlq}@0`, `${topic}@1`, `${dlq}@1`, `${topic}@2`],
          );
          assert.equal(await countRecords(kafka, topic), 3);
          assert.equal(await countRecords(kafka, dlq), 2);

          const dead = (await readAll(kafka, [dlq])).get(dlq)!;
          const first = JSON.parse(dead[0]!.value!.toString("utf8")) as Record<string, unknown>;
          assert.equal(first.id, "bad-1");
          assert.equal(first.email, "<REDACTED>", "the PII field never reaches the DLQ in clear");
          assert.equal(dead[0]!.key!.toString(), "bad-1");
          assert.equal(text(dead[0]!, DLQ_HEADERS.ruleName), "amountPositive");
          assert.equal(text(dead[0]!, DLQ_HEADERS.ruleSubject), `${topic}-value`);
          assert.equal(text(dead[0]!, DLQ_HEADERS.ruleException), "an order amount is positive");
        });
      }

      it("all three consumed back through one wrapped consumer, READ transform applied", async () => {
        const consumer = contractConsumer(client.consumer({ groupId: uniqueName("rt-group") }), { registry: registryFor(infra), dlq: { producer } });
        const seen = new Map<string, { id: string; email: string }[]>();
        await consumer.connect();
        try {
          await consumer.subscribe({ topics: [...topics.values()].map((t) => t.topic), fromBeginning: true });
          await consumer.run({
            eachMessage: async ({ topic, value }) => {
              const v = value as { id: string; email: string };
              seen.set(topic, [...(seen.get(topic) ?? []), { id: v.id, email: v.email }]);
            },
          });
          await waitFor(() => [...topics.values()].every((t) => (seen.get(t.topic)?.length ?? 0) >= 3), { timeoutMs: 30_000, what: "3 orders per format" });
        } finally {
          await consumer.disconnect();
        }
        for (const c of CASES) {
          assert.deepEqual(seen.get(topics.get(c.type)!.topic), ["a", "b", "c"].map((id) => ({ id, email: "***" })), c.type);
        }
      });

      it("a producer and a consumer sharing one contract store fetch each contract once", async () => {
        const topic = uniqueName("rt-shared");
        await createTopics(kafka, [topic]);
        const registry = registryFor(infra);
        await register(registry, `${topic}-value`, topics.get("AVRO")!.contract);
        // Counts what reaches the registry through the store.
        const asked: string[] = [];
        const counting = new Proxy(registryFor(infra), {
          get: (target, name, receiver) => {
            const v = Reflect.get(target, name, receiver);
            return typeof v === "function" ? (...args: unknown[]) => (asked.push(String(name)), v.apply(target, args)) : v;
          },
        });
        const store = createContractStore({ registry: counting });
        await contractProducer(producer, { store, key: false }).send({ topic, messages: [{ value: { id: "a", amount: 1, email: "a@example.com" } }] });
        const consumer = contractConsumer(client.consumer({ groupId: uniqueName("rt-shared") }), { store, key: false, dlq: { producer } });
        const seen: unknown[] = [];
        await consumer.connect();
        try {
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          await consumer.run({ eachMessage: async ({ value }) => void seen.push({ ...(value as object) }) });
          await waitFor(() => seen.length === 1, { timeoutMs: 20_000, what: "the record" });
        } finally {
          await consumer.disconnect();
        }
        assert.deepEqual(seen, [{ id: "a", amount: 1, email: "***" }]);
        // The producer resolved the latest version; the consumer found the writer's id in the same store.
        assert.deepEqual(asked, ["getVersion"]);
      });

      it('key contracts: with key "auto" a topic whose key subject exists gets keys in the wire format, decoded on consume', async () => {
        const topic = uniqueName("rt-keyed");
        await createTopics(kafka, [topic]);
        const registry = registryFor(infra);
        const key = await register(registry, `${topic}-key`, {
          schemaType: "AVRO",
          schema: JSON.stringify({ type: "record", name: "OrderKey", namespace: uniqueIdent("rtk"), fields: [{ name: "id", type: "string" }] }),
        });
        await register(registry, `${topic}-value`, topics.get("AVRO")!.contract);
        await contractProducer(producer, { registry }).send({ topic, messages: [{ key: { id: "a" }, value: { id: "a", amount: 1, email: "a@example.com" } }] });
        const raw = (await readAll(kafka, [topic])).get(topic)![0]!;
        assert.equal(raw.key![0], 0);
        assert.equal(raw.key!.readInt32BE(1), key.id);
        const consumer = contractConsumer(client.consumer({ groupId: uniqueName("rt-keyed") }), { registry: registryFor(infra), dlq: { producer } });
        const keys: unknown[] = [];
        await consumer.connect();
        try {
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          await consumer.run({ eachMessage: async (p) => void keys.push({ ...(p.key as object) }) });
          await waitFor(() => keys.length === 1, { timeoutMs: 20_000, what: "the keyed record" });
        } finally {
          await consumer.disconnect();
        }
        assert.deepEqual(keys, [{ id: "a" }]);
      });
    });
  });
}
