import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import type { Rule } from "../../src/contract/model.js";
import { RegistryError, isKontractError } from "../../src/errors.js";
import { createEngine } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import {
  ConsumeError,
  DLQ_HEADERS,
  DeadLetterError,
  REPLAY_HEADERS,
  contractConsumer,
  kontractCause,
  signReplay,
  type ConsumedDeadLetter,
  type ContractConsumerOptions,
  type DecodedMessage,
} from "../../src/kafka/index.js";
import { createContractStore, createSerializer } from "../../src/serde/index.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeConsumer, fakeProducer, headerText, kafkaMessage, readBack, testRegistry, valueBytes } from "./fakes.js";

const readRule = (name: string, expr: string, onFailure: string, extra: Partial<Rule> = {}): Rule => ({
  name,
  kind: "CONDITION",
  mode: "READ",
  type: "CEL",
  expr,
  onFailure,
  ...extra,
});

async function setup(rules: Rule[], options: Partial<ContractConsumerOptions> = {}) {
  const registry = testRegistry();
  await registry.register("orders-value", contract({ domainRules: rules }));
  const bytes = valueBytes(registry);
  const kafka = fakeConsumer();
  const dlqProducer = fakeProducer();
  const dead: ConsumedDeadLetter[] = [];
  const consumer = contractConsumer(kafka, {
    registry,
    key: false,
    dlq: { producer: dlqProducer },
    onDeadLetter: (d) => dead.push(d),
    ...options,
  });
  return { registry, bytes, kafka, dlqProducer, consumer, dead };
}

describe("contractConsumer: eachMessage", () => {
  it("hands over the decoded value, the NONE violations and the original record", async () => {
    const { bytes, kafka, consumer } = await setup([readRule("smallQty", "message.qty < 10", "NONE")]);
    const seen: { value: unknown; rules: string[]; message: KafkaMessage }[] = [];
    await consumer.run({ eachMessage: async (p) => void seen.push({ value: p.value, rules: p.violations.map((v) => v.rule), message: p.message }) });
    const record = kafkaMessage(7, await bytes(order({ qty: 50 })));
    const d = await kafka.deliver("orders", 0, [record]);
    assert.equal(d.error, undefined);
    assert.equal(d.resolved, "7");
    assert.deepEqual(seen[0]!.value, order({ qty: 50 }));
    assert.deepEqual(seen[0]!.rules, ["smallQty"]);
    assert.equal(seen[0]!.message, record);
  });

  it("the handler gets every field of kafkajs's payload", async () => {
    const { bytes, kafka, consumer } = await setup([]);
    const seen: unknown[] = [];
    await consumer.run({
      eachMessage: async (p) => void seen.push([p.topic, p.partition, p.message.offset, typeof p.heartbeat, typeof p.pause]),
    });
    await kafka.deliver("orders", 4, [kafkaMessage(9, await bytes(order()))]);
    assert.deepEqual(seen, [["orders", 4, "9", "function", "function"]]);
  });

  it("onFailure DLQ: the original bytes and headers go to the DLQ, the handler is skipped, the offset moves", async () => {
    const { bytes, kafka, consumer, dlqProducer, dead } = await setup([readRule("positive", "message.amount > 0.0", "DLQ", { params: { "dlq.topic": "orders.read-dlq" } })]);
    let handled = 0;
    await consumer.run({ eachMessage: async () => void handled++ });
    const value = await bytes(order({ amount: -3 }));
    const headers = { trace: Buffer.from("t-9"), [DLQ_HEADERS.offset]: Buffer.from("old") };
    const d = await kafka.deliver("orders", 2, [kafkaMessage(41, value, headers, Buffer.from("k-1"))]);
    assert.equal(d.error, undefined);
    assert.equal(d.resolved, "41");
    assert.equal(handled, 0);
    const dl = dlqProducer.log.get("orders.read-dlq")![0]!;
    assert.ok((dl.value as Buffer).equals(value), "value byte for byte");
    assert.ok((dl.key as Buffer).equals(Buffer.from("k-1")), "key byte for byte");
    assert.equal(headerText(dl, "trace"), "t-9");
    assert.equal(headerText(dl, DLQ_HEADERS.ruleName), "positive");
    assert.equal(headerText(dl, DLQ_HEADERS.ruleMode), "READ");
    assert.equal(headerText(dl, DLQ_HEADERS.topic), "orders");
    assert.equal(headerText(dl, DLQ_HEADERS.partition), "2");
    assert.equal(headerText(dl, DLQ_HEADERS.offset), "41", "the previous origin offset header is replaced");
    assert.equal(dlqProducer.batches[0]!.acks, -1, "DLQ writes wait for all replicas");
    assert.deepEqual(
      dead.map((x) => [x.reason, x.rule, x.dlqTopic, x.offset]),
      [["rule", "positive", "orders.read-dlq", "41"]],
    );
  });

  it("when the DLQ write fails the handler throws DeadLetterError and the offset does not move", async () => {
    const { bytes, kafka, consumer, dlqProducer } = await setup([readRule("positive", "message.amount > 0.0", "DLQ")]);
    await consumer.run({ eachMessage: async () => {} });
    dlqProducer.failWhen(() => true);
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order())), kafkaMessage(1, await bytes(order({ amount: -1 })))]);
    assert.ok(d.error instanceof DeadLetterError);
    assert.equal(d.error.retriable, true, "kafkajs retries it");
    assert.equal(d.resolved, "0", "stops before the record that could not be dead-lettered");
  });

  it("without a DLQ producer a record to dead-letter stops the consumer (non-retriable), nothing is skipped", async () => {
    const { bytes, kafka, consumer } = await setup([readRule("positive", "message.amount > 0.0", "DLQ")], { dlq: {} });
    await consumer.run({ eachMessage: async () => {} });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ amount: -1 })))]);
    assert.ok(d.error instanceof DeadLetterError);
    assert.equal(d.error.retriable, false);
    assert.equal(d.resolved, undefined);
  });

  it("onFailure ERROR throws a ConsumeError: non-retriable by default (stop), retriable with onError 'retry'", async () => {
    for (const [onError, retriable] of [
      [undefined, false],
      ["retry", true],
    ] as const) {
      const { bytes, kafka, consumer, dlqProducer } = await setup([readRule("positive", "message.amount > 0.0", "ERROR")], onError ? { onError } : {});
      await consumer.run({ eachMessage: async () => {} });
      const d = await kafka.deliver("orders", 3, [kafkaMessage(5, await bytes(order({ amount: -1 })))]);
      assert.ok(d.error instanceof ConsumeError);
      assert.equal(d.error.retriable, retriable);
      assert.equal(d.error.code, "rule-violation");
      assert.deepEqual([d.error.topic, d.error.partition, d.error.offset], ["orders", 3, "5"]);
      assert.deepEqual(
        d.error.violations.map((v) => v.rule),
        ["positive"],
      );
      assert.equal(d.resolved, undefined);
      assert.equal(dlqProducer.batches.length, 0);
    }
  });

  it("poison pills go to the DLQ by default, with the exception headers and no __rule.name", async () => {
    const { kafka, consumer, dlqProducer, dead } = await setup([]);
    await consumer.run({ eachMessage: async () => assert.fail("not for poison pills") });
    const garbage = Buffer.from("not the wire format");
    const unknownId = Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2]);
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, garbage), kafkaMessage(1, unknownId)]);
    assert.equal(d.error, undefined);
    assert.equal(d.resolved, "1");
    const [a, b] = dlqProducer.log.get("orders-dlq")!;
    assert.ok((a!.value as Buffer).equals(garbage));
    assert.equal(headerText(a!, DLQ_HEADERS.ruleName), undefined, "no rule to skip on replay");
    assert.equal(headerText(a!, DLQ_HEADERS.exceptionClass), "SerializationError");
    assert.equal(headerText(b!, DLQ_HEADERS.exceptionClass), "RegistryError");
    assert.deepEqual(
      dead.map((x) => [x.reason, isKontractError(x.error) && x.error.code]),
      [
        ["poison-pill", "wire-format"],
        ["poison-pill", "unknown-schema"],
      ],
    );
  });

  it('poisonPill "fail" stops the consumer with a non-retriable ConsumeError', async () => {
    const { kafka, consumer, dlqProducer } = await setup([], { poisonPill: "fail" });
    await consumer.run({ eachMessage: async () => {} });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, Buffer.from([1, 2, 3]))]);
    assert.ok(d.error instanceof ConsumeError);
    assert.equal(d.error.code, "wire-format");
    assert.equal(d.error.retriable, false);
    assert.equal(dlqProducer.batches.length, 0);
  });

  it("a registry that cannot be reached is not a poison pill: the retriable RegistryError propagates, nothing is dead-lettered", async () => {
    const { registry, bytes, kafka, consumer, dlqProducer } = await setup([]);
    const value = await bytes(order());
    registry.down = true;
    let handled = 0;
    await consumer.run({ eachMessage: async () => void handled++ });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, value)]);
    assert.ok(d.error instanceof RegistryError);
    assert.equal(d.error.retriable, true);
    assert.equal(dlqProducer.batches.length, 0);
    registry.down = false;
    const again = await kafka.deliver("orders", 0, [kafkaMessage(0, value)]);
    assert.equal(again.error, undefined);
    assert.equal(handled, 1);
  });

  it("a __rule.name header skips no rule by default: any producer could set one", async () => {
    const { bytes, kafka, consumer, dlqProducer } = await setup([readRule("positive", "message.amount > 0.0", "DLQ"), readRule("hasId", "message.id != ''", "DLQ")]);
    const values: unknown[] = [];
    await consumer.run({ eachMessage: async (p) => void values.push(p.value) });
    const value = await bytes(order({ amount: -1 }));
    await kafka.deliver("orders", 0, [kafkaMessage(0, value, { [DLQ_HEADERS.ruleName]: [Buffer.from("hasId"), Buffer.from("positive")] })]);
    assert.deepEqual(values, []);
    assert.equal(headerText(dlqProducer.log.get("orders-dlq")![0]!, DLQ_HEADERS.ruleName), "positive", "the rule ran and dead-lettered it");
  });

  it("with replay keys, a record signed by signReplay skips its rule; forged and transplanted ones run every rule and are reported", async () => {
    const keys = ["replay-key-".repeat(4)];
    const unverified: unknown[] = [];
    const { bytes, kafka, consumer, dlqProducer } = await setup([readRule("positive", "message.amount > 0.0", "DLQ"), readRule("hasId", "message.id != ''", "DLQ")], {
      replay: { keys, onUnverified: (u) => void unverified.push([u.offset, u.rule, u.reason]) },
    });
    const values: unknown[] = [];
    await consumer.run({ eachMessage: async (p) => void values.push(p.value) });
    const bad = await bytes(order({ id: "bad", amount: -1 }));
    const other = await bytes(order({ id: "other", amount: -2 }));
    const signed = signReplay({ value: bad, headers: { trace: Buffer.from("t") } }, { topic: "orders", rule: "positive" }, keys[0]!);
    const mac = signed.headers![REPLAY_HEADERS.mac] as string;
    await kafka.deliver("orders", 0, [
      readBack(signed, 0),
      kafkaMessage(1, bad, { [DLQ_HEADERS.ruleName]: Buffer.from("positive") }),
      kafkaMessage(2, other, { [DLQ_HEADERS.ruleName]: Buffer.from("positive"), [REPLAY_HEADERS.mac]: Buffer.from(mac) }),
      readBack(signReplay({ value: bad }, { topic: "payments", rule: "positive" }, keys[0]!), 3),
    ]);
    assert.deepEqual(values, [order({ id: "bad", amount: -1 })], "only the signed record skips positive");
    assert.equal(dlqProducer.log.get("orders-dlq")!.length, 3);
    assert.deepEqual(unverified, [
      ["1", "positive", "missing-mac"],
      ["2", "positive", "invalid-mac"],
      ["3", "positive", "invalid-mac"],
    ]);
    const again = dlqProducer.log.get("orders-dlq")![1]!;
    assert.equal(headerText(again, REPLAY_HEADERS.mac), undefined, "a dead letter carries no replay MAC");
  });

  it("decodes keys when the key subject exists (key 'auto')", async () => {
    const { registry, bytes, kafka } = await setup([]);
    await registry.register("orders-key", { schema: JSON.stringify({ type: "string" }), schemaType: "JSON" });
    const keySerializer = createSerializer({ isKey: true, store: createContractStore({ registry, engine: createEngine(), formats: FORMATS }) });
    const key = await keySerializer.serialize("orders", "k-7");
    assert.equal(key.kind, "serialized");
    const consumer = contractConsumer(kafka, { registry, dlq: { producer: fakeProducer() } });
    const keys: unknown[] = [];
    await consumer.run({ eachMessage: async (p) => void keys.push(p.key) });
    await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order()), {}, Buffer.from(key.bytes))]);
    assert.deepEqual(keys, ["k-7"]);
  });
});

describe("contractConsumer: eachMessage's synchronous path", () => {
  it("a plain-JavaScript handler that returns nothing, or throws at once, is taken as an async one would be", async () => {
    const { bytes, kafka, consumer } = await setup([]);
    const boom = new Error("thrown at once");
    const seen: string[] = [];
    const handler = ((p: { value: { id: string } }) => {
      if (p.value.id === "bad") throw boom;
      seen.push(p.value.id);
    }) as unknown as () => Promise<void>;
    await consumer.run({ eachMessage: handler });
    const first = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ id: "a" })))]);
    assert.equal(first.error, undefined);
    assert.deepEqual(seen, ["a"]);
    const second = await kafka.deliver("orders", 0, [kafkaMessage(1, await bytes(order({ id: "bad" })))]);
    assert.equal(second.error, boom);
  });
});

describe("contractConsumer: eachBatch", () => {
  const rules = [readRule("positive", "message.amount > 0.0", "DLQ"), readRule("noStop", "message.id != 'stop'", "ERROR")];

  it("dead-letters before the handler runs, hands over only the passed records, and auto-resolves the batch", async () => {
    const { bytes, kafka, consumer, dlqProducer } = await setup(rules);
    const got: { ids: string[]; dead: string[]; dlqWritten: number }[] = [];
    await consumer.run({
      eachBatch: async (p) => {
        got.push({
          ids: p.messages.map((m: DecodedMessage) => (m.value as { id: string }).id),
          dead: p.deadLettered.map((d) => d.offset),
          dlqWritten: dlqProducer.log.get("orders-dlq")?.length ?? 0,
        });
      },
    });
    const records = [order({ id: "a" }), order({ id: "b", amount: -1 }), order({ id: "c" }), order({ id: "d", amount: -1 })];
    const d = await kafka.deliver("orders", 0, await Promise.all(records.map(async (r, i) => kafkaMessage(i, await bytes(r)))));
    assert.equal(d.error, undefined);
    assert.equal(d.resolved, "3");
    assert.deepEqual(got, [{ ids: ["a", "c"], dead: ["1", "3"], dlqWritten: 2 }]);
  });

  it("the handler gets every field of kafkajs's payload", async () => {
    const { bytes, kafka, consumer } = await setup([]);
    const seen: unknown[] = [];
    await consumer.run({
      eachBatch: async (p) =>
        void seen.push([
          p.batch.topic,
          p.batch.messages.length,
          p.isRunning(),
          p.isStale(),
          p.uncommittedOffsets(),
          ...[p.heartbeat, p.pause, p.commitOffsetsIfNecessary, p.resolveOffset].map((f) => typeof f),
        ]),
    });
    await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order()))]);
    assert.deepEqual(seen, [["orders", 1, true, false, { topics: [] }, "function", "function", "function", "function"]]);
  });

  it("eachBatchAutoResolve false: resolving a record also resolves the dead letters right after it, not beyond", async () => {
    const { bytes, kafka, consumer } = await setup(rules);
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async (p) => {
        p.resolveOffset(p.messages[0]!.message.offset); // "a" at 1, then dead letters at 2 and 3, then "c" at 4 (unresolved)
      },
    });
    const records = [order({ id: "x", amount: -1 }), order({ id: "a" }), order({ id: "b", amount: -1 }), order({ id: "b2", amount: -1 }), order({ id: "c" })];
    const d = await kafka.deliver("orders", 0, await Promise.all(records.map(async (r, i) => kafkaMessage(i, await bytes(r)))));
    assert.equal(d.resolved, "3");
  });

  it("an ERROR record mid-batch: the records before it are delivered and resolved, then the batch throws", async () => {
    const { bytes, kafka, consumer } = await setup(rules);
    const seen: string[] = [];
    await consumer.run({ eachBatch: async (p) => void seen.push(...p.messages.map((m) => (m.value as { id: string }).id)) });
    const records = [order({ id: "a" }), order({ id: "b", amount: -1 }), order({ id: "stop" }), order({ id: "after" })];
    const d = await kafka.deliver("orders", 0, await Promise.all(records.map(async (r, i) => kafkaMessage(i, await bytes(r)))));
    assert.ok(kontractCause(d.error) instanceof ConsumeError);
    assert.deepEqual(seen, ["a"]);
    assert.equal(d.resolved, "1", "through the dead letter before the failing record");
  });

  it("a batch that decodes synchronously: the handler's error rejects the batch, which resolves nothing", async () => {
    const { bytes, kafka, consumer } = await setup([]);
    const boom = new Error("handler failed");
    await consumer.run({ eachBatch: async () => Promise.reject(boom) });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order()))]);
    assert.equal(d.error, boom);
    assert.equal(d.resolved, undefined);
  });

  it("a handler from plain JavaScript that returns nothing, or throws at once, is taken as an async one would be", async () => {
    const { bytes, kafka, consumer } = await setup([]);
    let calls = 0;
    const boom = new Error("thrown at once");
    // Not async: returns undefined the first time and throws the second.
    const handler = (() => {
      if (++calls === 2) throw boom;
    }) as unknown as () => Promise<void>;
    await consumer.run({ eachBatch: handler });
    const first = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order()))]);
    assert.equal(first.error, undefined);
    assert.equal(first.resolved, "0");
    const second = await kafka.deliver("orders", 0, [kafkaMessage(1, await bytes(order()))]);
    assert.equal(second.error, boom);
  });

  it("a failed DLQ write throws before the handler runs and resolves nothing", async () => {
    const { bytes, kafka, consumer, dlqProducer } = await setup(rules);
    let calls = 0;
    await consumer.run({ eachBatch: async () => void calls++ });
    dlqProducer.failWhen(() => true);
    const records = [order({ id: "a" }), order({ id: "b", amount: -1 })];
    const d = await kafka.deliver("orders", 0, await Promise.all(records.map(async (r, i) => kafkaMessage(i, await bytes(r)))));
    assert.ok(d.error instanceof DeadLetterError);
    assert.equal(calls, 0);
    assert.equal(d.resolved, undefined);
  });
});
