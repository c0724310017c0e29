/** compareContracts with fixtures: the cases whose outcome moves, classed by the move. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContractDocument } from "../../src/contract/document.js";
import type { Contract } from "../../src/contract/model.js";
import { classesOf, compareContracts } from "../../src/diff/index.js";
import { parseFixture } from "../../src/testing/index.js";

const SCHEMA = JSON.stringify({ type: "record", name: "Order", fields: [{ name: "id", type: "string" }, { name: "amount", type: "double" }] });
const doc = (contract: Partial<Contract>, subject = "orders-value"): ContractDocument => ({ subject, version: 1, contract: { schema: SCHEMA, ...contract }, source: { file: "x.yaml", index: 0 } as never });

const fixture = parseFixture(
  `subject: orders-value
cases:
  - name: a small order
    message: {id: a, amount: 5.0}
    expect: pass
  - name: a big order
    message: {id: b, amount: 500.0}
    expect: pass
  - name: a small order read back
    mode: READ
    message: {id: c, amount: 5.0}
    expect: pass
`,
  "fixtures/orders.test.yaml",
);

test("a stricter condition: the cases that passed and now fail are listed as tightening", async () => {
  const before = [doc({ ruleSet: { domainRules: [{ name: "positive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0" }] } })];
  const after = [doc({ ruleSet: { domainRules: [{ name: "positive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 10.0" }] } })];
  const c = await compareContracts(before, after, [fixture]);
  const s = c.subjects[0]!;
  assert.equal(s.fixtures?.cases, 3);
  assert.deepEqual(s.fixtures?.changes.map((m) => [m.name, m.class, m.what, m.line]), [["a small order", "tightening", "passes -> fails positive (ERROR)", 3]]);
  // And back: the same case proves the loosening.
  const back = await compareContracts(after, before, [fixture]);
  assert.deepEqual(back.subjects[0]!.fixtures?.changes.map((m) => [m.name, m.class]), [["a small order", "loosening"]]);
});

test("a READ transform that changes what consumers get is proved breaking; the same on WRITE is neutral", async () => {
  const mask = (mode: "READ" | "WRITE") => [doc({ metadata: { tags: { "Order.id": ["PII"] } }, ruleSet: { domainRules: [{ name: "mask", kind: "TRANSFORM", mode, type: "CEL_FIELD", tags: ["PII"], expr: "'***'" }] } })];
  const read = await compareContracts([doc({})], mask("READ"), [fixture]);
  assert.deepEqual(read.subjects[0]!.fixtures?.changes.map((m) => [m.name, m.class, m.what]), [["a small order read back", "breaking", "passes, but the message differs"]]);
  assert.ok(classesOf(read).has("breaking"));
  const write = await compareContracts([doc({})], mask("WRITE"), [fixture]);
  assert.deepEqual(write.subjects[0]!.fixtures?.changes.map((m) => m.class), ["neutral", "neutral"]);
});

test("fixtures of unchanged subjects do not run, and a diff without fixtures has no proof", async () => {
  const same = await compareContracts([doc({})], [doc({})], [fixture]);
  assert.equal(same.subjects[0]!.fixtures, undefined);
  const none = await compareContracts([doc({})], [doc({ metadata: { properties: { a: "b" } } })]);
  assert.equal(none.subjects[0]!.fixtures, undefined);
});
