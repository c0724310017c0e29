/**
 * `cel-cost`: lint warns when a rule's cost grows faster than the message
 * (nested loops over message data, a search of message data inside a loop
 * over it): large messages would hit the evaluation cost budget (rule-cost).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { lintSources, type Diagnostic } from "../../src/lint/index.js";

const AVRO = `schema:
  type: record
  name: Order
  fields:
    - {name: s, type: string}
    - {name: l, type: {type: array, items: long}}
    - {name: items, type: {type: array, items: {type: record, name: Item, fields: [{name: sku, type: string}, {name: tags, type: {type: array, items: string}}]}}}
`;

function lint(expr: string, type = "CEL"): Diagnostic[] {
  const text = `subject: orders-value\nruleSet:\n  domainRules:\n    - {name: r, kind: CONDITION, type: ${type}, expr: "${expr}"}\n${AVRO}`;
  return [...lintSources([{ file: "c.yaml", text }], {}).diagnostics];
}

test("nested loops over message data are reported as quadratic", () => {
  const ds = lint("message.l.all(a, message.l.all(b, message.l.all(c, true)))");
  assert.deepEqual(ds.map((d) => `${d.code}:${d.severity}`), ["cel-cost:warning"]);
  assert.match(ds[0]!.message, /n\^3/);
  assert.deepEqual(lint("message.l.all(a, message.l.exists(b, a == b))").map((d) => d.code), ["cel-cost"]);
  assert.deepEqual(lint("message.l.map(a, message.l.map(b, b)).size() > 0").map((d) => d.code), ["cel-cost"]);
});

test("a membership test or a substring search of message data inside a loop over it is reported", () => {
  assert.deepEqual(lint("message.l.all(a, a in message.l)").map((d) => d.code), ["cel-cost"]);
  assert.deepEqual(lint("message.items.all(i, message.s.contains(i.sku))").map((d) => d.code), ["cel-cost"]);
});

test("linear rules are not reported: one loop, loops over each element's own parts, literal ranges", () => {
  for (const expr of [
    "message.l.all(a, a >= 0)",
    "message.items.all(i, i.sku.startsWith('A') && i.sku.matches('^[A-Z]+$'))",
    "message.items.all(i, i.tags.all(t, t != ''))",
    "message.l.filter(a, a > 0).map(a, a * 2).size() < 10",
    "[1, 2, 3].all(k, message.l.exists(a, a == k))",
    "message.s.contains('x') && message.s.size() < 100",
  ]) {
    assert.deepEqual(lint(expr), [], expr);
  }
});

test("CEL_FIELD rules: value and message are message data", () => {
  const text = `subject: orders-value\nruleSet:\n  domainRules:\n    - {name: r, kind: CONDITION, type: CEL_FIELD, expr: "name == 's' ; message.items.all(i, value.contains(i.sku))"}\n${AVRO}`;
  assert.deepEqual([...lintSources([{ file: "c.yaml", text }], {}).diagnostics].map((d) => d.code), ["cel-cost"]);
});
