import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { RegistryError, isKontractError } from "../../src/errors.js";
import { DLQ_HEADERS, DeadLetterError, ProduceRejectedError, SendError, contractProducer, type ContractProducerOptions } from "../../src/kafka/index.js";
import { createContractStore, createDeserializer } from "../../src/serde/index.js";
import { createEngine } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeProducer, headerText, testRegistry, type TestRegistry } from "./fakes.js";

const cond = (name: string, expr: string, onFailure: string, extra: Partial<Rule> = {}): Rule => ({
  name,
  kind: "CONDITION",
  mode: "WRITE",
  type: "CEL",
  expr,
  onFailure,
  ...extra,
});

async function setup(rules: Rule[], options: Partial<ContractProducerOptions> = {}, metadata?: Parameters<typeof contract>[1]) {
  const registry = testRegistry();
  await registry.register("orders-value", contract({ domainRules: rules }, metadata));
  const producer = fakeProducer();
  const p = contractProducer(producer, { registry, ...options });
  return { registry, producer, p };
}

async function decode(registry: TestRegistry, bytes: Buffer) {
  const d = createDeserializer({ store: createContractStore({ registry, engine: createEngine(), formats: FORMATS }) });
  const r = await d.deserialize("orders", bytes);
  assert.equal(r.kind, "deserialized");
  return r.value;
}

describe("contractProducer: passed messages", () => {
  it("sends values in the Confluent wire format and reports where each landed", async () => {
    const { registry, producer, p } = await setup([cond("positive", "message.amount > 0.0", "ERROR")]);
    const result = await p.send({ topic: "orders", messages: [{ value: order({ id: "a" }) }, { value: order({ id: "b" }) }] });
    const sent = producer.log.get("orders")!;
    assert.equal(sent.length, 2);
    const bytes = sent[0]!.value as Buffer;
    assert.equal(bytes[0], 0, "magic byte");
    assert.equal(bytes.readInt32BE(1), (await registry.getVersion("orders-value", 1)).id);
    assert.deepEqual(await decode(registry, bytes), order({ id: "a" }));
    assert.deepEqual(
      result.messages.map((m) => [m.status, m.topic, m.partition, m.offset]),
      [
        ["sent", "orders", 0, "0"],
        ["sent", "orders", 0, "1"],
      ],
    );
  });

  it("onFailure NONE sends the message and reports the violation", async () => {
    const { producer, p } = await setup([cond("smallQty", "message.qty < 10", "NONE")]);
    const result = await p.send({ topic: "orders", messages: [{ value: order({ qty: 50 }) }] });
    assert.equal(producer.log.get("orders")!.length, 1);
    const report = result.messages[0]!;
    assert.equal(report.status, "sent");
    assert.deepEqual(
      report.violations.map((v) => [v.rule, v.action]),
      [["smallQty", "NONE"]],
    );
  });

  it("a null value is a tombstone: sent as null, no rule runs", async () => {
    const { producer, p } = await setup([cond("positive", "message.amount > 0.0", "ERROR")]);
    await p.send({ topic: "orders", messages: [{ key: "o-1", value: null }] });
    assert.equal(producer.log.get("orders")![0]!.value, null);
    assert.equal(producer.log.get("orders")![0]!.key, "o-1");
  });
});

describe("contractProducer: onFailure ERROR", () => {
  it("rejects the whole call, lists every violation of every failing message, and writes nothing", async () => {
    // Rules run in order and stop at the first ERROR/DLQ failure, so the NONE rule comes first.
    const { producer, p } = await setup([
      cond("smallQty", "message.qty < 10", "NONE"),
      cond("positive", "message.amount > 0.0", "ERROR"),
      cond("toDlq", "message.id != 'dlq'", "DLQ"),
    ]);
    const err = await p
      .sendBatch({
        topicMessages: [
          { topic: "orders", messages: [{ value: order() }, { value: order({ amount: -1, qty: 99 }) }, { value: order({ id: "dlq" }) }] },
          { topic: "orders", messages: [{ value: order({ amount: -2 }) }] },
        ],
      })
      .then(
        () => assert.fail("expected a rejection"),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ProduceRejectedError);
    assert.equal(err.code, "rule-violation");
    assert.deepEqual(
      err.rejected.map((r) => [r.index, r.topic, r.isKey]),
      [
        [1, "orders", false],
        [3, "orders", false],
      ],
    );
    // Every violation of the failing messages, NONE ones included.
    assert.deepEqual(
      err.violations.map((v) => [v.rule, v.action]),
      [
        ["smallQty", "NONE"],
        ["positive", "ERROR"],
        ["positive", "ERROR"],
      ],
    );
    assert.equal(producer.batches.length, 0, "nothing written, not even the DLQ message");
  });

  it("a value that does not fit its schema rejects the call like ERROR", async () => {
    const { producer, p } = await setup([]);
    const err = await p.send({ topic: "orders", messages: [{ value: order() }, { value: { id: 5 } }] }).catch((e: unknown) => e);
    assert.ok(err instanceof ProduceRejectedError);
    assert.equal(err.code, "message-invalid");
    assert.equal(err.rejected[0]!.index, 1);
    assert.equal(producer.batches.length, 0);
  });

  it("an unreachable registry rejects with the retriable RegistryError and writes nothing", async () => {
    const registry = testRegistry();
    await registry.register("orders-value", contract({ domainRules: [] }));
    registry.down = true;
    const producer = fakeProducer();
    const p = contractProducer(producer, { registry, key: false });
    const err = await p.send({ topic: "orders", messages: [{ value: order() }] }).catch((e: unknown) => e);
    assert.ok(err instanceof RegistryError);
    assert.equal(err.retriable, true);
    assert.equal(producer.batches.length, 0);
  });
});

describe("contractProducer: onFailure DLQ", () => {
  const rules = [cond("smallQty", "message.qty < 10", "NONE"), cond("positive", "message.amount > 0.0", "DLQ", { doc: "amount must be positive" })];

  it("sends the valid messages, dead-letters the failing ones first, and reports what went where", async () => {
    const { producer, p } = await setup(rules, { dlq: { topic: "orders.bad" } });
    const result = await p.send({
      topic: "orders",
      messages: [
        { value: order({ id: "ok1" }) },
        { value: order({ id: "bad1", amount: -1, qty: 50 }), headers: { trace: "t-1", [DLQ_HEADERS.ruleName]: "older" } },
        { value: order({ id: "ok2" }) },
        { value: order({ id: "bad2", amount: 0 }) },
      ],
    });
    assert.deepEqual(
      producer.batches.map((b) => b.topicMessages!.map((t) => `${t.topic}:${t.messages.length}`).join()),
      ["orders.bad:2", "orders:2"],
      "the DLQ write comes first",
    );
    assert.deepEqual(
      result.messages.map((m) => [m.index, m.status, m.status === "dead-lettered" ? m.dlqTopic : m.topic, m.offset]),
      [
        [0, "sent", "orders", "0"],
        [1, "dead-lettered", "orders.bad", "0"],
        [2, "sent", "orders", "1"],
        [3, "dead-lettered", "orders.bad", "1"],
      ],
    );
    const dl = producer.log.get("orders.bad")![0]!;
    // On WRITE the DLQ value is the message's JSON form, with PII-tagged fields redacted (Java DlqAction).
    assert.deepEqual(JSON.parse(String(dl.value)), { ...order({ id: "bad1", amount: -1, qty: 50 }), email: "<REDACTED>", address: { city: "Paris", zip: "<REDACTED>" } });
    assert.equal(headerText(dl, DLQ_HEADERS.ruleName), "positive", "the previous __rule.name is replaced, not appended");
    assert.equal(headerText(dl, DLQ_HEADERS.ruleMode), "WRITE");
    assert.equal(headerText(dl, DLQ_HEADERS.ruleSubject), "orders-value");
    assert.equal(headerText(dl, DLQ_HEADERS.ruleTopic), "orders");
    assert.equal(headerText(dl, DLQ_HEADERS.ruleException), "amount must be positive");
    assert.equal(headerText(dl, DLQ_HEADERS.topic), "orders");
    assert.equal(headerText(dl, DLQ_HEADERS.offset), undefined, "no origin offset on produce");
    assert.equal(headerText(dl, "trace"), "t-1");
    assert.deepEqual(
      (JSON.parse(headerText(dl, DLQ_HEADERS.violations)!) as { rule: string; action: string }[]).map((v) => [v.rule, v.action]),
      [
        ["smallQty", "NONE"],
        ["positive", "DLQ"],
      ],
    );
  });

  it("over several entries with dead letters between, each sent report has its own index, topic, offset and violations", async () => {
    const { p } = await setup(rules);
    const result = await p.sendBatch({
      topicMessages: [
        { topic: "orders", messages: [{ value: order({ id: "a" }) }, { value: order({ id: "b", amount: -1 }) }, { value: order({ id: "c", qty: 50 }) }] },
        { topic: "orders", messages: [{ value: order({ id: "d", amount: 0, qty: 50 }) }, { value: order({ id: "e", qty: 50 }) }] },
      ],
    });
    assert.deepEqual(
      result.messages.map((m) => [m.index, m.status, m.topic, m.offset, m.violations.map((v) => v.rule).join()]),
      [
        [0, "sent", "orders", "0", ""],
        [1, "dead-lettered", "orders", "0", "positive"],
        [2, "sent", "orders", "1", "smallQty"],
        [3, "dead-lettered", "orders", "1", "smallQty,positive"],
        [4, "sent", "orders", "2", "smallQty"],
      ],
    );
  });

  it("without dead letters, a SendError names every message of the call unsent", async () => {
    const { producer, p } = await setup(rules);
    producer.failWhen((t) => t === "orders");
    const err = await p.sendBatch({ topicMessages: [{ topic: "orders", messages: [{ value: order() }] }, { topic: "orders", messages: [{ value: order() }, { value: order({ qty: 50 }) }] }] }).catch((e: unknown) => e);
    assert.ok(err instanceof SendError);
    assert.deepEqual(err.unsent, [0, 1, 2]);
    assert.deepEqual(err.deadLettered, []);
  });

  it("DLQ topic: options > rule param dlq.topic > metadata property dlq.topic > <topic>-dlq", async () => {
    const topicOf = async (ruleParams: Record<string, string> | undefined, metadata: Parameters<typeof contract>[1], dlq?: ContractProducerOptions["dlq"]) => {
      const { producer, p } = await setup([cond("positive", "message.amount > 0.0", "DLQ", ruleParams ? { params: ruleParams } : {})], dlq ? { dlq } : {}, metadata);
      await p.send({ topic: "orders", messages: [{ value: order({ amount: -1 }) }] });
      return producer.batches[0]!.topicMessages![0]!.topic;
    };
    const meta = { properties: { "dlq.topic": "from-metadata" } };
    assert.equal(await topicOf({ "dlq.topic": "from-rule" }, meta, { topic: "from-options" }), "from-options");
    assert.equal(await topicOf({ "dlq.topic": "from-rule" }, meta, { topic: (t) => `${t}.fn` }), "orders.fn");
    assert.equal(await topicOf({ "dlq.topic": "from-rule" }, meta, { topic: () => undefined }), "from-rule");
    assert.equal(await topicOf({ "dlq.topic": "from-rule" }, meta), "from-rule");
    assert.equal(await topicOf(undefined, meta), "from-metadata");
    assert.equal(await topicOf(undefined, undefined), "orders-dlq");
  });

  it("when the DLQ write fails, rejects with DeadLetterError and sends none of the valid messages", async () => {
    const { producer, p } = await setup(rules);
    producer.failWhen((t) => t === "orders-dlq");
    const err = await p.send({ topic: "orders", messages: [{ value: order() }, { value: order({ amount: -1 }) }] }).catch((e: unknown) => e);
    assert.ok(err instanceof DeadLetterError);
    assert.equal(err.retriable, true);
    assert.deepEqual(err.topics, ["orders-dlq"]);
    assert.equal(producer.log.get("orders"), undefined);
  });

  it("when the valid send fails after the DLQ write, SendError says which are dead-lettered and which are unsent", async () => {
    const { producer, p } = await setup(rules);
    producer.failWhen((t) => t === "orders");
    const err = await p.send({ topic: "orders", messages: [{ value: order() }, { value: order({ amount: -1 }) }, { value: order() }] }).catch((e: unknown) => e);
    assert.ok(err instanceof SendError);
    assert.equal(err.retriable, true, "follows the kafkajs error");
    assert.deepEqual(err.unsent, [0, 2]);
    assert.deepEqual(
      err.deadLettered.map((d) => [d.index, d.dlqTopic]),
      [[1, "orders-dlq"]],
    );
    assert.equal(producer.log.get("orders-dlq")!.length, 1);
  });
});

describe("contractProducer: values nested too deep for the DLQ's JSON form", () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = { a: v };
    return v;
  };

  // The JSON form of a deep value overflows the stack (structuredClone, JSON.stringify): a RangeError before.
  for (const depth of [3_000, 100_000]) {
    it(`a DLQ message ${depth} levels deep is dead-lettered or rejects the call with a typed error; nothing is lost`, async () => {
      const { producer, p } = await setup([cond("smallQty", "message.qty < 10", "DLQ")]);
      const messages = [{ value: order({ id: "ok" }) }, { value: order({ id: "deep", qty: 50, extra: nested(depth) }) }, { value: order({ id: "bad", qty: 50 }) }];
      let result;
      try {
        result = await p.send({ topic: "orders", messages });
      } catch (e) {
        assert.ok(e instanceof ProduceRejectedError, `typed, got ${String(e)}`);
        assert.deepEqual(
          e.rejected.map((r) => [r.index, r.isKey, r.error.code]),
          [[1, false, "message-invalid"]],
        );
        assert.match(e.message, /cannot be dead-lettered/);
        assert.deepEqual(e.violations.map((v) => v.rule), ["smallQty"], "the violation is kept");
        assert.equal(producer.batches.length, 0, "nothing of the call is written");
        return;
      }
      assert.deepEqual(result.messages.map((m) => m.status), ["sent", "dead-lettered", "dead-lettered"]);
    });
  }
});

describe("contractProducer: keys", () => {
  const KEY_SCHEMA = JSON.stringify({ type: "object", properties: { id: { type: "string" } }, required: ["id"] });

  it('key "auto": serialized when the key subject exists, asked once per topic', async () => {
    const { registry, producer, p } = await setup([]);
    await registry.register("orders-key", { schema: KEY_SCHEMA, schemaType: "JSON" });
    await registry.register("plain-value", contract({ domainRules: [] }));
    await p.send({ topic: "orders", messages: [{ key: { id: "k1" }, value: order() }] });
    await p.send({ topic: "orders", messages: [{ key: { id: "k2" }, value: order() }] });
    await p.send({ topic: "plain", messages: [{ key: "raw-key", value: order() }] });
    await p.send({ topic: "plain", messages: [{ key: "raw-key-2", value: order() }] });
    const keyed = producer.log.get("orders")![0]!.key as Buffer;
    assert.equal(keyed[0], 0, "the key is in the wire format");
    assert.equal(producer.log.get("plain")![0]!.key, "raw-key", "no key subject: the key is sent as given");
    assert.equal(registry.calls.get("versions"), 2, "one existence check per topic");
  });

  it("a key rule failing with DLQ dead-letters the whole message and says the key failed", async () => {
    const { registry, producer, p } = await setup([]);
    await registry.register("orders-key", { schema: KEY_SCHEMA, schemaType: "JSON", ruleSet: { domainRules: [cond("keyId", "message.id != ''", "DLQ")] } });
    const result = await p.send({ topic: "orders", messages: [{ key: { id: "" }, value: order() }] });
    const report = result.messages[0]!;
    assert.equal(report.status, "dead-lettered");
    assert.equal(report.status === "dead-lettered" && report.isKey, true);
    const dl = producer.log.get("orders-dlq")![0]!;
    assert.deepEqual(JSON.parse(String(dl.key)), { id: "" });
    assert.equal(headerText(dl, DLQ_HEADERS.ruleSubject), "orders-key");
  });

  it("key: false with an object key rejects the call before anything is written", async () => {
    const { producer, p } = await setup([], { key: false });
    const err = await p.send({ topic: "orders", messages: [{ key: { id: 1 }, value: order() }] }).catch((e: unknown) => e);
    assert.ok(isKontractError(err) && err.code === "message-invalid");
    assert.equal(producer.batches.length, 0);
  });
});

describe("contractProducer: subjects and schema resolution are passed through", () => {
  it('subjectNameStrategy "topic-record" and "record" find their subjects', async () => {
    const registry = testRegistry();
    await registry.register("orders-com.acme.Order", contract({ domainRules: [cond("positive", "message.amount > 0.0", "DLQ")] }));
    await registry.register("com.acme.Order", contract({ domainRules: [] }));
    const producer = fakeProducer();
    const topicRecord = contractProducer(producer, { registry, key: false, value: { subjectNameStrategy: "topic-record", recordName: "com.acme.Order" } });
    const result = await topicRecord.send({ topic: "orders", messages: [{ value: order({ amount: -1 }) }] });
    assert.equal(result.messages[0]!.status, "dead-lettered", "the rule of orders-com.acme.Order ran");
    const record = contractProducer(producer, { registry, key: false, value: { subjectNameStrategy: "record", recordName: "com.acme.Order" } });
    assert.equal((await record.send({ topic: "anything", messages: [{ value: order({ amount: -1 }) }] })).messages[0]!.status, "sent");
  });

  it("writerSchema: auto-register registers the contract; latest-with-metadata and id pick that version", async () => {
    const registry = testRegistry();
    const v1 = contract({ domainRules: [] }, { properties: { "application.major.version": "1" } });
    const v2 = contract({ domainRules: [cond("positive", "message.amount > 0.0", "ERROR")] }, { properties: { "application.major.version": "2" } });
    const producer = fakeProducer();
    const auto = contractProducer(producer, { registry, key: false, value: { writerSchema: { use: "auto-register", contract: v1 } } });
    await auto.send({ topic: "orders", messages: [{ value: order() }] });
    assert.deepEqual(await registry.versions("orders-value"), [1]);
    const registered2 = await registry.register("orders-value", v2);
    const idOf = (m: { value: unknown }) => (m.value as Buffer).readInt32BE(1);

    const byMeta = contractProducer(producer, { registry, key: false, value: { writerSchema: { use: "latest-with-metadata", metadata: { "application.major.version": "1" } } } });
    await byMeta.send({ topic: "orders", messages: [{ value: order({ amount: -1 }) }] }); // v1 has no rule: accepted
    const byId = contractProducer(producer, { registry, key: false, value: { writerSchema: { use: "id", id: registered2.id } } });
    await assert.rejects(byId.send({ topic: "orders", messages: [{ value: order({ amount: -1 }) }] }), ProduceRejectedError);
    const latest = contractProducer(producer, { registry, key: false });
    await latest.send({ topic: "orders", messages: [{ value: order() }] });
    const log = producer.log.get("orders")!;
    assert.deepEqual(log.map(idOf), [(await registry.getVersion("orders-value", 1)).id, (await registry.getVersion("orders-value", 1)).id, registered2.id]);
  });

  it("schemaIdInHeader puts the schema GUID in __value_schema_id and the bare payload in the value", async () => {
    const { producer, p, registry } = await setup([], { value: { schemaIdInHeader: true }, key: false });
    await p.send({ topic: "orders", messages: [{ value: order(), headers: { keep: "me" } }] });
    const sent = producer.log.get("orders")![0]!;
    const header = sent.headers!.__value_schema_id as Buffer;
    assert.equal(header[0], 1, "V1 (GUID) form");
    assert.equal(sent.headers!.keep, "me");
    assert.deepEqual(JSON.parse((sent.value as Buffer).toString("utf8")), order());
    const d = createDeserializer({ store: createContractStore({ registry, engine: createEngine(), formats: FORMATS }) });
    const r = await d.deserialize("orders", sent.value as Buffer, sent.headers as Record<string, Buffer>);
    assert.equal(r.kind, "deserialized");
  });
});
