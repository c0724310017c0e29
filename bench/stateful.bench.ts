/**
 * Stateful rules on the consumer path (docs/stateful.md): the same Avro order consumed (framed bytes
 * deserialized, READ phase run) with and without the stateful rules, side by side in one process.
 *
 * - uniqueness of `orderId` over a 10-minute window of record time, every key new;
 * - referential integrity of `customerId` against a 100,000-key reference table.
 *
 * The stateful side also drains the changelog entries each message produces (the objects the
 * Kafka layer writes), but writes nothing to a broker: the changelog produce is not measured.
 * `--soak` runs 1M messages of the uniqueness case, record time 2 ms apart (1M messages span
 * 33 minutes, the window holds 300k keys), and samples the heap after GC every 100k.
 *
 *   npm run bench:stateful [-- --soak]
 */
import type { Contract, Rule } from "../src/contract/model.js";
import { createEngine, referenceTable, type StatefulPartition } from "../src/engine/index.js";
import { FORMATS } from "../src/format/index.js";
import { createFileRegistry } from "../src/registry/file-registry.js";
import { createContractStore, createDeserializer, createSerializer, type Deserializer } from "../src/serde/index.js";
import { measure, table, trackPeakRss, type CaseResult } from "./harness.js";
import { ORDER_AVSC, orderValue } from "./order.js";

const WITHOUT = "without stateful rules";
const WITH = "with stateful rules";
const KEYS = 100_000;
const CONTEXT = { topic: "orders", isKey: false } as const;

const stateful = (name: string, type: string, expr: string, params: Record<string, string>): Rule => ({ name, kind: "CONDITION", mode: "READ", type, expr, params, onFailure: "DLQ", disabled: true });

const CASES: { name: string; rule: Rule }[] = [
  { name: "uniqueness, 10-minute window", rule: stateful("orderIdUnique", "STATEFUL_UNIQUE", "message.orderId", { "unique.window": "10m" }) },
  { name: `reference, ${KEYS / 1000}k-key table`, rule: stateful("customerKnown", "STATEFUL_REFERENCE", "message.customerId", { "reference.topic": "customers" }) },
];

interface Setup {
  readonly deserializer: Deserializer;
  readonly state: StatefulPartition;
  /** 1,024 framed records, each to be consumed many times. */
  readonly pool: Uint8Array[];
}

async function setup(rule: Rule): Promise<Setup> {
  const registry = createFileRegistry({ documents: [] });
  const contract: Contract = { schema: ORDER_AVSC, schemaType: "AVRO", ruleSet: { domainRules: [rule] } };
  await registry.register("orders-value", contract);
  const store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const serializer = createSerializer({ store, writerSchema: { use: "latest" } });
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 1024; i++) {
    const r = await serializer.serialize("orders", { ...orderValue(i), customerId: `c${(i * 7919) % KEYS}` });
    if (r.kind !== "serialized") throw new Error("the bench order does not serialize");
    pool.push(r.bytes);
  }
  const deserializer = createDeserializer({ store });
  const first = await deserializer.deserialize("orders", pool[0]!);
  const customers = referenceTable();
  for (let k = 0; k < KEYS; k++) customers.apply(`c${k}`, true);
  const state = first.reader.plan.statefulPartition({ table: () => customers });
  if (!state) throw new Error("no stateful rules compiled");
  return { deserializer, state, pool };
}

/** One consumed record: decoded, given a fresh order id (both sides alike), and judged when `state` is given. */
function consume(s: Setup, i: number, judge: boolean): void {
  const r = s.deserializer.deserialize("orders", s.pool[i & 1023]!);
  if (r instanceof Promise) throw new Error("the bench expects cached contracts: synchronous deserialization");
  if (r.kind !== "deserialized") throw new Error("the bench order failed its READ rules");
  const value = r.value as { orderId: string };
  value.orderId = `o-${i}`;
  if (!judge) return;
  const o = s.state.run(value, CONTEXT, { record: i * 2, now: 0, offset: i });
  s.state.drain();
  if (o.kind !== "passed") throw new Error(`the stateful rule failed message ${i}: ${JSON.stringify(o.violations)}`);
}

async function main(): Promise<void> {
  const peak = trackPeakRss();
  const results: CaseResult[] = [];
  for (const c of CASES) {
    const s = await setup(c.rule);
    const r = await measure(c.name, [
      { name: WITHOUT, run: (i) => consume(s, i, false) },
      { name: WITH, run: (i) => consume(s, i, true) },
    ]);
    results.push(r);
    process.stderr.write(`${c.name}: ${(r.rates[WITH]! / r.rates[WITHOUT]!).toFixed(2)} of the consumer without stateful rules\n`);
  }
  console.log(table(results, WITHOUT, WITH, peak()));
  if (process.argv.includes("--soak")) await soak();
}

/** 1M messages of the uniqueness case: heap after GC must stop growing once the window is full. */
async function soak(): Promise<void> {
  const s = await setup(CASES[0]!.rule);
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: string[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    consume(s, i, true);
    if ((i + 1) % 100_000 === 0) {
      gc?.();
      samples.push(`${(i + 1) / 1000}k: ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MB (${s.state.sizes().orderIdUnique} keys)`);
    }
  }
  console.log(`\nsoak, uniqueness over 10 minutes, record time 2 ms apart, heap after GC:\n  ${samples.join("\n  ")}${gc ? "" : "\n  (run with node --expose-gc for exact numbers)"}`);
}

await main();
