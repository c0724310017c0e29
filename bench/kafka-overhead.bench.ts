/**
 * What kontract costs per produced record without any Kafka client: the
 * Kafka bench's order contract (bench/order.ts, five CEL conditions) in a
 * memory registry, contractProducer over a fake @platformatic/kafka producer
 * that answers every send at once, against the same fake fed by avsc
 * (the yardstick's own work: encode and the 5-byte prefix) and by nothing
 * (the adapter's record conversion alone). CPU time of this process per
 * record; the median of 9 runs and their range. No broker: it tells how much
 * of a client's per-record budget the contract layer takes (docs/kafka.md).
 *
 *   node scripts/bench.mjs bench/kafka-overhead.bench.ts
 */
import avsc from "avsc";
import { contractProducer } from "../src/kafka/index.js";
import { platformaticProducer } from "../src/kafka/clients/platformatic.js";
import { createMemoryRegistry } from "../src/registry/index.js";
import { FIVE_CONDITIONS, ORDER_AVSC, orderValue } from "./order.js";

const N = 1000;
const BATCHES = 100;
const RUNS = 9;

const registry = createMemoryRegistry();
await registry.register("t-value", { schemaType: "AVRO", schema: ORDER_AVSC, ruleSet: { domainRules: FIVE_CONDITIONS.map((r) => ({ ...r, mode: "WRITE" as const })) } });
/** @platformatic/kafka's producer as the adapter sees it, answering at once. */
const fake = {
  type: "producer",
  asStream() {},
  send: async (_o: unknown) => ({ offsets: [{ topic: "t", partition: 0, offset: 0n }] }),
};
const producer = contractProducer(fake as never, { registry, key: false });
const batches = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: N }, (_, i) => ({ value: orderValue(b * N + i) })));
const type = avsc.Type.forSchema(JSON.parse(ORDER_AVSC) as avsc.Schema);
const prefix = Buffer.from([0, 0, 0, 0, 1]);
const encoded = batches.map((b) => b.map((m) => ({ value: Buffer.concat([prefix, type.toBuffer(m.value)]) })));
const port = platformaticProducer(fake as never);

async function perRecord(run: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = process.cpuUsage();
    await run();
    const u = process.cpuUsage(t);
    out.push((u.user + u.system) / (N * BATCHES));
  }
  return out.sort((a, b) => a - b);
}

const rows: [string, number[]][] = [
  ["kontract: contractProducer + adapter (rules, encode, frame)", await perRecord(async () => {
    for (const messages of batches) await producer.sendBatch({ acks: -1, compression: 0, topicMessages: [{ topic: "t", messages }] });
  })],
  ["yardstick's own work: avsc encode + prefix", await perRecord(async () => {
    for (const b of batches) await fake.send({ messages: b.map((m) => ({ topic: "t", value: Buffer.concat([prefix, type.toBuffer(m.value)]) })) });
  })],
  ["the adapter alone: bytes to @platformatic/kafka records", await perRecord(async () => {
    for (const messages of encoded) await port.write([{ topic: "t", messages }], { acks: -1, compression: 0 });
  })],
];
console.log(`CPU µs per record, ${N * BATCHES} orders, no Kafka client (median of ${RUNS} runs, range)`);
for (const [label, xs] of rows) console.log(`  ${label.padEnd(62)} ${xs[RUNS >> 1]!.toFixed(2)}  (${xs[0]!.toFixed(2)}-${xs[RUNS - 1]!.toFixed(2)})`);
