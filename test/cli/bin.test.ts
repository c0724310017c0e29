/**
 * bin/kontract.mjs: it runs the CLI bundle (dist/cli/kontract.cjs) from V8's
 * code cache beside it, writes that cache when it is missing or rejected, and
 * runs as well without it. Run on a copy of bin/ and dist/cli/, so the tests
 * never touch the build the other tests run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const ROOT = join(import.meta.dirname, "../..");

/** A package folder with bin/, dist/cli/kontract.cjs (no cache yet) and node_modules (a link). */
function copyOfTheCli(): { dir: string; cache: string } {
  const dir = mkdtempSync(join(tmpdir(), "kontract-bin-"));
  mkdirSync(join(dir, "dist/cli"), { recursive: true });
  cpSync(join(ROOT, "bin"), join(dir, "bin"), { recursive: true });
  cpSync(join(ROOT, "dist/cli/kontract.cjs"), join(dir, "dist/cli/kontract.cjs"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const id = /^\/\/ kontract-build ([0-9a-f]{16})\n/.exec(readFileSync(join(dir, "dist/cli/kontract.cjs"), "utf8"))?.[1];
  assert.ok(id, "the bundle starts with its build id");
  return { dir, cache: join(dir, `dist/cli/kontract.cjs.${id}.${process.version}-${process.arch}.cache`) };
}

function check(dir: string) {
  const r = spawnSync(process.execPath, [join(dir, "bin/kontract.mjs"), "check", "orders-value", "fixtures/orders.jsonl", "--dlq", join(dir, "dlq.jsonl"), "--json", "--quiet"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, "");
  return JSON.parse(r.stdout) as { total: number; passed: number; failed: number };
}

test("the first run writes the code cache, later runs use it unchanged, and all report the same", () => {
  const { dir, cache } = copyOfTheCli();
  assert.ok(!existsSync(cache));
  const first = check(dir);
  assert.ok(statSync(cache).size > 100_000, "a cache of the functions the run compiled");
  const written = readFileSync(cache);
  const second = check(dir);
  assert.deepEqual(second, first);
  // Accepted by V8, so not written again.
  assert.deepEqual(readFileSync(cache), written);
  assert.deepEqual(readdirSync(join(dir, "dist/cli")).filter((f) => f.endsWith(".part")), []);
});

test("a cache V8 rejects (damaged, or from another build) is replaced, and the run is unaffected", () => {
  const { dir, cache } = copyOfTheCli();
  const fresh = check(dir);
  writeFileSync(cache, Buffer.alloc(4096, 7));
  assert.deepEqual(check(dir), fresh);
  assert.ok(statSync(cache).size > 100_000);
  assert.notDeepEqual(readFileSync(cache).subarray(0, 4096), Buffer.alloc(4096, 7));
});

test("a cache is used by the build it was made for only: another build (even of the same length) gets its own", () => {
  const { dir, cache } = copyOfTheCli();
  check(dir);
  assert.ok(existsSync(cache));
  // The same bundle under another build id: V8 would take the old cache (it checks the length only).
  const bundle = join(dir, "dist/cli/kontract.cjs");
  const text = readFileSync(bundle, "utf8");
  const other = text.replace(/^\/\/ kontract-build ([0-9a-f]{16})/, (_, id: string) => `// kontract-build ${[...id].reverse().join("")}`);
  assert.equal(other.length, text.length);
  writeFileSync(bundle, other);
  check(dir);
  assert.equal(readdirSync(join(dir, "dist/cli")).filter((f) => f.endsWith(".cache")).length, 2);
});

test("without the bundle, bin says to build it and exits 2", () => {
  const { dir } = copyOfTheCli();
  rmSync(join(dir, "dist/cli/kontract.cjs"));
  const r = spawnSync(process.execPath, [join(dir, "bin/kontract.mjs"), "--version"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /compiled build is missing .*npm run build/);
});
