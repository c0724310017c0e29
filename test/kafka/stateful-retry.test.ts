/**
 * Stateful rules with retry topics, on the in-process fakes (docs/stateful.md, "Retry topics"): a
 * record on a retry topic is not judged again (no state, no changelog, no restore for the retry
 * topic), and retry options that would send records the stateful rules did not pass to a retry
 * topic are refused. End to end on every client: test/integration/stateful-retry.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { KontractError } from "../../src/errors.js";
import { contractConsumer, type KafkaAccess, type RetryOptions } from "../../src/kafka/index.js";
import { retryPlan } from "../../src/kafka/retry.js";
import { checkStatefulRetries, statefulOnMainTopics } from "../../src/kafka/stateful-retry.js";
import type { StatefulStage } from "../../src/kafka/stateful.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeConsumer, fakeProducer, kafkaMessage, testRegistry, valueBytes } from "./fakes.js";

const idUnique: Rule = { name: "idUnique", kind: "CONDITION", mode: "READ", type: "STATEFUL_UNIQUE", expr: "message.id", params: { "unique.window": "1h" }, onFailure: "DLQ", disabled: true };

/** A KafkaAccess that fails the test on any use: judging a record would restore its partition through it. */
const untouchable = (used: string[]): KafkaAccess =>
  new Proxy({} as KafkaAccess, {
    get(_, name) {
      used.push(String(name));
      throw new Error(`the stateful stage used access.${String(name)}`);
    },
  });

describe("stateful rules with retry topics", () => {
  it("a record on a retry topic is handed over without being judged: no restore, no changelog write", async () => {
    const registry = testRegistry();
    await registry.register("orders-value", contract({ domainRules: [idUnique] }));
    const bytes = valueBytes(registry);
    const kafka = fakeConsumer();
    const producer = fakeProducer();
    const used: string[] = [];
    const consumer = contractConsumer(kafka, { registry, key: false, dlq: { producer }, retry: { backoff: { delayMs: 0 } }, stateful: { applicationId: "app", access: untouchable(used), producer } });
    const handled: string[] = [];
    await consumer.run({ eachMessage: async ({ topic, value }) => void handled.push(`${topic}:${(value as { id: string }).id}`) });
    // The same id twice on the retry topic: judged there, the second would be a duplicate.
    const d = await kafka.deliver("orders-retry-1", 0, [kafkaMessage(0, await bytes(order({ id: "a" }))), kafkaMessage(1, await bytes(order({ id: "a" })))]);
    await consumer.disconnect();
    assert.deepEqual([d.error, d.resolved], [undefined, "1"]);
    assert.deepEqual(handled, ["orders-retry-1:a", "orders-retry-1:a"]);
    assert.deepEqual(used, []);
    assert.deepEqual([...producer.log.keys()], []);
  });

  for (const retryOn of [{ rules: "all" }, { rules: ["idUnique"] }, { rules: ["positive"] }, { registry: true }] as const) {
    it(`refuses retryOn ${JSON.stringify(retryOn)} with stateful rules (a usage error, before anything starts)`, () => {
      const producer = fakeProducer();
      assert.throws(
        () => contractConsumer(fakeConsumer(), { registry: testRegistry(), dlq: { producer }, retry: { retryOn }, stateful: { applicationId: "app", access: untouchable([]), producer } }),
        (e: unknown) => e instanceof KontractError && e.code === "usage" && /handler failures only/.test(e.message),
      );
    });
  }

  it("allows handler retries, and rule lists that name nothing", () => {
    for (const retry of [{}, { retryOn: { handler: true } }, { retryOn: { rules: [] } }, { retryOn: { registry: false } }] satisfies RetryOptions[]) assert.doesNotThrow(() => checkStatefulRetries(retry));
    assert.doesNotThrow(() => checkStatefulRetries(undefined));
  });

  it("judges main topics only: the stage for a main topic, none for its retry topics (by the plan's suffix and attempts)", () => {
    const stage = {} as StatefulStage;
    const plan = retryPlan({ attempts: 3, suffix: "-again-" });
    const on = statefulOnMainTopics(stage, plan);
    assert.equal(on("orders"), stage);
    assert.equal(on("orders-again-1"), undefined);
    assert.equal(on("orders-again-2"), undefined);
    // Not a retry topic of this plan (attempts 3: two retry topics): a main topic like any other.
    assert.equal(on("orders-again-3"), stage);
    assert.equal(on("orders-retry-1"), stage);
    assert.equal(statefulOnMainTopics(stage, undefined)("orders-retry-1"), stage);
    assert.equal(statefulOnMainTopics(undefined, plan)("orders"), undefined);
  });
});
