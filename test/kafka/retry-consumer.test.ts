/**
 * The contract consumer with retry topics, on the in-process fakes: which
 * failures go to a retry topic and which do not, that an offset moves only
 * after the retry write is acknowledged, and that a record not yet due
 * pauses its partition without being resolved. The same paths run against
 * the real broker per client in test/integration/kafka-retry.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { KontractError, RegistryError } from "../../src/errors.js";
import { ConsumeError, DLQ_HEADERS, DeadLetterError, RETRY_HEADERS, contractConsumer, type ConsumedDeadLetter, type ContractConsumerOptions, type RetriedRecord } from "../../src/kafka/index.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeConsumer, fakeProducer, headerText, kafkaMessage, readBack, testRegistry, valueBytes } from "./fakes.js";

const readRule = (name: string, expr: string, onFailure: string): Rule => ({ name, kind: "CONDITION", mode: "READ", type: "CEL", expr, onFailure });

async function setup(options: Partial<ContractConsumerOptions> = {}) {
  const registry = testRegistry();
  await registry.register("orders-value", contract({ domainRules: [readRule("positive", "message.amount > 0.0", "ERROR"), readRule("smallQty", "message.qty < 100", "DLQ")] }));
  const bytes = valueBytes(registry);
  const kafka = fakeConsumer();
  const producer = fakeProducer();
  const dead: ConsumedDeadLetter[] = [];
  const retried: RetriedRecord[] = [];
  const handled: { topic: string; id: string }[] = [];
  const consumer = contractConsumer(kafka, {
    registry,
    key: false,
    dlq: { producer },
    onDeadLetter: (d) => dead.push(d),
    onRetry: (r) => retried.push(r),
    retry: { backoff: { delayMs: 60_000 } },
    ...options,
  });
  return { registry, bytes, kafka, producer, consumer, dead, retried, handled };
}

type Setup = Awaited<ReturnType<typeof setup>>;

async function runHandler(s: Setup, fail: (id: string, topic: string) => boolean = () => false): Promise<void> {
  await s.consumer.run({
    eachMessage: async ({ topic, value }) => {
      const id = (value as { id: string }).id;
      if (fail(id, topic)) throw new Error(`cannot handle ${id}`);
      s.handled.push({ topic, id });
    },
  });
}

describe("contractConsumer with retry topics", () => {
  it("a handler error goes to retry-1 after the records before it; the offset moves once the write is acknowledged", async () => {
    const s = await setup();
    await runHandler(s, (id) => id === "b");
    const d = await s.kafka.deliver("orders", 3, [kafkaMessage(10, await s.bytes(order({ id: "a" }))), kafkaMessage(11, await s.bytes(order({ id: "b" })), { trace: Buffer.from("t") })]);
    assert.deepEqual([d.error, d.resolved, d.paused], [undefined, "11", false]);
    assert.deepEqual(s.handled, [{ topic: "orders", id: "a" }]);
    const [written] = s.producer.log.get("orders-retry-1")!;
    assert.equal(headerText(written!, "trace"), "t");
    assert.equal(headerText(written!, RETRY_HEADERS.attempt), "2");
    assert.equal(headerText(written!, RETRY_HEADERS.originalPartition), "3");
    assert.equal(headerText(written!, RETRY_HEADERS.originalOffset), "11");
    assert.equal(headerText(written!, DLQ_HEADERS.exceptionClass), "Error");
    assert.equal(headerText(written!, DLQ_HEADERS.exceptionMessage), undefined);
    assert.deepEqual(
      s.retried.map((r) => [r.retryTopic, r.attempt, r.reason]),
      [["orders-retry-1", 2, "handler"]],
    );
    assert.equal(s.producer.batches[0]!.acks, -1);
  });

  it("a retry write that fails fails the record: not resolved, nothing reported, nothing skipped", async () => {
    const s = await setup();
    await runHandler(s, (id) => id === "b");
    s.producer.failWhen((t) => t === "orders-retry-1");
    const d = await s.kafka.deliver("orders", 0, [kafkaMessage(10, await s.bytes(order({ id: "a" }))), kafkaMessage(11, await s.bytes(order({ id: "b" })))]);
    assert.ok(d.error instanceof DeadLetterError);
    assert.equal(d.resolved, "10", "the record before it is done; the failing one is read again");
    assert.deepEqual(s.retried, []);
  });

  it("a record of a retry topic not yet due pauses its partition, unresolved, and is not handed over", async () => {
    const s = await setup();
    await runHandler(s);
    const due = String(Date.now() + 60_000);
    const d = await s.kafka.deliver("orders-retry-1", 0, [kafkaMessage(5, await s.bytes(order({ id: "later" })), { [RETRY_HEADERS.due]: Buffer.from(due) })]);
    assert.deepEqual([d.error, d.resolved, d.paused], [undefined, undefined, true]);
    assert.deepEqual(s.handled, []);
  });

  it("a due record of a retry topic is decoded with the main topic's contract and handed over", async () => {
    const s = await setup({ retry: { attempts: 3 } });
    let calls = 0;
    await runHandler(s, () => ++calls === 1);
    const first = await s.kafka.deliver("orders", 0, [kafkaMessage(0, await s.bytes(order({ id: "x" })))]);
    assert.equal(first.resolved, "0");
    const inRetry = readBack(s.producer.log.get("orders-retry-1")![0]!, 0);
    // Due in the past: as a consumer would see it once its time has come.
    inRetry.headers![RETRY_HEADERS.due] = Buffer.from(String(Date.now() - 1));
    const second = await s.kafka.deliver("orders-retry-1", 0, [inRetry]);
    assert.deepEqual([second.error, second.resolved, second.paused], [undefined, "0", false]);
    assert.deepEqual(s.handled, [{ topic: "orders-retry-1", id: "x" }]);
  });

  it("rules retry only when named; an ERROR rule not named still stops, a DLQ rule not named goes straight to the DLQ", async () => {
    const s = await setup();
    await runHandler(s);
    const stop = await s.kafka.deliver("orders", 0, [kafkaMessage(0, await s.bytes(order({ id: "neg", amount: -1 })))]);
    assert.ok(stop.error instanceof ConsumeError);
    assert.equal(stop.resolved, undefined);
    const dlq = await s.kafka.deliver("orders", 0, [kafkaMessage(1, await s.bytes(order({ id: "big", qty: 500 })))]);
    assert.deepEqual([dlq.error, dlq.resolved], [undefined, "1"]);
    assert.deepEqual(s.dead.map((d) => [d.dlqTopic, d.rule]), [["orders-dlq", "smallQty"]]);
    assert.equal(s.producer.log.get("orders-retry-1"), undefined);

    const named = await setup({ retry: { retryOn: { rules: ["positive"] } } });
    await runHandler(named);
    const retried = await named.kafka.deliver("orders", 0, [kafkaMessage(0, await named.bytes(order({ id: "neg", amount: -1 })))]);
    assert.deepEqual([retried.error, retried.resolved], [undefined, "0"]);
    assert.deepEqual(named.retried.map((r) => [r.reason, r.rule]), [["rule", "positive"]]);
    assert.equal(headerText(named.producer.log.get("orders-retry-1")![0]!, DLQ_HEADERS.ruleName), "positive");
  });

  it("after its last attempt a record goes to the main topic's DLQ, its history kept", async () => {
    const s = await setup({ retry: { attempts: 2, retryOn: { rules: "all" } } });
    await runHandler(s);
    await s.kafka.deliver("orders", 0, [kafkaMessage(7, await s.bytes(order({ id: "neg", amount: -1 })))]);
    const inRetry = readBack(s.producer.log.get("orders-retry-1")![0]!, 0);
    inRetry.headers![RETRY_HEADERS.due] = Buffer.from("0");
    const d = await s.kafka.deliver("orders-retry-1", 0, [inRetry]);
    assert.deepEqual([d.error, d.resolved], [undefined, "0"]);
    assert.deepEqual(s.dead.map((x) => [x.topic, x.dlqTopic, x.rule]), [["orders-retry-1", "orders-dlq", "positive"]]);
    const [letter] = s.producer.log.get("orders-dlq")!;
    assert.equal(headerText(letter!, RETRY_HEADERS.attempt), "2");
    assert.equal(headerText(letter!, RETRY_HEADERS.originalOffset), "7");
  });

  it("a registry outage retries in place by default; with retryOn.registry it goes to the retry topic", async () => {
    const s = await setup();
    await runHandler(s);
    const value = await s.bytes(order());
    s.registry.down = true;
    const d = await s.kafka.deliver("orders", 0, [kafkaMessage(0, value)]);
    assert.ok(d.error instanceof RegistryError && d.error.retriable);
    assert.equal(d.resolved, undefined);

    const r = await setup({ retry: { retryOn: { registry: true } } });
    await runHandler(r);
    const v = await r.bytes(order());
    r.registry.down = true;
    const moved = await r.kafka.deliver("orders", 0, [kafkaMessage(0, v)]);
    assert.deepEqual([moved.error, moved.resolved], [undefined, "0"]);
    assert.deepEqual(r.retried.map((x) => x.reason), ["registry"]);
    assert.equal(headerText(r.producer.log.get("orders-retry-1")![0]!, DLQ_HEADERS.exceptionClass), "RegistryError");
  });

  it("a poison pill never retries; handler errors with retryOn.handler false stop as before", async () => {
    const s = await setup({ retry: { retryOn: { rules: "all", handler: false } } });
    await runHandler(s, () => true);
    const poison = await s.kafka.deliver("orders", 0, [kafkaMessage(0, Buffer.from("not the wire format"))]);
    assert.deepEqual([poison.error, poison.resolved], [undefined, "0"]);
    assert.deepEqual(s.dead.map((d) => d.reason), ["poison-pill"]);
    const failed = await s.kafka.deliver("orders", 0, [kafkaMessage(1, await s.bytes(order()))]);
    assert.match(String(failed.error), /cannot handle/);
    assert.equal(failed.resolved, undefined);
    assert.equal(s.producer.log.get("orders-retry-1"), undefined);
  });

  it("a handler's pause() ends the batch after its record, as kafkajs's eachMessage does", async () => {
    const s = await setup();
    await s.consumer.run({
      eachMessage: async ({ value, pause }) => {
        s.handled.push({ topic: "orders", id: (value as { id: string }).id });
        pause();
      },
    });
    const d = await s.kafka.deliver("orders", 0, [kafkaMessage(0, await s.bytes(order({ id: "a" }))), kafkaMessage(1, await s.bytes(order({ id: "b" })))]);
    assert.deepEqual([d.error, d.resolved, d.paused], [undefined, "0", true]);
    assert.deepEqual(s.handled.map((h) => h.id), ["a"]);
  });

  it("eachBatch with retry topics is a usage error: a failing record is retried alone", async () => {
    const s = await setup();
    await assert.rejects(
      s.consumer.run({ eachBatch: async () => {} }),
      (e: unknown) => e instanceof KontractError && e.code === "usage",
    );
  });
});
