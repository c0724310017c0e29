/** The engine observer: an event per rule run, on the fast path and the full one, with the action taken and the time. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import type { EngineObserver, Outcome, RuleEvent, RuleSite, RuleTally } from "../../src/engine/index.js";
import { MC, order, plan } from "../helpers/contracts.js";

const cond = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "CONDITION", mode: "WRITE", type: "CEL", expr, ...extra });

function observed(rules: Rule[], message: Record<string, unknown>, timeEvery = 0): { events: RuleEvent[]; outcome: Outcome | Promise<Outcome> } {
  const events: RuleEvent[] = [];
  const outcome = plan(rules, { observer: { ruleFinished: (e) => void events.push(e), timeEvery } }).write.run(message, MC);
  return { events, outcome };
}

const summary = (events: readonly RuleEvent[]) => events.map((e) => [e.rule.name, e.ctx.mode, e.failed, e.action]);

test("conditions that pass on the fast path are each reported, with their time when the observer asks for it", () => {
  const { events, outcome } = observed([cond("a", "message.amount > 0.0"), cond("b", "size(message.id) > 0")], order(), 1);
  assert.equal((outcome as Outcome).kind, "passed");
  assert.deepEqual(summary(events), [
    ["a", "WRITE", false, "NONE"],
    ["b", "WRITE", false, "NONE"],
  ]);
  for (const e of events) assert.ok(e.durationMs !== undefined && e.durationMs >= 0 && Number.isFinite(e.durationMs));
  assert.equal(events[0]!.ctx.subject, "orders-value");
  // Timing costs two clock reads per rule: without timeEvery there is none.
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

/** An observer that counts through tallies: every run counted in place, events only for what a count cannot tell. */
function tallied(rules: Rule[], timeEvery: number) {
  const tallies = new Map<string, RuleTally>();
  const sites: RuleSite[] = [];
  const events: RuleEvent[] = [];
  const observer: EngineObserver = {
    timeEvery,
    tally(site) {
      sites.push(site);
      const t: RuleTally = { runs: 0 };
      tallies.set(`${site.mode}:${site.rule.name}`, t);
      return t;
    },
    ruleFinished: (e) => void events.push(e),
  };
  return { p: plan(rules, { observer }), tallies, sites, events };
}

test("with tallies, every run is counted in place and only failures, actions and timed runs are reported", () => {
  const rules = [cond("ok", "message.amount > 0.0"), cond("warn", "message.amount > 100.0", { onFailure: "NONE" }), cond("stop", "message.qty < 10", { onFailure: "DLQ" })];
  const { p, tallies, sites, events } = tallied(rules, 0);
  // Nothing compiled yet: a phase compiles its rules when it first runs.
  assert.equal(sites.length, 0);
  const outcomes = [order({ amount: 5 }), order({ amount: 500 }), order({ amount: 5, qty: 50 }), order({ amount: -1 })].map((m) => p.write.run(m, MC) as Outcome);
  // Asked once per compiled rule, with its mode and subject (WRITE rules: no READ step).
  assert.deepEqual(sites.map((s) => [s.rule.name, s.mode, s.subject]), [
    ["ok", "WRITE", "orders-value"], ["warn", "WRITE", "orders-value"], ["stop", "WRITE", "orders-value"],
  ]);
  assert.deepEqual(outcomes.map((o) => o.kind), ["passed", "passed", "failed", "failed"]);
  // The first stop fails "ok": nothing after it runs on that message.
  assert.equal(tallies.get("WRITE:ok")!.runs, 4);
  assert.equal(tallies.get("WRITE:warn")!.runs, 3);
  assert.equal(tallies.get("WRITE:stop")!.runs, 3);
  assert.deepEqual(summary(events), [
    ["warn", "WRITE", true, "NONE"],
    ["warn", "WRITE", true, "NONE"],
    ["stop", "WRITE", true, "DLQ"],
    ["ok", "WRITE", true, "ERROR"],
  ]);
  // The event hands back the tally the observer gave, and carries no time when none was asked for.
  assert.equal(events[2]!.tally, tallies.get("WRITE:stop"));
  assert.ok(events.every((e) => e.durationMs === undefined));
});

test("timeEvery N times runs 0, N, 2N... of each rule, on the fast path and the full one", () => {
  // "ok" passes on the fast path; "always" has onSuccess set, so it takes the full path.
  const rules = [cond("ok", "message.amount > 0.0"), cond("always", "true", { onSuccess: "NONE", onFailure: "NONE" }), { name: "t", kind: "TRANSFORM", mode: "WRITE", type: "CEL", expr: "message" } as Rule];
  const { p, tallies, events } = tallied(rules, 7);
  for (let i = 0; i < 50; i++) p.write.run(order(), MC);
  for (const name of ["ok", "always", "t"]) {
    assert.equal(tallies.get(`WRITE:${name}`)!.runs, 50);
    // Runs 0, 7, ..., 49: eight of fifty.
    const timed = events.filter((e) => e.rule.name === name);
    assert.equal(timed.length, 8, name);
    assert.ok(timed.every((e) => e.durationMs !== undefined && e.durationMs >= 0 && !e.failed));
  }
});

test("timeEvery must be a whole number", () => {
  for (const timeEvery of [-1, 1.5, Number.NaN]) assert.throws(() => plan([cond("a", "true")], { observer: { ruleFinished() {}, timeEvery } }), TypeError);
});
