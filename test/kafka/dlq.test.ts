import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message } from "kafkajs";
import { RuleViolationError, SerializationError, type Violation } from "../../src/errors.js";
import { jsonSchemaFormat } from "../../src/format/json-schema/index.js";
import { DLQ_HEADERS, DeadLetterError, createDeadLetterSender, deadLetterRecord, resolveDlqTopic, writeForm } from "../../src/kafka/index.js";
import type { FailedOutcome } from "../../src/engine/index.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeProducer, headerText } from "./fakes.js";

const violation: Violation = {
  rule: "positive",
  kind: "CONDITION",
  mode: "READ",
  type: "CEL",
  message: "Expr failed: 'message.amount > 0.0'",
  action: "DLQ",
  subject: "orders-value",
  field: "email",
  value: "<REDACTED>",
};

const outcome: FailedOutcome = {
  kind: "failed",
  action: "DLQ",
  value: order(),
  violations: [violation],
  error: new RuleViolationError([violation]),
  rule: { name: "positive", kind: "CONDITION", mode: "WRITEREAD", type: "CEL", expr: "message.amount > 0.0" },
  dlqTopic: undefined,
};

describe("deadLetterRecord", () => {
  it("keeps key, value and headers as they are and adds the rule, origin and violation headers", () => {
    const key = Buffer.from([0, 1, 2]);
    const value = Buffer.from([0, 0, 0, 0, 9, 42]);
    const headers = { trace: Buffer.from("t"), multi: [Buffer.from("1"), Buffer.from("2")] };
    const r = deadLetterRecord({ key, value, headers, origin: { topic: "orders", partition: 4, offset: "1234" }, cause: { kind: "rule", outcome } });
    assert.equal(r.key, key);
    assert.equal(r.value, value);
    assert.equal(r.headers!.trace, headers.trace);
    assert.deepEqual(r.headers!.multi, headers.multi, "repeated headers stay repeated, in order");
    const text = (name: string) => headerText(r, name);
    assert.equal(text(DLQ_HEADERS.ruleName), "positive");
    assert.equal(text(DLQ_HEADERS.ruleMode), "READ", "the mode it ran in, not the rule's WRITEREAD");
    assert.equal(text(DLQ_HEADERS.ruleSubject), "orders-value");
    assert.equal(text(DLQ_HEADERS.ruleTopic), "orders");
    assert.equal(text(DLQ_HEADERS.ruleException), "Expr failed: 'message.amount > 0.0'");
    assert.equal(text(DLQ_HEADERS.topic), "orders");
    assert.equal(text(DLQ_HEADERS.partition), "4");
    assert.equal(text(DLQ_HEADERS.offset), "1234");
    assert.equal(text(DLQ_HEADERS.exceptionClass), "RuleViolationError");
    assert.match(text(DLQ_HEADERS.exceptionMessage)!, /rule positive failed/);
    assert.deepEqual(JSON.parse(text(DLQ_HEADERS.violations)!), [violation]);
  });

  it("drops the headers of an earlier dead-lettering instead of piling them up (spring-kafka #1994)", () => {
    const headers = {
      [DLQ_HEADERS.ruleName]: Buffer.from("older"),
      [DLQ_HEADERS.ruleException]: Buffer.from("older failure"),
      [DLQ_HEADERS.offset]: Buffer.from("1"),
      [DLQ_HEADERS.partition]: Buffer.from("9"),
      keep: Buffer.from("yes"),
    };
    const r = deadLetterRecord({ key: null, value: Buffer.from("x"), headers, origin: { topic: "t" }, cause: { kind: "poison-pill", error: new SerializationError("wire-format", "bad magic byte") } });
    assert.deepEqual(Object.keys(r.headers!).sort(), [
      DLQ_HEADERS.exceptionClass,
      DLQ_HEADERS.exceptionMessage,
      DLQ_HEADERS.topic,
      DLQ_HEADERS.violations,
      "keep",
    ].sort());
    assert.equal(headerText(r, DLQ_HEADERS.violations), "[]");
  });
});

describe("deadLetterRecord: error texts carrying input data are capped", () => {
  const huge = "1, ".repeat(450_000);

  it("caps __rule.exception and __connect.errors.exception.message, keeping their start and the original length", () => {
    const big: Violation = { ...violation, message: `Expr failed: ${huge}` };
    const failed: FailedOutcome = { ...outcome, violations: [big], error: new RuleViolationError([big]) };
    const r = deadLetterRecord({ key: null, value: Buffer.from("x"), headers: undefined, origin: { topic: "orders" }, cause: { kind: "rule", outcome: failed } });
    for (const name of [DLQ_HEADERS.ruleException, DLQ_HEADERS.exceptionMessage]) {
      const text = headerText(r, name)!;
      assert.ok(text.length <= 1100, `${name}: ${text.length} chars`);
      assert.match(text, /(Expr failed|rule positive failed): 1, 1, /);
      assert.match(text, /… \(\d+ chars\)$/);
    }
    const poison = deadLetterRecord({ key: null, value: Buffer.from("x"), headers: undefined, origin: { topic: "orders" }, cause: { kind: "poison-pill", error: new SerializationError("wire-format", huge) } });
    assert.ok(headerText(poison, DLQ_HEADERS.exceptionMessage)!.length <= 1100);
  });

  it("keeps __rule.violations valid JSON: long texts cut, and the failing violation kept when not all fit", () => {
    const many: Violation[] = Array.from({ length: 2000 }, (_, i) => ({ ...violation, rule: `r${i}`, action: "NONE", message: `m${i} ${huge}`, field: "a.".repeat(10_000) }));
    const last: Violation = { ...violation, rule: "failing", message: huge };
    const failed: FailedOutcome = { ...outcome, violations: [...many, last], error: new RuleViolationError([...many, last]) };
    const r = deadLetterRecord({ key: null, value: Buffer.from("x"), headers: undefined, origin: { topic: "orders" }, cause: { kind: "rule", outcome: failed } });
    const text = headerText(r, DLQ_HEADERS.violations)!;
    assert.ok(text.length <= 16_384, `${text.length} chars`);
    const parsed = JSON.parse(text) as Violation[];
    assert.ok(parsed.length >= 2 && parsed.length < 2001, `${parsed.length} violations kept`);
    assert.deepEqual(parsed[0]!.rule, "r0", "the first ones are kept");
    assert.equal(parsed[parsed.length - 1]!.rule, "failing", "the failing violation is always kept");
    for (const v of parsed) for (const [k, t] of Object.entries(v)) assert.ok(String(t).length <= 300, `${v.rule}.${k}: ${String(t).length} chars`);
    assert.equal(headerText(r, DLQ_HEADERS.violationsOmitted), String(2001 - parsed.length));
    assert.equal(headerText(deadLetterRecord({ key: null, value: null, headers: undefined, origin: { topic: "orders" }, cause: { kind: "rule", outcome } }), DLQ_HEADERS.violationsOmitted), undefined);
  });
});

describe("resolveDlqTopic", () => {
  it("options, then the rule's dlq.topic, then <topic>-dlq", () => {
    assert.equal(resolveDlqTopic("opt", "orders", "rule"), "opt");
    assert.equal(resolveDlqTopic((t) => `${t}.DLT`, "orders", "rule"), "orders.DLT");
    assert.equal(resolveDlqTopic(() => undefined, "orders", "rule"), "rule");
    assert.equal(resolveDlqTopic(undefined, "orders", undefined), "orders-dlq");
  });
});

describe("writeForm", () => {
  it("is the JSON form with every sensitive-tagged field redacted", () => {
    const schema = jsonSchemaFormat.compile(contract({ domainRules: [] }));
    const json = JSON.parse(writeForm(schema, order(), new Set(["PII"])).toString("utf8")) as Record<string, unknown>;
    assert.equal(json.email, "<REDACTED>");
    assert.deepEqual(json.address, { city: "Paris", zip: "<REDACTED>" });
    assert.equal(json.id, "o-1");
  });
});

describe("createDeadLetterSender", () => {
  it("writes with acks=all, grouped per topic, and reports placements in the caller's order", async () => {
    const producer = fakeProducer();
    const sender = createDeadLetterSender({ producer });
    const m = (v: string): Message => ({ value: v });
    const { placements } = await sender.send([
      { topic: "a", message: m("1") },
      { topic: "b", message: m("2") },
      { topic: "a", message: m("3") },
    ]);
    assert.equal(producer.batches.length, 1);
    assert.equal(producer.batches[0]!.acks, -1);
    assert.deepEqual(
      placements.map((p) => p.offset),
      ["0", "0", "1"],
    );
  });

  it("wraps a failed write in a retriable DeadLetterError naming the topics", async () => {
    const producer = fakeProducer();
    producer.failWhen(() => true);
    const err = await createDeadLetterSender({ producer })
      .send([{ topic: "a-dlq", message: { value: "x" } }])
      .catch((e: unknown) => e);
    assert.ok(err instanceof DeadLetterError);
    assert.equal(err.retriable, true);
    assert.deepEqual(err.topics, ["a-dlq"]);
    assert.match(err.message, /a-dlq/);
  });
});
