/**
 * `kontract lint`: paths, formats written to several files at once, exit
 * codes, the configuration file and its discovery.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lintCommand } from "../../src/cli/lint.js";
import { UsageError } from "../../src/cli/check.js";
import { capture, project as makeProject } from "../helpers/cli.js";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/kontract.mjs");

const SCHEMA = `schema: '{"type": "record", "name": "Order", "namespace": "acme", "fields": [{"name": "amount", "type": "double"}]}'\n`;
const BROKEN = `subject: orders-value\nruleSet:\n  domainRules:\n    - {name: a, kind: CONDITION, type: CEL, expr: message.amout > 0}\n${SCHEMA}`;
const WARNING_ONLY = `subject: orders-value\nruleSet:\n  domainRules:\n    - {name: a, kind: CONDITION, type: CEL, tags: [X], expr: message.amount > 0}\n${SCHEMA}`;

const project = (files: Record<string, string>): string => makeProject(files, "kontract-lint-");
const run = (cwd: string, ...args: string[]) => capture(lintCommand, cwd, args);

test("the shipped rules/ lint clean from the command line (exit 0)", () => {
  const r = spawnSync(process.execPath, [BIN, "lint", "rules", "--no-color"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /rule-disabled/);
  assert.match(r.stdout, /1 problem \(0 errors, 0 warnings, 1 info, 0 hints\)/);
});

test("usage errors exit 2 from the command line", () => {
  for (const args of [["lint", "--format", "xml"], ["lint", "--fail-severity", "fatal"], ["lint", "no/such/dir"], ["lint", "--bogus"]]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^kontract: /);
  }
});

test("exit 1 for errors; warnings fail only at --fail-severity warning", async () => {
  assert.equal((await run(project({ "rules/a.yaml": BROKEN }), "rules")).code, 1);
  const dir = project({ "rules/a.yaml": WARNING_ONLY });
  assert.equal((await run(dir, "rules")).code, 0);
  assert.equal((await run(dir, "rules", "--fail-severity", "warning")).code, 1);
});

test("several formats in one run: stylish on stdout, SARIF and JUnit to files", async () => {
  const dir = project({ "rules/a.yaml": BROKEN });
  const r = await run(dir, "rules", "-f", "stylish", "-f", "sarif", "--output.sarif", "out/lint.sarif", "--output.junit=out/lint.xml");
  assert.equal(r.code, 1);
  assert.match(r.out, /cel-unknown-field/);
  assert.ok(!r.out.includes('"version": "2.1.0"'), "SARIF went to its file, not stdout");
  const sarif = JSON.parse(readFileSync(join(dir, "out/lint.sarif"), "utf8"));
  assert.equal(sarif.runs[0].results[0].ruleId, "cel-unknown-field");
  assert.equal(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, "rules/a.yaml");
  assert.match(readFileSync(join(dir, "out/lint.xml"), "utf8"), /<failure message="rule &quot;a&quot;: unknown field/);
});

test("-o writes the single format to a file; --output with several formats is a usage error", async () => {
  const dir = project({ "rules/a.yaml": BROKEN });
  const r = await run(dir, "rules", "-f", "json", "-o", "lint.json");
  assert.equal(r.out, "");
  assert.equal(JSON.parse(readFileSync(join(dir, "lint.json"), "utf8")).summary.errors, 1);
  await assert.rejects(run(dir, "rules", "-f", "json", "-f", "sarif", "-o", "x"), UsageError);
});

test("the configuration is found upward from the working directory, and --no-config ignores it", async () => {
  const dir = project({
    "kontract.config.yaml": "lint:\n  severity:\n    cel-unknown-field: warning\ntest:\n  rules: contracts\n",
    "contracts/a.yaml": BROKEN,
    "sub/dir/.keep": "",
  });
  const cwd = join(dir, "sub/dir");
  // No path: test.rules of the configuration, resolved against the configuration's folder.
  const found = await run(cwd);
  assert.equal(found.code, 0, found.out);
  assert.match(found.out, /warning/);
  assert.equal((await run(cwd, "--no-config", join(dir, "contracts"))).code, 1);
  assert.equal((await run(dir, "--config", "kontract.config.yaml", "contracts")).code, 0);
  await assert.rejects(run(dir, "--config", "nope.yaml"), UsageError);
});

test("ignored files are not linted (configuration and --ignore); no file left is a usage error", async () => {
  const dir = project({ ".kontract.yaml": "lint:\n  ignore: [rules/drafts]\n", "rules/a.yaml": WARNING_ONLY, "rules/drafts/b.yaml": BROKEN, "rules/c.wip.yaml": BROKEN });
  assert.equal((await run(dir, "rules", "rules/drafts/b.yaml", "--ignore", "*.wip.yaml")).code, 0);
  await assert.rejects(run(dir, "rules/drafts/b.yaml"), /no contract files/);
});

test("custom actions and rule types from the command line", async () => {
  const dir = project({ "rules/a.yaml": `subject: o-value\nruleSet:\n  domainRules:\n    - {name: a, type: CUSTOM, onFailure: AUDIT}\n${SCHEMA}` });
  assert.equal((await run(dir, "rules")).code, 1);
  assert.equal((await run(dir, "rules", "--action", "AUDIT", "--rule-type", "CUSTOM")).code, 0);
  assert.ok(!existsSync(join(dir, "out")));
});
