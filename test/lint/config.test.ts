/**
 * The configuration file: what it accepts, how it refuses mistakes (with
 * file:line:col), and the glob semantics of `ignore` and `overrides`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { globMatches, isIgnored, parseConfig, severityFor } from "../../src/lint/index.js";
import { isKontractError } from "../../src/errors.js";

test("a full configuration parses", () => {
  const c = parseConfig(
    `lint:
  severity: {rule-disabled: off, metadata-tag-unmatched: error, dlq-topic-default: false}
  ignore: ["drafts/**", "*.wip.yaml"]
  overrides:
    - files: ["legacy/*.yaml"]
      severity: {migration-missing: warning}
  actions: [AUDIT, MARK]
  ruleTypes: [ENCRYPT]
  requiredParams: {AUDIT: [audit.topic]}
test:
  rules: contracts
  fixtures: tests/fixtures
`,
    "/repo/kontract.config.yaml",
    "/repo",
  );
  assert.deepEqual(c.lint.severity, { "rule-disabled": "off", "metadata-tag-unmatched": "error", "dlq-topic-default": "off" });
  assert.deepEqual(c.lint.actions, ["AUDIT", "MARK"]);
  assert.deepEqual(c.test, { rules: "contracts", fixtures: "tests/fixtures" });
  assert.equal(severityFor(c, "migration-missing", "error", "/repo/legacy/a.yaml"), "warning");
  assert.equal(severityFor(c, "migration-missing", "error", "/repo/rules/a.yaml"), "error");
  assert.equal(severityFor(c, "rule-disabled", "info", "/repo/rules/a.yaml"), "off");
  assert.ok(isIgnored(c, "/repo/drafts/x/y.yaml"));
  assert.ok(isIgnored(c, "/repo/rules/orders.wip.yaml"));
  assert.ok(!isIgnored(c, "/repo/rules/orders.yaml"));
});

test("mistakes are usage errors with the position of the offending key or value", () => {
  const cases: [string, RegExp, number][] = [
    ["lint:\n  severity:\n    cel-unknown-feild: off\n", /unknown diagnostic code `cel-unknown-feild`/, 3],
    ["lint:\n  severity:\n    cel-syntax: fatal\n", /severity must be error, warning, info, hint or off/, 3],
    ["lint:\n  ignroe: [x]\n", /unknown key `ignroe`/, 2],
    ["lint:\n  actions: AUDIT\n", /list of non-empty strings/, 2],
    ["lint:\n  overrides:\n    - severity: {cel-syntax: off}\n", /override needs `files`/, 3],
    ["test:\n  rules: 3\n", /test.rules/, 2],
    ["lint: [\n", /invalid configuration: Flow sequence/, 2],
  ];
  for (const [text, message, line] of cases) {
    assert.throws(
      () => parseConfig(text, "k.yaml", "."),
      (e: unknown) => isKontractError(e) && e.code === "usage" && message.test(e.message) && e.position?.line === line && e.position.file === "k.yaml",
      text,
    );
  }
});

test("globs: * stays within a folder, ** crosses folders, a bare name matches at any depth", () => {
  assert.ok(globMatches("rules/*.yaml", "rules/a.yaml"));
  assert.ok(!globMatches("rules/*.yaml", "rules/x/a.yaml"));
  assert.ok(globMatches("rules/**/*.yaml", "rules/x/y/a.yaml"));
  assert.ok(globMatches("rules/**/*.yaml", "rules/a.yaml"));
  assert.ok(globMatches("*.wip.yaml", "deep/er/a.wip.yaml"));
  assert.ok(globMatches("drafts", "rules/drafts/a.yaml"), "a folder name covers its content");
  assert.ok(globMatches("{a,b}/c?.yaml", "b/c1.yaml"));
  assert.ok(globMatches("[ab].yaml", "a.yaml"));
  assert.ok(!globMatches("[!ab].yaml", "a.yaml"));
  assert.ok(!globMatches("rules/a.yaml", "rules/a.yml"));
});

test("registry.url: the registry plan, push and pull use; credentials in it are refused (configuration files are committed)", () => {
  assert.equal(parseConfig("registry:\n  url: https://sr.example.com\n", "k.yaml", "/p").registry.url, "https://sr.example.com");
  assert.deepEqual(parseConfig("lint: {}\n", "k.yaml", "/p").registry, {});
  assert.throws(() => parseConfig("registry:\n  url: https://key:secret@sr.example.com\n", "k.yaml", "/p"), (e: Error) => /must not hold credentials/.test(e.message) && !e.message.includes("secret"));
  assert.throws(() => parseConfig("registry:\n  token: x\n", "k.yaml", "/p"), /unknown key `token`/);
});

test("kafka.brokers: a list of host:port for kontract dlq; anything else is a usage error at its line", () => {
  assert.deepEqual(parseConfig("kafka:\n  brokers: [a:9092, b:9093]\n", "k.yaml", "/").kafka, { brokers: ["a:9092", "b:9093"] });
  assert.throws(() => parseConfig("kafka:\n  brokers: a:9092\n", "k.yaml", "/"), /k.yaml:2:\d+.*kafka.brokers. must be a list of host:port/);
  assert.throws(() => parseConfig("kafka:\n  servers: [a:1]\n", "k.yaml", "/"), /servers/);
});
