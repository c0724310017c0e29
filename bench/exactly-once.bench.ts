/**
 * What exactly-once costs (docs/stateful.md, "Exactly-once"): the same records consumed by a
 * stateful contract consumer (a uniqueness rule, every key new) at-least-once and with
 * `exactlyOnce`, on each client given against the real broker, rounds interleaved in one process. A
 * round is a fresh group and application id reading the same topic from its beginning until its
 * offset is committed at the end; its time includes joining the group and creating the changelog topic.
 *
 * Handlers: `--each message` (eachMessage) or `batch` (eachBatch). Both sides commit every 100 ms
 * (stateful.commitIntervalMs at-least-once, by the wrapper: the Confluent client's consumer is made
 * with autoCommit false; exactly-once's default): exactly-once, a partition's records share a
 * transaction until then. The clients' consumers and transactional producers are made as the
 * integration suites make them (test/integration/kafka-support.ts). The load average is printed
 * with each round. @platformatic/kafka runs in a second process on Node 22 (scripts/bench.mjs).
 *
 *   node scripts/bench.mjs bench/exactly-once.bench.ts [--records 2000] [--rounds 3] [--each message|batch]
 *     [--clients kafkajs,confluent,platformatic] (default kafkajs) [--partitions 1] (records round-robin)
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { connectKafka, contractConsumer, contractProducer } from "../src/kafka/index.js";
import type { Contract } from "../src/contract/model.js";
import { uniqueName, waitFor } from "../test/helpers/infra.js";
import { clientUnderTest, register, registryFor, withAdmin } from "../test/integration/kafka-support.js";
import { acquireInfra, benchKafka, createTopics, deleteTopics } from "./kafka/infra.js";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    each: { type: "string", default: "message" },
    clients: { type: "string", default: "kafkajs" },
    partitions: { type: "string", default: "1" },
  },
});
if (values.each !== "message" && values.each !== "batch") throw new Error(`--each: message or batch, got ${values.each}`);
const RECORDS = Number(values.records);
const PARTITIONS = Number(values.partitions);
if (!Number.isInteger(PARTITIONS) || PARTITIONS < 1) throw new Error(`--partitions must be a positive integer, got ${values.partitions}`);
const ROUNDS = Number(values.rounds);
const CLIENTS = values.clients.split(",").map((c) => c.trim());

const contract = (dlq: string): Contract => ({
  schemaType: "JSON",
  schema: JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", title: uniqueName("eosbench").replace(/[^A-Za-z0-9_]/g, "_"), type: "object", properties: { id: { type: "string" } }, required: ["id"] }),
  ruleSet: {
    domainRules: [{ name: "idUnique", kind: "CONDITION", mode: "READ", type: "STATEFUL_UNIQUE", expr: "message.id", params: { "unique.window": "1h", "dlq.topic": dlq }, onFailure: "DLQ", disabled: true }],
  },
});

const infra = await acquireInfra();
const kafka = benchKafka(infra);
const access = await connectKafka("kafkajs", infra.brokers);
const registry = registryFor(infra);
const topic = uniqueName("eos-bench");
const dlq = `${topic}.dlq`;
await createTopics(kafka, [{ topic, numPartitions: PARTITIONS }, dlq]);
await register(registry, `${topic}-value`, contract(dlq));
const producer = kafka.producer();
await producer.connect();
const writer = contractProducer(producer, { registry, key: false });
// Round-robin over the partitions: each has its own transactions (and transactional producer) exactly-once.
for (let i = 0; i < RECORDS; i += 500) await writer.send({ topic, messages: Array.from({ length: Math.min(500, RECORDS - i) }, (_, j) => ({ partition: (i + j) % PARTITIONS, value: { id: `k${i + j}` } })) });

/** The group's committed offsets summed over the partitions: the records it is past. */
const committedAt = (group: string) =>
  withAdmin(kafka, async (admin) => (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0));

for (const name of CLIENTS) {
  const client = clientUnderTest(name, () => infra);
  // Loads the client; the at-least-once side's changelog and dead letters go through it.
  const ownProducer = await client.producer();

  const round = async (exactlyOnce: boolean): Promise<number> => {
    const group = uniqueName("g");
    const applicationId = uniqueName("app");
    const consumer = contractConsumer(client.consumer({ groupId: group, autoCommit: false }), {
      registry,
      key: false,
      ...(exactlyOnce
        ? { stateful: { applicationId, access }, exactlyOnce: { transactionalId: applicationId, groupId: group, producer: (transactionalId: string) => client.transactionalProducer(transactionalId) } }
        : { stateful: { applicationId, access, producer: ownProducer, commitIntervalMs: 100, commits: "wrapper" as const }, dlq: { producer: ownProducer } }),
    });
    const start = performance.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run(values.each === "batch" ? { eachBatch: async () => {} } : { eachMessage: async () => {} });
    await waitFor(async () => (await committedAt(group)) === RECORDS, { timeoutMs: 600_000, intervalMs: 200, what: `${RECORDS} records committed` });
    const ms = performance.now() - start;
    await consumer.disconnect();
    await deleteTopics(kafka, [`${applicationId}-${topic}-idUnique-changelog`]).catch(() => undefined);
    return RECORDS / (ms / 1000);
  };

  for (let r = 1; r <= ROUNDS; r++) {
    const alo = await round(false);
    const eos = await round(true);
    console.log(`${name} round ${r}: at-least-once ${alo.toFixed(0)} records/s, exactly-once ${eos.toFixed(0)} records/s, ratio ${(eos / alo).toFixed(3)} (load average ${loadavg()[0]!.toFixed(1)})`);
  }
  await ownProducer.disconnect();
}
await producer.disconnect();
await deleteTopics(kafka, [topic, dlq]).catch(() => undefined);
console.log(`${RECORDS} records, ${PARTITIONS} partition(s), each${values.each === "batch" ? "Batch" : "Message"}, ${CLIENTS.join(", ")} on Node ${process.versions.node}; ${await infra.release(false)}`);
