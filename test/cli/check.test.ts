/**
 * `kontract check`, the main job, on the shipped contracts and fixtures.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const BIN = join(import.meta.dirname, "../../bin/kontract.mjs");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: join(import.meta.dirname, "../..") });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("check runs the sample orders through the orders contract and reports per rule", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const dlq = join(dir, "dlq.jsonl");
  const r = run("check", "orders-value", "fixtures/orders.jsonl", "--dlq", dlq, "--json", "--quiet");
  assert.equal(r.code, 1, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.subject, "orders-value");
  assert.equal(summary.total, summary.passed + summary.failed + summary.invalid);
  assert.ok(summary.passed > 0 && summary.failed > 0);
  const records = readFileSync(dlq, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(records.length, summary.failed + summary.invalid);
  const failedRules = Object.entries(summary.byRule as Record<string, { failed: number }>).reduce((n, [, r]) => n + r.failed, 0);
  assert.equal(failedRules, summary.failed);
  for (const rec of records.filter((x) => x.rule)) {
    assert.ok(rec.violations.length > 0);
    // the PII-tagged email never reaches the dead-letter file in clear text
    assert.ok(!JSON.stringify(rec.message).includes("@example"), JSON.stringify(rec.message));
  }
});

test("check exits 0 when every message passes, and prints a readable summary", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const file = join(dir, "good.jsonl");
  const first = readFileSync("fixtures/orders.jsonl", "utf8").split("\n")[0]!;
  writeFileSync(file, first + "\n" + first + "\n");
  const r = run("check", "orders-value", file, "--dlq", join(dir, "dlq.jsonl"), "--quiet");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /orders-value v\d+ \(WRITE\): 2 messages/);
  assert.match(r.stdout, /passed\s+2/);
});

test("check reports messages that are not JSON or do not fit the schema as invalid", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const file = join(dir, "bad.jsonl");
  writeFileSync(file, "{not json\n" + JSON.stringify({ orderId: 5 }) + "\n");
  const r = run("check", "orders-value", file, "--dlq", join(dir, "dlq.jsonl"), "--json", "--quiet");
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).invalid, 2);
});

test("usage errors exit 2 with a message; an unknown subject names it", () => {
  assert.equal(run("check").code, 2);
  assert.equal(run("check", "orders-value", "fixtures/orders.jsonl", "--mode", "SIDEWAYS").code, 2);
  const r = run("check", "nosuch-value", "fixtures/orders.jsonl", "--quiet");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nosuch-value/);
  assert.equal(run("frobnicate").code, 2);
});

test("check --mode READ runs the consumer-side rules", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const r = run("check", "customers-value", "fixtures/customers.jsonl", "--mode", "READ", "--dlq", join(dir, "d.jsonl"), "--json", "--quiet");
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  assert.equal(JSON.parse(r.stdout).mode, "READ");
});

test("--exit-zero reports failures but exits 0 (the README's first command relies on it)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const r = run("check", "orders-value", "fixtures/orders.jsonl", "--dlq", join(dir, "d.jsonl"), "--json", "--quiet", "--exit-zero");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).failed > 0);
});

test("check refuses a contract whose rule is named __proto__ instead of losing its counts", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  mkdirSync(join(dir, "rules"));
  const rule = (name: string, onFailure: string) => `    - {name: ${name}, kind: CONDITION, type: CEL, expr: message.x > 0, onFailure: ${onFailure}}`;
  writeFileSync(join(dir, "rules/a.yaml"), ["subject: a-value", `schema: '{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}'`, "ruleSet:", "  domainRules:", rule("__proto__", "ERROR"), ""].join("\n"));
  writeFileSync(join(dir, "m.jsonl"), '{"x":0}\n');
  const r = run("check", "a-value", join(dir, "m.jsonl"), "--rules", join(dir, "rules"), "--dlq", join(dir, "d.jsonl"), "--quiet");
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /__proto__/);
});

test("a line nested 3,000 deep is counted invalid and the run goes on", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const good = readFileSync("fixtures/customers.jsonl", "utf8").split("\n")[0]!;
  const deepArray = "[".repeat(3000) + "1" + "]".repeat(3000);
  const deepField = good.replace(/}$/, `,"extra":${'{"a":'.repeat(3000)}1${"}".repeat(3000)}}`);
  writeFileSync(join(dir, "m.jsonl"), [good, deepArray, deepField, good, ""].join("\n"));
  const dlq = join(dir, "d.jsonl");
  const r = run("check", "customers-value", join(dir, "m.jsonl"), "--dlq", dlq, "--json", "--quiet");
  assert.equal(r.code, 1, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual([summary.total, summary.passed, summary.invalid], [4, 2, 2]);
  const records = readFileSync(dlq, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(records.map((x) => [x.line, x.reason]), [[2, "invalid"], [3, "invalid"]]);
  assert.match(records[0].error, /nested deeper than 1000/);
});

test("a missing messages file, or a folder given as one, is a one-line error with exit 2", () => {
  for (const [file, message] of [
    ["nosuch.jsonl", /^kontract: no such file: nosuch\.jsonl\n$/],
    ["fixtures", /^kontract: fixtures is a folder, not a file of messages\n$/],
  ] as const) {
    const r = run("check", "orders-value", file, "--quiet");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});

test("a missing --rules folder is reported once", () => {
  const r = run("check", "orders-value", "fixtures/orders.jsonl", "--rules", "nosuch", "--quiet");
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split("no such file or directory: nosuch").length - 1, 1, r.stderr);
});

test("a run without failures empties a dead-letter file left by an earlier run", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const file = join(dir, "good.jsonl");
  writeFileSync(file, readFileSync("fixtures/orders.jsonl", "utf8").split("\n")[0]! + "\n");
  const dlq = join(dir, "dlq.jsonl");
  writeFileSync(dlq, '{"line":7,"rule":"stale"}\n');
  const r = run("check", "orders-value", file, "--dlq", dlq, "--json", "--quiet");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(dlq, "utf8"), "");
  assert.equal(JSON.parse(r.stdout).dlqFile, undefined);
});

test("--dlq naming the messages file is refused before anything is written", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const file = join(dir, "m.jsonl");
  const text = readFileSync("fixtures/orders.jsonl", "utf8");
  writeFileSync(file, text);
  const r = run("check", "orders-value", file, "--dlq", file, "--quiet");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dlq/);
  assert.equal(readFileSync(file, "utf8"), text);
});

test("an unknown subject lists the known ones and suggests the nearest", () => {
  const r = run("check", "order-value", "fixtures/orders.jsonl", "--quiet");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /subject order-value not found \(did you mean orders-value\?\); subjects: customers-value, orders-value, payments-value\n$/);
  const far = run("check", "zzz", "fixtures/orders.jsonl", "--quiet");
  assert.match(far.stderr, /subject zzz not found; subjects: customers-value, orders-value, payments-value\n$/);
});

test("a contract whose schemaFile is /dev/zero is refused with exit 2, not read", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  mkdirSync(join(dir, "rules"));
  writeFileSync(join(dir, "rules/a.yaml"), "subject: a-value\nschemaFile: /dev/zero\n");
  writeFileSync(join(dir, "m.jsonl"), "{}\n");
  const r = run("check", "a-value", join(dir, "m.jsonl"), "--rules", join(dir, "rules"), "--quiet");
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /schemaFile "\/dev\/zero" is refused: absolute paths are not allowed/);
});

test("a line longer than 16 MiB is counted invalid without being held, and the run goes on", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const good = readFileSync("fixtures/customers.jsonl", "utf8").split("\n")[0]!;
  const huge = `{"pad":"${"x".repeat(16 * 1024 * 1024)}"}`;
  writeFileSync(join(dir, "m.jsonl"), [good, huge, good, ""].join("\n"));
  const dlq = join(dir, "d.jsonl");
  const r = run("check", "customers-value", join(dir, "m.jsonl"), "--dlq", dlq, "--json", "--quiet");
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual([JSON.parse(r.stdout).total, JSON.parse(r.stdout).passed, JSON.parse(r.stdout).invalid], [3, 2, 1]);
  const [record] = readFileSync(dlq, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(record.line, 2);
  assert.match(record.error, /longer than 16777216 bytes \(16777226\)/);
});

test("a contract with an asynchronous (JSONata) rule: outcomes and dead-letter line numbers stay in file order", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  mkdirSync(join(dir, "rules"));
  writeFileSync(
    join(dir, "rules/a.yaml"),
    [
      "subject: a-value",
      `schema: '{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}'`,
      "ruleSet:",
      "  domainRules:",
      "    - {name: xPositive, kind: CONDITION, mode: WRITE, type: JSONATA, expr: x > 0, onFailure: DLQ}",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "m.jsonl"), ['{"x":1}', '{"x":0}', "", '{"x":"no"}', '{"x":2}', '{"x":-3}'].join("\n"));
  const dlq = join(dir, "d.jsonl");
  const r = run("check", "a-value", join(dir, "m.jsonl"), "--rules", join(dir, "rules"), "--dlq", dlq, "--json", "--quiet");
  assert.equal(r.code, 1, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual([summary.total, summary.passed, summary.failed, summary.invalid], [5, 2, 2, 1]);
  const records = readFileSync(dlq, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(records.map((x) => [x.line, x.rule ?? x.reason]), [[2, "xPositive"], [4, "invalid"], [6, "xPositive"]]);
});

test("check parses only the contract files naming its subject: a broken file elsewhere stops it only when the subject is not found", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const rules = join(dir, "rules");
  mkdirSync(join(rules, "schemas"), { recursive: true });
  for (const f of ["orders.yaml", "schemas/orders-v1.avsc", "schemas/orders-v2.avsc"]) writeFileSync(join(rules, f), readFileSync(join("rules", f)));
  writeFileSync(join(rules, "broken.yaml"), "subject: broken-value\nschema: [\n");
  const file = join(dir, "good.jsonl");
  writeFileSync(file, readFileSync("fixtures/orders.jsonl", "utf8").split("\n")[0]! + "\n");
  const ok = run("check", "orders-value", file, "--rules", rules, "--dlq", join(dir, "dlq.jsonl"), "--quiet");
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const unknown = run("check", "order-value", file, "--rules", rules, "--dlq", join(dir, "dlq.jsonl"), "--quiet");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /broken\.yaml:3:1/);
});
