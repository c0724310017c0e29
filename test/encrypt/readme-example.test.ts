/**
 * The README's "Encryption" example runs offline as written: the code block is taken from the
 * README, its imports pointed at the built package, and run in a child process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");

test("the README's Encryption example runs and round-trips the encrypted field", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Encryption\n"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, "the section has a ts code block");
  const script = `${code}
const raw = Buffer.from(out.bytes);
if (raw.includes("123-45-6789") || !raw.includes("Ada")) throw new Error("ssn not encrypted, or name not in clear");
console.log(JSON.stringify({ kind: back.kind, value: { ...back.value } }));`;
  // Run as a module in the package root, where "kontract" resolves to the built package (package.json exports).
  const r = spawnSync(process.execPath, ["--input-type=module", "--eval", script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { kind: "deserialized", value: { name: "Ada", ssn: "123-45-6789" } });
});
