/**
 * A rule that spends its CEL cost budget (docs/cel.md, "Cost budget") fails
 * like any rule, through onFailure, with a violation of code `rule-cost`; a
 * guard that spends it fails the rule instead of skipping it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Rule } from "../../src/contract/model.js";
import type { FailedOutcome, Outcome } from "../../src/engine/index.js";
import { MC, order, plan } from "../helpers/contracts.js";

const items = Array.from({ length: 600 }, (_, i) => ({ sku: `s${i}`, price: i }));
const COSTLY = "message.items.all(a, message.items.all(b, message.items.all(c, c.price >= 0.0)))";
const rule = (expr: string, extra: Partial<Rule> = {}): Rule => ({ name: "costly", kind: "CONDITION", mode: "WRITE", type: "CEL", expr, ...extra });

function failed(o: Outcome | Promise<Outcome>): FailedOutcome {
  assert.ok(!(o instanceof Promise));
  assert.equal(o.kind, "failed");
  return o as FailedOutcome;
}

for (const disableNativeCel of [false, true]) {
  const path = disableNativeCel ? "interpreter" : "native path";
  test(`${path}: a rule over its budget fails through onFailure with code rule-cost`, () => {
    const o = failed(plan([rule(COSTLY, { onFailure: "DLQ" })], { disableNativeCel }).write.run(order({ items }), MC));
    assert.equal(o.action, "DLQ");
    assert.equal(o.violations[0]!.code, "rule-cost");
    assert.match(o.violations[0]!.message, /cost exceeds the budget/);
  });
  test(`${path}: a guard over its budget fails the rule rather than skipping it`, () => {
    const o = failed(plan([rule(`${COSTLY} ; false`)], { disableNativeCel }).write.run(order({ items }), MC));
    assert.equal(o.violations[0]!.code, "rule-cost");
  });
  test(`${path}: a CEL_FIELD rule over its budget fails with code rule-cost`, () => {
    const r: Rule = { name: "f", kind: "CONDITION", mode: "WRITE", type: "CEL_FIELD", expr: `name == 'id' ; ${COSTLY}` };
    const o = failed(plan([r], { disableNativeCel }).write.run(order({ items }), MC));
    assert.equal(o.violations[0]!.code, "rule-cost");
  });
  test(`${path}: limits.celMaxCost sets the budget; an ordinary failure has no code`, () => {
    const cheap = "message.items.all(a, a.price >= 0.0)";
    const small = { items: items.slice(0, 100) };
    assert.equal(failed(plan([rule(cheap)], { disableNativeCel, limits: { celMaxCost: 100 } }).write.run(order(small), MC)).violations[0]!.code, "rule-cost");
    assert.equal((plan([rule(cheap)], { disableNativeCel }).write.run(order(small), MC) as Outcome).kind, "passed");
    const o = failed(plan([rule("message.nosuchfield > 1")], { disableNativeCel }).write.run(order(), MC));
    assert.equal(o.violations[0]!.code, undefined);
  });
}
