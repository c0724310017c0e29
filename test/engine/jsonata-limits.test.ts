/**
 * JSONata cost limits: evaluation steps, sequence sizes, sorts, depth and
 * time. A rule that hits one fails like any other rule, with a "rule-cost"
 * cause, and the process (one Kafka consumer among others) keeps running.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import jsonata from "jsonata";
import type { Rule } from "../../src/contract/model.js";
import { DEFAULT_LIMITS, type EngineLimits, type FailedOutcome, type PassedOutcome } from "../../src/engine/index.js";
import { isErrorCode } from "../../src/errors.js";
import { plan, order, MC } from "../helpers/contracts.js";
import { mulberry32 } from "../helpers/random.js";

const cond = (expr: string): Rule => ({ name: "c", kind: "CONDITION", mode: "WRITE", type: "JSONATA", expr });
const transform = (expr: string): Rule => ({ name: "t", kind: "TRANSFORM", mode: "WRITE", type: "JSONATA", expr });

async function costFailure(rule: Rule, limits: Partial<EngineLimits> = {}, message = order()): Promise<FailedOutcome> {
  const o = await plan([rule], { limits }).write.run(message, MC);
  assert.equal(o.kind, "failed", "the rule must fail, not pass");
  const failed = o as FailedOutcome;
  assert.ok(isErrorCode(failed.error.cause, "rule-cost"), `cause must be a rule-cost error, got ${String((failed.error.cause as Error)?.message ?? failed.error.cause)}`);
  // The violation says so too, as for CEL's cost budget.
  assert.equal(failed.violations.at(-1)!.code, "rule-cost");
  return failed;
}

const countTo = (n: number) => `($f := function($i) { $i < ${n} ? $f($i + 1) : true }; $f(0))`;

test("the default JSONata time bound is well under Kafka's 45 s session timeout", () => {
  assert.ok(DEFAULT_LIMITS.jsonataTimeoutMs <= 10_000, `jsonataTimeoutMs ${DEFAULT_LIMITS.jsonataTimeoutMs}`);
  assert.ok(DEFAULT_LIMITS.jsonataMaxSteps > 0 && DEFAULT_LIMITS.jsonataMaxSequence > 0 && DEFAULT_LIMITS.jsonataMaxSortItems > 0);
});

test("a synchronous tail-recursive loop is stopped by the step budget, whatever the clock allows", async () => {
  const f = await costFailure(cond(countTo(2_000_000)), { jsonataTimeoutMs: 3_600_000, jsonataMaxDepth: 100_000, jsonataMaxSteps: 10_000 });
  assert.match(f.violations[0]!.message, /steps/);
});

test("an endless tail-recursive loop ends under the default limits", async () => {
  await costFailure(cond(countTo(1e12)));
});

test("a rule within the step budget runs to the end", async () => {
  const o = (await plan([cond(countTo(1000))], { limits: { jsonataMaxSteps: 100_000 } }).write.run(order(), MC)) as PassedOutcome;
  assert.equal(o.kind, "passed");
});

test("nested ranges [1..1e7].[1..1e7] fail with rule-cost instead of exhausting memory", async () => {
  await costFailure(cond("$count([1..10000000].[1..10000000]) > 0"));
});

test("a range longer than jsonataMaxSequence fails with rule-cost", async () => {
  const f = await costFailure(cond("$count([1..1001]) > 0"), { jsonataMaxSequence: 1000 });
  assert.match(f.violations[0]!.message, /a sequence or range of more than 1000 items/);
  const ok = await plan([cond("$count([1..1000]) = 1000")], { limits: { jsonataMaxSequence: 1000 } }).write.run(order(), MC);
  assert.equal(ok.kind, "passed");
});

test("items produced count against the step budget: many mid-sized ranges cannot pile up", async () => {
  await costFailure(cond("$count($map([1..1000], function($i) { [1..1000] })) > 0"), { jsonataMaxSteps: 100_000 });
});

test("$sort over 1e6 items fails with rule-cost", async () => {
  await costFailure(cond("$count($sort([1..1000000])) > 0"));
  await costFailure(cond("$count($sort([1..1001])) > 0"), { jsonataMaxSortItems: 1000 });
});

test("an order-by over more than jsonataMaxSortItems items fails with rule-cost", async () => {
  const items = Array.from({ length: 1001 }, (_, i) => ({ sku: `s${i}`, price: (i * 7919) % 1000 }));
  await costFailure(transform("$merge([$, {'items': items^(price)}])"), { jsonataMaxSortItems: 1000 }, order({ items }));
  const ok = (await plan([transform("$merge([$, {'items': items^(>price)}])")], { limits: { jsonataMaxSortItems: 1001 } }).write.run(order({ items }), MC)) as PassedOutcome;
  assert.equal(ok.kind, "passed");
  assert.equal((ok.value as { items: { price: number }[] }).items[0]!.price, 999);
});

test("an order-by whose input is built by other order-bys is still checked", async () => {
  // 400 inner sorts of 3 items each feed one outer sort of 1 200 items.
  const groups = Array.from({ length: 400 }, (_, i) => ({ xs: [i % 7, i % 5, i % 3] }));
  await costFailure(cond("$count(groups.(xs^($))^($)) > 0"), { jsonataMaxSortItems: 1000 }, order({ groups }));
  const ok = await plan([cond("$count(groups.(xs^($))^($)) = 1200")], { limits: { jsonataMaxSortItems: 1200 } }).write.run(order({ groups }), MC);
  assert.equal(ok.kind, "passed");
});

test("an order-by whose input is built by a recursive call of the same order-by is still checked", async () => {
  // Each call sorts its callee's result plus xs: 400, 800, then 1 200 items.
  const xs = Array.from({ length: 400 }, (_, i) => (i * 7919) % 1000);
  const expr = (check: string) => `($f := function($n) { $n > 0 ? $append($f($n - 1), xs)^($) : xs^($) }; $count($f(2)) ${check})`;
  await costFailure(cond(expr("> 0")), { jsonataMaxSortItems: 1000 }, order({ xs }));
  const ok = await plan([cond(expr("= 1200"))], { limits: { jsonataMaxSortItems: 1200 } }).write.run(order({ xs }), MC);
  assert.equal(ok.kind, "passed");
});

test("$sort gives the same results as the library's own $sort (seeded, 300 cases)", async () => {
  const rnd = mulberry32(10_21);
  const library = {
    plain: jsonata("$sort(xs)"),
    desc: jsonata("$sort(xs, function($a, $b) { $a < $b })"),
    byKey: jsonata("$sort(os, function($a, $b) { $a.k > $b.k })"),
  };
  const ours = {
    plain: plan([transform("$merge([$, {'id': $string($sort(xs))}])")]),
    desc: plan([transform("$merge([$, {'id': $string($sort(xs, function($a, $b) { $a < $b }))}])")]),
    byKey: plan([transform("$merge([$, {'id': $string($sort(os, function($a, $b) { $a.k > $b.k }))}])")]),
  };
  for (let i = 0; i < 300; i++) {
    const n = Math.floor(rnd() * 40);
    const strings = rnd() < 0.3;
    const xs = Array.from({ length: n }, () => (strings ? String.fromCharCode(97 + Math.floor(rnd() * 5)) : Math.floor(rnd() * 10) - 5));
    // Equal keys with distinct tags: the order of ties shows whether the sort is stable.
    const os = Array.from({ length: n }, (_, tag) => ({ k: Math.floor(rnd() * 4), tag }));
    for (const kind of ["plain", "desc", "byKey"] as const) {
      const input = { xs, os };
      const sorted: unknown = await library[kind].evaluate(input);
      const o = (await ours[kind].write.run({ ...order(), ...input }, MC)) as PassedOutcome;
      assert.equal(o.kind, "passed", `${kind} ${JSON.stringify(input)}`);
      // An empty input sorts to nothing, and the transform then keeps the original id.
      assert.equal((o.value as { id: string }).id, sorted === undefined ? "o-1" : JSON.stringify(sorted), `${kind} ${JSON.stringify(input)}`);
    }
  }
});

test("$sort without a comparator still rejects mixed arrays, as the library does", async () => {
  const o = await plan([cond("$count($sort([1, 'a'])) = 2")]).write.run(order(), MC);
  assert.equal(o.kind, "failed");
  assert.match((o as FailedOutcome).violations[0]!.message, /D3070/);
});

test("the clock still bounds an evaluation the step budget would allow", async () => {
  const f = await costFailure(cond(countTo(1e12)), { jsonataTimeoutMs: 200, jsonataMaxSteps: Number.MAX_SAFE_INTEGER });
  assert.match(f.violations[0]!.message, /longer than 200 ms/);
});

test("cost failures name the limit, never a size that came from the message", async () => {
  const cases: [string, number][] = [
    ["$length($pad('x', qty)) > 0", 123_456_789],
    ["$count([1..qty]) > 0", 123_456_789],
    ["$count($sort([1..qty])) > 0", 12_345],
    ["$count([1..qty]^($)) > 0", 12_345],
  ];
  for (const [expr, qty] of cases) {
    const f = await costFailure(cond(expr), { jsonataMaxSequence: 20_000, jsonataMaxSortItems: 10 }, order({ qty }));
    assert.doesNotMatch(f.violations[0]!.message, new RegExp(`${qty}|${qty - 1}`), `${expr} with qty ${qty}: ${f.violations[0]!.message}`);
  }
});

test("$pad to 3e8 characters fails with rule-cost instead of exhausting memory", async () => {
  await costFailure(cond("$length($pad('x', 300000000)) > 0"));
  await costFailure(cond("$length($pad('x', -300000000)) > 0"));
  // A long fill string does not multiply what is built: 500 000 characters of 'ab…' padding are within the budget.
  const long = await plan([cond("$length($pad('x', 500000, $join([1..1000].('ab')))) = 500000")]).write.run(order(), MC);
  assert.equal(long.kind, "passed");
});

test("strings produced count against the step budget: doubling a string stops early", async () => {
  // 16 characters doubled 15 times: 512 Ki characters, 8 Ki steps for the last string alone.
  const f = await costFailure(cond("$length($reduce([1..16], function($a, $i) { $a & $a }, 'xxxxxxxxxxxxxxxx')) > 0"), { jsonataMaxSteps: 10_000 });
  assert.match(f.violations[0]!.message, /evaluation steps/);
  // A string within the budget is fine.
  const ok = await plan([cond("$length($reduce([1..8], function($a, $i) { $a & $a }, 'xxxxxxxxxxxxxxxx')) = 4096")], { limits: { jsonataMaxSteps: 10_000 } }).write.run(order(), MC);
  assert.equal(ok.kind, "passed");
});

test("$pad gives the same results as the library's own $pad (seeded, 500 cases)", async () => {
  const rnd = mulberry32(10_22);
  const library = jsonata("$pad(s, w, c)");
  const ours = plan([transform("$merge([$, {'id': $pad(s, w, c)}])")]);
  const alphabet = ["a", "b", "é", "😀", " ", "#"];
  const text = (max: number) => Array.from({ length: Math.floor(rnd() * max) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join("");
  for (let i = 0; i < 500; i++) {
    const input = { s: text(6), w: Math.floor(rnd() * 25) - 12 + (rnd() < 0.2 ? 0.5 : 0), ...(rnd() < 0.8 ? { c: text(3) } : {}) };
    const expected = await library.evaluate(input);
    const o = (await ours.write.run({ ...order(), ...input }, MC)) as PassedOutcome;
    assert.equal(o.kind, "passed", JSON.stringify(input));
    assert.equal((o.value as { id: string }).id, expected, JSON.stringify(input));
  }
});

test("too deep a recursion fails with rule-cost", async () => {
  await costFailure(cond("($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000) > 0)"), { jsonataMaxDepth: 200 });
});

test("concurrent evaluations of one rule keep separate budgets", async () => {
  const p = plan([cond(countTo(300))], { limits: { jsonataMaxSteps: 5_000 } });
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => p.write.run(order(), MC)));
  assert.deepEqual(outcomes.map((o) => o.kind), Array(20).fill("passed"));
});

test("a library error stays out of the failed outcome's cause: its fields may hold message values", async () => {
  const o = (await plan([cond("id + 1 > 0")]).write.run(order({ id: "secret-value" }), MC)) as FailedOutcome;
  assert.equal(o.kind, "failed");
  assert.equal(o.error.cause, undefined);
});

test("fuzz: costly constructs with sizes up to 1e9 end in a pass or a typed failure (seeded, 120 cases)", async () => {
  const rnd = mulberry32(10_10);
  const size = () => Math.floor(10 ** (rnd() * 9));
  const pieces: (() => string)[] = [
    () => `[1..${size()}].[1..${size()}]`,
    () => `$sort([1..${size()}])`,
    () => `$sort([1..${size()}], function($a, $b) { $a < $b })`,
    () => `[1..${size()}]^(>$)`,
    () => `$pad('x', ${size()})`,
    () => `$reduce([1..${Math.floor(rnd() * 40)}], function($a, $i) { $a & $a }, 'xy')`,
    () => `($f := function($i) { $i < ${size()} ? $f($i + 1) : $i }; $f(0))`,
    () => `$map([1..${size()}], function($x) { [1..${size()}] })`,
    () => `$string([1..${size()}])`,
    () => `($g := function($n) { $n = 0 ? 0 : 1 + $g($n - 1) }; $g(${size()}))`,
  ];
  const limits = { jsonataMaxSteps: 20_000, jsonataMaxSequence: 5_000, jsonataMaxSortItems: 500, jsonataMaxDepth: 200 };
  let costs = 0;
  for (let i = 0; i < 120; i++) {
    const parts = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pieces[Math.floor(rnd() * pieces.length)]!());
    const expr = `$count([${parts.join(", ")}]) >= 0`;
    const o = await plan([cond(expr)], { limits }).write.run(order(), MC);
    if (o.kind === "passed") continue;
    const cause = o.error.cause;
    assert.ok(isErrorCode(cause, "rule-cost") || /JSONata evaluation failed/.test(o.violations[0]!.message), `${expr}: ${o.violations[0]!.message}`);
    if (isErrorCode(cause, "rule-cost")) costs++;
  }
  // The sizes are large enough that most cases hit a limit.
  assert.ok(costs > 60, `${costs} cost failures`);
});
