/**
 * Exactly-once in the contract consumer with fakes (the real broker: test/integration/
 * stateful-exactly-once.test.ts): the order of the transaction's calls, what an abort leaves,
 * which errors are the transaction's, and the fencing rule for kafkajs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { isKontractError } from "../../src/errors.js";
import { ConsumeError, TransactionError, contractConsumer, type ConsumedDeadLetter, type ContractConsumerOptions } from "../../src/kafka/index.js";
import { isFenced } from "../../src/kafka/errors.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeConsumer, kafkaMessage, testRegistry, valueBytes } from "./fakes.js";

const rule = (name: string, expr: string, onFailure: string): Rule => ({ name, kind: "CONDITION", mode: "READ", type: "CEL", expr, onFailure });

/** A kafkajs-shaped transactional producer that logs every call; `fail` makes the named call reject once. */
function fakeTransactional(id: string, log: string[], fail: Map<string, Error>) {
  const step = async (name: string) => {
    log.push(`${id} ${name}`);
    const e = fail.get(name);
    if (e) {
      fail.delete(name);
      throw e;
    }
  };
  return {
    connect: () => step("connect"),
    disconnect: () => step("disconnect"),
    async transaction() {
      await step("begin");
      return {
        sendBatch: (b: { topicMessages: { topic: string; messages: unknown[] }[] }) => step(`write ${b.topicMessages.map((t) => `${t.topic}:${t.messages.length}`).join(",")}`),
        sendOffsets: (o: { consumerGroupId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }) =>
          step(`offsets ${o.consumerGroupId} ${o.topics[0]!.topic}[${o.topics[0]!.partitions[0]!.partition}]=${o.topics[0]!.partitions[0]!.offset}`),
        commit: () => step("commit"),
        abort: () => step("abort"),
      };
    },
  };
}

async function setup(rules: Rule[], options: Partial<ContractConsumerOptions> = {}) {
  const registry = testRegistry();
  await registry.register("orders-value", contract({ domainRules: rules }));
  const bytes = valueBytes(registry);
  const kafka = Object.assign(fakeConsumer(), { events: { GROUP_JOIN: "consumer.group_join" }, listeners: new Map<string, () => void>() });
  Object.assign(kafka, { on: (event: string, l: () => void) => kafka.listeners.set(event, l) });
  const log: string[] = [];
  const fail = new Map<string, Error>();
  const dead: ConsumedDeadLetter[] = [];
  let made = 0;
  const consumer = contractConsumer(kafka, {
    registry,
    key: false,
    exactlyOnce: { transactionalId: "app", groupId: "billing", producer: (id) => fakeTransactional(`${id}#${++made}`, log, fail) as never },
    onDeadLetter: (d) => void dead.push(d),
    ...options,
  });
  return { bytes, kafka, consumer, log, fail, dead };
}

describe("contractConsumer: exactlyOnce", () => {
  it("a passing record: its producer registers the partition's id, then begin, handler, offsets, commit", async () => {
    const { bytes, kafka, consumer, log } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    await consumer.run({ eachMessage: async () => void log.push("handler") });
    const d = await kafka.deliver("orders", 3, [kafkaMessage(7, await bytes(order({ qty: 1 })))]);
    assert.equal(d.error, undefined);
    assert.deepEqual(log, ["app-orders-3#1 connect", "app-orders-3#1 begin", "handler", "app-orders-3#1 offsets billing orders[3]=8", "app-orders-3#1 commit"]);
  });

  it("a dead-lettered record: its dead letter and its offset in one transaction, reported once committed", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    await consumer.run({ eachMessage: async () => void log.push("handler") });
    await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 0 })))]);
    assert.deepEqual(log.slice(1), ["app-orders-0#1 begin", "app-orders-0#1 write orders-dlq:1", "app-orders-0#1 offsets billing orders[0]=1", "app-orders-0#1 commit"]);
    assert.deepEqual(dead.map((d) => d.offset), ["0"]);
  });

  it("a commit that fails aborts, reports nothing, and rejects with a retriable TransactionError; the next record starts on a new producer", async () => {
    const { bytes, kafka, consumer, log, fail, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    await consumer.run({ eachMessage: async () => {} });
    fail.set("commit", new Error("coordinator gone"));
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 0 })))]);
    assert.ok(d.error instanceof TransactionError && d.error.retriable && !d.error.fenced, String(d.error));
    assert.equal(d.resolved, undefined);
    assert.equal(dead.length, 0);
    assert.deepEqual(log.slice(-3), ["app-orders-0#1 commit", "app-orders-0#1 abort", "app-orders-0#1 disconnect"]);
    const again = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 0 })))]);
    assert.equal(again.error, undefined);
    assert.ok(log.includes("app-orders-0#2 connect"));
    assert.deepEqual(dead.map((x) => x.offset), ["0"]);
  });

  it("the handler's own error aborts and is rethrown as it is (not a TransactionError); the producer is kept", async () => {
    const { bytes, kafka, consumer, log } = await setup([]);
    const boom = new Error("handler failed");
    await consumer.run({
      eachMessage: async () => {
        throw boom;
      },
    });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 1 })))]);
    assert.equal(d.error, boom);
    assert.deepEqual(log, ["app-orders-0#1 connect", "app-orders-0#1 begin", "app-orders-0#1 abort"]);
  });

  it("an ERROR rule's ConsumeError keeps its own retriable flag", async () => {
    const { bytes, kafka, consumer } = await setup([rule("qtyPositive", "message.qty > 0", "ERROR")]);
    await consumer.run({ eachMessage: async () => {} });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 0 })))]);
    assert.ok(d.error instanceof ConsumeError && !d.error.retriable);
  });

  it("kafkajs: a fenced producer is not replaced until the consumer rejoins its group (a new one could commit a lost partition's offsets)", async () => {
    const { bytes, kafka, consumer, log, fail } = await setup([]);
    await consumer.run({ eachMessage: async () => {} });
    fail.set("commit", Object.assign(new Error("There is a newer producer with the same transactionalId which fences the current one"), { type: "PRODUCER_FENCED" }));
    const record = kafkaMessage(0, await bytes(order({ qty: 1 })));
    const first = await kafka.deliver("orders", 0, [record]);
    assert.ok(first.error instanceof TransactionError && first.error.fenced);
    assert.ok(!log.includes("app-orders-0#1 abort"), "a fenced producer cannot abort");
    const second = await kafka.deliver("orders", 0, [record]);
    assert.ok(second.error instanceof TransactionError && second.error.fenced);
    assert.ok(!log.some((l) => l.startsWith("app-orders-0#2")), "no new producer while fenced");
    kafka.listeners.get("consumer.group_join")!();
    const third = await kafka.deliver("orders", 0, [record]);
    assert.equal(third.error, undefined);
    assert.ok(log.includes("app-orders-0#2 commit"));
  });

  it("partitions have producers of their own", async () => {
    const { bytes, kafka, consumer, log } = await setup([]);
    await consumer.run({ eachMessage: async () => {} });
    await Promise.all([kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 1 })))]), kafka.deliver("orders", 1, [kafkaMessage(0, await bytes(order({ qty: 1 })))])]);
    assert.deepEqual(log.filter((l) => l.endsWith("commit")).sort(), ["app-orders-0#1 commit", "app-orders-1#2 commit"].sort());
  });

  it("closing the consumer disconnects the producers; a record delivered after it gets no new producer", async () => {
    const { bytes, kafka, consumer, log } = await setup([]);
    await consumer.run({ eachMessage: async () => {} });
    await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 1 })))]);
    await consumer.disconnect();
    assert.equal(log.at(-1), "app-orders-0#1 disconnect");
    const late = await kafka.deliver("orders", 0, [kafkaMessage(1, await bytes(order({ qty: 1 })))]);
    assert.ok(isKontractError(late.error) && late.error.code === "usage" && !late.error.retriable, String(late.error));
    assert.ok(!log.some((l) => l.startsWith("app-orders-0#2")));
  });

  it("refuses retry topics and parking with a usage error", async () => {
    const { consumer: withRetry } = await setup([], { retry: { attempts: 2 } });
    await assert.rejects(withRetry.run({ eachMessage: async () => {} }), (e: unknown) => isKontractError(e) && e.code === "usage" && /exactlyOnce runs without retry topics or parking/.test((e as Error).message));
  });

  it("eachBatch: one transaction for the batch, its dead letters written and the offset past its last record sent before the commit; offsets move after it", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    const handled: string[] = [];
    await consumer.run({ eachBatch: async ({ messages }) => void handled.push(...messages.map((m) => m.message.offset)) });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 1 }))), kafkaMessage(1, await bytes(order({ qty: 0 }))), kafkaMessage(2, await bytes(order({ qty: 1 })))]);
    assert.equal(d.error, undefined);
    assert.deepEqual(handled, ["0", "2"]);
    assert.deepEqual(log, ["app-orders-0#1 connect", "app-orders-0#1 begin", "app-orders-0#1 write orders-dlq:1", "app-orders-0#1 offsets billing orders[0]=3", "app-orders-0#1 commit"]);
    assert.deepEqual(dead.map((x) => x.offset), ["1"]);
    assert.equal(d.resolved, "2");
  });

  it("eachBatch: a handler that fails aborts the batch's transaction, resolves nothing, reports nothing; the batch comes again whole", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    let calls = 0;
    await consumer.run({
      eachBatch: async ({ resolveOffset }) => {
        resolveOffset("0");
        if (++calls === 1) throw new Error("handler failed");
      },
    });
    const batch = [kafkaMessage(0, await bytes(order({ qty: 1 }))), kafkaMessage(1, await bytes(order({ qty: 0 })))];
    const first = await kafka.deliver("orders", 0, batch);
    assert.equal((first.error as Error).message, "handler failed");
    assert.equal(first.resolved, undefined, "no offset moves: resolving inside the transaction only notes how far");
    assert.equal(dead.length, 0);
    assert.deepEqual(log.slice(-2), ["app-orders-0#1 begin", "app-orders-0#1 abort"]);
    const second = await kafka.deliver("orders", 0, batch);
    assert.equal(second.error, undefined);
    assert.ok(log.includes("app-orders-0#1 offsets billing orders[0]=2"));
    assert.deepEqual(dead.map((x) => x.offset), ["1"]);
  });

  it("eachBatch without auto-resolve: the transaction commits past the last record resolved and its dead letters only", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    await consumer.run({ eachBatchAutoResolve: false, eachBatch: async ({ resolveOffset }) => resolveOffset("0") });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 1 }))), kafkaMessage(1, await bytes(order({ qty: 0 }))), kafkaMessage(2, await bytes(order({ qty: 1 }))), kafkaMessage(3, await bytes(order({ qty: 0 })))]);
    assert.equal(d.error, undefined);
    // Resolving 0 takes the dead letter right after it (1) along; 2 and the dead letter 3 come again.
    assert.deepEqual(log.slice(1), ["app-orders-0#1 begin", "app-orders-0#1 write orders-dlq:1", "app-orders-0#1 offsets billing orders[0]=2", "app-orders-0#1 commit"]);
    assert.deepEqual(dead.map((x) => x.offset), ["1"]);
    assert.equal(d.resolved, "1");
  });

  it("eachBatch: a record that stops the batch (an ERROR rule) commits the records before it, then throws", async () => {
    const { bytes, kafka, consumer, log } = await setup([rule("qtySmall", "message.qty < 5", "ERROR")]);
    const handled: string[] = [];
    await consumer.run({ eachBatch: async ({ messages }) => void handled.push(...messages.map((m) => m.message.offset)) });
    const d = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order({ qty: 1 }))), kafkaMessage(1, await bytes(order({ qty: 9 }))), kafkaMessage(2, await bytes(order({ qty: 1 })))]);
    assert.ok(d.error instanceof ConsumeError, String(d.error));
    assert.deepEqual(handled, ["0"]);
    assert.deepEqual(log.slice(-2), ["app-orders-0#1 offsets billing orders[0]=1", "app-orders-0#1 commit"]);
    assert.equal(d.resolved, "0");
  });

  it("tells fencing errors from others, by kafkajs's type, librdkafka's codes and the protocol's names", () => {
    assert.ok(isFenced({ type: "INVALID_PRODUCER_EPOCH" }));
    assert.ok(isFenced({ code: -144, message: "Local: This instance has been fenced by a newer instance" }));
    assert.ok(isFenced(new Error("wrapped", { cause: { type: "PRODUCER_FENCED" } })));
    assert.ok(isFenced(new Error("platformatic", { cause: Object.assign(new Error("Received response with error while executing API AddPartitionsToTxn(v5)"), { errors: [{ apiId: "INVALID_PRODUCER_EPOCH" }] }) })));
    assert.ok(!isFenced(new Error("coordinator not available")));
  });
});
