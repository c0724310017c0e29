/**
 * The fast path behind the engine: CEL and CEL_FIELD rules give the same
 * outcomes with the fast path on (default) and off (disableNativeCel), and
 * the switches really switch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Rule } from "../../../src/contract/model.js";
import type { Outcome } from "../../../src/engine/index.js";
import { createCelRuntime } from "../../../src/cel/index.js";
import type { CelShape } from "../../../src/cel/index.js";
import { MC, order, plan } from "../../helpers/contracts.js";

const cel = (name: string, kind: "CONDITION" | "TRANSFORM", expr: string): Rule => ({ name, kind, mode: "WRITE", type: "CEL", expr });
const field = (name: string, kind: "CONDITION" | "TRANSFORM", expr: string, tags?: string[]): Rule => ({ name, kind, mode: "WRITE", type: "CEL_FIELD", expr, ...(tags ? { tags } : {}) });

const RULES: Rule[][] = [
  [cel("c1", "CONDITION", "message.amount > 0.0 && size(message.id) > 0")],
  [cel("c2", "CONDITION", "message.items.exists(i, i.price > 3.0)")],
  [cel("c3", "CONDITION", "message.items.all(i, i.sku.matches('^[A-Z]-[0-9]+$'))")],
  [cel("c4", "CONDITION", "message.qty * 4611686018427387904 > 0")], // int overflow: a failure on both paths
  [cel("c5", "CONDITION", "message.address.city == 'Lyon'")], // false
  [cel("c6", "CONDITION", "message.amount")], // not a bool: neither pass nor failure
  [cel("c7", "CONDITION", "message.id.startsWith('o-') ; message.amount < 0.0")], // guard
  [cel("t1", "TRANSFORM", "message")], // identity: the original object back
  [cel("t2", "TRANSFORM", "message.amount > 1.0 ? message : message")],
  [field("f1", "CONDITION", "size(value) > 3", ["PII"])],
  [field("f2", "TRANSFORM", "value.upperAscii()", ["PII"])],
  [field("f3", "TRANSFORM", "name == 'qty' ? value * 2 : value")],
  [field("f4", "CONDITION", "name != 'city' || value == 'Lyon'")],
  [field("f5", "TRANSFORM", "typeName == 'STRING' && 'PII' in tags ? value + '!' : value")],
];

const MESSAGES = [order(), order({ qty: 21, amount: -1 }), order({ address: { city: "Lyon", zip: "1" } }), order({ id: 5 }), order({ items: [] })];

/** Outcomes without errors' stack traces and causes, which differ in wording. */
function summary(o: Outcome): unknown {
  if (o.kind === "passed") return { kind: o.kind, value: o.value, transformed: o.transformed, violations: o.violations.map((v) => [v.rule, v.field, v.value]) };
  return { kind: o.kind, action: o.action, violations: o.violations.map((v) => [v.rule, v.field, v.value, v.message.startsWith("Could not execute CEL script") ? "error" : v.message]) };
}

test("CEL and CEL_FIELD rules give the same outcomes with the fast path on and off", () => {
  for (const rules of RULES) {
    const on = plan(rules);
    const off = plan(rules, { disableNativeCel: true });
    for (const m of MESSAGES) {
      const a = on.write.run(structuredClone(m), MC) as Outcome;
      const b = off.write.run(structuredClone(m), MC) as Outcome;
      assert.deepEqual(summary(a), summary(b), `${rules[0]!.expr} on ${JSON.stringify(m)}`);
    }
  }
});

test("an identity transform on the fast path gives back the very message object", () => {
  const m = order();
  const o = plan([cel("t", "TRANSFORM", "message")]).write.run(m, MC) as Outcome;
  assert.equal(o.kind, "passed");
  assert.equal(o.value, m);
});

test("createCelRuntime({ native: false }) and KONTRACT_CEL_NATIVE=off turn the fast path off; expressions outside the subset fall back", () => {
  const shape: CelShape = { kind: "record", name: "R", fields: new Map<string, CelShape>([["n", { kind: "int" }], ["t", { kind: "timestamp", native: "millis" }]]) };
  const shapes = { message: shape };
  assert.equal(createCelRuntime().compile("message.n > 1", ["message"]).typed(shapes).native, true);
  assert.equal(createCelRuntime({ native: false }).compile("message.n > 1", ["message"]).typed(shapes).native, false);
  // Timestamps, now, and dyn values are the interpreter's.
  assert.equal(createCelRuntime().compile("message.t > timestamp('2024-01-01T00:00:00Z')", ["message"]).typed(shapes).native, false);
  assert.equal(createCelRuntime().compile("message.n > 1 && now > timestamp('2024-01-01T00:00:00Z')", ["message"]).typed(shapes).native, false);
  assert.equal(createCelRuntime().compile("dyn(message.n) == 1", ["message"]).typed(shapes).native, false);
  const saved = process.env.KONTRACT_CEL_NATIVE;
  process.env.KONTRACT_CEL_NATIVE = "off";
  try {
    assert.equal(createCelRuntime().compile("message.n > 1", ["message"]).typed(shapes).native, false);
    assert.equal(createCelRuntime({ native: true }).compile("message.n > 1", ["message"]).typed(shapes).native, true, "an explicit option wins");
  } finally {
    if (saved === undefined) delete process.env.KONTRACT_CEL_NATIVE;
    else process.env.KONTRACT_CEL_NATIVE = saved;
  }
});

test("a failure on the fast path is a CelFailure value, never a throw and never a pass", () => {
  const shape: CelShape = { kind: "record", name: "R", fields: new Map<string, CelShape>([["n", { kind: "int" }]]) };
  const p = createCelRuntime().compile("message.n / 0 == 1", ["message"]).typed({ message: shape });
  assert.equal(p.native, true);
  const r = p.run({ message: { n: 4 } }) as { message: string };
  assert.match(r.message, /divide by zero/);
  // A value that does not fit its field fails the rule, naming the field.
  const bad = createCelRuntime().compile("message.n > 1", ["message"]).typed({ message: shape }).run({ message: { n: "4" } }) as { message: string };
  assert.equal(bad.message, "field 'n': expected int, got string");
});
