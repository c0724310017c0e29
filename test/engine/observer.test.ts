/** The engine observer: an event per rule run, on the fast path and the full one, with the action taken and the time. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import type { Outcome, RuleEvent } from "../../src/engine/index.js";
import { MC, order, plan } from "../helpers/contracts.js";

const cond = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "CONDITION", mode: "WRITE", type: "CEL", expr, ...extra });

function observed(rules: Rule[], message: Record<string, unknown>, timeRules = false): { events: RuleEvent[]; outcome: Outcome | Promise<Outcome> } {
  const events: RuleEvent[] = [];
  const outcome = plan(rules, { observer: { ruleFinished: (e) => void events.push(e), timeRules } }).write.run(message, MC);
  return { events, outcome };
}

const summary = (events: readonly RuleEvent[]) => events.map((e) => [e.rule.name, e.ctx.mode, e.failed, e.action]);

test("conditions that pass on the fast path are each reported, with their time when the observer asks for it", () => {
  const { events, outcome } = observed([cond("a", "message.amount > 0.0"), cond("b", "size(message.id) > 0")], order(), true);
  assert.equal((outcome as Outcome).kind, "passed");
  assert.deepEqual(summary(events), [
    ["a", "WRITE", false, "NONE"],
    ["b", "WRITE", false, "NONE"],
  ]);
  for (const e of events) assert.ok(e.durationMs !== undefined && e.durationMs >= 0 && Number.isFinite(e.durationMs));
  assert.equal(events[0]!.ctx.subject, "orders-value");
  // Timing costs two clock reads per rule: without timeRules there is none.
  assert.deepEqual(observed([cond("a", "message.amount > 0.0"), cond("f", "false", { onFailure: "NONE" })], order()).events.map((e) => e.durationMs), [undefined, undefined]);
});

test("failures carry the violation and the action; a stopping action ends the events", () => {
  const rules = [
    cond("warn", "message.amount > 100.0", { onFailure: "NONE" }),
    { name: "upper", kind: "TRANSFORM", mode: "WRITE", type: "CEL", expr: "message" } as Rule,
    cond("dlq", "message.amount > 1000.0", { onFailure: "DLQ" }),
    cond("never", "true"),
  ];
  const { events, outcome } = observed(rules, order());
  assert.equal((outcome as Outcome).kind, "failed");
  assert.deepEqual(summary(events), [
    ["warn", "WRITE", true, "NONE"],
    ["upper", "WRITE", false, "NONE"],
    ["dlq", "WRITE", true, "DLQ"],
  ]);
  assert.equal(events[0]!.violation?.rule, "warn");
  assert.equal(events[1]!.violation, undefined);
});

test("an observer that throws changes nothing for the message", () => {
  const rules = [cond("a", "message.amount > 0.0"), cond("b", "message.amount > 100.0", { onFailure: "NONE" })];
  const quiet = plan(rules).write.run(order(), MC) as Outcome;
  const loud = plan(rules, { observer: { ruleFinished: () => { throw new Error("metrics backend down"); } } }).write.run(order(), MC) as Outcome;
  assert.deepEqual(loud, quiet);
});

test("async rules (JSONata) are reported when they settle", async () => {
  const rules: Rule[] = [{ name: "j", kind: "TRANSFORM", mode: "WRITE", type: "JSONATA", expr: "$merge([$, {'qty': 4}])" }, cond("after", "message.qty == 4")];
  const { events, outcome } = observed(rules, order());
  assert.equal((await outcome).kind, "passed");
  assert.deepEqual(summary(events), [
    ["j", "WRITE", false, "NONE"],
    ["after", "WRITE", false, "NONE"],
  ]);
});
