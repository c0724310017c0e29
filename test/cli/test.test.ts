/**
 * `kontract test`: the shipped fixtures from the command line, JUnit output,
 * and the exit codes for mismatches, uncovered rules and broken fixture files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testCommand } from "../../src/cli/test.js";
import { FixtureError } from "../../src/testing/index.js";
import { capture, project as makeProject } from "../helpers/cli.js";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/kontract.mjs");

const CONTRACT = `subject: orders-value
ruleSet:
  domainRules:
    - {name: amountPositive, kind: CONDITION, mode: WRITE, type: CEL, expr: message.amount > 0.0}
schema: '{"type": "record", "name": "Order", "namespace": "acme", "fields": [{"name": "amount", "type": "double"}]}'
`;

const project = (files: Record<string, string>): string => makeProject(files, "kontract-test-");
const run = (cwd: string, ...args: string[]) => capture(testCommand, cwd, args);

test("kontract test: the shipped fixtures pass and cover every rule (exit 0), with a JUnit report", () => {
  const junit = join(mkdtempSync(join(tmpdir(), "kontract-test-")), "junit.xml");
  const r = spawnSync(process.execPath, [BIN, "test", "--junit", junit, "--no-color"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /coverage: (\d+) of \1 rules/);
  assert.match(r.stdout, /✔ \d+ cases in 3 files: \d+ passed, 0 failed/);
  const xml = readFileSync(junit, "utf8");
  assert.match(xml, /<testsuites name="kontract test" tests="\d+" failures="0"/);
  assert.match(xml, /<testsuite name="rule coverage"/);
});

test("a mismatch exits 1 and is a JUnit failure naming the case's line", async () => {
  const dir = project({
    "rules/orders.yaml": CONTRACT,
    "fixtures/orders.test.yaml": `subject: orders-value\ncases:\n  - {name: ok, message: {amount: 1.0}, expect: pass}\n  - {name: wrong, message: {amount: 1.0}, expect: {violates: [amountPositive]}}\n`,
  });
  const r = await run(dir, "--junit", "out/junit.xml");
  assert.equal(r.code, 1);
  assert.match(r.out, /✗ wrong \(WRITE v1\)\n {6}at fixtures\/orders.test.yaml:4:12\n {6}expected violations of amountPositive, got none/);
  const xml = readFileSync(join(dir, "out/junit.xml"), "utf8");
  assert.match(xml, /<testcase classname="orders-value \(fixtures\/orders.test.yaml\)" name="wrong \[WRITE v1\]" file="fixtures\/orders.test.yaml" line="4"/);
});

test("an uncovered rule exits 1 unless --no-coverage", async () => {
  const dir = project({ "rules/orders.yaml": CONTRACT, "fixtures/orders.test.yaml": `subject: orders-value\ncases:\n  - {name: ok, message: {amount: 1.0}, expect: pass}\n` });
  const r = await run(dir);
  assert.equal(r.code, 1);
  assert.match(r.out, /✗ orders-value v1 amountPositive \(CONDITION, domainRules\): no case expects it to fail/);
  assert.equal((await run(dir, "--no-coverage")).code, 0);
});

test("--rules, explicit fixture paths, and the configuration's folders", async () => {
  const dir = project({
    "kontract.config.yaml": "test:\n  rules: contracts\n  fixtures: checks\n",
    "contracts/orders.yaml": CONTRACT,
    "checks/nested/orders.test.yaml": `subject: orders-value\ncases:\n  - {name: zero, message: {amount: 0.0}, expect: {violates: amountPositive}}\n`,
  });
  assert.equal((await run(dir)).code, 0);
  assert.equal((await run(dir, "--rules", "contracts", "checks/nested/orders.test.yaml", "--json")).code, 0);
  const json = JSON.parse((await run(dir, "--json")).out);
  assert.equal(json.summary.passed, 1);
});

test("a broken fixture file is a usage error (exit 2) naming file:line:col", async () => {
  const dir = project({ "rules/orders.yaml": CONTRACT, "fixtures/bad.test.yaml": "subject: orders-value\ncases:\n  - {name: a, message: {}, expect: sometimes}\n" });
  await assert.rejects(run(dir), (e: unknown) => e instanceof FixtureError && /fixtures\/bad.test.yaml:3:36: `expect` is `pass`/.test(e.message));
  const r = spawnSync(process.execPath, [BIN, "test"], { cwd: dir, encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /FixtureError/);
  await assert.rejects(run(project({ "rules/orders.yaml": CONTRACT })), /no such file or folder: .*fixtures/);
  await assert.rejects(run(project({ "rules/orders.yaml": CONTRACT, "fixtures/readme.md": "" })), /no fixture files/);
});

test("coverage follows the fixture files given: `kontract test fixtures/orders.test.yaml` (the docs' example) passes", () => {
  const r = spawnSync(process.execPath, [BIN, "test", "fixtures/orders.test.yaml", "--no-color"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /coverage: (\d+) of \1 rules/);
  assert.doesNotMatch(r.stdout, /customers-value|payments-value/);
});

test("without fixture paths, every subject in the rules folder must be covered, even one no fixture names", async () => {
  const other = CONTRACT.replace("orders-value", "other-value");
  const dir = project({
    "rules/orders.yaml": CONTRACT,
    "rules/other.yaml": other,
    "fixtures/orders.test.yaml": `subject: orders-value\ncases:\n  - {name: ok, message: {amount: 1.0}, expect: pass}\n  - {name: bad, message: {amount: -1.0}, expect: {violates: [amountPositive]}}\n`,
  });
  const all = await run(dir);
  assert.equal(all.code, 1);
  assert.match(all.out, /✗ other-value v1 amountPositive/);
  const one = await run(dir, "fixtures/orders.test.yaml");
  assert.equal(one.code, 0, one.out);
  assert.doesNotMatch(one.out, /other-value/);
});
