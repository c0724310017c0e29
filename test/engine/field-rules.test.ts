/**
 * CEL_FIELD rules: field selection by tags, bindings, conditions, transforms,
 * redaction, and same-tag de-duplication (Java semantics).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Contract, Rule } from "../../src/contract/model.js";
import { createEngine } from "../../src/engine/index.js";
import { avroFormat } from "../../src/format/avro/index.js";
import type { Outcome, PassedOutcome, FailedOutcome } from "../../src/engine/index.js";
import { plan, order, MC } from "../helpers/contracts.js";

const field = (name: string, kind: "CONDITION" | "TRANSFORM", expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind, mode: "WRITE", type: "CEL_FIELD", expr, ...extra });
const sync = (o: Outcome | Promise<Outcome>): Outcome => (assert.ok(!(o instanceof Promise)), o as Outcome);
const passed = (o: Outcome): PassedOutcome => (assert.equal(o.kind, "passed", JSON.stringify(o.kind === "failed" ? o.violations : [])), o as PassedOutcome);
const failed = (o: Outcome): FailedOutcome => (assert.equal(o.kind, "failed"), o as FailedOutcome);

test("a tagged TRANSFORM masks only the fields carrying the tag, without mutating the input", () => {
  const msg = order();
  const before = structuredClone(msg);
  const o = passed(sync(plan([field("mask", "TRANSFORM", "'***'", { tags: ["PII"] })]).write.run(msg, MC)));
  const v = o.value as ReturnType<typeof order>;
  assert.equal(v.email, "***");
  assert.deepEqual(v.address, { city: "Paris", zip: "***" });
  assert.equal(v.id, "o-1");
  assert.deepEqual(msg, before, "input untouched");
  assert.equal(v.items, msg.items, "unchanged subtrees are shared");
  assert.equal(o.transformed, true);
});

test("metadata tag wildcards select fields too", () => {
  const o = passed(sync(plan([field("mask", "TRANSFORM", "'x'", { tags: ["CITY"] })], {}, { tags: { "$.address.c*": ["CITY"] } }).write.run(order(), MC)));
  assert.equal((o.value as { address: { city: string } }).address.city, "x");
});

test("the bindings: value, name, fullName, typeName, tags, and message as the containing record", () => {
  const p = plan([
    field("b", "CONDITION", "name == 'zip' && fullName == '$.address.zip' && typeName == 'STRING' && 'PII' in tags && message.city == 'Paris' && value == '75001' || name != 'zip'", { tags: ["PII"] }),
  ]);
  passed(sync(p.write.run(order(), MC)));
});

test("a field CONDITION fails on a false field, naming the field path, with sensitive values redacted", () => {
  const o = failed(sync(plan([field("nonEmpty", "CONDITION", "size(value) > 3", { tags: ["PII"] })]).write.run(order({ address: { city: "Paris", zip: "1" } }), MC)));
  const v = o.violations[0]!;
  assert.equal(v.field, "$.address.zip");
  assert.equal(v.value, "<REDACTED>");
  assert.equal(v.message, "Expr failed: 'size(value) > 3'");
});

test("non-sensitive field values are shown in violations", () => {
  const o = failed(sync(plan([field("city", "CONDITION", "name != 'city' || value == 'Lyon'")]).write.run(order(), MC)));
  assert.equal(o.violations[0]!.field, "$.address.city");
  assert.equal(o.violations[0]!.value, '"Paris"');
});

test("integer fields are CEL ints and come back as JS numbers", () => {
  const o = passed(sync(plan([field("dbl", "TRANSFORM", "name == 'qty' ? value * 2 : value")]).write.run(order({ qty: 21 }), MC)));
  assert.equal((o.value as { qty: number }).qty, 42);
});

test("a null field value is bound as CEL null and the rule runs (Java, not JS)", () => {
  const o = failed(sync(plan([field("notNull", "CONDITION", "name != 'note' || value != null")]).write.run(order({ note: null }), MC)));
  assert.equal(o.violations[0]!.field, "$.note");
});

test("a second TRANSFORM with the same kind, mode, type and tags is skipped (Java de-duplication)", () => {
  const p = plan([field("m1", "TRANSFORM", "value + '1'", { tags: ["PII"] }), field("m2", "TRANSFORM", "value + '2'", { tags: ["PII"] })]);
  assert.equal(p.write.steps.steps.length, 1);
  assert.equal((passed(sync(p.write.run(order(), MC))).value as { email: string }).email, "ada@example.com1");
  // different tags are not duplicates
  const q = plan([field("m1", "TRANSFORM", "value + '1'", { tags: ["PII"] }), field("m2", "TRANSFORM", "value + '2'", { tags: ["PII", "X"] })]);
  assert.equal(q.write.steps.steps.length, 2);
});

test("a guard applies per field", () => {
  const o = passed(sync(plan([field("g", "TRANSFORM", "name == 'email'; 'masked'", { tags: ["PII"] })]).write.run(order(), MC)));
  const v = o.value as ReturnType<typeof order>;
  assert.equal(v.email, "masked");
  assert.equal((v.address as { zip: string }).zip, "75001");
});

test("a CEL_FIELD rule in migrationRules is a compile error, kept in the plan", () => {
  const p = plan({ migrationRules: [{ name: "f", kind: "TRANSFORM", mode: "UPGRADE", type: "CEL_FIELD", expr: "value" }] });
  assert.match(p.compileErrors[0]!.message, /not in migrationRules/);
});

describe("a null in a nullable union resolves to the null branch: typeName is NULL (Java)", () => {
  // Java's toTransformedMessage resolves the union branch of the value and sets the
  // field type from that branch, so a null never looks like a STRING to a guard.
  const appendSuffix = field("suffix", "TRANSFORM", "typeName == 'STRING' ; value + '-suffix'");

  test("JSON Schema [\"string\", \"null\"]", () => {
    const o = passed(sync(plan([appendSuffix]).write.run(order({ note: null }), MC)));
    assert.equal((o.value as { note: unknown }).note, null);
    const named = passed(sync(plan([field("t", "CONDITION", "name != 'note' || typeName == 'NULL'")]).write.run(order({ note: null }), MC)));
    assert.equal(named.kind, "passed");
    const set = passed(sync(plan([appendSuffix]).write.run(order({ note: "n" }), MC)));
    assert.equal((set.value as { note: unknown }).note, "n-suffix");
  });

  test("Avro [\"null\", \"string\"]", () => {
    const schema = JSON.stringify({
      type: "record",
      name: "Order",
      namespace: "acme",
      fields: [
        { name: "id", type: "string" },
        { name: "note", type: ["null", "string"], default: null },
      ],
    });
    const c: Contract = { schema, schemaType: "AVRO", ruleSet: { domainRules: [appendSuffix] } };
    const p = createEngine().compile("orders-value", c, avroFormat.compile(c));
    const o = passed(sync(p.write.run({ id: "o-1", note: null }, MC)));
    assert.deepEqual(o.value, { id: "o-1-suffix", note: null });
    const typed = { ...c, ruleSet: { domainRules: [field("t", "CONDITION", "name != 'note' || typeName == 'NULL'")] } };
    passed(sync(createEngine().compile("orders-value", typed, avroFormat.compile(typed)).write.run({ id: "o-1", note: null }, MC)));
  });
});

test("a field TRANSFORM that sets null where the field takes none is a rule failure, naming the field", () => {
  const o = failed(sync(plan([field("blank", "TRANSFORM", "null", { tags: ["PII"], onFailure: "DLQ" })]).write.run(order(), MC)));
  assert.equal(o.action, "DLQ");
  assert.equal(o.violations[0]!.field, "$.email");
  assert.match(o.violations[0]!.message, /does not fit field \$\.email: the field does not take null/);
  // A nullable field may become null.
  const ok = passed(sync(plan([field("clear", "TRANSFORM", "name == 'note' ? null : value")]).write.run(order({ note: "n" }), MC)));
  assert.equal((ok.value as { note: unknown }).note, null);
});

test("one compiled field rule over several messages: a failure belongs to its own message only", () => {
  // The rule's visitor and verdict are kept with the compiled rule: a failed run must not leak into the next.
  const condition = plan([field("nonEmpty", "CONDITION", "size(value) > 3", { tags: ["PII"] })]);
  const transform = plan([field("guarded", "TRANSFORM", "size(value) > 3 ? value : 1 / 0", { tags: ["PII"] })]);
  const short = order({ address: { city: "Paris", zip: "1" } });
  for (let i = 0; i < 3; i++) {
    passed(sync(condition.write.run(order(), MC)));
    assert.equal(failed(sync(condition.write.run(short, MC))).violations[0]!.field, "$.address.zip");
    passed(sync(condition.write.run(order(), MC)));
    const o = passed(sync(transform.write.run(order(), MC)));
    assert.equal((o.value as { address: { zip: string } }).address.zip, "75001");
    assert.equal(failed(sync(transform.write.run(short, MC))).violations[0]!.field, "$.address.zip");
  }
});
