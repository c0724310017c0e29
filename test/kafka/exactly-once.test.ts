/**
 * Exactly-once in the contract consumer with fakes (the real broker: test/integration/
 * stateful-exactly-once.test.ts): a partition's records share a transaction until the commit
 * interval (the clock mocked: it moves only when a test ticks it), the order of its calls, what a
 * failure leaves (nothing written, the partition sought back to the first record since the last
 * commit), which errors are the transaction's, and the fencing rule for kafkajs.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { isKontractError } from "../../src/errors.js";
import { ConsumeError, TransactionError, contractConsumer, type ConsumedDeadLetter, type ContractConsumerOptions } from "../../src/kafka/index.js";
import { isFenced } from "../../src/kafka/errors.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeConsumer, fakeProducer, kafkaMessage, memoryAccess, testRegistry, valueBytes } from "./fakes.js";

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
  beforeEach(() => mock.timers.enable({ apis: ["setInterval"] }));
  afterEach(() => mock.timers.reset());

  /** The commit interval (100 ms by default) passes; the commits it starts settle. */
  const interval = async () => {
    mock.timers.tick(100);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  /** A producer registering the partition's id: connect, then an empty transaction (kafkajs registers at its first). */
  const registered = (id: string) => [`${id} connect`, `${id} begin`, `${id} abort`];
  const orders = async (bytes: (v: unknown) => Promise<Buffer>, qtys: number[], from = 0) => Promise.all(qtys.map(async (qty, i) => kafkaMessage(from + i, await bytes(order({ qty })))));

  it("eachMessage: a partition's records share one transaction, written and committed at the interval, past the last record", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    await consumer.run({ eachMessage: async ({ message }) => void log.push(`handler ${message.offset}`) });
    const d = await kafka.deliver("orders", 3, await orders(bytes, [1, 0, 1, 1]));
    assert.equal(d.error, undefined);
    // The producer registers the partition's id before its first record; nothing else reaches the broker yet.
    assert.deepEqual(log, [...registered("app-orders-3#1"), "handler 0", "handler 2", "handler 3"]);
    assert.equal(dead.length, 0, "a dead letter is reported once committed");
    await interval();
    assert.deepEqual(log.slice(6), ["app-orders-3#1 begin", "app-orders-3#1 write orders-dlq:1", "app-orders-3#1 offsets billing orders[3]=4", "app-orders-3#1 commit"]);
    assert.deepEqual(dead.map((x) => x.offset), ["1"]);
    await interval();
    assert.equal(log.filter((l) => l.endsWith("commit")).length, 1, "nothing handled since: no transaction");
  });

  it("a handler failing after records handled in the open transaction: nothing is written, the partition is sought back to the first of them, and they come again and commit once", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    let fail = true;
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.offset === "2" && fail) throw new Error("handler failed");
      },
    });
    const records = await orders(bytes, [1, 0, 1]);
    const first = await kafka.deliver("orders", 0, records);
    assert.equal((first.error as Error).message, "handler failed");
    assert.deepEqual(kafka.seeks, [{ topic: "orders", partition: 0, offset: "0" }]);
    await interval();
    assert.deepEqual(log, [...registered("app-orders-0#1")], "the dropped transaction never reached the broker");
    assert.equal(dead.length, 0);
    fail = false;
    assert.equal((await kafka.deliver("orders", 0, records)).error, undefined);
    await interval();
    assert.deepEqual(log.slice(3), ["app-orders-0#1 begin", "app-orders-0#1 write orders-dlq:1", "app-orders-0#1 offsets billing orders[0]=3", "app-orders-0#1 commit"]);
    assert.deepEqual(dead.map((x) => x.offset), ["1"], "the dead letter is written and reported once");
  });

  it("after a rewind, records the client hands over before the sought one (fetched before the seek took effect) are passed over", async () => {
    const { bytes, kafka, consumer, log } = await setup([]);
    let fail = true;
    const handled: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        handled.push(message.offset);
        if (message.offset === "1" && fail) throw new Error("handler failed");
      },
    });
    const records = await orders(bytes, [1, 1, 1]);
    await kafka.deliver("orders", 0, records.slice(0, 2));
    fail = false;
    assert.equal((await kafka.deliver("orders", 0, records.slice(2))).error, undefined);
    assert.deepEqual(handled, ["0", "1"], "offset 2 came before the sought 0: passed over");
    assert.equal((await kafka.deliver("orders", 0, records)).error, undefined);
    await interval();
    assert.deepEqual(handled, ["0", "1", "0", "1", "2"]);
    assert.deepEqual(log.slice(3), ["app-orders-0#1 begin", "app-orders-0#1 offsets billing orders[0]=3", "app-orders-0#1 commit"]);
  });

  it("a failure on the first record since the last commit seeks nothing: the client delivers that record again itself", async () => {
    const { bytes, kafka, consumer } = await setup([]);
    await consumer.run({
      eachMessage: async () => {
        throw new Error("handler failed");
      },
    });
    const d = await kafka.deliver("orders", 0, await orders(bytes, [1]));
    assert.equal((d.error as Error).message, "handler failed");
    assert.deepEqual(kafka.seeks, []);
  });

  it("an ERROR rule fails the open transaction as a handler does, its ConsumeError keeping its own retriable flag", async () => {
    const { bytes, kafka, consumer, log } = await setup([rule("qtySmall", "message.qty < 5", "ERROR")]);
    await consumer.run({ eachMessage: async () => {} });
    const d = await kafka.deliver("orders", 0, await orders(bytes, [1, 1, 9]));
    assert.ok(d.error instanceof ConsumeError && !d.error.retriable, String(d.error));
    assert.deepEqual(kafka.seeks, [{ topic: "orders", partition: 0, offset: "0" }]);
    await interval();
    assert.deepEqual(log, [...registered("app-orders-0#1")]);
  });

  it("a commit that fails aborts, reports nothing and seeks back to the first record since the last commit; the next transaction starts on a new producer", async () => {
    const { bytes, kafka, consumer, log, fail, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    await consumer.run({ eachMessage: async () => {} });
    assert.equal((await kafka.deliver("orders", 0, await orders(bytes, [1, 1]))).error, undefined);
    await interval();
    fail.set("commit", new Error("coordinator gone"));
    const records = await orders(bytes, [0, 1], 2);
    assert.equal((await kafka.deliver("orders", 0, records)).error, undefined);
    await interval();
    assert.deepEqual(log.slice(-3), ["app-orders-0#1 commit", "app-orders-0#1 abort", "app-orders-0#1 disconnect"]);
    assert.deepEqual(kafka.seeks, [{ topic: "orders", partition: 0, offset: "2" }]);
    assert.equal(dead.length, 0);
    assert.equal((await kafka.deliver("orders", 0, records)).error, undefined);
    await interval();
    assert.deepEqual(log.slice(-7), [...registered("app-orders-0#2"), "app-orders-0#2 begin", "app-orders-0#2 write orders-dlq:1", "app-orders-0#2 offsets billing orders[0]=4", "app-orders-0#2 commit"]);
    assert.deepEqual(dead.map((x) => x.offset), ["2"]);
  });

  it("kafkajs: a fenced producer is not replaced until the consumer rejoins its group (a new one could commit a lost partition's offsets)", async () => {
    const { bytes, kafka, consumer, log, fail } = await setup([]);
    await consumer.run({ eachMessage: async () => {} });
    fail.set("commit", Object.assign(new Error("There is a newer producer with the same transactionalId which fences the current one"), { type: "PRODUCER_FENCED" }));
    const records = await orders(bytes, [1]);
    assert.equal((await kafka.deliver("orders", 0, records)).error, undefined);
    await interval();
    assert.equal(log.at(-1), "app-orders-0#1 disconnect", "a fenced producer cannot abort: no abort after its commit");
    const second = await kafka.deliver("orders", 0, records);
    assert.ok(second.error instanceof TransactionError && second.error.fenced && second.error.retriable, String(second.error));
    assert.ok(!log.some((l) => l.startsWith("app-orders-0#2")), "no new producer while fenced");
    kafka.listeners.get("consumer.group_join")!();
    assert.equal((await kafka.deliver("orders", 0, records)).error, undefined);
    await interval();
    assert.ok(log.includes("app-orders-0#2 commit"));
  });

  it("a rebalance drops the open transactions and seeks their partitions back; their next records start on new producers", async () => {
    const { bytes, kafka, consumer, log } = await setup([]);
    await consumer.run({ eachMessage: async () => {} });
    await kafka.deliver("orders", 0, await orders(bytes, [1, 1]));
    kafka.listeners.get("consumer.group_join")!();
    await interval();
    assert.deepEqual(log, [...registered("app-orders-0#1"), "app-orders-0#1 disconnect"]);
    assert.deepEqual(kafka.seeks, [{ topic: "orders", partition: 0, offset: "0" }]);
    await kafka.deliver("orders", 0, await orders(bytes, [1, 1]));
    await interval();
    assert.deepEqual(log.slice(4), [...registered("app-orders-0#2"), "app-orders-0#2 begin", "app-orders-0#2 offsets billing orders[0]=2", "app-orders-0#2 commit"]);
  });

  it("partitions have transactions and producers of their own", async () => {
    const { bytes, kafka, consumer, log } = await setup([]);
    await consumer.run({ eachMessage: async () => {} });
    await Promise.all([kafka.deliver("orders", 0, await orders(bytes, [1])), kafka.deliver("orders", 1, await orders(bytes, [1, 1]))]);
    await interval();
    assert.deepEqual(log.filter((l) => l.includes("offsets") || l.endsWith("commit")).sort(), ["app-orders-0#1 commit", "app-orders-0#1 offsets billing orders[0]=1", "app-orders-1#2 commit", "app-orders-1#2 offsets billing orders[1]=2"].sort());
  });

  it("closing the consumer commits what was handled, then disconnects the producers; a record delivered after it gets no new producer", async () => {
    const { bytes, kafka, consumer, log } = await setup([]);
    await consumer.run({ eachMessage: async () => {} });
    await kafka.deliver("orders", 0, await orders(bytes, [1, 1]));
    await consumer.disconnect();
    assert.deepEqual(log, [...registered("app-orders-0#1"), "app-orders-0#1 begin", "app-orders-0#1 offsets billing orders[0]=2", "app-orders-0#1 commit", "app-orders-0#1 disconnect"]);
    const late = await kafka.deliver("orders", 0, await orders(bytes, [1], 2));
    assert.ok(isKontractError(late.error) && late.error.code === "usage" && !late.error.retriable, String(late.error));
    assert.ok(!log.some((l) => l.startsWith("app-orders-0#2")));
  });

  it("parking: a dead-lettered record parks its key in the partition's open transaction (head and follower with the dead letter and the offset), told once committed; a failure reads the parks again", async () => {
    const parks = memoryAccess(fakeProducer());
    // Each read of the park topic asks for its offsets first: counted.
    let parkReads = 0;
    const admin = parks.kafka.admin.bind(parks.kafka);
    Object.assign(parks.kafka, {
      admin: () => {
        const a = admin();
        const offsets = a.fetchTopicOffsets.bind(a);
        return Object.assign(a, { fetchTopicOffsets: (topic: string, o?: never) => ((parkReads += topic === "orders-park" ? 1 : 0), offsets(topic, o)) });
      },
    });
    const parked: string[] = [];
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")], {
      park: { groupId: "billing", access: parks },
      onPark: (r) => void parked.push(`${r.offset} ${r.role}`),
    });
    let failOn: string | undefined;
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.offset === failOn) throw new Error("handler failed");
        log.push(`handler ${message.offset}`);
      },
    });
    const keyed = async (offset: number, key: string, qty: number) => kafkaMessage(offset, await bytes(order({ qty })), {}, Buffer.from(key));
    const records = [await keyed(0, "A", 1), await keyed(1, "A", 0), await keyed(2, "A", 1), await keyed(3, "B", 1)];
    assert.equal((await kafka.deliver("orders", 0, records)).error, undefined);
    assert.deepEqual(log.filter((l) => l.startsWith("handler")), ["handler 0", "handler 3"], "A's follower is parked behind its dead letter; B flows");
    assert.deepEqual(parked, [], "nothing is reported before the commit");
    assert.equal(parkReads, 1, "the parks were read before the partition's first record");
    await interval();
    const written = log.filter((l) => l.includes(" write ")).flatMap((l) => l.split(" write ")[1]!.split(","));
    assert.deepEqual(written.sort(), ["orders-dlq:1", "orders-park:1", "orders-park:1"], "the dead letter, the head and the follower in one transaction");
    assert.ok(log.at(-2)!.endsWith("offsets billing orders[0]=4") && log.at(-1)!.endsWith("commit"), log.join("\n"));
    assert.deepEqual(parked, ["1 head", "2 follower"]);
    assert.deepEqual(dead.map((d) => d.offset), ["1"]);

    // A record that fails in its transaction: the parks are read again from the park topic before the partition's next record.
    failOn = "4";
    assert.equal(((await kafka.deliver("orders", 0, [await keyed(4, "B", 1)])).error as Error).message, "handler failed");
    failOn = undefined;
    assert.equal((await kafka.deliver("orders", 0, [await keyed(4, "B", 1)])).error, undefined);
    assert.equal(parkReads, 2);
  });

  it("retry topics: a record whose handler fails goes to its retry topic in the partition's open transaction, with its offset; onRetry is told once it committed", async () => {
    const retried: string[] = [];
    const { bytes, kafka, consumer, log } = await setup([], { retry: { attempts: 2 }, onRetry: (r) => void retried.push(`${r.offset}->${r.retryTopic}`) });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.offset === "1") throw new Error("handler failed");
      },
    });
    const d = await kafka.deliver("orders", 0, await orders(bytes, [1, 1, 1]));
    assert.equal(d.error, undefined);
    assert.equal(d.resolved, "2");
    assert.deepEqual(retried, []);
    await interval();
    assert.deepEqual(log.slice(3), ["app-orders-0#1 begin", "app-orders-0#1 write orders-retry-1:1", "app-orders-0#1 offsets billing orders[0]=3", "app-orders-0#1 commit"]);
    assert.deepEqual(retried, ["1->orders-retry-1"]);
  });

  it("eachBatch: batches share the open transaction; dead letters and the offset past the last record go in its commit at the interval", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    const handled: string[] = [];
    await consumer.run({ eachBatch: async ({ messages }) => void handled.push(...messages.map((m) => m.message.offset)) });
    const d = await kafka.deliver("orders", 0, await orders(bytes, [1, 0, 1]));
    assert.equal(d.error, undefined);
    assert.equal(d.resolved, "2");
    assert.equal((await kafka.deliver("orders", 0, await orders(bytes, [1], 3))).error, undefined);
    assert.deepEqual(handled, ["0", "2", "3"]);
    await interval();
    assert.deepEqual(log, [...registered("app-orders-0#1"), "app-orders-0#1 begin", "app-orders-0#1 write orders-dlq:1", "app-orders-0#1 offsets billing orders[0]=4", "app-orders-0#1 commit"]);
    assert.deepEqual(dead.map((x) => x.offset), ["1"]);
  });

  it("eachBatch: commitOffsetsIfNecessary commits at once, past the records resolved so far with their dead letters", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    await consumer.run({
      eachBatch: async ({ resolveOffset, commitOffsetsIfNecessary }) => {
        resolveOffset("0");
        await commitOffsetsIfNecessary();
        log.push("after commit");
      },
    });
    await kafka.deliver("orders", 0, await orders(bytes, [1, 0, 1, 0]));
    // Resolving 0 takes the dead letter right after it (1) along.
    assert.deepEqual(log, [...registered("app-orders-0#1"), "app-orders-0#1 begin", "app-orders-0#1 write orders-dlq:1", "app-orders-0#1 offsets billing orders[0]=2", "app-orders-0#1 commit", "after commit"]);
    assert.deepEqual(dead.map((x) => x.offset), ["1"]);
    await interval();
    assert.deepEqual(log.slice(8), ["app-orders-0#1 begin", "app-orders-0#1 write orders-dlq:1", "app-orders-0#1 offsets billing orders[0]=4", "app-orders-0#1 commit"]);
    assert.deepEqual(dead.map((x) => x.offset), ["1", "3"]);
  });

  it("eachBatch: a failing batch after one handled in the open transaction drops both and seeks back to the first; nothing resolved, nothing reported", async () => {
    const { bytes, kafka, consumer, log, dead } = await setup([rule("qtyPositive", "message.qty > 0", "DLQ")]);
    let calls = 0;
    await consumer.run({
      eachBatch: async () => {
        if (++calls === 2) throw new Error("handler failed");
      },
    });
    assert.equal((await kafka.deliver("orders", 0, await orders(bytes, [1, 0]))).error, undefined);
    const second = await kafka.deliver("orders", 0, await orders(bytes, [1], 2));
    assert.equal((second.error as Error).message, "handler failed");
    assert.equal(second.resolved, undefined);
    assert.deepEqual(kafka.seeks, [{ topic: "orders", partition: 0, offset: "0" }]);
    await interval();
    assert.deepEqual(log, [...registered("app-orders-0#1")]);
    assert.equal(dead.length, 0);
  });

  it("eachBatch: a record that stops the batch (an ERROR rule) fails the open transaction", async () => {
    const { bytes, kafka, consumer, log } = await setup([rule("qtySmall", "message.qty < 5", "ERROR")]);
    const handled: string[] = [];
    await consumer.run({ eachBatch: async ({ messages }) => void handled.push(...messages.map((m) => m.message.offset)) });
    const d = await kafka.deliver("orders", 0, await orders(bytes, [1, 9, 1]));
    assert.ok(d.error instanceof ConsumeError, String(d.error));
    assert.deepEqual(handled, ["0"]);
    assert.equal(d.resolved, undefined);
    await interval();
    assert.deepEqual(log, [...registered("app-orders-0#1")]);
  });

  it("tells fencing errors from others, by kafkajs's type, librdkafka's codes and the protocol's names", () => {
    assert.ok(isFenced({ type: "INVALID_PRODUCER_EPOCH" }));
    assert.ok(isFenced({ code: -144, message: "Local: This instance has been fenced by a newer instance" }));
    assert.ok(isFenced(new Error("wrapped", { cause: { type: "PRODUCER_FENCED" } })));
    assert.ok(isFenced(new Error("platformatic", { cause: Object.assign(new Error("Received response with error while executing API AddPartitionsToTxn(v5)"), { errors: [{ apiId: "INVALID_PRODUCER_EPOCH" }] }) })));
    assert.ok(!isFenced(new Error("coordinator not available")));
  });
});
