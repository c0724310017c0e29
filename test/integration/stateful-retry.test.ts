/**
 * Stateful rules and retry topics on the real broker and registry (docs/stateful.md, "Retry
 * topics"): a record whose handler fails goes to `<topic>-retry-1` and is handled there. It was
 * judged on its first delivery, in its original partition's state; the verdicts must be as if it
 * had been delivered once: not its own duplicate, not a duplicate of a key reused after the
 * window, not counted twice by a completeness rule, and no state of its own for the retry topic.
 * Once per client under test.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import type { Violation } from "../../src/errors.js";
import { changelogTopic, contractConsumer, contractProducer, retryTopics, type ConsumedDeadLetter, type GroupReport } from "../../src/kafka/index.js";
import { ALL_PARTS_IN_3S, type StatefulOrder } from "../helpers/contracts.js";
import { uniqueName, waitFor } from "../helpers/infra.js";
import { accessForFile, clientsUnderTest, createTopics, kafkaFor, producerForSuite, register, registryFor, uniqueIdent, withAdmin } from "./kafka-support.js";

type Order = StatefulOrder;

const schema = (): string =>
  JSON.stringify({
    $schema: "http://json-schema.org/draft-07/schema#",
    title: uniqueIdent("statefulRetry"),
    type: "object",
    properties: { id: { type: "string" }, customer: { type: "string" }, seq: { type: "integer" }, order: { type: "string" }, parts: { type: "integer" } },
    required: ["id", "customer", "seq"],
  });

const uniqueAndOrder = (dlq: string): Rule[] => [
  { name: "idUnique", kind: "CONDITION", mode: "READ", type: "STATEFUL_UNIQUE", expr: "message.id", params: { "unique.window": "1h", "dlq.topic": dlq }, onFailure: "DLQ", disabled: true },
  { name: "seqIncreases", kind: "CONDITION", mode: "READ", type: "STATEFUL_ORDER", expr: "message.seq", params: { "order.key": "message.customer" }, onFailure: "NONE", disabled: true },
];


const RETRY = { attempts: 2, backoff: { delayMs: 200 } } as const;

interface Handled {
  id: string;
  topic: string;
  offset: string;
  violations: string[];
}

const file = accessForFile();

for (const client of clientsUnderTest(() => file.infra)) {
  describe(`stateful rules and retry topics on ${client.name}`, () => {
    const suite = producerForSuite(client);

    async function setUp(domainRules: (dlq: string) => Rule[]) {
      const topic = uniqueName(`stateful-retry-${client.name}`);
      const dlq = `${topic}.dlq`;
      await createTopics(kafkaFor(file.infra), [topic, ...retryTopics(topic, RETRY), dlq]);
      await register(registryFor(file.infra), `${topic}-value`, { schemaType: "JSON", schema: schema(), ruleSet: { domainRules: domainRules(dlq) } });
      const send = (orders: (Order & { timestamp?: number })[]) =>
        contractProducer(suite.producer, { registry: registryFor(file.infra), key: false }).send({
          topic,
          messages: orders.map(({ timestamp, ...value }) => ({ value, ...(timestamp === undefined ? {} : { timestamp: String(timestamp) }) })),
        });
      return { topic, dlq, send };
    }

    /**
     * A stateful consumer with retry topics on `topic`, whose handler throws on the first delivery
     * (from the main topic) of each record whose id is in `failFirst`; the rest is handled.
     */
    async function start(topic: string, applicationId: string, failFirst: (o: Order) => boolean, onGroup?: (r: GroupReport) => void) {
      const handled: Handled[] = [];
      const dead: ConsumedDeadLetter[] = [];
      const consumer = contractConsumer(client.consumer({ groupId: uniqueName("g") }), {
        registry: registryFor(file.infra),
        key: false,
        dlq: { producer: suite.producer },
        retry: RETRY,
        stateful: { applicationId, access: file.access, producer: suite.producer, timerIntervalMs: 100, ...(onGroup ? { onGroup } : {}) },
        onDeadLetter: (d) => void dead.push(d),
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic, ...retryTopics(topic, RETRY)], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic: from, value, message, violations }) => {
          const o = value as Order;
          if (from === topic && failFirst(o)) throw new Error(`the handler fails on ${o.id} the first time`);
          handled.push({ id: o.id, topic: from, offset: message.offset, violations: violations.map((v: Violation) => `${v.rule}: ${v.message}`) });
        },
      });
      return { consumer, handled, dead };
    }

    /** The changelog topics that exist for `topic`'s retry topics (there must be none: state belongs to the main topic). */
    async function retryChangelogs(applicationId: string, topic: string, rules: readonly string[]): Promise<string[]> {
      const existing = new Set(await withAdmin(kafkaFor(file.infra), (admin) => admin.listTopics()));
      return retryTopics(topic, RETRY).flatMap((t) => rules.map((r) => changelogTopic(applicationId, t, r))).filter((t) => existing.has(t));
    }

    it("uniqueness and order: a record retried after its handler failed is judged as if delivered once", async () => {
      const { topic, dlq, send } = await setUp(uniqueAndOrder);
      const applicationId = uniqueName("app");
      const hour = 3_600_000;
      const t0 = Date.now() - 3 * hour;
      await send([
        // offset 0: unique and first of c1; its handler fails once, so it is handled from the retry topic.
        { id: "a", customer: "c1", seq: 1, timestamp: t0 },
        // offset 1: c1 goes on; on its retry "a" (c1, 1) must not be judged against this later sequence.
        { id: "b", customer: "c1", seq: 2, timestamp: t0 + 1_000 },
        // offset 2: a duplicate of "a" within the window.
        { id: "a", customer: "c2", seq: 1, timestamp: t0 + 2_000 },
        // offset 3: "a" again two hours of record time later, past the window: new; its handler fails once too.
        // Both retries of "a" are written to the retry topic moments apart: judged there, the second would be a duplicate.
        { id: "a", customer: "c3", seq: 1, timestamp: t0 + 2 * hour },
      ]);
      const { consumer, handled, dead } = await start(topic, applicationId, (o) => o.id === "a");
      try {
        await waitFor(() => handled.length + dead.length >= 4, { timeoutMs: 60_000, what: `the four records of ${topic}` });
        // After both retries were handled, a repeat of "a" on the main topic is still a duplicate of the key reused at offset 3.
        await send([{ id: "a", customer: "c4", seq: 1, timestamp: t0 + 2 * hour + 1_000 }]);
        await waitFor(() => handled.length + dead.length >= 5, { timeoutMs: 60_000, what: `the fifth record of ${topic}` });
      } finally {
        await consumer.disconnect();
      }
      const retry1 = retryTopics(topic, RETRY)[0]!;
      assert.deepEqual(
        handled.map((h) => [h.topic === topic ? "main" : h.topic === retry1 ? "retry-1" : h.topic, h.id, h.violations]).sort(),
        [
          ["main", "b", []],
          ["retry-1", "a", []],
          ["retry-1", "a", []],
        ].sort(),
        JSON.stringify({ handled, dead }),
      );
      assert.deepEqual(
        dead.map((d) => [d.topic, d.offset, d.rule, d.dlqTopic]),
        [
          [topic, "2", "idUnique", dlq],
          [topic, "4", "idUnique", dlq],
        ],
      );
      assert.deepEqual(await retryChangelogs(applicationId, topic, ["idUnique", "seqIncreases"]), []);
    });

    it("completeness: a part retried after its handler failed is counted once, and raises no alarm of its own", async () => {
      const { topic, send } = await setUp(() => [ALL_PARTS_IN_3S]);
      const applicationId = uniqueName("app");
      await send([
        { id: "o1", customer: "c1", seq: 0, parts: 2 },
        { id: "o1-a", customer: "c1", seq: 1, order: "o1" },
        { id: "o1-b", customer: "c1", seq: 2, order: "o1" },
      ]);
      const groups: GroupReport[] = [];
      const { consumer, handled } = await start(topic, applicationId, (o) => o.id === "o1-a", (r) => void groups.push(r));
      try {
        await waitFor(() => handled.some((h) => h.id === "o1-a"), { timeoutMs: 60_000, what: "the retried part" });
        // A parent sent after the retry, whose parts never come: it times out on the main topic's state,
        // later than a group the retried part could have opened (3 s after it, checked on the same ticks).
        await send([{ id: "o2", customer: "c1", seq: 3, parts: 1 }]);
        await waitFor(() => groups.some((g) => g.event.key === "o2"), { timeoutMs: 60_000, what: "o2's timeout" });
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(
        groups.map((g) => [g.topic, g.event.key, g.event.complete, g.event.expected, g.event.arrived]),
        [
          [topic, "o1", true, 2, 2],
          [topic, "o2", false, 1, 0],
        ],
      );
      assert.deepEqual(await retryChangelogs(applicationId, topic, ["allParts"]), []);
    });
  });
}
