/**
 * The bench's contract and messages: bench/order.ts's Avro order with its five
 * CEL conditions, and every message built (and, for plain kafkajs, serialized)
 * before anything is timed.
 */
import type { Contract, Rule, RuleMode } from "../../src/contract/model.js";
import { createEngine } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import type { RestRegistry } from "../../src/registry/rest/index.js";
import { createContractStore, createSerializer } from "../../src/serde/index.js";
import { FIVE_CONDITIONS, ORDER_AVSC, orderValue } from "../order.js";
import { tenths, type Order, type Workload } from "./contenders.js";

/**
 * The order contract. A namespace of its own per run: on AxonOps the schema id
 * ignores the ruleSet, so a run must not share ids with other registrations
 * of the same schema text. `ruleMode` WRITE is bench/order.ts as is (the rules
 * run on produce only); WRITEREAD runs them on consume too.
 */
export function benchContract(namespaceSuffix: string, ruleMode: RuleMode): Contract {
  const schema = { ...(JSON.parse(ORDER_AVSC) as Record<string, unknown>) };
  schema.namespace = `${schema.namespace as string}.${namespaceSuffix}`;
  const domainRules: Rule[] = FIVE_CONDITIONS.map((r) => ({ ...r, mode: ruleMode }));
  return { schemaType: "AVRO", schema: JSON.stringify(schema), ruleSet: { domainRules } };
}

/**
 * `count` orders in batches of `batchSize` (orders `first` to `first + count - 1`), plus their
 * kontract wire bytes. `serializeTopic` must have the bench contract registered under `<topic>-value`.
 */
export async function buildWorkload(count: number, batchSize: number, registry: RestRegistry, serializeTopic: string, first = 0): Promise<Workload> {
  const serializer = createSerializer({ store: createContractStore({ registry, engine: createEngine(), formats: FORMATS }), writerSchema: { use: "latest" } });
  const values: Order[][] = [];
  const contractMessages: { value: Order }[][] = [];
  const bytes: { value: Buffer }[][] = [];
  let amountSum = 0;
  let byteSum = 0;
  for (let start = first; start < first + count; start += batchSize) {
    const batch: Order[] = [];
    const serialized: { value: Buffer }[] = [];
    for (let i = start; i < Math.min(first + count, start + batchSize); i++) {
      const value = orderValue(i);
      const r = await serializer.serialize(serializeTopic, value);
      if (r.kind !== "serialized") throw new Error(`kontract rejected bench order ${i}: ${JSON.stringify(r.outcome.violations)}`);
      const buf = Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
      batch.push(value);
      serialized.push({ value: buf });
      amountSum += tenths(value);
      byteSum += buf.length;
    }
    values.push(batch);
    contractMessages.push(batch.map((value) => ({ value })));
    bytes.push(serialized);
  }
  return { values, contractMessages, bytes, count, amountSum, byteSum };
}
