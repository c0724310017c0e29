/**
 * `npm run demo` against the real broker and registry: a mixed batch, a retry
 * that succeeds on its second attempt, a dead letter replayed once its cause is
 * fixed (and not twice), PII masked. The demo is documentation users run; this
 * keeps what it prints true.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ensureInfra } from "../helpers/infra.js";

const ROOT = join(import.meta.dirname, "../..");

test("demo: bad orders dead-lettered on produce, o-3 handled on its second attempt, o-5 replayed from the DLQ once", async () => {
  await ensureInfra();
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(ROOT, "scripts/demo.ts")], { cwd: ROOT, timeout: 120_000 });
  assert.match(stdout, /o-2 {2}dead-lettered .* rule amountPositive/);
  assert.match(stdout, /o-4 {2}dead-lettered .* rule isoCurrency/);
  // o-3: the first call fails, the retry topic brings it back, the second attempt succeeds.
  assert.match(stdout, /\{"id":"o-3",[^}]*\} {2}from \S+-retry-1, attempt 2/);
  // o-5: fails on both attempts, goes to the DLQ, is replayed once to its topic and handled.
  assert.match(stdout, /-retry-1@\d+ failed again \(handler error\) -> \S+-dlq: out of attempts/);
  assert.match(stdout, /replayed 1 record from \S+-dlq .* a second replay sent 0/);
  assert.match(stdout, /\{"id":"o-5",[^}]*\} {2}from demo-orders-\S+, replayed from \S+-dlq\/\d+\/\d+/);
  // Every order handed to the handler is masked, and each is handled once: o-1, o-3, o-5.
  assert.equal([...stdout.matchAll(/\{"id":"o-\d","amount":[^}]*"email":"\*\*\*"\}/g)].length, 3);
});
