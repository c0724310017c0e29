/**
 * Field encryption through the real broker and registry (kafkajs; encryption does not depend on
 * the client): a kontract producer encrypts PII; a consumer with the key reads it in clear; one
 * without the key dead-letters the record with a typed error naming the KEK and subject, or with
 * passthrough reads the ciphertext; a READ rule failing after decryption never puts the decrypted
 * value in the DLQ record.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Contract } from "../../src/contract/model.js";
import { encryptionExecutors, type EncryptionOptions } from "../../src/engine/index.js";
import { DLQ_HEADERS, contractConsumer, contractProducer } from "../../src/kafka/index.js";
import { createRestDekRegistry } from "../../src/registry/rest/index.js";
import { uniqueName, waitFor } from "../helpers/infra.js";
import { QUICK_CONSUMER, createTopics, kafkajsForFile, readAll, register, registryFor, text, uniqueIdent } from "./kafka-support.js";

const SECRET = "broker-test-secret";

const file = kafkajsForFile();

function contract(kek: string, dlq: string): Contract {
  return {
    schemaType: "AVRO",
    schema: JSON.stringify({
      type: "record",
      name: "Patient",
      namespace: uniqueIdent("enc"),
      fields: [
        { name: "id", type: "string" },
        { name: "age", type: "int" },
        { name: "ssn", type: "string", "confluent:tags": ["PII"] },
      ],
    }),
    ruleSet: {
      domainRules: [
        // READ runs the list backwards: ENCRYPT last means decrypt first, then the READ check.
        { name: "adult", kind: "CONDITION", mode: "READ", type: "CEL", expr: "message.age >= 18", params: { "dlq.topic": dlq }, onFailure: "DLQ" },
        {
          name: "encryptPII",
          kind: "TRANSFORM",
          mode: "WRITEREAD",
          type: "ENCRYPT",
          tags: ["PII"],
          params: { "encrypt.kek.name": kek, "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "k", "dlq.topic": dlq },
          onFailure: "ERROR,DLQ",
        },
      ],
    },
  };
}

const engine = (extra: Partial<EncryptionOptions> = {}) => ({
  executors: encryptionExecutors({ dekRegistry: createRestDekRegistry({ url: file.infra.registryUrl }), config: { secret: SECRET }, ...extra }),
});

/** Consumes from the start until `done` holds. */
async function consume(topic: string, options: Partial<EncryptionOptions>, done: (values: readonly unknown[]) => Promise<boolean> | boolean): Promise<Record<string, unknown>[]> {
  const consumer = contractConsumer(file.kafka.consumer({ groupId: uniqueName("enc"), ...QUICK_CONSUMER }), { registry: registryFor(file.infra), engine: engine(options), key: false, dlq: { producer: file.producer } });
  const values: Record<string, unknown>[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ value }) => void values.push({ ...(value as object) }) });
    await waitFor(() => done(values), { timeoutMs: 20_000, what: `records of ${topic} consumed` });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

describe("field encryption through the broker", () => {
  it("encrypts on produce; key holders read clear text, others dead-letter or pass the ciphertext through", async () => {
    const topic = uniqueName("enc");
    const dlq = `${topic}.dlq`;
    await createTopics(file.kafka, [topic, dlq]);
    await register(registryFor(file.infra), `${topic}-value`, contract(uniqueName("kek"), dlq));
    const patients = [
      { id: "p1", age: 40, ssn: "111-11-1111" },
      { id: "p2", age: 12, ssn: "222-22-2222" },
    ];
    const sent = await contractProducer(file.producer, { registry: registryFor(file.infra), engine: engine(), key: false }).send({ topic, messages: patients.map((value) => ({ value })) });
    assert.deepEqual(sent.messages.map((m) => m.status), ["sent", "sent"]);
    const raw = (await readAll(file.kafka, [topic])).get(topic)!;
    for (const m of raw) assert.ok(!m.value!.includes("-11-") && !m.value!.includes("-22-"), "no SSN on the wire in clear");

    // With the key: p1 in clear; p2 fails the READ rule after decryption and is dead-lettered redacted.
    const dlqCount = async () => (await readAll(file.kafka, [dlq])).get(dlq)!.length;
    assert.deepEqual(await consume(topic, {}, async (v) => v.length === 1 && (await dlqCount()) === 1), [patients[0]]);
    const dead = (await readAll(file.kafka, [dlq])).get(dlq)!;
    assert.equal(dead.length, 1);
    assert.equal(text(dead[0]!, DLQ_HEADERS.ruleName), "adult");
    // A consumer dead-letters the record as it was read: the encrypted bytes, never the decrypted value.
    assert.ok(dead[0]!.value!.equals(raw[1]!.value!), "the DLQ record is the original, encrypted record");
    assert.ok(!dead[0]!.value!.includes("222-22") && !JSON.stringify(dead[0]!.headers).includes("222-22"));

    // Without the key (another secret): both records are dead-lettered by the ENCRYPT rule, with a typed reason.
    const before = dead.length;
    assert.deepEqual(await consume(topic, { config: { secret: "not-the-secret" } }, async () => (await dlqCount()) === before + 2), []);
    const more = (await readAll(file.kafka, [dlq])).get(dlq)!.slice(before);
    for (const m of more) {
      assert.equal(text(m, DLQ_HEADERS.ruleName), "encryptPII");
      assert.match(text(m, DLQ_HEADERS.ruleException) ?? "", /KEK kek-.*, subject .*-value: the KMS \(local-kms\) could not unwrap DEK version 1/);
      const v = m.value!.toString("utf8");
      assert.ok(!v.includes("111-11") && !v.includes("222-22") && !v.includes("not-the-secret") && !v.includes(SECRET));
      assert.ok(![...Object.values(m.headers ?? {})].some((h) => String(h).includes("not-the-secret")));
    }

    // Passthrough: the ciphertext, base64, instead of an error (p2 still fails the READ rule).
    const through = await consume(topic, { config: { secret: "not-the-secret" }, passthrough: true }, async (v) => v.length === 1 && (await dlqCount()) === before + 3);
    assert.equal(through[0]!.id, "p1");
    assert.notEqual(through[0]!.ssn, patients[0]!.ssn);
    assert.ok(Buffer.from(String(through[0]!.ssn), "base64").length > 28);
  });
});
