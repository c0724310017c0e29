/**
 * Interop with the reference JS client, @confluentinc/schemaregistry, on the
 * same registry and broker: records kontract produces decode with its
 * deserializers, records its serializers produce decode with kontract, and
 * both run the contract's rules alike (a READ CEL_FIELD transform masking PII).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kafka, Producer } from "kafkajs";
// Deep imports: the package index also loads the AWS, Azure and GCP KMS SDKs.
import { SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import { AvroDeserializer, AvroSerializer } from "@confluentinc/schemaregistry/dist/serde/avro.js";
import { JsonDeserializer, JsonSerializer } from "@confluentinc/schemaregistry/dist/serde/json.js";
import { ProtobufDeserializer } from "@confluentinc/schemaregistry/dist/serde/protobuf.js";
import { SerdeType } from "@confluentinc/schemaregistry/dist/serde/serde.js";
import { CelExecutor } from "@confluentinc/schemaregistry/dist/rules/cel/cel-executor.js";
import { CelFieldExecutor } from "@confluentinc/schemaregistry/dist/rules/cel/cel-field-executor.js";
import type { Contract, RuleSet } from "../../src/contract/model.js";
import { contractConsumer, contractProducer } from "../../src/kafka/index.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { QUICK_CONSUMER, createTopics, kafkaFor, producerFor, readAll, register, registryFor, uniqueIdent } from "./kafka-support.js";

const RULES: RuleSet = {
  domainRules: [
    { name: "amountPositive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", onFailure: "ERROR" },
    { name: "maskPii", kind: "TRANSFORM", mode: "READ", type: "CEL_FIELD", tags: ["PII"], expr: "'***'" },
  ],
};

const avroContract = (): Contract => ({
  schemaType: "AVRO",
  schema: JSON.stringify({
    type: "record",
    name: "Order",
    namespace: uniqueIdent("interop"),
    fields: [
      { name: "id", type: "string" },
      { name: "amount", type: "double" },
      { name: "email", type: "string", "confluent:tags": ["PII"] },
    ],
  }),
  ruleSet: RULES,
});

const jsonContract = (): Contract => ({
  schemaType: "JSON",
  schema: JSON.stringify({
    $schema: "http://json-schema.org/draft-07/schema#",
    title: uniqueIdent("interop"),
    type: "object",
    properties: { id: { type: "string" }, amount: { type: "number" }, email: { type: "string", "confluent:tags": ["PII"] } },
    required: ["id", "amount", "email"],
  }),
  ruleSet: RULES,
});

const protoContract = (): Contract => ({
  schemaType: "PROTOBUF",
  schema: `syntax = "proto3";\npackage ${uniqueIdent("interop")};\n\nmessage Order {\n  string id = 1;\n  double amount = 2;\n  string email = 3;\n}\n`,
  metadata: { tags: { "**.email": ["PII"] } },
  ruleSet: RULES,
});

let infra: Infra;
let kafka: Kafka;
let producer: Producer;
let confluent: SchemaRegistryClient;

before(async () => {
  infra = await ensureInfra();
  kafka = kafkaFor(infra);
  producer = producerFor(kafka);
  await producer.connect();
  confluent = new SchemaRegistryClient({ baseURLs: [infra.registryUrl] });
  CelExecutor.register();
  CelFieldExecutor.register();
});

after(async () => {
  await producer?.disconnect();
});

const plain = (v: { id: string; amount: number; email: string }) => ({ id: v.id, amount: v.amount, email: v.email });

async function topicWith(contract: Contract): Promise<string> {
  const topic = uniqueName(`interop-${contract.schemaType!.toLowerCase()}`);
  await createTopics(kafka, [topic]);
  await register(registryFor(infra), `${topic}-value`, contract);
  return topic;
}

async function consumeWithKontract(topic: string, count: number): Promise<unknown[]> {
  const consumer = contractConsumer(kafka.consumer({ groupId: uniqueName("interop"), ...QUICK_CONSUMER }), { registry: registryFor(infra), key: false, dlq: { producer } });
  const values: unknown[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ value }) => void values.push(value) });
    await waitFor(() => values.length >= count, { timeoutMs: 20_000, what: `${count} record(s) on ${topic}` });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

describe("interop with @confluentinc/schemaregistry", () => {
  const order = { id: "k1", amount: 5, email: "ada@example.com" };

  for (const [name, contract, Serializer, Deserializer] of [
    ["Avro", avroContract, AvroSerializer, AvroDeserializer],
    ["JSON Schema", jsonContract, JsonSerializer, JsonDeserializer],
  ] as const) {
    it(`${name}: kontract → Confluent deserializer, Confluent serializer → kontract, same bytes`, async () => {
      const topic = await topicWith(contract());
      await contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: [{ value: order }] });
      const ours = (await readAll(kafka, [topic])).get(topic)![0]!.value!;

      const deserializer = new Deserializer(confluent, SerdeType.VALUE, {});
      assert.deepEqual(plain(await deserializer.deserialize(topic, ours)), { ...order, email: "***" }, "the Confluent client ran the READ transform too");

      const serializer = new Serializer(confluent, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false });
      const theirs = await serializer.serialize(topic, order);
      assert.ok(theirs.equals(ours), `identical wire bytes\n  kontract:  ${ours.toString("hex")}\n  confluent: ${theirs.toString("hex")}`);
      await assert.rejects(serializer.serialize(topic, { ...order, amount: -1 }), /amountPositive/, "the Confluent client enforces the same WRITE rule");

      await producer.send({ topic, messages: [{ value: theirs }] });
      const values = await consumeWithKontract(topic, 2);
      assert.deepEqual(values.map((v) => plain(v as typeof order)), [
        { ...order, email: "***" },
        { ...order, email: "***" },
      ]);
    });
  }

  it("Protobuf: kontract → Confluent deserializer (message indexes and READ rules included)", async () => {
    const topic = await topicWith(protoContract());
    await contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: [{ value: order }] });
    const ours = (await readAll(kafka, [topic])).get(topic)![0]!.value!;
    const decoded = (await new ProtobufDeserializer(confluent, SerdeType.VALUE, {}).deserialize(topic, ours)) as typeof order;
    assert.deepEqual(plain(decoded), { ...order, email: "***" });
  });
});
