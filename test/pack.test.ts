/**
 * The package as a user installs it: `npm pack`, then `npm install` of the
 * tarball into a fresh project with none of kontract's dev dependencies. The
 * README's library example runs there in plain Node, and so does the CLI.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const ROOT = join(import.meta.dirname, "..");

function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" } });
  assert.equal(r.status, 0, `${command} ${args.join(" ")}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

const EXAMPLE = `
import { createFileRegistry, createContractStore, createSerializer, createDeserializer } from "kontract";
const store = createContractStore({ registry: createFileRegistry({ dir: "rules" }) });
const serializer = createSerializer({ store, writerSchema: { use: "latest" } });
const deserializer = createDeserializer({ store });
const order = { customerId: "C-100001", name: "Ada", email: "Ada@Example.org", tier: "STANDARD", marketingOptIn: false };
const ok = await serializer.serialize("customers", order);
const back = await deserializer.deserialize("customers", ok.bytes);
const bad = await serializer.serialize("customers", { ...order, email: "nope" });
console.log(JSON.stringify({ kind: ok.kind, email: back.value.email, failed: bad.kind, rule: bad.outcome.rule?.name }));
`;

test("npm pack, installed in a fresh project: the library example and the CLI run without dev dependencies", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-pack-"));
  const packed = run("npm", ["pack", "--pack-destination", dir, "--silent"], ROOT).trim().split("\n").at(-1)!;
  const app = join(dir, "app");
  cpSync(join(ROOT, "rules"), join(app, "rules"), { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  run("npm", ["install", "--prefer-offline", "--no-package-lock", join(dir, packed)], app);

  const installed = readdirSync(join(app, "node_modules"));
  for (const dev of ["tsx", "esbuild", "typescript", "@confluentinc"]) assert.ok(!installed.includes(dev), `${dev} was installed with kontract`);
  assert.ok(existsSync(join(app, "node_modules/kontract/dist/src/index.js")));

  writeFileSync(join(app, "example.mjs"), EXAMPLE);
  assert.deepEqual(JSON.parse(run(process.execPath, ["example.mjs"], app)), { kind: "serialized", email: "ada@example.org", failed: "failed", rule: "validEmail" });

  const lint = spawnSync(join(app, "node_modules/.bin/kontract"), ["lint", "rules", "--no-color"], { cwd: app, encoding: "utf8" });
  assert.equal(lint.status, 0, lint.stderr + lint.stdout);
  assert.match(run(join(app, "node_modules/.bin/kontract"), ["--version"], app), /^kontract \d+\.\d+\.\d+/);
});
