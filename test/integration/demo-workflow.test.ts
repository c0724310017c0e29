/**
 * `npm run demo:workflow` against the real broker and registry: push, produce,
 * a rule pushed, and the same producer enforcing it. The demo is documentation
 * users run; this keeps what it prints true.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ensureInfra } from "../helpers/infra.js";

const ROOT = join(import.meta.dirname, "../..");

test("demo:workflow: the rule pushed while the producer runs dead-letters the order it forbids", async () => {
  await ensureInfra();
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(ROOT, "scripts/demo-workflow.ts")], { cwd: ROOT, timeout: 120_000 });
  // Before the change the big order goes out; after it, the same order is dead-lettered by the new rule.
  assert.match(stdout, /o-2 {2}sent /);
  assert.match(stdout, /o-3 {2}dead-lettered .* by rule amountPositive/);
  assert.match(stdout, /\+ tightening {2}rule maxAmount added to domainRules/);
  assert.match(stdout, /v2: ruleSet only, same schema; rules \+maxAmount/);
  assert.match(stdout, /registered \S+ v2 as v2/);
  assert.match(stdout, /o-4 {2}dead-lettered .* by rule maxAmount/);
  assert.match(stdout, /o-5 {2}sent /);
  // The consumer gets every sent order, masked.
  assert.equal([...stdout.matchAll(/\{"id":"o-\d","amount":[^}]*"email":"\*\*\*"\}/g)].length, 3);
});
