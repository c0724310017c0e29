/**
 * Migrations through the real broker and registry: a v1 and a v2 producer
 * write to one topic (v2 renames `name` to `fullName`, with JSONata UPGRADE
 * and DOWNGRADE rules); a v2 consumer reads everything as v2 (UPGRADE), a v1
 * consumer reads everything as v1 (DOWNGRADE), picked by
 * `application.major.version` metadata.
 * Once per client under test (kafka-support: clientsUnderTest).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kafka, Producer } from "kafkajs";
import type { Contract } from "../../src/contract/model.js";
import { contractConsumer, contractProducer } from "../../src/kafka/index.js";
import type { ReaderSchema } from "../../src/serde/index.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { clientsUnderTest, createTopics, kafkaFor, register, registryFor, uniqueIdent } from "./kafka-support.js";

let infra: Infra;
let kafka: Kafka;

before(async () => {
  infra = await ensureInfra();
  kafka = kafkaFor(infra);
});

for (const client of clientsUnderTest(() => infra)) {
  describe(`on ${client.name}`, () => {
    let producer: Producer;
    const topic = uniqueName("migrate");
    const ns = uniqueIdent("mig");

    const avro = (fields: { name: string; type: string }[]) => JSON.stringify({ type: "record", name: "Customer", namespace: ns, fields });

    const v1: Contract = {
      schema: avro([
        { name: "id", type: "string" },
        { name: "name", type: "string" },
      ]),
      metadata: { properties: { "application.major.version": "1" } },
      ruleSet: {},
    };

    const v2: Contract = {
      schema: avro([
        { name: "id", type: "string" },
        { name: "fullName", type: "string" },
      ]),
      metadata: { properties: { "application.major.version": "2" } },
      ruleSet: {
        migrationRules: [
          { name: "nameToFullName", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "$merge([$sift($, function($v, $k) {$k != 'name'}), {'fullName': name}])" },
          { name: "fullNameToName", kind: "TRANSFORM", mode: "DOWNGRADE", type: "JSONATA", expr: "$merge([$sift($, function($v, $k) {$k != 'fullName'}), {'name': fullName}])" },
        ],
      },
    };

    before(async () => {
      producer = await client.producer();
      await createTopics(kafka, [topic]);
      const registry = registryFor(infra);
      await register(registry, `${topic}-value`, v1);
      await register(registry, `${topic}-value`, v2);
      const major = (m: string) => ({ use: "latest-with-metadata" as const, metadata: { "application.major.version": m } });
      const p1 = contractProducer(producer, { registry: registryFor(infra), key: false, value: { writerSchema: major("1") } });
      const p2 = contractProducer(producer, { registry: registryFor(infra), key: false, value: { writerSchema: { use: "latest" } } });
      await p1.send({ topic, messages: [{ value: { id: "c1", name: "Ada Lovelace" } }] });
      await p2.send({ topic, messages: [{ value: { id: "c2", fullName: "Grace Hopper" } }] });
      await p1.send({ topic, messages: [{ value: { id: "c3", name: "Edsger Dijkstra" } }] });
    });

    after(async () => {
      await producer?.disconnect();
    });

    async function readAs(readerSchema: ReaderSchema): Promise<unknown[]> {
      const consumer = contractConsumer(client.consumer({ groupId: uniqueName("migrate-reader") }), {
        registry: registryFor(infra),
        key: false,
        value: { readerSchema },
        dlq: { producer },
      });
      const values: unknown[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        // avsc decodes records as instances of a generated class: compare their fields.
        await consumer.run({ eachMessage: async ({ value }) => void values.push({ ...(value as object) }) });
        await waitFor(() => values.length === 3, { timeoutMs: 20_000, what: "3 customers" });
      } finally {
        await consumer.disconnect();
      }
      return values;
    }

    describe("migrations between a v1 and a v2 application", () => {
      it("a v2 consumer (reader: latest) reads v1 records upgraded", async () => {
        assert.deepEqual(await readAs({ use: "latest" }), [
          { id: "c1", fullName: "Ada Lovelace" },
          { id: "c2", fullName: "Grace Hopper" },
          { id: "c3", fullName: "Edsger Dijkstra" },
        ]);
      });

      it("a v1 consumer (reader: latest with application.major.version=1) reads v2 records downgraded", async () => {
        assert.deepEqual(await readAs({ use: "latest-with-metadata", metadata: { "application.major.version": "1" } }), [
          { id: "c1", name: "Ada Lovelace" },
          { id: "c2", name: "Grace Hopper" },
          { id: "c3", name: "Edsger Dijkstra" },
        ]);
      });
    });
  });
}
