#!/usr/bin/env node
// Runs the test suite: every test/**/*.test.ts, unit tests first, then the
// integration tests against the real broker and registry (started on demand
// by test/helpers/infra.ts). Node 20's test runner has no glob support, hence this file.
// Usage: node scripts/run-tests.mjs [path-filter...]
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = join(import.meta.dirname, "..");
const filters = process.argv.slice(2);

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}

const files = find(join(root, "test"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort((a, b) => Number(a.startsWith("test/integration")) - Number(b.startsWith("test/integration")) || a.localeCompare(b));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
// The CLI and the package tests run the compiled build: rebuild it when a source is newer.
const built = join(root, "dist/src/index.js");
const newest = (dir) => Math.max(...readdirSync(dir).map((n) => (statSync(join(dir, n)).isDirectory() ? newest(join(dir, n)) : statSync(join(dir, n)).mtimeMs)));
if (!existsSync(built) || newest(join(root, "src")) > statSync(built).mtimeMs) {
  console.error("building dist/ (the CLI runs the compiled build)");
  const b = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
