/**
 * `kontract test` sequences for stateful rules (docs/testing.md, "Sequences"): ordered messages on a
 * virtual clock through one consumer's state, expected outcomes per message and per timer, and
 * coverage of stateful rules by sequences.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { yamlToContracts } from "../../src/contract/index.js";
import { FixtureError, parseFixture, runFixtures, type TestReport } from "../../src/testing/index.js";

// READ runs domain rules in reverse: idUnique, written last, judges first, so a duplicate it
// dead-letters never reaches allLines' count.
const CONTRACTS = yamlToContracts(`subject: lines-value
ruleSet:
  domainRules:
    - {name: customerKnown, kind: CONDITION, mode: READ, type: STATEFUL_REFERENCE, expr: message.customer, params: {reference.topic: customers}, onFailure: NONE, disabled: true}
    - {name: allLines, kind: CONDITION, mode: READ, type: STATEFUL_COMPLETE, expr: message.id, params: {complete.parent: "message.lines > 0", complete.parts: message.lines, complete.part.of: message.order, complete.within: 5m}, onFailure: NONE, disabled: true}
    - {name: idUnique, kind: CONDITION, mode: READ, type: STATEFUL_UNIQUE, expr: message.id, params: {unique.window: 10m, dlq.topic: lines-dlq}, onFailure: DLQ, disabled: true}
schema:
  type: record
  name: Line
  namespace: acme
  fields:
    - {name: id, type: string}
    - {name: customer, type: string}
    - {name: order, type: string}
    - {name: lines, type: int}
`);

async function run(sequences: string): Promise<TestReport> {
  const fixture = parseFixture(`subject: lines-value\nsequences:\n${sequences}`, "s.test.yaml");
  return runFixtures({ documents: CONTRACTS, fixtures: [fixture] });
}

const SEQUENCE = `  - name: an order of two lines, one duplicated, one order incomplete
    references: {customers: [c1]}
    steps:
      - {at: 0s, message: {id: o1, customer: c1, order: "", lines: 2}, expect: pass}
      - {at: 1m, message: {id: l1, customer: c1, order: o1, lines: 0}, expect: pass}
      - {at: 2m, message: {id: l1, customer: c1, order: o1, lines: 0}, expect: {violates: [idUnique], action: DLQ}}
      - {at: 3m, message: {id: l2, customer: c9, order: o1, lines: 0}, expect: {violates: [customerKnown], action: NONE}}
      - {at: 3m, message: {id: o2, customer: c1, order: "", lines: 3}, expect: pass}
      - {at: 4m, timers: {completed: [o1]}}
      - {at: 8m, timers: {incomplete: [o2]}}
      - {at: 20m, message: {id: l1, customer: c1, order: o2, lines: 0}, expect: pass}
`;

test("a sequence runs each step through one consumer's state on the virtual clock, timers included", async () => {
  const report = await run(SEQUENCE);
  assert.deepEqual(report.cases.map((c) => [c.name.replace(/.* › /, ""), c.status, c.message ?? ""]), [
    ["step 1", "passed", ""],
    ["step 2", "passed", ""],
    ["step 3", "passed", ""],
    ["step 4", "passed", ""],
    ["step 5", "passed", ""],
    ["step 6", "passed", ""],
    ["step 7", "passed", ""],
    ["step 8", "passed", ""],
  ]);
  assert.deepEqual(report.coverage?.map((c) => [c.rule, c.status]), [["customerKnown", "covered"], ["allLines", "covered"], ["idUnique", "covered"]]);
});

test("a wrong expectation fails its step with what happened instead", async () => {
  const report = await run(`  - name: wrong
    steps:
      - {at: 0s, message: {id: o1, customer: c1, order: "", lines: 1}, expect: {violates: [customerKnown]}}
      - {at: 1m, message: {id: o1, customer: c1, order: "", lines: 1}, expect: pass}
      - {at: 6m, timers: {completed: [o1]}}
`);
  assert.deepEqual(report.cases.map((c) => c.status), ["passed", "failed", "failed"]);
  assert.match(report.cases[1]!.message!, /expected to pass, but it failed with DLQ: idUnique/);
  assert.match(report.cases[2]!.message!, /expected timers to close \{"completed":\["o1"\],"incomplete":\[\]\}, they closed \{"completed":\[\],"incomplete":\["o1"\]\}/);
  const uncovered = report.coverage?.filter((c) => c.status === "uncovered").map((c) => [c.rule, c.reason]);
  assert.deepEqual(uncovered, [
    ["allLines", "no case expects it to fail (expect: {violates: [...]})"],
    ["idUnique", "no case expects it to fail (expect: {violates: [...]})"],
  ]);
});

test("sequence steps are checked when the fixture is parsed", () => {
  assert.throws(
    () => parseFixture(`subject: lines-value\nsequences:\n  - name: s\n    steps:\n      - {at: 2m, message: {}, expect: pass}\n      - {at: 1m, message: {}, expect: pass}\n      - {at: soon, timers: {done: [x]}}\n`, "s.test.yaml"),
    (e: unknown) => e instanceof FixtureError && /s.test.yaml:6:\d+: `at` goes back in time/.test(e.message) && /`at` is a duration/.test(e.message) && /`timers` is \{completed/.test(e.message),
  );
});
