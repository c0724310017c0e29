/**
 * What `kontract check` prints and writes: help, version, summary wording,
 * progress, and the dead-letter records' form.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import pkg from "../../package.json" with { type: "json" };
import { createProgress } from "../../src/cli/progress.js";

const BIN = join(import.meta.dirname, "../../bin/kontract.mjs");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: join(import.meta.dirname, "../..") });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FIRST_ORDER = readFileSync(join(import.meta.dirname, "../../fixtures/orders.jsonl"), "utf8").split("\n")[0]!;

test("kontract --version prints the tool's version; check --version N still picks a contract version", () => {
  for (const flag of ["--version", "-V"]) {
    const r = run(flag);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `kontract ${pkg.version}\n`);
  }
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  writeFileSync(join(dir, "m.jsonl"), FIRST_ORDER + "\n");
  const r = run("check", "orders-value", join(dir, "m.jsonl"), "--version", "2", "--dlq", join(dir, "d.jsonl"), "--json");
  assert.equal(JSON.parse(r.stdout).version, 2, r.stderr);
});

test("check --help lists the exit codes and says where the tool version is", () => {
  const r = run("check", "--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout.replace(/\s+/g, " "), /Exit codes: 0 every message passed, 1 some failed or were invalid \(0 with --exit-zero\), 2 usage or contract errors/);
  assert.match(r.stdout, /kontract --version/);
  assert.match(run("--help").stdout, /--version/);
});

test("one message is '1 message'", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  writeFileSync(join(dir, "m.jsonl"), FIRST_ORDER + "\n");
  const r = run("check", "orders-value", join(dir, "m.jsonl"), "--dlq", join(dir, "d.jsonl"), "--quiet");
  assert.match(r.stdout, /\(WRITE\): 1 message\n/);
});

test("an empty messages file passes with a warning on stderr", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  writeFileSync(join(dir, "m.jsonl"), "\n\n");
  const r = run("check", "orders-value", join(dir, "m.jsonl"), "--dlq", join(dir, "d.jsonl"), "--json");
  assert.equal(r.code, 0);
  assert.equal(JSON.parse(r.stdout).total, 0);
  assert.match(r.stderr, /^kontract: warning: .*m\.jsonl has no messages\n$/);
});

test("--json prints no progress on stderr", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  writeFileSync(join(dir, "m.jsonl"), FIRST_ORDER + "\n");
  const r = run("check", "orders-value", join(dir, "m.jsonl"), "--dlq", join(dir, "d.jsonl"), "--json");
  assert.equal(r.stderr, "");
});

test("progress that was shown ends on a 100% line (the clock is injected: no timing)", () => {
  let out = "";
  const stream = Object.assign(new Writable({ write: (c, _e, done) => ((out += String(c)), done()) }), { isTTY: false }) as unknown as NodeJS.WriteStream;
  let now = 0;
  const progress = createProgress(1000, stream, "checked", () => now);
  now = 6000;
  progress.tick(10, 400);
  assert.match(out, /checked 10 messages 40%/);
  progress.finish(25, 1000);
  assert.match(out.trimEnd().split("\n").at(-1)!, /^checked 25 messages 100%/);
  // A short run that never showed progress stays quiet at the end too.
  out = "";
  now = 0;
  const quiet = createProgress(1000, stream, "checked", () => now);
  quiet.tick(1, 10);
  quiet.finish(1, 1000);
  assert.equal(out, "");
});

test("dead letters show Avro values as plain JSON, as the user wrote them, with sensitive fields redacted", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const order = { ...JSON.parse(FIRST_ORDER), totalAmount: -5, couponCode: "SPRING10" };
  writeFileSync(join(dir, "m.jsonl"), JSON.stringify(order) + "\n");
  const dlq = join(dir, "d.jsonl");
  const r = run("check", "orders-value", join(dir, "m.jsonl"), "--dlq", dlq, "--json");
  assert.equal(r.code, 1, r.stderr);
  const [record] = readFileSync(dlq, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(record.rule, "amountPositive");
  assert.equal(record.message.couponCode, "SPRING10");
  assert.equal(record.message.totalAmount, -5);
  assert.notEqual(record.message.email, order.email);
  assert.ok(!readFileSync(dlq, "utf8").includes(order.email));
});

test("Avro bytes are base64 in the messages file and in the dead letters", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  mkdirSync(join(dir, "rules"));
  writeFileSync(
    join(dir, "rules/b.yaml"),
    [
      "subject: b-value",
      `schema: '{"type":"record","name":"B","fields":[{"name":"b","type":"bytes"},{"name":"n","type":["null","string"],"default":null}]}'`,
      "ruleSet:",
      "  domainRules:",
      "    - {name: twoBytes, kind: CONDITION, mode: WRITE, type: CEL, expr: size(message.b) == 2, onFailure: ERROR}",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "m.jsonl"), '{"b":"/wE=","n":"x"}\n{"b":"AA==","n":{"string":"y"}}\n');
  const dlq = join(dir, "d.jsonl");
  const r = run("check", "b-value", join(dir, "m.jsonl"), "--rules", join(dir, "rules"), "--dlq", dlq, "--json");
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual([JSON.parse(r.stdout).passed, JSON.parse(r.stdout).failed], [1, 1]);
  const [record] = readFileSync(dlq, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual([record.line, record.message], [2, { b: "AA==", n: "y" }]);
});

test("progress ends at 100% on stderr, and --json turns it off (Date.now is stepped: no timing)", async () => {
  const { checkCommand } = await import("../../src/cli/check.js");
  const root = join(import.meta.dirname, "../..");
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const args = ["customers-value", join(root, "fixtures/customers.jsonl"), "--rules", join(root, "rules"), "--dlq", join(dir, "d.jsonl")];
  const realNow = Date.now;
  const realWrite = process.stderr.write;
  let err = "";
  let t = 0;
  Date.now = () => (t += 10_000);
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write;
  try {
    await checkCommand(args, sink);
    const shown = err;
    err = "";
    await checkCommand([...args, "--json"], sink);
    const withJson = err;
    Date.now = realNow;
    process.stderr.write = realWrite;
    const total = readFileSync(join(root, "fixtures/customers.jsonl"), "utf8").trim().split("\n").length;
    assert.match(shown.trimEnd().split("\n").at(-1)!, new RegExp(`^checked ${total} messages 100%`), shown);
    assert.equal(withJson, "");
  } finally {
    Date.now = realNow;
    process.stderr.write = realWrite;
  }
});

/** The CLI in a child whose clock jumps 10 s per reading, so progress shows at every chunk: no timing. */
function runSteppedClock(...args: string[]) {
  const stepClock = "data:text/javascript,let t=0;Date.now=()=>(t+=10000);";
  const r = spawnSync(process.execPath, ["--import", stepClock, BIN, ...args], { encoding: "utf8", cwd: join(import.meta.dirname, "../.."), maxBuffer: 1 << 24 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** About 3 MB of orders (the input is read a megabyte at a time), with a failing and an invalid one. */
function largeOrdersFile(dir: string): { file: string; total: number } {
  const order = JSON.parse(FIRST_ORDER) as Record<string, unknown>;
  const lines: string[] = [];
  for (let i = 0; i < 9000; i++) lines.push(JSON.stringify({ ...order, orderId: `ord-${i}`, totalAmount: i === 10 ? -1 : 10 + i }));
  lines.push("{not json");
  const file = join(dir, "large.jsonl");
  writeFileSync(file, lines.join("\n") + "\n");
  return { file, total: lines.length };
}

test("the CLI's progress on a file of several chunks rises and ends on a 100% line with every message counted", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const { file, total } = largeOrdersFile(dir);
  const r = runSteppedClock("check", "orders-value", file, "--dlq", join(dir, "d.jsonl"), "--exit-zero");
  assert.equal(r.code, 0, r.stderr);
  const shown = r.stderr.trimEnd().split("\n");
  assert.ok(shown.length >= 3, r.stderr);
  const percents = shown.map((l) => Number(/ (\d+)% /.exec(l)?.[1]));
  assert.deepEqual([...percents].sort((a, b) => a - b), percents, r.stderr);
  assert.ok(percents[0]! < 100, r.stderr);
  assert.match(shown.at(-1)!, new RegExp(`^checked ${total.toLocaleString("en-US")} messages 100% `));
});

test("--json --quiet (and each alone) print nothing on stderr, even where progress would show", () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-check-"));
  const { file, total } = largeOrdersFile(dir);
  for (const flags of [["--json", "--quiet"], ["--json"], ["--quiet"]]) {
    const r = runSteppedClock("check", "orders-value", file, "--dlq", join(dir, "d.jsonl"), ...flags);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, "", flags.join(" "));
    if (flags.includes("--json")) assert.deepEqual([JSON.parse(r.stdout).total, JSON.parse(r.stdout).failed, JSON.parse(r.stdout).invalid], [total, 1, 1]);
  }
});
