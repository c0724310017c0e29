/**
 * The rule-test runner: cases go through the real serializer and
 * deserializer; outcomes are compared with expectations; coverage asks for a
 * negative case per condition and an asserted output per transform.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadContractFiles, yamlToContracts } from "../../src/contract/index.js";
import { parseFixture, runFixtures, type TestReport } from "../../src/testing/index.js";

const CONTRACTS = yamlToContracts(`subject: orders-value
metadata:
  properties: {application.major.version: "1"}
ruleSet:
  domainRules:
    - {name: amountPositive, kind: CONDITION, mode: WRITE, type: CEL, expr: message.amount > 0.0}
    - {name: idLooksRight, kind: CONDITION, mode: WRITEREAD, type: CEL, expr: "message.id.startsWith('o-')", onFailure: "DLQ,NONE"}
    - {name: maskEmail, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [PII], expr: "'***'"}
    - {name: off, kind: CONDITION, type: CEL, expr: "false", disabled: true}
schema:
  type: record
  name: Order
  namespace: acme
  fields:
    - {name: id, type: string}
    - {name: amount, type: double}
    - {name: email, type: string, "confluent:tags": [PII]}
---
subject: orders-value
metadata:
  properties: {application.major.version: "2"}
ruleSet:
  migrationRules:
    - {name: up, kind: TRANSFORM, mode: UPGRADE, type: JSONATA, expr: "$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': amount}])"}
    - {name: down, kind: TRANSFORM, mode: DOWNGRADE, type: JSONATA, expr: "$merge([$sift($, function($v, $k) {$k != 'total'}), {'amount': total}])"}
schema:
  type: record
  name: Order
  namespace: acme
  fields:
    - {name: id, type: string}
    - {name: total, type: double}
    - {name: email, type: string}
`);

async function run(cases: string, options: { coverage?: boolean; filter?: string } = {}): Promise<TestReport> {
  const fixture = parseFixture(`subject: orders-value\nx-o: &o {id: o-1, amount: 5.0, email: a@b.c}\ncases:\n${cases}`, "t.test.yaml");
  return runFixtures({ documents: CONTRACTS, fixtures: [fixture], ...options });
}

function messages(r: TestReport): (string | undefined)[] {
  return r.cases.map((c) => (c.status === "passed" ? "ok" : c.message));
}

test("WRITE cases: pass, violations as a set, the action taken, the transformed output", async () => {
  const r = await run(`
  - {name: masked, version: 1, message: *o, expect: {transformedTo: {<<: *o, email: "***"}}}
  - {name: zero, version: 1, message: {<<: *o, amount: 0}, expect: {violates: [amountPositive], action: ERROR}}
  - {name: dlq, version: 1, message: {<<: *o, id: x}, expect: {violates: [idLooksRight], action: DLQ}}
  - {name: invalid, version: 1, message: {<<: *o, amount: "5"}, expect: invalid}
`);
  assert.deepEqual(messages(r), ["ok", "ok", "ok", "ok"]);
  assert.deepEqual(r.cases.map((c) => c.run), ["WRITE v1", "WRITE v1", "WRITE v1", "WRITE v1"]);
});

test("mismatches say what was expected and what happened", async () => {
  const r = await run(`
  - {name: a, version: 1, message: *o, expect: pass}
  - {name: b, version: 1, message: {<<: *o, amount: 0}, expect: {violates: [idLooksRight]}}
  - {name: c, version: 1, message: *o, expect: {transformedTo: {<<: *o, email: "x"}}}
  - {name: d, version: 1, message: {<<: *o, amount: 0}, expect: {violates: [amountPositive], action: DLQ}}
  - {name: e, version: 1, message: *o, expect: invalid}
  - {name: f, version: 1, message: {<<: *o, amount: "x"}, expect: {invalid: "no such text"}}
`);
  assert.equal(r.summary.failed, 5);
  const [a, b, c, d, e, f] = messages(r);
  assert.equal(a, "ok", "masking is a transform, not a violation: the message passes");
  assert.equal(b, "expected violations of idLooksRight, got amountPositive (ERROR: Expr failed: 'message.amount > 0.0')");
  assert.match(c!, /the message is not as expected:\n {2}\$\.email: expected "x", got "\*\*\*"/);
  assert.equal(d, "expected action DLQ, got ERROR");
  assert.match(e!, /^expected the message to be invalid, but it passed/);
  assert.match(f!, /^expected an error containing "no such text", got: /);
});

test("READ cases run the consumer side: pair actions take their READ half", async () => {
  const r = await run(`
  - {name: tolerated, mode: READ, version: 1, message: {<<: *o, id: x}, expect: {violates: [idLooksRight], action: NONE}}
  - {name: unmasked on read, mode: READ, version: 1, message: *o, expect: {transformedTo: *o}}
`);
  assert.deepEqual(messages(r), ["ok", "ok"]);
  assert.deepEqual(r.cases.map((c) => c.run), ["READ v1", "READ v1"]);
});

test("migrations: a message written at one version, read at another (by metadata, latest or version)", async () => {
  const v2 = "{id: o-1, total: 5.0, email: a@b.c}";
  const r = await run(`
  - {name: up by metadata, mode: READ, version: 1, reader: {metadata: {application.major.version: "2"}}, message: *o, expect: {transformedTo: ${v2}}}
  - {name: up to latest, mode: READ, version: 1, reader: latest, message: *o, expect: {transformedTo: ${v2}}}
  - {name: down by version, mode: READ, version: 2, reader: {version: 1}, message: ${v2}, expect: {transformedTo: *o}}
  - {name: no such version, mode: READ, version: 1, reader: {version: 7}, message: *o, expect: pass}
`);
  assert.deepEqual(messages(r), ["ok", "ok", "ok", "reader: subject orders-value has no version 7"]);
  assert.deepEqual(r.cases.map((c) => c.run), ["READ v1 -> v2", "READ v1 -> v2", "READ v2 -> v1", "READ v1 -> v7"]);
});

test("coverage: conditions need a case expecting their violation, transforms a case checking their output", async () => {
  const r = await run(`
  - {name: runs everything, version: 1, message: *o, expect: pass}
  - {name: up, mode: READ, version: 1, reader: latest, message: *o, expect: {transformedTo: {id: o-1, total: 5.0, email: a@b.c}}}
`);
  const byRule = Object.fromEntries(r.coverage!.map((c) => [`v${c.version} ${c.rule}`, c.reason ?? c.status]));
  assert.deepEqual(byRule, {
    "v1 amountPositive": "no case expects it to fail (expect: {violates: [...]})",
    "v1 idLooksRight": "no case expects it to fail (expect: {violates: [...]})",
    "v1 maskEmail": "no case checks its output (expect: {transformedTo: ...})",
    "v1 off": "disabled",
    "v2 up": "covered",
    "v2 down": "no case runs it (a READ case reading a newer version as this one's predecessor)",
  });
  assert.equal(r.summary.uncovered, 4);
  assert.equal((await run(`  - {name: a, version: 1, message: *o, expect: pass}\n`, { filter: "a" })).coverage, undefined);
  assert.equal((await run(`  - {name: a, version: 1, message: *o, expect: pass}\n`, { coverage: false })).summary.uncovered, 0);
});

test("an unknown subject fails its cases with the registry's message", async () => {
  const fixture = parseFixture("subject: nope-value\ncases:\n  - {name: a, message: {}, expect: pass}\n", "n.test.yaml");
  const r = await runFixtures({ documents: CONTRACTS, fixtures: [fixture], coverage: false });
  assert.match(r.cases[0]!.message!, /cannot resolve the writer's contract: subject nope-value not found/);
});

test("the shipped fixtures pass and cover every rule of the shipped contracts", async () => {
  const root = join(import.meta.dirname, "../..");
  const documents = loadContractFiles(join(root, "rules"));
  const dir = join(root, "fixtures");
  const fixtures = readdirSync(dir)
    .filter((f) => f.endsWith(".test.yaml"))
    .map((f) => parseFixture(readFileSync(join(dir, f), "utf8"), `fixtures/${f}`));
  const r = await runFixtures({ documents, fixtures });
  assert.deepEqual(r.cases.filter((c) => c.status !== "passed").map((c) => `${c.file} ${c.name}: ${c.message}`), []);
  const uncovered = r.coverage!.filter((c) => c.status === "uncovered").map((c) => `${c.subject} v${c.version} ${c.rule}: ${c.reason}`);
  assert.deepEqual(uncovered, []);
  // Every enabled rule of every subject in rules/ is in the coverage list, and only disabled ones are exempt.
  const enabled = documents.flatMap((d) => ["domainRules", "migrationRules", "encodingRules"].flatMap((p) => (d.contract.ruleSet?.[p as "domainRules"] ?? []).filter((x) => !x.disabled).map((x) => `${d.subject} v${d.version} ${x.name}`)));
  const covered = r.coverage!.filter((c) => c.status === "covered").map((c) => `${c.subject} v${c.version} ${c.rule}`);
  assert.deepEqual(covered.sort(), enabled.sort());
});
