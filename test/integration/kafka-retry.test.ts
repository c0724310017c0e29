/**
 * Retry topics against the real broker and registry, once per client under
 * test: a record that fails goes to `<topic>-retry-1` ... with its delay, is
 * handed over again (decoded again) once due and not before, then goes to the
 * DLQ after its last attempt with its history in the headers; a waiting retry
 * partition holds nothing else up; poison pills never retry; and a consumer
 * disconnected mid-retry loses nothing: each message ends up handled or in the
 * DLQ, exactly one of the two.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kafka, KafkaMessage, Producer } from "kafkajs";
import type { Rule } from "../../src/contract/model.js";
import { DLQ_HEADERS, RETRY_HEADERS, contractConsumer, contractProducer, retryTopics, type ConsumedDeadLetter, type ContractConsumerOptions, type RetriedRecord } from "../../src/kafka/index.js";
import { ORDER_SCHEMA, order } from "../helpers/contracts.js";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { clientsUnderTest, countRecords, createTopics, kafkaFor, readAll, register, registryFor, text, uniqueIdent, withAdmin } from "./kafka-support.js";

const rule = (r: Partial<Rule> & Pick<Rule, "name" | "mode" | "expr" | "onFailure">): Rule => ({ kind: "CONDITION", type: "CEL", ...r });
const schema = (): string => JSON.stringify({ ...(JSON.parse(ORDER_SCHEMA) as object), title: uniqueIdent("Order") });

let infra: Infra;
let kafka: Kafka;

before(async () => {
  infra = await ensureInfra();
  kafka = kafkaFor(infra);
});

/** A handled record: its id, the topic it came from, its retry attempt header, and when the handler got it. */
interface Handled {
  readonly id: string;
  readonly topic: string;
  readonly attempt: string | undefined;
  readonly due: string | undefined;
  readonly at: number;
}

for (const client of clientsUnderTest(() => infra)) {
  describe(`retry topics on ${client.name}`, () => {
    let producer: Producer;

    before(async () => {
      producer = await client.producer();
    });

    after(async () => {
      await producer?.disconnect();
    });

    /** A main topic with its retry topics and DLQ, and a contract whose READ rule `positive` (ERROR) fails for amount <= 0. */
    async function setUp(prefix: string, partitions = 1, withRetryTopics = true) {
      const topic = uniqueName(prefix);
      const retries = retryTopics(topic);
      await createTopics(kafka, [{ topic, numPartitions: partitions }, ...(withRetryTopics ? retries : []), `${topic}-dlq`]);
      const registry = registryFor(infra);
      await register(registry, `${topic}-value`, {
        schemaType: "JSON",
        schema: schema(),
        ruleSet: { domainRules: [rule({ name: "positive", mode: "READ", expr: "message.amount > 0.0", onFailure: "ERROR" })] },
      });
      return { topic, retries, dlq: `${topic}-dlq`, registry, p: contractProducer(producer, { registry, key: false }) };
    }

    /** A contract consumer on the main topic and its retry topics, handing records to `handle`. */
    async function start(
      topic: string,
      groupId: string,
      options: Partial<ContractConsumerOptions> & Pick<ContractConsumerOptions, "retry">,
      handle: (h: Handled) => void,
      topics = [topic, ...retryTopics(topic, options.retry)],
    ) {
      const consumer = contractConsumer(client.consumer({ groupId }), { registry: registryFor(infra), key: false, dlq: { producer }, ...options });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic: from, value, message }) => {
          handle({ id: (value as { id: string }).id, topic: from, attempt: header(message, RETRY_HEADERS.attempt), due: header(message, RETRY_HEADERS.due), at: Date.now() });
        },
      });
      return consumer;
    }

    it("a handler that fails once is handed the record again from retry-1, attempt 2, not before its due time", async () => {
      const { topic, retries, p } = await setUp("retry-once");
      const delayMs = 1_500;
      const handled: Handled[] = [];
      const retried: RetriedRecord[] = [];
      const groupId = uniqueName("retry-once");
      const consumer = await start(topic, groupId, { retry: { backoff: { delayMs } }, onRetry: (r) => retried.push(r) }, (h) => {
        handled.push(h);
        if (h.topic === topic) throw new Error("downstream unavailable");
      });
      try {
        await p.send({ topic, messages: [{ value: order({ id: "o-1" }) }] });
        await waitFor(() => handled.length >= 2, { timeoutMs: 60_000, what: "the record handled on its second attempt" });
        const [first, second] = handled as [Handled, Handled];
        assert.deepEqual([first.topic, first.attempt], [topic, undefined]);
        assert.deepEqual([second.id, second.topic, second.attempt], ["o-1", retries[0], "2"]);
        assert.equal(retried.length, 1);
        const r = retried[0]!;
        assert.deepEqual([r.retryTopic, r.attempt, r.reason, r.rule, r.original], [retries[0], 2, "handler", undefined, { topic, partition: 0, offset: "0" }]);
        // Not before its due time (a lower bound only): due is the write time plus the delay.
        assert.equal(second.due, String(r.due.getTime()));
        assert.ok(r.due.getTime() - r.firstFailure.getTime() >= delayMs);
        assert.ok(second.at >= r.due.getTime(), `handled at ${second.at}, due ${r.due.getTime()}`);
        // Both offsets move past the record: main (after the retry write), retry-1 (after the handler).
        await waitFor(async () => (await committed(groupId, topic)) === "1" && (await committed(groupId, retries[0]!)) === "1", {
          timeoutMs: 20_000,
          what: "offsets committed on the main topic and retry-1",
        });
        assert.equal(handled.length, 2, "handled exactly twice");
      } finally {
        await consumer.disconnect();
      }
    });

    it("a retry topic that cannot be written fails the record: read again or held, not committed; written once the topic exists", async () => {
      const { topic, retries, p } = await setUp("retry-missing", 1, false);
      const groupId = uniqueName("retry-missing");
      // Never creates topics, gives up quickly.
      const strict = await client.producer({ allowAutoTopicCreation: false, retry: { retries: 1 } });
      const handled: Handled[] = [];
      const retried: RetriedRecord[] = [];
      // The main topic only: a client cannot subscribe to a topic that does not exist yet.
      const options = { retry: { backoff: { delayMs: 100 }, producer: strict }, onRetry: (r: RetriedRecord) => retried.push(r) };
      const consumer = await start(topic, groupId, options, (h) => {
        handled.push(h);
        throw new Error("downstream unavailable");
      }, [topic]);
      try {
        await p.send({ topic, messages: [{ value: order({ id: "o-1" }) }] });
        // As for a DLQ write: a retriable failure reads the record again (kafkajs), a non-retriable
        // one holds its partition at the record (the Confluent and platformatic adapters).
        const held = await waitFor(() => (handled.length >= 2 ? "read again" : pausedPartitions(consumer).includes(`${topic}:0`) ? "held" : undefined), {
          timeoutMs: 60_000,
          what: "the record read again or held after the failed retry write",
        });
        assert.deepEqual(retried, []);
        assert.notEqual(await committed(groupId, topic), "1", "not committed past the record");
        await createTopics(kafka, retries);
        if (held === "held") consumer.resume([{ topic }]);
        await waitFor(() => retried.length >= 1, { timeoutMs: 90_000, what: "the retry write once the topic exists" });
        await waitFor(async () => (await committed(groupId, topic)) === "1", { timeoutMs: 20_000, what: "main offset committed after the retry write" });
        assert.ok(handled.every((h) => h.id === "o-1" && h.topic === topic));
        assert.ok((await countRecords(kafka, retries[0]!)) >= 1);
        console.log(`# ${client.name}: a failed retry write ${held === "held" ? "held the partition until resume()" : "had the record read again"}; handled ${handled.length} times on the main topic`);
      } finally {
        await consumer.disconnect();
        await strict.disconnect();
      }
    });

    it("a retried rule exhausts its attempts and lands in the DLQ with its history; a poison pill goes straight to the DLQ", async () => {
      const { topic, retries, dlq, p } = await setUp("retry-rule");
      const handled: Handled[] = [];
      const retried: RetriedRecord[] = [];
      const dead: ConsumedDeadLetter[] = [];
      const consumer = await start(
        topic,
        uniqueName("retry-rule"),
        { retry: { attempts: 3, backoff: { delayMs: 200 }, retryOn: { rules: ["positive"] } }, onRetry: (r) => retried.push(r), onDeadLetter: (d) => dead.push(d) },
        (h) => handled.push(h),
      );
      try {
        await p.send({ topic, messages: [{ value: order({ id: "bad", amount: -1 }) }, { value: order({ id: "good" }) }] });
        await producer.send({ topic, messages: [{ value: Buffer.from("not the wire format") }] });
        await waitFor(() => dead.length >= 2 && handled.length >= 1, { timeoutMs: 60_000, what: "the bad record and the poison pill dead-lettered, the good one handled" });
        assert.deepEqual(
          handled.map((h) => h.id),
          ["good"],
        );
        assert.deepEqual(
          retried.map((r) => [r.topic, r.retryTopic, r.attempt, r.reason, r.rule]),
          [
            [topic, retries[0], 2, "rule", "positive"],
            [retries[0], retries[1], 3, "rule", "positive"],
          ],
        );
        assert.deepEqual(dead.map((d) => `${d.topic} ${d.reason}`).sort(), [`${retries[1]} rule`, `${topic} poison-pill`].sort());
        assert.equal(await countRecords(kafka, retries[0]!), 1);
        assert.equal(await countRecords(kafka, retries[1]!), 1);
        const records = (await readAll(kafka, [dlq])).get(dlq)!;
        assert.equal(records.length, 2);
        const bad = records.find((m) => text(m, DLQ_HEADERS.ruleName) === "positive")!;
        const poison = records.find((m) => text(m, DLQ_HEADERS.ruleName) === undefined)!;
        // The history: third attempt, first failure, main-topic coordinates; the DLQ headers say where it failed last.
        assert.equal(text(bad, RETRY_HEADERS.attempt), "3");
        assert.equal(text(bad, RETRY_HEADERS.originalTopic), topic);
        assert.equal(text(bad, RETRY_HEADERS.originalPartition), "0");
        assert.equal(text(bad, RETRY_HEADERS.originalOffset), "0");
        assert.equal(text(bad, RETRY_HEADERS.firstFailure), String(retried[0]!.firstFailure.getTime()));
        assert.equal(text(bad, DLQ_HEADERS.topic), retries[1]);
        assert.equal(text(bad, DLQ_HEADERS.exceptionClass), "RuleViolationError");
        assert.equal(text(poison, RETRY_HEADERS.attempt), undefined, "a poison pill never retries");
        assert.equal(text(poison, DLQ_HEADERS.exceptionClass), "SerializationError");
        assert.equal(poison.value!.toString(), "not the wire format");
      } finally {
        await consumer.disconnect();
      }
    });

    it("while a retry partition waits for its head record, the main topic's partitions flow on", async () => {
      const { topic, retries, p } = await setUp("retry-flow", 2);
      const handled: Handled[] = [];
      const retried: RetriedRecord[] = [];
      // Long enough that the record is still waiting when the others are through.
      const delayMs = 30_000;
      const consumer = await start(topic, uniqueName("retry-flow"), { retry: { backoff: { delayMs } }, onRetry: (r) => retried.push(r) }, (h) => {
        handled.push(h);
        if (h.id === "slow" && h.topic === topic) throw new Error("not yet");
      });
      try {
        await p.send({ topic, messages: [{ value: order({ id: "slow" }), partition: 0 }] });
        await waitFor(() => retried.length === 1, { timeoutMs: 60_000, what: "the failing record written to retry-1" });
        // Its head record seen, retry-1 is paused (no busy polling).
        await waitFor(() => pausedPartitions(consumer).includes(`${retries[0]}:0`), { timeoutMs: 30_000, what: "retry-1 paused" });
        await p.send({ topic, messages: [0, 1, 2, 3, 4, 5].map((i) => ({ value: order({ id: `next-${i}` }), partition: i % 2 })) });
        await waitFor(() => handled.filter((h) => h.id.startsWith("next-")).length === 6, { timeoutMs: 60_000, what: "both main partitions handled" });
        assert.equal(handled.filter((h) => h.id === "slow").length, 1, "the waiting record is not handed over early");
      } finally {
        await consumer.disconnect();
      }
    });

    it("no loss: a consumer killed mid-retry without committing, a successor in its group; every message ends up handled or in the DLQ, exactly one", async () => {
      const { topic, dlq, p } = await setUp("retry-noloss", 3);
      const N = 30;
      const groupId = uniqueName("retry-noloss");
      const ids = Array.from({ length: N }, (_, i) => `m-${i}`);
      // Every third fails once (its first delivery, whichever consumer gets it); every seventh breaks the rule for good.
      const failsOnce = new Set(ids.filter((_, i) => i % 3 === 0 && i % 7 !== 6));
      const breaksRule = new Set(ids.filter((_, i) => i % 7 === 6));
      const seen = new Set<string>();
      const handled: Handled[] = [];
      const dead: ConsumedDeadLetter[] = [];
      const retried: RetriedRecord[] = [];
      const options = {
        retry: { attempts: 3, backoff: { delayMs: 3_000 }, retryOn: { rules: ["positive"] } },
        onRetry: (r: RetriedRecord) => retried.push(r),
        onDeadLetter: (d: ConsumedDeadLetter) => dead.push(d),
      };
      const handle = (h: Handled): void => {
        const first = !seen.has(h.id);
        seen.add(h.id);
        if (first && failsOnce.has(h.id)) throw new Error("transient");
        handled.push(h);
      };
      await p.send({ topic, messages: ids.map((id, i) => ({ value: order({ id, amount: breaksRule.has(id) ? -1 : 10 }), partition: i % 3 })) });

      const first = await start(topic, groupId, options, handle);
      try {
        await waitFor(() => retried.length >= 5, { timeoutMs: 60_000, what: "records waiting in the retry topics" });
      } finally {
        await first.disconnect();
      }
      // As if it had died before committing anything: the group starts over on every topic. Its retry writes stay.
      await waitFor(
        () => withAdmin(kafka, async (admin) => {
          for (const t of [topic, ...retryTopics(topic, options.retry)]) await admin.resetOffsets({ groupId, topic: t, earliest: true });
          return true;
        }),
        { timeoutMs: 60_000, what: "the group's offsets reset (the group empty)" },
      );
      const atKill = { handled: new Set(handled.map((h) => h.id)).size, retried: retried.length, dead: dead.length };
      // Records were in flight in the retry topics (written, not yet handed over again): the successor must pick them up.
      const waiting = [...failsOnce].filter((id) => seen.has(id) && !handled.some((h) => h.id === id)).length;
      assert.ok(waiting > 0, "the consumer was disconnected mid-retry");

      const second = await start(topic, groupId, options, handle);
      try {
        // Dead letters do not name the order: their count is read from the DLQ.
        await waitFor(async () => new Set(handled.map((h) => h.id)).size === N - breaksRule.size && (await countRecords(kafka, dlq)) >= breaksRule.size, {
          timeoutMs: 90_000,
          what: "every message handled or dead-lettered",
        });
      } finally {
        await second.disconnect();
      }
      const handledIds = new Set(handled.map((h) => h.id));
      const dlqRecords = (await readAll(kafka, [dlq])).get(dlq)!;
      const dlqIds = new Set(dlqRecords.map(idOf));
      for (const id of ids) assert.equal(Number(handledIds.has(id)) + Number(dlqIds.has(id)), 1, `${id}: handled ${handledIds.has(id)}, DLQ ${dlqIds.has(id)}`);
      assert.deepEqual([...dlqIds].sort(), [...breaksRule].sort());
      console.log(
        `# ${client.name} no-loss: ${N} messages; at the disconnect ${atKill.handled} handled, ${atKill.retried} retry writes (${waiting} transient failures still waiting), ${atKill.dead} dead letters; ` +
          `in all ${handled.length} handler deliveries for ${handledIds.size} ids (${handled.length - handledIds.size} duplicates), ` +
          `${dlqRecords.length} DLQ records for ${dlqIds.size} ids, ${retried.length} retry writes`,
      );
    });
  });
}

function header(message: { headers?: KafkaMessage["headers"] }, name: string): string | undefined {
  return text(message as KafkaMessage, name);
}

/** A DLQ record's order id, from its JSON value behind the 5-byte wire prefix. */
function idOf(m: KafkaMessage): string {
  return (JSON.parse(m.value!.subarray(5).toString("utf8")) as { id: string }).id;
}

async function committed(groupId: string, topic: string): Promise<string | undefined> {
  const [offsets] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return offsets?.partitions[0]?.offset;
}

function pausedPartitions(consumer: { paused(): { topic: string; partitions: number[] }[] }): string[] {
  return consumer.paused().flatMap((t) => t.partitions.map((p) => `${t.topic}:${p}`));
}
