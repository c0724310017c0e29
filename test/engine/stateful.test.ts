/**
 * The pure core of stateful rules (docs/stateful.md): each kind's state machine on a virtual
 * clock, through the engine's own phase (actions, violations), with bounded state and every
 * change written as a changelog entry that restores the same judgement in a fresh partition.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { createEngine, referenceTable, type Outcome, type ReferenceTable, type StatefulPartition } from "../../src/engine/index.js";
import { jsonSchemaFormat } from "../../src/format/json-schema/index.js";
import { MC, ORDER_SCHEMA, contract, order, plan as taggedPlan } from "../helpers/contracts.js";
import { mulberry32 } from "../helpers/random.js";

// Violations quote keys; with PII fields in the schema, quoted run-time texts are redacted (docs/rules.md),
// so most tests use the order schema without its tags, and one checks the redaction.
const UNTAGGED = ORDER_SCHEMA.replaceAll(',"confluent:tags":["PII"]', "");
function plan(rules: Rule[], options: Parameters<typeof createEngine>[0] = {}) {
  const c = contract({ domainRules: rules }, undefined, UNTAGGED);
  return createEngine(options).compile("orders-value", c, jsonSchemaFormat.compile(c));
}

const stateful = (name: string, type: string, expr: string, params: Record<string, string>, extra: Partial<Rule> = {}): Rule => ({
  name, kind: "CONDITION", mode: "READ", type, expr, params, disabled: true, onFailure: "DLQ", ...extra,
});

function partition(rules: Rule[], tables = new Map<string, ReferenceTable>()): StatefulPartition {
  const table = (topic: string) => tables.get(topic) ?? tables.set(topic, referenceTable()).get(topic)!;
  const p = plan(rules).statefulPartition({ table });
  assert.ok(p, "the contract has stateful rules");
  return p;
}

/** Each message its own offset, as in a partition. */
let nextOffset = 0;
const at = (record: number, now: number) => ({ record, now, offset: nextOffset++ });

const verdict = (o: Outcome): string => (o.kind === "passed" ? (o.violations.length ? `NONE: ${o.violations[0]!.message}` : "pass") : `${o.action}: ${o.violations.at(-1)!.message}`);
/** Runs messages at record times (ms), wall clock = record time unless given. */
function run(p: StatefulPartition, steps: [Record<string, unknown>, number, number?][]): string[] {
  return steps.map(([m, record, now]) => verdict(p.run(order(m), MC, at(record, now ?? record))));
}

/** A fresh partition restored from everything `from` wrote. */
function restored(from: StatefulPartition, rules: Rule[], tables?: Map<string, ReferenceTable>): StatefulPartition {
  const to = partition(rules, tables);
  for (const c of from.drain()) to.restore(c.rule, c.key, c.value);
  return to;
}

const MIN = 60_000;

describe("STATEFUL_UNIQUE", () => {
  const rules = [stateful("idUnique", "STATEFUL_UNIQUE", "message.id", { "unique.window": "10m" })];

  it("fails a key repeated within the window of record time, and passes it once the window has moved on", () => {
    const p = partition(rules);
    assert.deepEqual(run(p, [[{ id: "a" }, 0], [{ id: "b" }, 1 * MIN], [{ id: "a" }, 9 * MIN], [{ id: "a" }, 10 * MIN], [{ id: "a" }, 12 * MIN]]), [
      "pass",
      "pass",
      'DLQ: duplicate key "a", first seen 540000 ms earlier in record time (window 600000 ms)',
      "pass",
      'DLQ: duplicate key "a", first seen 120000 ms earlier in record time (window 600000 ms)',
    ]);
  });

  it("holds only the window's keys: memory is bounded by the window, not the stream", () => {
    const p = partition(rules);
    for (let i = 0; i < 5000; i++) p.run(order({ id: `k${i}` }), MC, at(i * 1000, 0));
    assert.equal(p.sizes().idUnique, 600, "10 minutes of one key per second");
  });

  it("restores from its changelog and still judges a duplicate (and only a duplicate) after the move", () => {
    const p = partition(rules);
    run(p, [[{ id: "a" }, 0], [{ id: "b" }, MIN]]);
    const q = restored(p, rules);
    assert.deepEqual(run(q, [[{ id: "a" }, 2 * MIN], [{ id: "c" }, 2 * MIN], [{ id: "b" }, 11 * MIN + 1]]), [
      'DLQ: duplicate key "a", first seen 120000 ms earlier in record time (window 600000 ms)',
      "pass",
      "pass",
    ]);
  });

  it("the same record delivered again (same offset) is judged as the first time, also after a restore", () => {
    const p = partition(rules);
    const first = at(0, 0);
    assert.equal(verdict(p.run(order({ id: "a" }), MC, first)), "pass");
    const dup = at(MIN, MIN);
    assert.match(verdict(p.run(order({ id: "a" }), MC, dup)), /duplicate/);
    const q = restored(p, rules);
    assert.equal(verdict(q.run(order({ id: "a" }), MC, first)), "pass", "the original, redelivered after a crash");
    assert.match(verdict(q.run(order({ id: "a" }), MC, dup)), /duplicate/, "the duplicate stays a duplicate");
  });

  it("agrees with a plain model on 20,000 seeded messages, windowed and last-N, while its store grows past its first capacity", () => {
    const random = mulberry32(14);
    const windowed = partition([stateful("w", "STATEFUL_UNIQUE", "message.id", { "unique.window": "10s" })]);
    const lastN = partition([stateful("n", "STATEFUL_UNIQUE", "message.id", { "unique.last": "1500" })]);
    const since = new Map<string, number>();
    const held: string[] = [];
    let record = 0;
    for (let i = 0; i < 20_000; i++) {
      record += Math.floor(random() * 3);
      const id = `k${Math.floor(random() * 4000)}`;
      const first = since.get(id);
      const wantWindowed = first === undefined || record - first >= 10_000;
      if (wantWindowed) since.set(id, record);
      const wantLast = !held.includes(id);
      if (wantLast) {
        held.push(id);
        if (held.length > 1500) held.shift();
      }
      const a = { record, now: record, offset: i };
      assert.equal(windowed.run(order({ id }), MC, a).kind, wantWindowed ? "passed" : "failed", `windowed, message ${i}`);
      assert.equal(lastN.run(order({ id }), MC, a).kind, wantLast ? "passed" : "failed", `last N, message ${i}`);
    }
    assert.equal(lastN.sizes().n, 1500);
  });

  it("last N keys: the N+1th key back is forgotten and its changelog entry tombstoned", () => {
    const r = [stateful("idUnique", "STATEFUL_UNIQUE", "message.id", { "unique.last": "2" })];
    const p = partition(r);
    assert.deepEqual(run(p, [[{ id: "a" }, 0], [{ id: "b" }, 0], [{ id: "a" }, 0], [{ id: "c" }, 0]]), ["pass", "pass", 'DLQ: duplicate key "a" among the last 2 keys', "pass"]);
    const changes = p.drain();
    assert.deepEqual(changes.at(-1), { rule: "idUnique", key: "a", value: null });
    const q = partition(r);
    for (const c of changes) q.restore(c.rule, c.key, c.value);
    assert.deepEqual(run(q, [[{ id: "b" }, 0], [{ id: "a" }, 0]]), ['DLQ: duplicate key "b" among the last 2 keys', "pass"]);
  });

  it("fails clearly with state-capacity when the size cap is reached, and keeps judging the keys it holds", () => {
    const p = partition([stateful("idUnique", "STATEFUL_UNIQUE", "message.id", { "unique.window": "1h", "state.max.keys": "2" }, { onFailure: "ERROR" })]);
    const o = p.run(order({ id: "c" }), MC, at(0, 0));
    assert.equal(o.kind, "passed");
    p.run(order({ id: "d" }), MC, at(0, 0));
    const full = p.run(order({ id: "e" }), MC, at(0, 0));
    assert.ok(full.kind === "failed" && full.violations[0]!.code === "state-capacity", verdict(full));
    assert.match(verdict(full), /holds 2 keys .*state.max.keys/);
    assert.match(verdict(p.run(order({ id: "c" }), MC, at(1, 1))), /duplicate key "c"/);
  });

  it("a key that does not evaluate, or is not a string or int, fails the rule with the reason", () => {
    const p = partition([stateful("u", "STATEFUL_UNIQUE", "message.address", { "unique.last": "5" })]);
    assert.match(verdict(p.run(order(), MC, at(0, 0))), /the key must be a string or an integer, not a map/);
    const q = partition([stateful("u", "STATEFUL_UNIQUE", "message.nope", { "unique.last": "5" })]);
    assert.match(verdict(q.run(order(), MC, at(0, 0))), /Could not execute CEL script/);
  });
});

describe("STATEFUL_ORDER", () => {
  const rules = [stateful("qtyIncreases", "STATEFUL_ORDER", "message.qty", { "order.key": "message.id", "order.contiguous": "true", "order.ttl": "1h" }, { onFailure: "NONE" })];

  it("per key: increasing passes, equal or lower fails, a jump is a gap naming what is missing", () => {
    const p = partition(rules);
    assert.deepEqual(
      run(p, [[{ id: "a", qty: 1 }, 0], [{ id: "b", qty: 7 }, 0], [{ id: "a", qty: 2 }, 0], [{ id: "a", qty: 2 }, 0], [{ id: "a", qty: 1 }, 0], [{ id: "a", qty: 5 }, 0], [{ id: "a", qty: 7 }, 0], [{ id: "b", qty: 8 }, 0]]),
      [
        "pass",
        "pass",
        "pass",
        'NONE: key "a": sequence 2 does not increase (previous 2)',
        'NONE: key "a": sequence 1 does not increase (previous 2)',
        'NONE: key "a": gap in the sequence, missing 3 to 4',
        'NONE: key "a": gap in the sequence, missing 6',
        "pass",
      ],
    );
  });

  it("records delivered again, up to the one that set a key's sequence, pass without changing it", () => {
    const p = partition(rules);
    const one = at(0, 0);
    const two = at(0, 0);
    p.run(order({ id: "a", qty: 1 }), MC, one);
    p.run(order({ id: "a", qty: 2 }), MC, two);
    const q = restored(p, rules);
    assert.deepEqual([q.run(order({ id: "a", qty: 1 }), MC, one), q.run(order({ id: "a", qty: 2 }), MC, two)].map(verdict), ["pass", "pass"]);
    assert.equal(verdict(q.run(order({ id: "a", qty: 2 }), MC, at(0, 0))), 'NONE: key "a": sequence 2 does not increase (previous 2)');
  });

  it("forgets a key idle for order.ttl (tombstoned), and restores the rest", () => {
    const p = partition(rules);
    run(p, [[{ id: "a", qty: 5 }, 0], [{ id: "b", qty: 5 }, 30 * MIN], [{ id: "c", qty: 1 }, 61 * MIN]]);
    assert.equal(p.sizes().qtyIncreases, 2);
    const changes = p.drain();
    assert.ok(changes.some((c) => c.key === "a" && c.value === null));
    const q = partition(rules);
    for (const c of changes) q.restore(c.rule, c.key, c.value);
    assert.deepEqual(run(q, [[{ id: "a", qty: 1 }, 62 * MIN], [{ id: "b", qty: 4 }, 62 * MIN]]), ["pass", 'NONE: key "b": sequence 4 does not increase (previous 5)']);
  });

  it("orders strings and doubles, and refuses to compare a string with a number", () => {
    const p = partition([stateful("o", "STATEFUL_ORDER", "message.note", { "order.key": "message.id" })]);
    assert.deepEqual(run(p, [[{ note: "2026-01-01" }, 0], [{ note: "2025-12-31" }, 0]]), ["pass", 'DLQ: key "o-1": sequence "2025-12-31" does not increase (previous "2026-01-01")']);
    const d = partition([stateful("o", "STATEFUL_ORDER", "message.amount", { "order.key": "message.id" })]);
    assert.deepEqual(run(d, [[{ amount: 1.5 }, 0], [{ amount: 2.5 }, 0], [{ amount: 2.25 }, 0]]), ["pass", "pass", 'DLQ: key "o-1": sequence 2.25 does not increase (previous 2.5)']);
  });
});

describe("STATEFUL_REFERENCE", () => {
  const rules = [stateful("cityKnown", "STATEFUL_REFERENCE", "message.address.city", { "reference.topic": "cities", "reference.wait": "30s" }, { onFailure: "ERROR" })];

  it("passes keys in the table, fails missing ones, and a tombstone deletes", () => {
    const tables = new Map<string, ReferenceTable>();
    const p = partition(rules, tables);
    tables.get("cities")!.apply("Paris", true);
    assert.equal(verdict(p.run(order(), MC, at(0, 0))), "pass");
    tables.get("cities")!.apply("Paris", false);
    assert.equal(verdict(p.run(order(), MC, at(0, 0))), 'ERROR: key "Paris" is not in the reference topic cities');
  });

  it("tells the caller to hold a message up to reference.wait for its key, then to judge it", () => {
    const tables = new Map<string, ReferenceTable>();
    const p = partition(rules, tables);
    const m = order();
    assert.equal(p.waitUntil(m, 1000, 1000), 31_000);
    assert.equal(p.waitUntil(m, 1000, 30_999), 31_000);
    assert.equal(p.waitUntil(m, 1000, 31_000), undefined, "the wait is over: judge (and fail) it now");
    tables.get("cities")!.apply("Paris", true);
    assert.equal(p.waitUntil(m, 1000, 2000), undefined, "the key arrived: judge it now");
  });
});

describe("STATEFUL_COMPLETE", () => {
  const ITEMS = { "complete.parent": "has(message.items)", "complete.parts": "size(message.items)", "complete.part.of": "message.note", "complete.within": "5m" };
  const rules = [stateful("allItems", "STATEFUL_COMPLETE", "message.id", ITEMS, { onFailure: "DLQ" })];
  const parent = (id: string, n: number) => order({ id, items: Array.from({ length: n }, (_, i) => ({ sku: `s${i}`, price: 1 })) });
  const part = (of: string) => {
    const { items: _none, ...rest } = order({ id: `part-of-${of}`, note: of });
    return rest;
  };

  it("completes when all declared parts arrive, parts before or after the parent", () => {
    const p = partition(rules);
    p.run(part("o1"), MC, at(0, 0));
    p.run(parent("o1", 2), MC, at(0, 1000));
    assert.deepEqual(p.timers(2000, MC), []);
    p.run(part("o1"), MC, at(0, 3000));
    const [done, ...rest] = p.timers(3000, MC);
    assert.deepEqual(rest, []);
    assert.deepEqual({ rule: done!.rule.name, event: done!.event, kind: done!.outcome.kind }, { rule: "allItems", event: { key: "o1", complete: true, expected: 2, arrived: 2 }, kind: "passed" });
    assert.equal(p.sizes().allItems, 0, "state is cleaned up after completion");
  });

  it("a part delivered again is not counted twice", () => {
    const p = partition(rules);
    p.run(parent("o3", 2), MC, at(0, 0));
    const once = at(0, 0);
    p.run(part("o3"), MC, once);
    const q = restored(p, rules);
    q.run(part("o3"), MC, once);
    assert.deepEqual(q.timers(1, MC), [], "not complete: the same part twice");
    q.run(part("o3"), MC, at(0, 2));
    assert.deepEqual(q.timers(2, MC).map((f) => f.event), [{ key: "o3", complete: true, expected: 2, arrived: 2 }]);
  });

  it("fires on the wall clock with no further traffic, failing the group with what is missing, through onFailure", () => {
    const p = partition(rules);
    p.run(parent("o2", 3), MC, at(0, 10_000));
    p.run(part("o2"), MC, at(0, 20_000));
    p.run(part("orphan"), MC, at(0, 30_000));
    assert.equal(p.nextDue(), 310_000);
    assert.deepEqual(p.timers(309_999, MC), []);
    const fired = p.timers(330_000, MC);
    assert.deepEqual(
      fired.map((f) => verdict(f.outcome)),
      ['DLQ: parent "o2": 1 of 3 part(s) arrived within 300000 ms; 2 missing', 'DLQ: parent "orphan": 1 part(s) arrived but the parent did not, within 300000 ms'],
    );
    assert.equal(p.sizes().allItems, 0, "state is cleaned up after a timeout");
    assert.equal(p.nextDue(), undefined);
  });

  it("restores open groups with their deadlines, whatever order the changelog holds them in", () => {
    const p = partition(rules);
    p.run(parent("late", 2), MC, at(0, 50_000));
    p.run(parent("early", 2), MC, at(0, 10_000));
    p.run(part("late"), MC, at(0, 60_000));
    const q = restored(p, rules);
    assert.equal(q.nextDue(), 310_000);
    assert.deepEqual(q.timers(320_000, MC).map((f) => f.event.key), ["early"]);
    q.run(part("late"), MC, at(0, 330_000));
    assert.deepEqual(q.timers(330_000, MC).map((f) => [f.event.key, f.event.complete]), [["late", true]]);
  });
});

describe("restore from an untrusted changelog", () => {
  // Whoever can write a changelog topic decides what is restored (docs/threat-model.md): entries past
  // state.max.keys are not held, as the live path would not have held them, so memory stays bounded.
  const forged = (rule: string, n: number, value: (i: number) => string) => Array.from({ length: n }, (_, i) => ({ rule, key: `k${i}`, value: value(i) }));
  const cases: [string, Rule, (i: number) => string][] = [
    ["unique, windowed", stateful("u", "STATEFUL_UNIQUE", "message.id", { "unique.window": "1h", "state.max.keys": "3" }), (i) => `${i}@${i}`],
    ["unique, last N", stateful("u", "STATEFUL_UNIQUE", "message.id", { "unique.last": "100", "state.max.keys": "3" }), (i) => `${i + 1}@${i}`],
    ["order", stateful("u", "STATEFUL_ORDER", "message.qty", { "order.key": "message.id", "state.max.keys": "3" }), (i) => JSON.stringify({ s: "i:1", t: i, o: i })],
    ["complete", stateful("u", "STATEFUL_COMPLETE", "message.id", { "complete.parent": "true", "complete.parts": "1", "complete.part.of": "message.id", "complete.within": "1h", "state.max.keys": "3" }), (i) => JSON.stringify({ n: 2, a: 1, d: i + 3_600_000, o: i })],
  ];
  for (const [name, rule, value] of cases) {
    it(`${name}: holds at most state.max.keys entries, however many the changelog holds`, () => {
      const p = partition([rule]);
      for (const c of forged("u", 1000, value)) p.restore(c.rule, c.key, c.value);
      assert.equal(p.sizes().u, 3);
    });
  }

  it("a changelog the live path wrote restores whole at the cap: a key refused when full was never written", () => {
    const rules = [stateful("u", "STATEFUL_UNIQUE", "message.id", { "unique.window": "10m", "state.max.keys": "3" })];
    const p = partition(rules);
    // Keys age out of the window as record time moves, so later keys fit again.
    const verdicts = run(p, [[{ id: "a" }, 0], [{ id: "b" }, 1], [{ id: "c" }, 2], [{ id: "d" }, 3], [{ id: "e" }, 11 * MIN], [{ id: "f" }, 11 * MIN]]);
    assert.deepEqual(verdicts.map((v) => v.split(":")[0]), ["pass", "pass", "pass", "DLQ", "pass", "pass"]);
    const q = restored(p, rules);
    assert.equal(q.sizes().u, p.sizes().u);
    assert.deepEqual(run(q, [[{ id: "e" }, 11 * MIN], [{ id: "f" }, 11 * MIN]]).map((v) => v.split(":")[0]), ["DLQ", "DLQ"]);
  });
});

describe("stateful rules in the engine", () => {
  it("are skipped by the per-message phases, switched off by an override, and absent from contracts without them", () => {
    const rules = [stateful("idUnique", "STATEFUL_UNIQUE", "message.id", { "unique.window": "10m" })];
    assert.equal(plan(rules).read.empty, true);
    assert.equal(plan(rules, { overrides: [{ rule: "idUnique", disabled: true }] }).statefulPartition({ table: referenceTable })?.rules.length, 0);
    assert.equal(plan([]).statefulPartition({ table: referenceTable }), undefined);
  });

  it("keys in violations are redacted when the schema has sensitive fields", () => {
    const p = taggedPlan([stateful("emailUnique", "STATEFUL_UNIQUE", "message.email", { "unique.last": "9" })]).statefulPartition({ table: referenceTable })!;
    p.run(order(), MC, at(0, 0));
    const o = p.run(order(), MC, at(0, 0));
    assert.equal(verdict(o), 'DLQ: duplicate key "<REDACTED>" among the last 9 keys');
    assert.ok(o.kind === "failed" && !JSON.stringify(o.violations).includes("ada@example") && !o.error.message.includes("ada@example"));
  });

  it("a rule whose params do not parse fails every message with its compile error, as any rule that does not compile", () => {
    const p = partition([stateful("bad", "STATEFUL_UNIQUE", "message.id", { "unique.window": "soon" })]);
    assert.match(verdict(p.run(order(), MC, at(0, 0))), /param unique.window: "soon" is not a duration/);
  });
});
