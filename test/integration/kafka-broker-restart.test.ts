/**
 * Retry topics and order-preserving parking while the broker restarts
 * (scripts/kafka.sh restart, data kept), once per client under test. Records
 * are sent in calls, one after another, while the consumer is mid-retry and
 * keys are parked; the broker goes down and comes back between calls; a call
 * that fails is sent again until acknowledged (at-least-once: the retries may
 * duplicate records, and duplicates are counted, not failed). At the end every
 * id sent is in exactly one of: handled (distinct ids), the DLQ. Parked keys
 * are handled in the order they were sent (first deliveries), and the group
 * has committed every partition to its end (the consumer commits again after
 * the restart).
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Consumer, Kafka, Producer } from "kafkajs";
import { contractConsumer, contractProducer, listParks, releasePark, retryTopics, type ConsumedDeadLetter, type ContractConsumer, type ParkedRecord, type RetriedRecord, type RetryOptions } from "../../src/kafka/index.js";
import { connectKafka, readDeadLetters, type KafkaAccess } from "../../src/kafka/dead-letter-tools.js";
import { ORDER_SCHEMA, order } from "../helpers/contracts.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { clientsUnderTest, countRecords, createTopics, kafkaFor, readAll, register, registryFor, restartBroker, uniqueIdent, withAdmin } from "./kafka-support.js";

let infra: Infra;
let kafka: Kafka;

before(async () => {
  infra = await ensureInfra();
  kafka = kafkaFor(infra);
});

/** One delivery to the handler. */
interface Delivery {
  readonly id: string;
  readonly key: string;
}

/** Ids sent per call, how many sends failed (and were sent again), and the restart's end. */
interface Stream {
  readonly sent: string[];
  failedSends: number;
  restartedAt?: number;
}

/**
 * Sends `calls` one after another, each again until acknowledged (the broker is
 * down for a while). Before call `restartAt`, waits for `ready` (the consumer is
 * mid-retry or has parked keys), then starts the broker restart without waiting
 * for it: the later calls go out while it is down and after it is back.
 */
async function streamThroughRestart<T>(stream: Stream, calls: readonly T[], restartAt: number, ready: () => boolean, send: (call: T) => Promise<unknown>, ids: (call: T) => readonly string[]): Promise<void> {
  let restart: Promise<void> | undefined;
  for (const [i, call] of calls.entries()) {
    if (i === restartAt) {
      await waitFor(ready, { timeoutMs: 60_000, what: "the consumer mid-stream before the restart" });
      restart = restartBroker().then(() => void (stream.restartedAt = stream.sent.length));
    }
    await sendUntilAcknowledged(() => send(call), () => stream.failedSends++);
    stream.sent.push(...ids(call));
    await sleep(300);
  }
  await restart;
}

/** Sends again, every 0.5 s for up to a minute, until the broker acknowledges. */
async function sendUntilAcknowledged(send: () => Promise<unknown>, onFailure: () => void = () => {}): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return void (await send());
    } catch (e) {
      onFailure();
      if (attempt >= 120) throw e;
      await sleep(500);
    }
  }
}

/**
 * Waits until the group has committed every partition of `topics` up to its end:
 * the consumer commits again after the restart (otherwise each reopened fetch,
 * and the next consumer of the group, starts over from before the restart).
 */
async function committedToEnd(groupId: string, topics: readonly string[]): Promise<void> {
  const lag = () =>
    withAdmin(kafka, async (admin) => {
      const behind: string[] = [];
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const { partition, offset, low } of ends) {
          const at = committed?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
          // A partition that never held a record (a retry topic's, often) has nothing to commit.
          const empty = at === "-1" && offset === low;
          if (at !== offset && !empty) behind.push(`${topic}:${partition} at ${at} of ${offset}`);
        }
      }
      return behind;
    });
  let behind: string[] = [];
  await waitFor(async () => (behind = await lag()).length === 0, { timeoutMs: 30_000, intervalMs: 1_000, what: "the group's offsets committed to the end" }).catch(() => {
    assert.fail(`commits stopped after the broker restart: ${behind.join(", ")}`);
  });
}

/** Whether the shared broker accepts connections. */
function brokerAnswers(): Promise<boolean> {
  const [host, port] = infra.brokers[0]!.split(":");
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once("connect", () => void (socket.destroy(), resolve(true)));
    socket.once("error", () => void (socket.destroy(), resolve(false)));
  });
}

/** Ids of the first delivery of each, in delivery order. */
const firstDeliveries = (deliveries: readonly Delivery[]): string[] => [...new Set(deliveries.map((d) => d.id))];

for (const client of clientsUnderTest(() => infra)) {
  describe(`broker restart mid-stream on ${client.name}`, () => {
    let producer: Producer;
    const running: { disconnect(): Promise<void> }[] = [];

    before(async () => {
      producer = await client.producer();
    });

    after(async () => {
      for (const c of running) await c.disconnect().catch(() => {});
      await producer?.disconnect().catch(() => {});
    });

    /** Runs `consumer` on `topics` from the beginning, handing each order's id to `handle`; disconnected after the suite. */
    async function runOnIds(consumer: ContractConsumer<unknown, unknown, Consumer>, topics: string[], handle: (id: string) => void | Promise<void>): Promise<void> {
      running.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ value }) => handle((value as { id: string }).id) });
    }

    it("retry topics: every message handled or in the DLQ, exactly one of the two, none missing", { timeout: 300_000 }, async (t) => {
      const topic = uniqueName("rs-retry");
      const dlq = `${topic}-dlq`;
      const retry: RetryOptions = { attempts: 3, backoff: { delayMs: 2_000 }, retryOn: { rules: ["positive"] } };
      await createTopics(kafka, [{ topic, numPartitions: 3 }, ...retryTopics(topic, retry).map((r) => ({ topic: r, numPartitions: 3 })), dlq]);
      const registry = registryFor(infra);
      await register(registry, `${topic}-value`, {
        schemaType: "JSON",
        schema: JSON.stringify({ ...(JSON.parse(ORDER_SCHEMA) as object), title: uniqueIdent("Order") }),
        ruleSet: { domainRules: [{ name: "positive", kind: "CONDITION", mode: "READ", type: "CEL", expr: "message.amount > 0.0", onFailure: "ERROR" }] },
      });
      const p = contractProducer(producer, { registry, key: false });

      // 12 calls of 5: every third id fails its first delivery (a downstream hiccup), every seventh breaks the retried rule for good.
      const calls = Array.from({ length: 12 }, (_, c) => Array.from({ length: 5 }, (_, i) => `m-${c * 5 + i}`));
      const index = (id: string) => Number(id.slice(2));
      const breaksRule = (id: string) => index(id) % 7 === 6;
      const failsOnce = new Set(calls.flat().filter((id) => index(id) % 3 === 0 && !breaksRule(id)));

      const handled: Delivery[] = [];
      const retried: RetriedRecord[] = [];
      const dead: ConsumedDeadLetter[] = [];
      const groupId = uniqueName("rs-retry");
      const consumer = contractConsumer(client.consumer({ groupId }), {
        registry,
        key: false,
        dlq: { producer },
        retry,
        onRetry: (r) => void retried.push(r),
        onDeadLetter: (d) => void dead.push(d),
      });
      await runOnIds(consumer, [topic, ...retryTopics(topic, retry)], (id) => {
        if (failsOnce.delete(id)) throw new Error("downstream unavailable");
        handled.push({ id, key: "" });
      });

      const stream: Stream = { sent: [], failedSends: 0 };
      const send = (ids: readonly string[]) => p.send({ topic, messages: ids.map((id, i) => ({ value: order({ id, amount: breaksRule(id) ? -1 : 10 }), partition: i % 3 })) });
      // The restart starts once records wait in the retry topics.
      await streamThroughRestart(stream, calls, 4, () => retried.length >= 2, send, (ids) => ids);

      const expectHandled = new Set(stream.sent.filter((id) => !breaksRule(id)));
      const expectDead = new Set(stream.sent.filter(breaksRule));
      const dlqIds = async () => new Set((await readAll(kafka, [dlq])).get(dlq)!.map((m) => (JSON.parse(m.value!.subarray(5).toString("utf8")) as { id: string }).id));
      // A throw is "not yet" to waitFor, and its message is what a timeout reports: the ids still missing.
      await waitFor(async () => {
        const seen = new Set(firstDeliveries(handled));
        const deadNow = await dlqIds();
        const missing = [...expectHandled].filter((id) => !seen.has(id)).concat([...expectDead].filter((id) => !deadNow.has(id)));
        if (missing.length > 0) throw new Error(`missing ${missing.join(" ")}; ${retried.length} retry writes (${retried.map((r) => `${r.original.partition}/${r.original.offset}->${r.retryTopic}`).join(" ")}), ${dead.length} dead letters`);
        return true;
      }, {
        timeoutMs: 120_000,
        intervalMs: 1_000,
        what: "every message handled or dead-lettered after the restart",
      });
      await committedToEnd(groupId, [topic, ...retryTopics(topic, retry)]);
      await consumer.disconnect();

      const handledIds = new Set(firstDeliveries(handled));
      const deadIds = await dlqIds();
      for (const id of new Set(stream.sent)) assert.equal(Number(handledIds.has(id)) + Number(deadIds.has(id)), 1, `${id}: handled ${handledIds.has(id)}, DLQ ${deadIds.has(id)}`);
      assert.deepEqual([...handledIds].sort(), [...expectHandled].sort(), "nothing else handled");
      assert.deepEqual([...deadIds].sort(), [...expectDead].sort(), "nothing else dead-lettered");
      const dlqRecords = (await readAll(kafka, [dlq])).get(dlq)!.length;
      const report =
        `${client.name} retry topics, broker restart: ${new Set(stream.sent).size} ids in ${calls.length} calls (${stream.failedSends} failed sends sent again, ` +
        `${await countRecords(kafka, topic)} records on the topic); ${handled.length} deliveries for ${handledIds.size} handled ids ` +
        `(${handled.length - handledIds.size} duplicates), ${retried.length} retry writes, ${dlqRecords} DLQ records for ${deadIds.size} ids`;
      t.diagnostic(report);
    });

    it("a retry-topic write that fails while the broker is down is tried again: the record is not lost and its partition does not stall", { timeout: 300_000 }, async (t) => {
      const topic = uniqueName("rs-down");
      const retry: RetryOptions = { attempts: 3, backoff: { delayMs: 1_000 } };
      await createTopics(kafka, [topic, ...retryTopics(topic, retry), `${topic}-dlq`]);
      const registry = registryFor(infra);
      await register(registry, `${topic}-value`, { schemaType: "JSON", schema: JSON.stringify({ ...(JSON.parse(ORDER_SCHEMA) as object), title: uniqueIdent("Order") }) });
      const p = contractProducer(producer, { registry, key: false });
      const before = ["d-0", "d-1", "d-2"];
      await p.send({ topic, messages: before.map((id) => ({ value: order({ id, amount: 10 }) })) });

      // d-0's first delivery fails once the broker is down, so its retry-topic write fails too (a timeout).
      let restart: Promise<void> | undefined;
      let restarted = false;
      const handled: string[] = [];
      const consumer = contractConsumer(client.consumer({ groupId: uniqueName("rs-down") }), { registry, key: false, dlq: { producer }, retry });
      await runOnIds(consumer, [topic, ...retryTopics(topic, retry)], async (id) => {
        if (id === "d-0" && restart === undefined) {
          restart = restartBroker(25).then(() => void (restarted = true));
          await waitFor(async () => !(await brokerAnswers()), { timeoutMs: 60_000, what: "the broker down" });
          throw new Error("downstream unavailable");
        }
        handled.push(id);
      });
      await waitFor(() => restart !== undefined, { timeoutMs: 60_000, what: "d-0 delivered" });
      await restart;
      assert.ok(restarted);
      const after = ["d-3", "d-4"];
      await sendUntilAcknowledged(() => p.send({ topic, messages: after.map((id) => ({ value: order({ id, amount: 10 }) })) }));
      await waitFor(
        () => {
          const missing = [...before, ...after].filter((id) => !handled.includes(id));
          if (missing.length > 0) throw new Error(`not handled: ${missing.join(" ")} (handled: ${handled.join(" ")})`);
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 500, what: "every record handled after the broker came back" },
      );
      t.diagnostic(`${client.name}, broker down 25 s during a retry write: handled ${handled.join(" ")}`);
    });

    it("parking: parked keys released in order, every message handled or in the DLQ, exactly one", { timeout: 300_000 }, async (t) => {
      const topic = uniqueName("rs-park");
      const dlq = `${topic}-dlq`;
      const parkTopic = `${topic}-park`;
      const groupId = uniqueName("rs-park-group");
      const retry: RetryOptions = { attempts: 2, backoff: { delayMs: 3_000 } };
      await createTopics(kafka, [{ topic, numPartitions: 2 }, ...retryTopics(topic, retry), dlq, { topic: parkTopic, configEntries: [{ name: "cleanup.policy", value: "compact" }] }]);
      const registry = registryFor(infra);
      await register(registry, `${topic}-value`, {
        schema: JSON.stringify({ type: "record", name: "Order", namespace: uniqueIdent("rs"), fields: [{ name: "id", type: "string" }, { name: "amount", type: "double" }] }),
        ruleSet: { domainRules: [{ name: "amountPositive", kind: "CONDITION", mode: "READ", type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" }] },
      });
      const access: KafkaAccess = await connectKafka(client.name === "confluent" ? "confluent" : "kafkajs", infra.brokers);
      const p = contractProducer(producer, { registry, key: false });

      // Six keys over two partitions, one record of each per call. In call 1, K0's and K1's records fail
      // their first delivery (parked while in retry-1, released when the retry is handled) and K2's breaks
      // the rule (parked behind its dead letter until an operator releases it). K3-K5 flow, and are the
      // "next record" that delivers released followers.
      const keys = ["K0", "K1", "K2", "K3", "K4", "K5"];
      const calls = Array.from({ length: 12 }, (_, c) => keys.map((key) => `${key}-${c}`));
      const keyOf = (id: string) => id.split("-")[0]!;
      const partitionOf = (key: string) => keys.indexOf(key) % 2;
      const dead = "K2-1";
      const failsOnce = new Set(["K0-1", "K1-1"]);

      const handled: Delivery[] = [];
      const parked: ParkedRecord[] = [];
      const consumer = contractConsumer(client.consumer({ groupId }), {
        registry,
        key: false,
        dlq: { producer },
        retry,
        park: { groupId, access, refreshMs: 1_000 },
        onPark: (r) => void parked.push(r),
      });
      running.push(consumer);
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic, ...retryTopics(topic, retry)], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ key, value }) => {
            const id = (value as { id: string }).id;
            if (failsOnce.delete(id)) throw new Error(`downstream refuses ${id}`);
            handled.push({ id, key: String(key) });
          },
        });

        const stream: Stream = { sent: [], failedSends: 0 };
        const send = (ids: readonly string[]) =>
          p.send({ topic, messages: ids.map((id) => ({ key: keyOf(id), value: { id, amount: id === dead ? -1 : 1 }, partition: partitionOf(keyOf(id)) })) });
        // The restart starts once the three heads are parked (K0's and K1's in retry-1, K2's in the DLQ).
        const heads = () => new Set(parked.filter((r) => r.role === "head").map((r) => `${r.partition}@${r.episode}`)).size >= 3;
        await streamThroughRestart(stream, calls, 3, heads, send, (ids) => ids);

        // The operator gives up on K2's head: it stays in the DLQ, K2's followers are released.
        const park = await waitFor(async () => (await listParks(access, parkTopic, { group: groupId })).find((s) => s.head?.where === "dlq"), {
          timeoutMs: 60_000,
          intervalMs: 1_000,
          what: "K2's park, its head in the DLQ",
        });
        await releasePark(access, parkTopic, groupId, park.id);

        const expected = stream.sent.filter((id) => id !== dead);
        // Released followers are delivered at their partition's next record: tick both partitions until all are handled.
        let tick = 0;
        await waitFor(
          async () => {
            if (firstDeliveries(handled).length >= new Set(expected).size) return true;
            const ticks = ["K3", "K4"].map((key) => `${key}-t${++tick}`);
            await p.send({ topic, messages: ticks.map((id) => ({ key: keyOf(id), value: { id, amount: 1 }, partition: partitionOf(keyOf(id)) })) });
            stream.sent.push(...ticks);
            expected.push(...ticks);
            return false;
          },
          { timeoutMs: 120_000, intervalMs: 1_000, what: "every record handled after the restart and the release" },
        );
        await committedToEnd(groupId, [topic, ...retryTopics(topic, retry)]);
        await consumer.disconnect();

        const handledIds = firstDeliveries(handled);
        const deadIds = new Set((await readDeadLetters(access, dlq)).map((d) => d.origin.offset));
        assert.deepEqual([...handledIds].sort(), [...new Set(expected)].sort(), "every record but the dead head handled");
        assert.ok(!handledIds.includes(dead), "the released head stays in the DLQ, not handled");
        assert.equal(deadIds.size, 1, "one dead letter (K2's head), whatever the duplicates");
        // Per key, first deliveries in the order sent: the parked followers came out behind their head, in order.
        for (const key of keys) {
          const want = [...new Set(stream.sent.filter((id) => keyOf(id) === key && id !== dead))];
          assert.deepEqual(
            handledIds.filter((id) => keyOf(id) === key),
            want,
            `${key} in order`,
          );
        }
        const followers = parked.filter((r) => r.role === "follower").length;
        const report =
          `${client.name} parking, broker restart: ${new Set(stream.sent).size} ids (${stream.failedSends} failed sends sent again, ` +
          `${await countRecords(kafka, topic)} records on the topic); ${handled.length} deliveries for ${handledIds.length} handled ids ` +
          `(${handled.length - handledIds.length} duplicates), ${followers} follower park writes, 1 dead letter`;
        t.diagnostic(report);
      } finally {
        await consumer.disconnect().catch(() => {});
      }
    });
  });
}
