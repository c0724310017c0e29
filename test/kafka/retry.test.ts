/**
 * Retry topics, the pure parts: the delay per retry topic, topic names both
 * ways, where a failed record goes next, the retry headers (written, read
 * back, and what a forged one can do), and the options' checks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KontractError } from "../../src/errors.js";
import type { ConsumedMessage } from "../../src/kafka/client.js";
import { DLQ_HEADERS, RETRY_HEADERS, deadLetterRecord, retryTopics } from "../../src/kafka/index.js";
import { nextRoute, releaseTime, retryHistory, retryPlan, retryRecord } from "../../src/kafka/retry.js";
import { mulberry32 } from "../helpers/random.js";

const consumed = (offset: string, headers: Record<string, string> = {}): ConsumedMessage => ({
  key: Buffer.from("k"),
  value: Buffer.from([0, 0, 0, 0, 1, 7]),
  timestamp: "0",
  attributes: 0,
  offset,
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
});

describe("retry plan", () => {
  it("defaults: 3 attempts, so 2 retry topics, 1 s then 2 s", () => {
    const plan = retryPlan({});
    assert.equal(plan.attempts, 3);
    assert.deepEqual(plan.delays, [1_000, 2_000]);
    assert.deepEqual(retryTopics("orders"), ["orders-retry-1", "orders-retry-2"]);
    assert.equal(plan.handler, true);
    assert.equal(plan.registry, false);
    assert.equal(plan.retriesRule("positive"), false, "rules do not retry unless named");
  });

  it("exponential backoff is capped by maxDelayMs; multiplier 1 is a fixed delay", () => {
    assert.deepEqual(retryPlan({ attempts: 6, backoff: { delayMs: 100, multiplier: 3, maxDelayMs: 2_000 } }).delays, [100, 300, 900, 2_000, 2_000]);
    assert.deepEqual(retryPlan({ attempts: 4, backoff: { delayMs: 250, multiplier: 1 } }).delays, [250, 250, 250]);
  });

  it("rules: all, or by name", () => {
    assert.equal(retryPlan({ retryOn: { rules: "all" } }).retriesRule("x"), true);
    const named = retryPlan({ retryOn: { rules: ["a"] } });
    assert.equal(named.retriesRule("a"), true);
    assert.equal(named.retriesRule("b"), false);
    assert.equal(named.retriesRule(undefined), false, "a poison pill has no rule and never retries");
  });

  it("reads a retry topic's stage from its name, only within the plan", () => {
    const plan = retryPlan({ attempts: 3 });
    assert.deepEqual(plan.stageOf("orders-retry-1"), { main: "orders", n: 1 });
    assert.deepEqual(plan.stageOf("my-retry-2-retry-2"), { main: "my-retry-2", n: 2 });
    for (const t of ["orders", "orders-retry-3", "orders-retry-0", "orders-retry-01", "-retry-1", "orders-retry-1x", "orders-retry-"]) assert.equal(plan.stageOf(t), undefined, t);
    assert.deepEqual(retryPlan({ suffix: ".retry." }).stageOf("a.retry.2"), { main: "a", n: 2 });
  });

  it("rejects options that make no plan, with a usage error", () => {
    for (const bad of [{ attempts: 1 }, { attempts: 2.5 }, { attempts: 1000 }, { backoff: { delayMs: -1 } }, { backoff: { multiplier: 0.5 } }, { backoff: { delayMs: 10, maxDelayMs: 5 } }, { suffix: "" }, { suffix: "-r1" }]) {
      assert.throws(() => retryPlan(bad), (e: unknown) => e instanceof KontractError && e.code === "usage", JSON.stringify(bad));
    }
  });
});

describe("routing a failed record", () => {
  const plan = retryPlan({ attempts: 3, backoff: { delayMs: 100 } });

  it("main topic -> retry-1 (attempt 2) -> retry-2 (attempt 3) -> DLQ", () => {
    const first = retryHistory(undefined, "orders", 4, consumed("10"));
    assert.deepEqual(nextRoute(plan, first), { to: "retry", topic: "orders-retry-1", attempt: 2, delayMs: 100 });
    const second = retryHistory(plan.stageOf("orders-retry-1"), "orders-retry-1", 0, consumed("3"));
    assert.deepEqual(nextRoute(plan, second), { to: "retry", topic: "orders-retry-2", attempt: 3, delayMs: 200 });
    const third = retryHistory(plan.stageOf("orders-retry-2"), "orders-retry-2", 0, consumed("3"));
    assert.deepEqual(nextRoute(plan, third), { to: "dlq" });
  });

  it("the attempt comes from the topic, not a header: a forged attempt on the main topic changes nothing", () => {
    const forged = retryHistory(undefined, "orders", 0, consumed("1", { [RETRY_HEADERS.attempt]: "99", [RETRY_HEADERS.originalTopic]: "payments", [RETRY_HEADERS.firstFailure]: "5" }));
    assert.deepEqual(forged, { attempt: 1, main: "orders", firstFailure: undefined, original: { topic: "orders", partition: 0, offset: "1" } });
  });
});

describe("retry headers", () => {
  const plan = retryPlan({ attempts: 4, backoff: { delayMs: 1_000 } });

  it("a retry record is the DLQ form (original bytes and headers, the failure) plus the retry headers; the history carries over", () => {
    const message = consumed("42", { trace: "abc" });
    const failed = deadLetterRecord({ key: message.key, value: message.value, headers: message.headers, origin: { topic: "orders", partition: 2, offset: "42" }, cause: { kind: "handler", error: new TypeError("card 4111 1111 1111 1111 declined") } });
    const history = retryHistory(undefined, "orders", 2, message);
    const r = retryRecord(failed, history, 2, 6_000, 5_000);
    assert.equal(r.key, message.key);
    assert.equal(r.value, message.value);
    const h = (name: string) => (r.headers![name] as Buffer | undefined)?.toString();
    assert.equal(h("trace"), "abc");
    assert.equal(h(DLQ_HEADERS.exceptionClass), "TypeError");
    assert.equal(h(DLQ_HEADERS.exceptionMessage), undefined, "a handler's message may quote the value: not written");
    assert.ok(!JSON.stringify(r.headers).includes("4111"));
    assert.equal(h(RETRY_HEADERS.attempt), "2");
    assert.equal(h(RETRY_HEADERS.due), "6000");
    assert.equal(h(RETRY_HEADERS.firstFailure), "5000");
    assert.equal(h(RETRY_HEADERS.originalTopic), "orders");
    assert.equal(h(RETRY_HEADERS.originalPartition), "2");
    assert.equal(h(RETRY_HEADERS.originalOffset), "42");

    // Consumed back from retry-1, failing again: the first failure and the origin stay.
    const back = consumed("7", Object.fromEntries(Object.entries(r.headers!).map(([k, v]) => [k, String(v)])));
    const again = retryHistory(plan.stageOf("orders-retry-1"), "orders-retry-1", 0, back);
    assert.deepEqual(again, { attempt: 2, main: "orders", firstFailure: 5_000, original: { topic: "orders", partition: 2, offset: "42" } });
    const next = retryRecord(deadLetterRecord({ key: back.key, value: back.value, headers: back.headers, origin: { topic: "orders-retry-1", partition: 0, offset: "7" }, cause: { kind: "handler", error: new Error("x") } }), again, 3, 9_000, 8_000);
    assert.equal((next.headers![RETRY_HEADERS.firstFailure] as Buffer).toString(), "5000");
    assert.equal((next.headers![RETRY_HEADERS.attempt] as Buffer).toString(), "3");
    assert.equal((next.headers![DLQ_HEADERS.offset] as Buffer).toString(), "7", "the DLQ headers say where it failed this time");
  });

  it("unreadable origin headers on a retry topic: the record stands for its origin", () => {
    const h = retryHistory(plan.stageOf("orders-retry-1"), "orders-retry-1", 1, consumed("9", { [RETRY_HEADERS.originalPartition]: "-1", [RETRY_HEADERS.originalOffset]: "x" }));
    assert.deepEqual(h.original, { topic: "orders-retry-1", partition: 1, offset: "9" });
    assert.equal(h.firstFailure, undefined);
  });

  it("a due time holds a record at most its topic's delay after it was first seen, whatever the header says (seeded)", () => {
    const random = mulberry32(13);
    const stage = plan.stageOf("orders-retry-2")!;
    for (let i = 0; i < 500; i++) {
      const seen = Math.floor(random() * 1e12);
      const due = random() < 0.1 ? "garbage" : String(Math.floor(seen + (random() - 0.5) * 1e7));
      const release = releaseTime(plan, stage, consumed("1", { [RETRY_HEADERS.due]: due }), seen);
      assert.ok(release <= seen + plan.delays[1]!, `${due} at ${seen}: ${release}`);
      if (due !== "garbage" && Number(due) <= seen + plan.delays[1]!) assert.equal(release, Number(due));
      if (due === "garbage") assert.equal(release, seen);
    }
  });
});
