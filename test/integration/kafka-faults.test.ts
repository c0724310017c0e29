/**
 * Faults against the real broker and registry. After each, the records on the
 * topic and in the DLQ plus the errors returned add up to the messages sent:
 * nothing is lost, and at-least-once duplicates are counted and reported.
 *
 * - a missing DLQ topic and an unwritable one (records over the topic's
 *   max.message.bytes), on produce and on consume;
 * - the registry unreachable mid-consume (a TCP proxy in front of the shared
 *   registry is cut: stopping the in-memory registry would lose every schema);
 * - a broker restart (scripts/kafka.sh restart) in the middle of producing.
 *
 * The produce-side DLQ faults run once per client under test; the consume-side
 * ones and the broker restart are about kafkajs's stop/retry/restart semantics
 * (run when kafkajs is under test), and the Confluent client and
 * @platformatic/kafka have their own (a stop holds the partition: the last describes).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import kafkajs, { type Consumer, type Kafka, type Producer } from "kafkajs";
import type { Contract, Rule } from "../../src/contract/model.js";
import { isKontractError } from "../../src/errors.js";
import {
  ConsumeError,
  DeadLetterError,
  SendError,
  contractConsumer,
  contractProducer,
  kontractCause,
  type ContractProducer,
  type ContractSendResult,
} from "../../src/kafka/index.js";
import { createRestRegistry } from "../../src/registry/rest/index.js";
import { ORDER_SCHEMA, order } from "../helpers/contracts.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import {
  QUICK_CONSUMER,
  clientsUnderTest,
  type ClientUnderTest,
  countRecords,
  createTopics,
  kafkaFor,
  producerFor,
  readAll,
  register,
  registryFor,
  restartBroker,
  startTcpProxy,
  testClientNames,
  uniqueIdent,
  withAdmin,
} from "./kafka-support.js";

let infra: Infra;
let kafka: Kafka;
let producer: Producer;

before(async () => {
  infra = await ensureInfra();
  kafka = kafkaFor(infra);
  producer = producerFor(kafka);
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
});

const positive = (mode: "WRITE" | "READ"): Rule => ({ name: "positive", kind: "CONDITION", mode, type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" });
const contractWith = (rule: Rule, title = uniqueIdent("Order")): Contract => ({
  schemaType: "JSON",
  schema: JSON.stringify({ ...(JSON.parse(ORDER_SCHEMA) as object), title }),
  ruleSet: { domainRules: [rule] },
});

/** Ids of a topic's records: JSON Schema payloads after the 5-byte prefix, or DLQ JSON text. */
async function idsOn(topic: string, framed: boolean): Promise<string[]> {
  const records = (await readAll(kafka, [topic])).get(topic)!;
  return records.map((r) => (JSON.parse(r.value!.subarray(framed ? 5 : 0).toString("utf8")) as { id: string }).id);
}

const duplicates = (ids: readonly string[]): number => ids.length - new Set(ids).size;

/** Calls `fn` until it resolves; a rejection that `expected` accepts means try again (for up to 20 s). */
async function waitForResult<T>(fn: () => Promise<T>, expected: (e: unknown) => boolean, what: string): Promise<T> {
  let result: { value: T } | undefined;
  await waitFor(
    async () => {
      try {
        result = { value: await fn() };
        return true;
      } catch (e) {
        if (expected(e)) return false;
        throw e;
      }
    },
    { timeoutMs: 20_000, intervalMs: 500, what },
  );
  return result!.value;
}

/** A dedicated DLQ producer that never creates topics and gives up quickly. */
const STRICT_DLQ = { allowAutoTopicCreation: false, retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 300 } };

async function strictDlqProducer(): Promise<Producer> {
  const p = kafka.producer(STRICT_DLQ);
  await p.connect();
  return p;
}

const messages = (ids: string[], bad: (id: string) => boolean) => ids.map((id) => ({ value: order({ id, amount: bad(id) ? -1 : 10 }) }));

for (const client of clientsUnderTest(() => infra)) {
  describe(`produce on ${client.name}: the DLQ topic is missing or unwritable`, () => {
    let producer: Producer;
    before(async () => {
      producer = await client.producer();
    });
    after(async () => {
      await producer?.disconnect();
    });

    it("missing: DeadLetterError, nothing written; once the topic exists the same call writes everything exactly once", async (t) => {
      const topic = uniqueName("f-missing");
      const dlq = `${topic}-dlq`;
      await createTopics(kafka, [topic]);
      await register(registryFor(infra), `${topic}-value`, contractWith(positive("WRITE")));
      const dlqProducer = await client.producer(STRICT_DLQ);
      try {
        const p = contractProducer(producer, { registry: registryFor(infra), key: false, dlq: { producer: dlqProducer } });
        const ids = ["a", "b", "bad-1", "c", "bad-2", "d", "e"];
        const call = { topic, messages: messages(ids, (id) => id.startsWith("bad")) };
        const err = await p.send(call).catch((e: unknown) => e);
        assert.ok(err instanceof DeadLetterError, String(err));
        assert.deepEqual(err.topics, [dlq]);
        assert.equal(await countRecords(kafka, topic), 0, "no valid message sent when the DLQ write failed");
        assert.ok(!(await withAdmin(kafka, (a) => a.listTopics())).includes(dlq), "the DLQ topic was not auto-created");
        // topic 0 + DLQ 0 + 7 in the rejected call = 7 sent.

        await createTopics(kafka, [dlq]);
        // A failed call wrote nothing, so calling again is safe; the Confluent client may take a
        // metadata refresh to see the new topic, and fails the DLQ write until then.
        const result = await waitForResult(() => p.send(call), (e) => e instanceof DeadLetterError, "the DLQ write once the topic exists");
        assert.deepEqual(await idsOn(topic, true), ["a", "b", "c", "d", "e"]);
        assert.deepEqual(await idsOn(dlq, false), ["bad-1", "bad-2"]);
        assert.equal(result.messages.length, ids.length);
        t.diagnostic(`missing DLQ on produce: first call rejected (7), retry: topic 5 + DLQ 2, duplicates 0`);
      } finally {
        await dlqProducer.disconnect();
      }
    });

    it("unwritable (records over max.message.bytes): non-retriable DeadLetterError, nothing written", async () => {
      const topic = uniqueName("f-tiny");
      const dlq = `${topic}-dlq`;
      await createTopics(kafka, [topic, { topic: dlq, configEntries: [{ name: "max.message.bytes", value: "16" }] }]);
      await register(registryFor(infra), `${topic}-value`, contractWith(positive("WRITE")));
      const p = contractProducer(producer, { registry: registryFor(infra), key: false });
      const err = await p.send({ topic, messages: messages(["a", "bad", "b"], (id) => id === "bad") }).catch((e: unknown) => e);
      assert.ok(err instanceof DeadLetterError, String(err));
      assert.equal(err.retriable, false, "retrying cannot help: the topic refuses the record");
      assert.equal(await countRecords(kafka, topic), 0);
      assert.equal(await countRecords(kafka, dlq), 0);
    });
  });
}

/**
 * kafkajs's own semantics (and the shared broker's restart): declared only
 * when kafkajs is under test, as the Confluent and platformatic blocks below
 * are for theirs. The Node 22 pass (platformatic only) runs none of them; the
 * Node 20 pass runs them all.
 */
const onKafkajs = (name: string, fn: () => void): void => {
  if (testClientNames().includes("kafkajs")) describe(name, fn);
};

onKafkajs("consume: the DLQ topic is missing or unwritable, the registry is unreachable", () => {
  const IDS = ["ok-0", "ok-1", "bad-2", "ok-3", "bad-4", "ok-5"];

  async function runUntil(consumer: Consumer, topic: string, start: (c: Consumer) => Promise<void>, done: () => boolean, what: string): Promise<void> {
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await start(consumer);
      await waitFor(done, { timeoutMs: 30_000, what });
    } finally {
      await consumer.disconnect();
    }
  }

  it("missing: the record is not skipped; kafkajs retries until the topic exists, then it is dead-lettered", async (t) => {
    const topic = await seeded("fc-missing", positive("READ"), IDS);
    const dlq = `${topic}-dlq`;
    const dlqProducer = await strictDlqProducer();
    const handled: string[] = [];
    let dlqFailures = 0;
    try {
      const kafkaConsumer = kafka.consumer({ groupId: uniqueName("fc-missing"), ...QUICK_CONSUMER });
      kafkaConsumer.on(kafkaConsumer.events.CRASH, (e) => void (kontractCause(e.payload.error) instanceof DeadLetterError && dlqFailures++));
      const consumer = contractConsumer(kafkaConsumer, { registry: registryFor(infra), key: false, dlq: { producer: dlqProducer } });
      await runUntil(
        kafkaConsumer,
        topic,
        async () => {
          await consumer.run({ eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
          await waitFor(() => dlqFailures >= 1, { timeoutMs: 20_000, what: "the consumer failing on the DLQ write" });
          assert.deepEqual(handled, ["ok-0", "ok-1"], "stuck on bad-2, nothing after it handled");
          await createTopics(kafka, [dlq]);
        },
        () => handled.includes("ok-5"),
        "the rest of the topic after the DLQ topic exists",
      );
    } finally {
      await dlqProducer.disconnect();
    }
    const dead = await idsOn(dlq, true);
    assert.deepEqual(new Set(dead), new Set(["bad-2", "bad-4"]));
    assert.deepEqual(new Set(handled), new Set(["ok-0", "ok-1", "ok-3", "ok-5"]));
    t.diagnostic(`missing DLQ on consume: ${dlqFailures} consumer crash(es) before the topic existed; handled ${handled.length} (duplicates ${duplicates(handled)}), DLQ ${dead.length} (duplicates ${duplicates(dead)})`);
    assert.equal(new Set(handled).size + new Set(dead).size, IDS.length);
  });

  it("unwritable: the consumer stops at the record; after fixing the topic a restarted consumer dead-letters it", async (t) => {
    const topic = await seeded("fc-tiny", positive("READ"), IDS);
    const dlq = `${topic}-dlq`;
    await createTopics(kafka, [{ topic: dlq, configEntries: [{ name: "max.message.bytes", value: "16" }] }]);
    const groupId = uniqueName("fc-tiny");
    const handled: string[] = [];
    let stopped: { restart: boolean; error: unknown } | undefined;
    const first = kafka.consumer({ groupId, ...QUICK_CONSUMER });
    first.on(first.events.CRASH, (e) => void (stopped = { restart: e.payload.restart, error: e.payload.error }));
    const eachMessage = async ({ value }: { value: unknown }) => void handled.push((value as { id: string }).id);
    await runUntil(
      first,
      topic,
      () => contractConsumer(first, { registry: registryFor(infra), key: false, dlq: { producer } }).run({ eachMessage }),
      () => stopped !== undefined,
      "the consumer to stop",
    );
    assert.equal(stopped!.restart, false, "a non-retriable DLQ failure stops the consumer");
    assert.ok(kontractCause(stopped!.error) instanceof DeadLetterError);
    assert.deepEqual(handled, ["ok-0", "ok-1"]);
    assert.equal(await countRecords(kafka, dlq), 0);

    await withAdmin(kafka, (admin) =>
      admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: dlq, configEntries: [{ name: "max.message.bytes", value: "1048588" }] }] }),
    );
    const second = kafka.consumer({ groupId, ...QUICK_CONSUMER });
    await runUntil(
      second,
      topic,
      () => contractConsumer(second, { registry: registryFor(infra), key: false, dlq: { producer } }).run({ eachMessage }),
      () => handled.includes("ok-5"),
      "the rest of the topic",
    );
    const dead = await idsOn(dlq, true);
    assert.deepEqual(dead, ["bad-2", "bad-4"]);
    assert.deepEqual(handled, ["ok-0", "ok-1", "ok-3", "ok-5"], "resumed at the committed offset: no record handled twice");
    t.diagnostic(`unwritable DLQ on consume: handled ${handled.length} + DLQ ${dead.length} = ${IDS.length}, duplicates 0`);
  });

  it("registry unreachable mid-consume: nothing is dead-lettered, the consumer catches up when it is back", async (t) => {
    const { topic, dlq, subject, registry, batch } = await tenOrders("fc-registry");

    const proxy = await startTcpProxy(infra.registryUrl);
    const handled: string[] = [];
    let retries = 0;
    try {
      const kafkaConsumer = kafka.consumer({ groupId: uniqueName("fc-registry"), ...QUICK_CONSUMER });
      kafkaConsumer.on(kafkaConsumer.events.CRASH, () => void retries++);
      const consumer = contractConsumer(kafkaConsumer, {
        registry: createRestRegistry({ url: proxy.url, timeoutMs: 2_000, retries: 0 }),
        key: false,
        dlq: { producer },
      });
      await runUntil(
        kafkaConsumer,
        topic,
        async () => {
          await consumer.run({ eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
          await waitFor(() => handled.length === 10, { timeoutMs: 20_000, what: "the first 10 records" });
          proxy.down();
          // A second version (new schema id): the consumer must ask the registry for it.
          await register(registry, subject, contractWith(positive("READ"), uniqueIdent("OrderV2")));
          await contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: batch(10) });
          await waitFor(() => proxy.refused >= 2, { timeoutMs: 20_000, what: "the consumer trying the registry" });
          await sleep(500);
          assert.equal(handled.length, 10, "no record of the new version handled while the registry is unreachable");
          proxy.up();
        },
        () => handled.length >= 20,
        "every record after the registry is back",
      );
    } finally {
      await proxy.close();
    }
    assert.equal(await countRecords(kafka, dlq), 0, "an unreachable registry never dead-letters");
    assert.equal(new Set(handled).size, 20);
    t.diagnostic(`registry down: ${proxy.refused} refused connection(s), ${retries} consumer restart(s); handled ${handled.length}, duplicates ${duplicates(handled)}, DLQ 0`);
  });
});

onKafkajs("broker restart in the middle of producing", () => {
  it("topic + DLQ + returned errors add up to the messages sent; retrying the failures loses nothing", async (t) => {
    const topic = uniqueName("f-restart");
    const dlq = `${topic}-dlq`;
    await createTopics(kafka, [topic, dlq]);
    await register(registryFor(infra), `${topic}-value`, contractWith(positive("WRITE")));
    const p: ContractProducer = contractProducer(producer, { registry: registryFor(infra), key: false });

    const PER_CALL = 10;
    const isBad = (id: string) => id.endsWith("-4") || id.endsWith("-9");
    const callIds = (c: number) => Array.from({ length: PER_CALL }, (_, i) => `m${c}-${i}`);
    const acked = { topic: new Set<string>(), dlq: new Set<string>() };
    /** Ids a failed call did not confirm: they may or may not have been written. */
    const unconfirmed = new Set<string>();
    const errors: string[] = [];
    const record = (ids: string[], result: ContractSendResult) => {
      for (const m of result.messages) (m.status === "sent" ? acked.topic : acked.dlq).add(ids[m.index]!);
    };
    const attempt = async (ids: string[]): Promise<boolean> => {
      try {
        record(ids, await p.send({ topic, messages: messages(ids, isBad) }));
        return true;
      } catch (e) {
        errors.push(isKontractError(e) ? `${e.name}(${e.code}, retriable=${e.retriable})` : String(e));
        if (e instanceof SendError) {
          for (const d of e.deadLettered) acked.dlq.add(ids[d.index]!);
          for (const i of e.unsent) unconfirmed.add(ids[i]!);
        } else {
          for (const id of ids) unconfirmed.add(id);
        }
        return false;
      }
    };

    const sent: string[] = [];
    let restart: Promise<void> | undefined;
    let restarted = false;
    let afterRestart = 0;
    for (let c = 0; afterRestart < 5; c++) {
      if (c === 5) restart = restartBroker().then(() => void (restarted = true));
      const ids = callIds(c);
      sent.push(...ids);
      if ((await attempt(ids)) && restarted) afterRestart++;
      await sleep(50);
      assert.ok(c < 400, "the broker did not come back");
    }
    await restart;

    // Before any retry: every message is on the topic, in the DLQ, or in an error returned to the caller.
    const topicIds = await idsOn(topic, true);
    const dlqIds = await idsOn(dlq, false);
    const seen = new Set([...topicIds, ...dlqIds, ...unconfirmed]);
    assert.deepEqual(
      sent.filter((id) => !seen.has(id)),
      [],
      "no message silently lost",
    );
    for (const id of acked.topic) assert.ok(topicIds.includes(id), `acknowledged ${id} is on the topic`);
    for (const id of acked.dlq) assert.ok(dlqIds.includes(id), `acknowledged dead letter ${id} is in the DLQ`);
    assert.ok(topicIds.every((id) => !isBad(id)) && dlqIds.every(isBad), "nothing crossed over");

    // The caller retries what was not confirmed (at-least-once).
    const toRetry = [...unconfirmed].filter((id) => !acked.topic.has(id) && !acked.dlq.has(id));
    if (toRetry.length > 0) assert.ok(await attempt(toRetry), "the retry succeeds once the broker is back");
    const finalTopic = await idsOn(topic, true);
    const finalDlq = await idsOn(dlq, false);
    assert.deepEqual(new Set(finalTopic), new Set(sent.filter((id) => !isBad(id))), "every valid message on the topic");
    assert.deepEqual(new Set(finalDlq), new Set(sent.filter(isBad)), "every invalid message in the DLQ");
    const report =
      `broker restart: ${sent.length} messages in ${sent.length / PER_CALL} calls, ${errors.length} call(s) failed ` +
      `[${[...new Set(errors)].join("; ")}], ${toRetry.length} retried; topic ${finalTopic.length} records (${duplicates(finalTopic)} duplicates), ` +
      `DLQ ${finalDlq.length} records (${duplicates(finalDlq)} duplicates)`;
    t.diagnostic(report);
  });
});

onKafkajs("onFailure ERROR on consume: stop or retry", () => {
  async function seedError(): Promise<string> {
    const topic = uniqueName("fc-error");
    await createTopics(kafka, [topic]);
    const rule: Rule = { name: "positive", kind: "CONDITION", mode: "READ", type: "CEL", expr: "message.amount > 0.0", onFailure: "ERROR" };
    await register(registryFor(infra), `${topic}-value`, contractWith(rule));
    await contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: messages(["ok-0", "bad-1", "ok-2"], (id) => id.startsWith("bad")) });
    return topic;
  }

  async function committed(groupId: string, topic: string): Promise<string> {
    const [t] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    return t!.partitions[0]!.offset;
  }

  it('onError "stop" (default): kafkajs stops the consumer at the record, its offset stays uncommitted', async () => {
    const topic = await seedError();
    const groupId = uniqueName("fc-stop");
    const kafkaConsumer = kafka.consumer({ groupId, ...QUICK_CONSUMER });
    const crashes: { restart: boolean; error: unknown }[] = [];
    kafkaConsumer.on(kafkaConsumer.events.CRASH, (e) => void crashes.push(e.payload));
    const handled: string[] = [];
    const consumer = contractConsumer(kafkaConsumer, { registry: registryFor(infra), key: false, dlq: { producer } });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
      await waitFor(() => crashes.length > 0, { timeoutMs: 20_000, what: "the consumer to stop" });
    } finally {
      await consumer.disconnect();
    }
    assert.equal(crashes.length, 1);
    assert.equal(crashes[0]!.restart, false);
    const cause = kontractCause(crashes[0]!.error);
    assert.ok(cause instanceof ConsumeError && cause.code === "rule-violation" && cause.offset === "1", String(cause));
    assert.deepEqual(handled, ["ok-0"]);
    assert.equal(await committed(groupId, topic), "1", "the next start resumes at the failing record");
  });

  it('onError "retry": kafkajs retries the record, then asks retry.restartOnFailure, which sees the ConsumeError', async () => {
    const topic = await seedError();
    const groupId = uniqueName("fc-retry");
    const asked: unknown[] = [];
    const kafkaConsumer = kafka.consumer({
      groupId,
      ...QUICK_CONSUMER,
      retry: {
        ...QUICK_CONSUMER.retry,
        // Restart once, then give up.
        restartOnFailure: async (e) => asked.push(e) < 2,
      },
    });
    const crashes: boolean[] = [];
    kafkaConsumer.on(kafkaConsumer.events.CRASH, (e) => void crashes.push(e.payload.restart));
    const consumer = contractConsumer(kafkaConsumer, { registry: registryFor(infra), key: false, onError: "retry", dlq: { producer } });
    const handled: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ value }) => void handled.push((value as { id: string }).id),
      });
      await waitFor(() => crashes.length === 2, { timeoutMs: 30_000, what: "a restart, then a stop" });
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(crashes, [true, false], "restarted once, then stopped as restartOnFailure said");
    assert.equal(asked.length, 2);
    assert.ok(asked.every((e) => kontractCause(e) instanceof ConsumeError));
    assert.deepEqual(handled, ["ok-0"], "never skipped past the failing record");
    assert.equal(await committed(groupId, topic), "1");
  });
});

/** A topic with `ids` produced through a contract with `rule` (ids starting with "bad" fail it). */
async function seeded(prefix: string, rule: Rule, ids: string[]): Promise<string> {
  const topic = uniqueName(prefix);
  await createTopics(kafka, [topic]);
  await register(registryFor(infra), `${topic}-value`, contractWith(rule));
  await contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: messages(ids, (id) => id.startsWith("bad")) });
  return topic;
}

/**
 * For the registry-outage cases: a topic and its DLQ under a READ contract,
 * with the orders o-0..o-9 in it; `batch(n)` makes ten more from o-n.
 */
async function tenOrders(prefix: string) {
  const topic = uniqueName(prefix);
  const dlq = `${topic}-dlq`;
  await createTopics(kafka, [topic, dlq]);
  const subject = `${topic}-value`;
  const registry = registryFor(infra);
  await register(registry, subject, contractWith(positive("READ")));
  const batch = (from: number) => Array.from({ length: 10 }, (_, i) => ({ value: order({ id: `o-${from + i}` }) }));
  await contractProducer(producer, { registry, key: false }).send({ topic, messages: batch(0) });
  return { topic, dlq, subject, registry, batch };
}

/** The offset a group committed on a topic's first partition. */
const committed = async (groupId: string, topic: string) => (await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] })))[0]!.partitions[0]!.offset;

/**
 * On clients that hold a partition instead of stopping the consumer: an ERROR
 * rule with onError "stop" leaves the partition paused at the failing record,
 * nothing after it handled, its offset not committed.
 */
async function stopHoldsTheRecord(client: ClientUnderTest, dlqProducer: Producer, prefix: string): Promise<void> {
  const rule: Rule = { name: "positive", kind: "CONDITION", mode: "READ", type: "CEL", expr: "message.amount > 0.0", onFailure: "ERROR" };
  const topic = await seeded(prefix, rule, ["ok-0", "bad-1", "ok-2"]);
  const groupId = uniqueName(prefix);
  const consumer = contractConsumer(client.consumer({ groupId }), { registry: registryFor(infra), key: false, dlq: { producer: dlqProducer } });
  const handled: string[] = [];
  await consumer.connect();
  try {
    // The Confluent client takes fromBeginning as consumer configuration and refuses it here.
    await consumer.subscribe(client.name === "confluent" ? { topics: [topic] } : { topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
    await waitFor(() => consumer.paused().some((p) => p.topic === topic), { timeoutMs: 20_000, what: "the partition to be held" });
    await waitFor(async () => (await committed(groupId, topic)) === "1", { timeoutMs: 15_000, what: "ok-0 committed" });
    await sleep(500);
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(handled, ["ok-0"]);
  assert.equal(await committed(groupId, topic), "1", "the next start resumes at the failing record");
}

/**
 * The Confluent client never stops a consumer for a handler error: it seeks
 * back to the record and reads it again. kontract's adapter pauses the
 * record's partition first when retrying cannot help, so the record waits
 * there, uncommitted, as with kafkajs's stop, until `resume()`.
 */
const confluent = clientsUnderTest(() => infra).find((c) => c.name === "confluent");
if (confluent) {
  describe("consume on confluent: a non-retriable error holds the partition at the record", () => {
    let confluentProducer: Producer;
    before(async () => {
      confluentProducer = await confluent.producer();
    });
    after(async () => {
      await confluentProducer?.disconnect();
    });


    it('onError "stop": the partition is paused at the record, nothing after it handled, its offset not committed', () => stopHoldsTheRecord(confluent, confluentProducer, "fcc-stop"));

    it("unwritable DLQ: paused at the record; once the topic is fixed, resume() dead-letters it and goes on", async (t) => {
      const topic = await seeded("fcc-tiny", positive("READ"), ["ok-0", "ok-1", "bad-2", "ok-3", "bad-4", "ok-5"]);
      const dlq = `${topic}-dlq`;
      await createTopics(kafka, [{ topic: dlq, configEntries: [{ name: "max.message.bytes", value: "16" }] }]);
      const kafkaConsumer = confluent.consumer({ groupId: uniqueName("fcc-tiny") });
      const consumer = contractConsumer(kafkaConsumer, { registry: registryFor(infra), key: false, dlq: { producer: confluentProducer } });
      const handled: string[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic] });
        await consumer.run({ eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
        await waitFor(() => consumer.paused().some((p) => p.topic === topic), { timeoutMs: 30_000, what: "the partition to be paused" });
        assert.deepEqual(handled, ["ok-0", "ok-1"]);
        assert.equal(await countRecords(kafka, dlq), 0);
        await withAdmin(kafka, (admin) =>
          admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: dlq, configEntries: [{ name: "max.message.bytes", value: "1048588" }] }] }),
        );
        consumer.resume([{ topic }]);
        await waitFor(() => handled.includes("ok-5"), { timeoutMs: 30_000, what: "the rest of the topic after resume()" });
      } finally {
        await consumer.disconnect();
      }
      const dead = await idsOn(dlq, true);
      assert.deepEqual(dead, ["bad-2", "bad-4"]);
      assert.deepEqual(handled, ["ok-0", "ok-1", "ok-3", "ok-5"]);
      t.diagnostic(`unwritable DLQ on confluent: handled ${handled.length} + DLQ ${dead.length} = 6, duplicates 0`);
    });
  });
}

/**
 * @platformatic/kafka has no handler-driven consumer: the adapter runs the
 * handlers over its message stream, retries a retriable failure in place and
 * holds a partition at a record that cannot get through (as the Confluent
 * client's pause): `paused()` lists it, `resume()` reads it again.
 */
const platformatic = clientsUnderTest(() => infra).find((c) => c.name === "platformatic");
if (platformatic) {
  describe("consume on platformatic: a retriable failure is retried in place, a non-retriable one holds the partition", () => {
    let platformaticProducer: Producer;
    before(async () => {
      platformaticProducer = await platformatic.producer();
    });
    after(async () => {
      await platformaticProducer?.disconnect();
    });

    /** Short backoffs: a retried record is tried again within half a second. */
    const QUICK_RETRY = { retry: { initialRetryTime: 100, maxRetryTime: 500 } } as Record<string, unknown>;

    it('onError "stop": the partition is held at the record, nothing after it handled, its offset not committed', () => stopHoldsTheRecord(platformatic, platformaticProducer, "fcp-stop"));

    it("missing DLQ topic: held at the record (the client calls an unknown topic a user error, not retriable); resume() once it exists", async (t) => {
      const topic = await seeded("fcp-missing", positive("READ"), ["ok-0", "ok-1", "bad-2", "ok-3", "bad-4", "ok-5"]);
      const dlq = `${topic}-dlq`;
      const dlqProducer = await platformatic.producer(STRICT_DLQ);
      const consumer = contractConsumer(platformatic.consumer({ groupId: uniqueName("fcp-missing") }), { registry: registryFor(infra), key: false, dlq: { producer: dlqProducer } });
      const handled: string[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
        await waitFor(() => consumer.paused().some((p) => p.topic === topic), { timeoutMs: 20_000, what: "the partition to be held" });
        assert.deepEqual(handled, ["ok-0", "ok-1"], "stuck on bad-2, nothing after it handled");
        await createTopics(kafka, [dlq]);
        consumer.resume([{ topic }]);
        await waitFor(() => handled.includes("ok-5"), { timeoutMs: 30_000, what: "the rest of the topic after resume()" });
      } finally {
        await consumer.disconnect();
        await dlqProducer.disconnect();
      }
      const dead = await idsOn(dlq, true);
      assert.deepEqual(dead, ["bad-2", "bad-4"]);
      assert.deepEqual(handled, ["ok-0", "ok-1", "ok-3", "ok-5"]);
      t.diagnostic(`missing DLQ on platformatic: handled ${handled.length} + DLQ ${dead.length} = 6, duplicates 0`);
    });

    it("registry unreachable mid-consume: the record is retried in place, nothing dead-lettered, the consumer catches up when it is back", async (t) => {
      const { topic, dlq, subject, registry, batch } = await tenOrders("fcp-registry");
      const proxy = await startTcpProxy(infra.registryUrl);
      const handled: string[] = [];
      const consumer = contractConsumer(platformatic.consumer({ groupId: uniqueName("fcp-registry") }), {
        registry: createRestRegistry({ url: proxy.url, timeoutMs: 2_000, retries: 0 }),
        key: false,
        dlq: { producer: platformaticProducer },
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ ...QUICK_RETRY, eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
        await waitFor(() => handled.length === 10, { timeoutMs: 20_000, what: "the first 10 records" });
        proxy.down();
        // A second version (new schema id): the consumer must ask the registry for it.
        await register(registry, subject, contractWith(positive("READ"), uniqueIdent("OrderV2")));
        await contractProducer(producer, { registry: registryFor(infra), key: false }).send({ topic, messages: batch(10) });
        await waitFor(() => proxy.refused >= 2, { timeoutMs: 20_000, what: "the consumer trying the registry" });
        assert.equal(handled.length, 10, "no record of the new version handled while the registry is unreachable");
        assert.deepEqual(consumer.paused(), [], "retried, not held: an unreachable registry is retriable");
        proxy.up();
        await waitFor(() => handled.length >= 20, { timeoutMs: 20_000, what: "every record after the registry is back" });
      } finally {
        await consumer.disconnect();
        await proxy.close();
      }
      assert.equal(await countRecords(kafka, dlq), 0, "an unreachable registry never dead-letters");
      assert.deepEqual(handled, Array.from({ length: 20 }, (_, i) => `o-${i}`), "in order, none twice");
      t.diagnostic(`registry down on platformatic: ${proxy.refused} refused connection(s); handled ${handled.length}, DLQ 0`);
    });

    it("unwritable DLQ: held at the record; once the topic is fixed, resume() dead-letters it and goes on", async (t) => {
      const topic = await seeded("fcp-tiny", positive("READ"), ["ok-0", "ok-1", "bad-2", "ok-3", "bad-4", "ok-5"]);
      const dlq = `${topic}-dlq`;
      await createTopics(kafka, [{ topic: dlq, configEntries: [{ name: "max.message.bytes", value: "16" }] }]);
      const groupId = uniqueName("fcp-tiny");
      const consumer = contractConsumer(platformatic.consumer({ groupId }), { registry: registryFor(infra), key: false, dlq: { producer: platformaticProducer } });
      const handled: string[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
        await waitFor(() => consumer.paused().some((p) => p.topic === topic), { timeoutMs: 30_000, what: "the partition to be held" });
        assert.deepEqual(handled, ["ok-0", "ok-1"]);
        assert.equal(await countRecords(kafka, dlq), 0);
        await waitFor(async () => (await committed(groupId, topic)) === "2", { timeoutMs: 15_000, what: "ok-1 committed" });
        await withAdmin(kafka, (admin) =>
          admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: dlq, configEntries: [{ name: "max.message.bytes", value: "1048588" }] }] }),
        );
        consumer.resume([{ topic }]);
        await waitFor(() => handled.includes("ok-5"), { timeoutMs: 30_000, what: "the rest of the topic after resume()" });
        assert.deepEqual(consumer.paused(), []);
      } finally {
        await consumer.disconnect();
      }
      const dead = await idsOn(dlq, true);
      assert.deepEqual(dead, ["bad-2", "bad-4"]);
      assert.deepEqual(handled, ["ok-0", "ok-1", "ok-3", "ok-5"]);
      t.diagnostic(`unwritable DLQ on platformatic: handled ${handled.length} + DLQ ${dead.length} = 6, duplicates 0`);
    });
  });
}
