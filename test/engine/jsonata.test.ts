/**
 * JSONATA rules: transforms and conditions over the JSON form, Java's null
 * handling and RE2 regexes. Cost bounds: jsonata-limits.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Rule } from "../../src/contract/model.js";
import type { FailedOutcome, PassedOutcome } from "../../src/engine/index.js";
import { plan, order, MC } from "../helpers/contracts.js";

const rule = (name: string, kind: "CONDITION" | "TRANSFORM", expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind, mode: "WRITE", type: "JSONATA", expr, ...extra });

test("a JSONata transform produces a new message of the schema", async () => {
  const p = plan([rule("t", "TRANSFORM", "$merge([$, {'id': $uppercase(id)}])")]);
  const run = p.write.run(order({ id: "abc" }), MC);
  assert.ok(run instanceof Promise, "JSONata is asynchronous");
  const o = (await run) as PassedOutcome;
  assert.equal(o.kind, "passed");
  assert.equal((o.value as { id: string }).id, "ABC");
});

test("a JSONata condition fails on false", async () => {
  const o = (await plan([rule("c", "CONDITION", "amount > 100")]).write.run(order(), MC)) as FailedOutcome;
  assert.equal(o.kind, "failed");
  assert.equal(o.violations[0]!.message, "Expr failed: 'amount > 100'");
});

test("an undefined JSONata result keeps the message (TRANSFORM) or passes (CONDITION), as in Java", async () => {
  const msg = order();
  const t = (await plan([rule("t", "TRANSFORM", "nosuchfield")]).write.run(msg, MC)) as PassedOutcome;
  assert.equal(t.value, msg);
  const c = (await plan([rule("c", "CONDITION", "nosuchfield")]).write.run(msg, MC)) as PassedOutcome;
  assert.equal(c.kind, "passed");
});

test("JSONata regexes run on RE2: a catastrophic pattern completes", async () => {
  const p = plan([rule("redos", "CONDITION", "$contains(id, /^(a+)+$/)")]);
  const o = await p.write.run(order({ id: "a".repeat(40) + "!" }), MC);
  assert.equal(o.kind, "failed");
});

test("a JSONata regex that is not RE2 is a compile error", () => {
  const p = plan([rule("look", "CONDITION", "$contains(id, /a(?=b)/)")]);
  assert.match(p.compileErrors[0]!.message, /not valid RE2/);
});

test("JSONata that does not parse is a compile error naming the position", () => {
  const p = plan([rule("bad", "TRANSFORM", "$merge([$, {'a': }])")]);
  assert.match(p.compileErrors[0]!.message, /does not parse/);
});

test("a JSONata result with a __proto__ key keeps it as data: the new message's prototype is untouched", async () => {
  const o = (await plan([rule("t", "TRANSFORM", "$merge([$, {'__proto__': {'polluted': true}}])")]).write.run(order(), MC)) as PassedOutcome | FailedOutcome;
  const value = o.value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal((value as { polluted?: unknown }).polluted, undefined);
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
});
