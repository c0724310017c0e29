/**
 * Rule execution semantics, following the Confluent Java client
 * (docs/rules.md). Where the JS client differs,
 * the test name says "Java, not JS".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Rule } from "../../src/contract/model.js";
import type { Outcome, PassedOutcome, FailedOutcome, RuleAction, RuleExecutor } from "../../src/engine/index.js";
import { isKontractError, RuleViolationError, RuleCompileError } from "../../src/errors.js";
import { plan, order, MC } from "../helpers/contracts.js";

const cond = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "CONDITION", mode: "WRITE", type: "CEL", expr, ...extra });
const xform = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "TRANSFORM", mode: "WRITE", type: "CEL", expr, ...extra });

function sync(o: Outcome | Promise<Outcome>): Outcome {
  assert.ok(!(o instanceof Promise), "CEL-only phases run synchronously");
  return o as Outcome;
}
const passed = (o: Outcome): PassedOutcome => (assert.equal(o.kind, "passed", JSON.stringify(o.kind === "failed" ? o.violations : [])), o as PassedOutcome);
const failed = (o: Outcome): FailedOutcome => (assert.equal(o.kind, "failed"), o as FailedOutcome);

test("a true condition passes and leaves the message untouched", () => {
  const msg = order();
  const o = passed(sync(plan([cond("positive", "message.amount > 0.0")]).write.run(msg, MC)));
  assert.equal(o.value, msg);
  assert.equal(o.transformed, false);
  assert.deepEqual(o.violations, []);
});

test("a false condition fails with ERROR by default, carrying a structured violation", () => {
  const o = failed(sync(plan([cond("positive", "message.amount > 0.0")]).write.run(order({ amount: -1 }), MC)));
  assert.equal(o.action, "ERROR");
  assert.equal(o.rule.name, "positive");
  assert.deepEqual(o.violations, [
    { rule: "positive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", message: "Expr failed: 'message.amount > 0.0'", action: "ERROR", subject: "orders-value" },
  ]);
  assert.ok(o.error instanceof RuleViolationError);
  assert.equal(o.error.code, "rule-violation");
  assert.deepEqual(o.error.violations, o.violations);
});

test("condition failure message: doc, else Expr failed, else Condition failed (Java)", () => {
  const withDoc = failed(sync(plan([cond("p", "false", { doc: "amount must be positive" })]).write.run(order(), MC)));
  assert.equal(withDoc.violations[0]!.message, "amount must be positive");
  const withExpr = failed(sync(plan([cond("p", "1 == 2")]).write.run(order(), MC)));
  assert.equal(withExpr.violations[0]!.message, "Expr failed: '1 == 2'");
});

test("an evaluation error fails the rule instead of passing silently (Java, not JS)", () => {
  // @bufbuild/cel returns errors as values; the JS client treats anything but `false` as a pass.
  const o = failed(sync(plan([cond("typo", "message.nosuchfield > 1")]).write.run(order(), MC)));
  assert.match(o.violations[0]!.message, /^Could not execute CEL script: /);
});

test("a condition that yields a non-boolean passes: only exactly false fails (Java)", () => {
  passed(sync(plan([cond("odd", "'not a bool'")]).write.run(order(), MC)));
});

test("transforms chain: each rule sees the previous rule's output", () => {
  const p = plan([
    xform("upper", "{'id': message.id.upperAscii(), 'amount': message.amount}"),
    xform("suffix", "{'id': message.id + '-X', 'amount': message.amount * 2.0}"),
  ]);
  const o = passed(sync(p.write.run(order({ id: "ab" }), MC)));
  assert.deepEqual(o.value, { id: "AB-X", amount: 25 });
  assert.equal(o.transformed, true);
});

test("an identity transform returns the original object", () => {
  const msg = order();
  const o = passed(sync(plan([xform("same", "message")]).write.run(msg, MC)));
  assert.equal(o.value, msg);
  assert.equal(o.transformed, false);
});

test("READ runs the domain rules in reverse order, undoing a WRITE chain", () => {
  const rules: Rule[] = [
    xform("first", "{'id': message.id + '1', 'amount': message.amount}", { mode: "WRITEREAD" }),
    xform("second", "{'id': message.id + '2', 'amount': message.amount}", { mode: "WRITEREAD" }),
  ];
  const p = plan(rules);
  assert.equal((passed(sync(p.write.run(order({ id: "x" }), MC))).value as { id: string }).id, "x12");
  assert.equal((passed(sync(p.read.run(order({ id: "x" }), MC))).value as { id: string }).id, "x21");
});

test("modes: WRITEREAD runs on both sides, WRITE only on write, READ only on read", () => {
  const p = plan([cond("w", "false", { mode: "WRITE" }), cond("r", "false", { mode: "READ", onFailure: "NONE" })]);
  assert.equal(failed(sync(p.write.run(order(), MC))).rule.name, "w");
  const read = passed(sync(p.read.run(order(), MC)));
  assert.deepEqual(read.violations.map((v) => v.rule), ["r"]);
  assert.equal(plan([cond("both", "false", { mode: "WRITEREAD" })]).read.empty, false);
  assert.equal(plan([cond("w", "false", { mode: "WRITE" })]).read.empty, true);
});

test("a rule without mode is WRITEREAD and without kind is TRANSFORM (Java defaults; JS never runs it)", () => {
  const p = plan([{ name: "bare", type: "CEL", expr: "{'id': 'z', 'amount': 1.0}" }]);
  assert.equal(p.write.empty, false);
  assert.equal(p.read.empty, false);
  assert.deepEqual(passed(sync(p.write.run(order(), MC))).value, { id: "z", amount: 1 });
});

test("guard: a false guard skips the body (condition passes, transform keeps the input)", () => {
  const msg = order({ amount: -5 });
  passed(sync(plan([cond("g", "message.id == 'other'; message.amount > 0.0")]).write.run(msg, MC)));
  failed(sync(plan([cond("g", "message.id == 'o-1'; message.amount > 0.0")]).write.run(msg, MC)));
  const t = passed(sync(plan([xform("g", "false; {'id': 'changed', 'amount': 1.0}")]).write.run(msg, MC)));
  assert.equal(t.value, msg);
});

test("guard: a guard that errors counts as false and skips the body (Java, not JS)", () => {
  passed(sync(plan([cond("g", "message.nosuch == 1; false")]).write.run(order(), MC)));
});

test("guard: a ';' inside a string literal does not split the expression", () => {
  passed(sync(plan([cond("semi", "message.id + ';' == 'o-1;'")]).write.run(order(), MC)));
  failed(sync(plan([cond("semi", "message.id == 'o-1'; message.id == 'a;b'")]).write.run(order(), MC)));
});

test("pair actions 'A,B' split by direction for WRITEREAD rules", () => {
  const p = plan([cond("pair", "false", { mode: "WRITEREAD", onFailure: "ERROR,NONE" })]);
  assert.equal(failed(sync(p.write.run(order(), MC))).action, "ERROR");
  const r = passed(sync(p.read.run(order(), MC)));
  assert.equal(r.violations[0]!.action, "NONE");
});

test("onFailure NONE lets the message through and records the violation", () => {
  const o = passed(sync(plan([cond("soft", "false", { onFailure: "NONE" }), cond("ok", "true")]).write.run(order(), MC)));
  assert.deepEqual(o.violations.map((v) => [v.rule, v.action]), [["soft", "NONE"]]);
});

test("onFailure DLQ routes the message, with dlq.topic from params, else metadata properties", () => {
  const fromParams = failed(sync(plan([cond("d", "false", { onFailure: "DLQ", params: { "dlq.topic": "orders-dlq" } })]).write.run(order(), MC)));
  assert.equal(fromParams.action, "DLQ");
  assert.equal(fromParams.dlqTopic, "orders-dlq");
  const fromMeta = failed(sync(plan([cond("d", "false", { onFailure: "DLQ" })], {}, { properties: { "dlq.topic": "meta-dlq" } }).write.run(order(), MC)));
  assert.equal(fromMeta.dlqTopic, "meta-dlq");
});

test("ERROR stops at the first failing rule; later rules do not run (Java)", () => {
  let ran = false;
  const spy: RuleAction = { type: "SPY", run: () => void (ran = true) };
  const o = failed(sync(plan([cond("a", "false"), cond("b", "true", { onSuccess: "SPY" })], { actions: [spy] }).write.run(order(), MC)));
  assert.equal(o.rule.name, "a");
  assert.equal(ran, false);
});

test("custom actions run on success and failure with the violation", () => {
  const seen: string[] = [];
  const audit: RuleAction = { type: "AUDIT", run: (c) => void seen.push(`${c.rule.name}:${c.violation ? "fail" : "ok"}`) };
  const o = passed(sync(plan([cond("a", "true", { onSuccess: "AUDIT" }), cond("b", "false", { onFailure: "AUDIT" })], { actions: [audit] }).write.run(order(), MC)));
  assert.deepEqual(seen, ["a:ok", "b:fail"]);
  assert.deepEqual(o.violations.map((v) => v.action), ["AUDIT"]);
});

test("a custom action that throws fails the message instead of being swallowed (beyond Java, which logs)", () => {
  const broken: RuleAction = { type: "BROKEN", run: () => { throw new Error("boom"); } };
  const o = failed(sync(plan([cond("a", "false", { onFailure: "BROKEN" })], { actions: [broken] }).write.run(order(), MC)));
  assert.equal(o.action, "ERROR");
  assert.match(o.violations.at(-1)!.message, /action BROKEN failed: boom/);
});

test("an unknown action name is a compile error", () => {
  assert.throws(() => plan([cond("a", "true", { onFailure: "EMAIL_ME" })]), (e: unknown) => e instanceof RuleCompileError && e.code === "rule-unknown-action" && /EMAIL_ME/.test(e.message));
});

test("a phase compiles its rules when it first runs: a reader never compiles the WRITE rules, nor a writer the READ ones", () => {
  const compiled: string[] = [];
  const counting: RuleExecutor = { type: "COUNTED", compile: (rule) => (compiled.push(rule.name), { async: false, run: () => ({ ok: true, value: true }) }) };
  const rules: Rule[] = [
    { name: "w", kind: "CONDITION", mode: "WRITE", type: "COUNTED" },
    { name: "r", kind: "CONDITION", mode: "READ", type: "COUNTED" },
    { name: "wr", kind: "CONDITION", mode: "WRITEREAD", type: "COUNTED" },
  ];
  const p = plan(rules, { executors: [counting] });
  assert.deepEqual(compiled, []);
  // Which phases have rules is known without compiling them.
  assert.deepEqual([p.write.empty, p.read.empty, p.upgrade.empty, p.encodeRead.empty], [false, false, true, true]);
  passed(sync(p.read.run(order(), MC)));
  passed(sync(p.read.run(order(), MC)));
  assert.deepEqual(compiled, ["wr", "r"], "READ runs in reverse order, compiled once");
  passed(sync(p.write.run(order(), MC)));
  assert.deepEqual(compiled, ["wr", "r", "w", "wr"]);
  assert.deepEqual(p.compileErrors, []);
  assert.equal(compiled.length, 4, "compileErrors compiles no phase twice");
});

test("compileErrors compiles every phase, the ones never run included", () => {
  const p = plan([cond("ok", "true"), { name: "bad", kind: "CONDITION", mode: "READ", type: "CEL", expr: "message.amount >" }]);
  passed(sync(p.write.run(order(), MC)));
  assert.deepEqual(p.compileErrors.map((e) => e.message.includes("bad")), [true]);
});

test("an unknown rule type fails through onFailure and the next rule still runs (Java, not JS)", () => {
  const p = plan([{ name: "enc", kind: "TRANSFORM", mode: "WRITE", type: "ENCRYPT", onFailure: "NONE" }, cond("after", "false", { onFailure: "NONE" })]);
  assert.equal(p.compileErrors.length, 1);
  assert.equal(p.compileErrors[0]!.code, "rule-unknown-type");
  const o = passed(sync(p.write.run(order(), MC)));
  assert.deepEqual(o.violations.map((v) => v.rule), ["enc", "after"]);
  assert.match(o.violations[0]!.message, /could not find rule executor of type ENCRYPT/);
});

test("an expression that does not compile is kept in the plan and fails through onFailure", () => {
  const p = plan([cond("bad", "message.amount >")]);
  assert.equal(p.compileErrors.length, 1);
  assert.ok(isKontractError(p.compileErrors[0]));
  const o = failed(sync(p.write.run(order(), MC)));
  assert.match(o.violations[0]!.message, /does not compile/);
});

test("disabled rules and overrides by name, by type and by default", () => {
  assert.equal(plan([cond("a", "false", { disabled: true })]).write.empty, true);
  assert.equal(plan([cond("a", "false")], { overrides: [{ rule: "a", disabled: true }] }).write.empty, true);
  assert.equal(plan([cond("a", "false")], { overrides: [{ type: "cel", disabled: true }] }).write.empty, true);
  assert.equal(plan([cond("a", "false")], { overrides: [{ type: "JSONATA", disabled: true }] }).write.empty, false);
  // the most specific override wins: by name over by type over default
  const p = plan([cond("a", "false")], { overrides: [{ onFailure: "DLQ" }, { type: "CEL", onFailure: "NONE" }, { rule: "a", onFailure: "ERROR" }] });
  assert.equal(failed(sync(p.write.run(order(), MC))).action, "ERROR");
  const q = plan([cond("a", "false")], { overrides: [{ onFailure: "DLQ" }, { type: "CEL", onFailure: "NONE" }] });
  assert.equal(passed(sync(q.write.run(order(), MC))).violations[0]!.action, "NONE");
});

test("enableAt: unset and ALL run; NONE never; CLIENT runs in kontract's default CLIENT environment", () => {
  const rs = (enableAt?: "ALL" | "NONE" | "CLIENT" | "SERVER") => ({ domainRules: [cond("a", "false")], ...(enableAt ? { enableAt } : {}) });
  assert.equal(plan(rs()).write.empty, false);
  assert.equal(plan(rs("ALL")).write.empty, false);
  assert.equal(plan(rs("NONE")).write.empty, true);
  assert.equal(plan(rs("CLIENT")).write.empty, false);
  assert.equal(plan(rs("SERVER")).write.empty, true);
  // Java's unset execution.environment skips CLIENT rules; pass null to get that behaviour.
  assert.equal(plan(rs("CLIENT"), { executionEnvironment: null }).write.empty, true);
  assert.equal(plan(rs("SERVER"), { executionEnvironment: "SERVER" }).write.empty, false);
});

test("a record replayed from the DLQ skips the rule named in __rule.name (Java)", () => {
  const p = plan([cond("a", "false"), cond("b", "true")]);
  passed(sync(p.write.run(order(), { ...MC, skipRule: "a" })));
  failed(sync(p.write.run(order(), { ...MC, skipRule: "b" })));
});

test("a null message (tombstone) runs no rules", () => {
  const o = passed(sync(plan([cond("a", "false")]).write.run(null, MC)));
  assert.equal(o.value, null);
});

test("a transform returning null fails through onFailure (Java)", () => {
  const o = failed(sync(plan([xform("nul", "null")]).write.run(order(), MC)));
  assert.equal(o.violations[0]!.message, "transform returned null");
});

test("params: the rule's own, then overrides, then metadata properties", () => {
  const g = (extra: Partial<Rule>, meta?: Record<string, string>, over?: Record<string, string>) =>
    plan([cond("a", "false", { onFailure: "DLQ", ...extra })], over ? { overrides: [{ rule: "a", params: over }] } : {}, meta ? { properties: meta } : undefined);
  assert.equal(failed(sync(g({ params: { "dlq.topic": "rule" } }, { "dlq.topic": "meta" }, { "dlq.topic": "over" }).write.run(order(), MC))).dlqTopic, "rule");
  assert.equal(failed(sync(g({}, { "dlq.topic": "meta" }, { "dlq.topic": "over" }).write.run(order(), MC))).dlqTopic, "over");
  assert.equal(failed(sync(g({}, { "dlq.topic": "meta" }).write.run(order(), MC))).dlqTopic, "meta");
});

// Conditions that pass, with nothing to do on success, take a shortcut (CompiledRule.passes):
// no run state, no result object. Everything else must come out exactly as on the full path.

test("the pass shortcut changes no outcome: native conditions against the interpreter, phase by phase", () => {
  const rules: Rule[] = [
    cond("positive", "message.amount > 0.0"),
    cond("hasCity", "size(message.address.city) > 0", { onFailure: "NONE" }),
    cond("firstItem", "message.items[0].price < 10.0", { onFailure: "DLQ" }),
    cond("notBool", "message.id"), // a non-boolean result passes (Java)
    cond("email", "message.email.matches('^[^@]+@[^@]+$')", { onFailure: "NONE" }),
    cond("small", "message.qty < 10"),
    // Guarded: a false guard skips (a pass), a true one hands on to the body, a guard that fails to evaluate skips too.
    cond("bigOrdersAreFew", "message.amount > 100.0 ; message.qty < 6", { onFailure: "NONE" }),
    cond("firstItemCheap", "message.items[0].price > 1.0 ; message.qty < 5", { onFailure: "NONE" }),
    cond("guardNotBool", "message.id ; message.qty < 4"),
  ];
  const fast = plan(rules);
  const slow = plan(rules, { disableNativeCel: true });
  const shortcuts = fast.write.steps.steps.filter((s) => s.passes !== undefined).map((s) => s.rule.name);
  assert.deepEqual(shortcuts, ["positive", "hasCity", "firstItem", "notBool", "email", "small", "bigOrdersAreFew", "firstItemCheap", "guardNotBool"]);
  assert.ok(slow.write.steps.steps.every((s) => s.passes === undefined), "the interpreter offers no shortcut");
  const messages = [
    order(),
    order({ amount: -1 }),
    order({ address: { city: "", zip: "1" } }),
    order({ items: [] }), // index out of range: an evaluation error, not a pass
    order({ items: [{ sku: "A", price: 20 }] }),
    order({ email: "nope", qty: 12 }),
    order({ address: { city: "", zip: "1" }, email: "nope" }), // two NONE violations, then a pass
    order({ qty: 3.5 }), // does not fit its field
    order({ amount: 150, items: [{ sku: "A", price: 2 }], qty: 7 }), // both guards true, both bodies fail (NONE)
    order({ amount: 150, items: [{ sku: "A", price: 0.5 }], qty: 4 }),
  ];
  for (const m of messages) {
    for (const skipRule of [undefined, "positive", "firstItem"]) {
      const mc = { ...MC, skipRule };
      assert.deepEqual(strip(sync(fast.write.run(m, mc))), strip(sync(slow.write.run(m, mc))), `${JSON.stringify(m)} skipping ${skipRule}`);
    }
  }
});

test("a rule's pass shortcut replaces its run only when it returns true, and only with nothing to do on success", () => {
  const calls: string[] = [];
  const executor = {
    type: "SPYCOND",
    compile: (rule: Rule) => ({
      async: false,
      run: () => (calls.push(`run ${rule.name}`), { ok: true, value: rule.expr === "pass" }),
      passes: () => (calls.push(`passes ${rule.name}`), rule.expr === "pass"),
    }),
  };
  const spy = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "CONDITION", mode: "WRITE", type: "SPYCOND", expr, ...extra });
  const audited: string[] = [];
  const audit: RuleAction = { type: "AUDIT", run: ({ rule }) => void audited.push(rule.name) };
  const p = plan([spy("a", "pass"), spy("b", "pass", { onSuccess: "AUDIT" }), spy("c", "fail", { onFailure: "NONE" }), spy("d", "pass")], { executors: [executor], actions: [audit] });
  const o = passed(sync(p.write.run(order(), MC)));
  // a: the shortcut alone. b: has an onSuccess action, so it runs in full. c: the shortcut said no, run reports the failure.
  // d: after the first step without a clean pass, the full path runs.
  assert.deepEqual(calls, ["passes a", "run b", "run c", "run d"]);
  assert.deepEqual(audited, ["b"]);
  assert.deepEqual(o.violations.map((v) => v.rule), ["c"]);
  calls.length = 0;
  p.write.run(order(), { ...MC, skipRule: "b" });
  assert.deepEqual(calls, ["run a", "run c", "run d"], "a replayed record takes the full path");
});

/** An outcome without its error object (compared through its violations). */
function strip(o: Outcome): unknown {
  return o.kind === "passed" ? o : { ...o, error: o.error.message, rule: o.rule.name };
}

test("a rule error quoting 100 KB of the message gives a capped violation message and error text", () => {
  const p = plan([cond("lookup", "message.address[message.id] == 'x'", { onFailure: "ERROR" })]);
  const o = failed(sync(p.write.run(order({ id: "k".repeat(100_000) }), MC)));
  const message = o.violations[0]!.message;
  assert.match(message, /^Could not execute CEL script: field not found: k+… \(\d+ chars\)$/);
  assert.ok(message.length < 1_100, `${message.length} chars`);
  assert.ok(o.error.message.length < 1_200, `${o.error.message.length} chars`);
});
