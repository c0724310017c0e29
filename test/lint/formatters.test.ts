/**
 * The output formats: each is a pure function of the report, so each is
 * checked on the same small report.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FORMATTERS, formatReport, lintSources, type FormatterOptions, type LintReport } from "../../src/lint/index.js";

const TEXT = `subject: orders-value
ruleSet:
  domainRules:
    - {name: a, kind: CONDITION, type: CEL, expr: message.amout > 0}
    - {name: b, kind: CONDITION, type: CEL, tags: [x], expr: "message.id < '<&>'"}
    - {name: c, kind: CONDITION, type: CEL, expr: message.id != '', disabled: true}
schema: '{"type": "record", "name": "Order", "namespace": "acme", "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "double"}]}'
`;

const report: LintReport = lintSources([{ file: "/repo/rules/orders.yaml", text: TEXT }]);
const options: FormatterOptions = { failSeverity: "error", color: false, cwd: "/repo", toolVersion: "1.2.3" };

test("the sample report has an error, a warning and an info", () => {
  assert.deepEqual(report.diagnostics.map((d) => [d.severity, d.code]), [
    ["error", "cel-unknown-field"],
    ["warning", "rule-tags-ignored"],
    ["info", "rule-disabled"],
  ]);
});

test("stylish: grouped by file, a code frame with the range underlined, hints, and a total", () => {
  const out = formatReport("stylish", report, options);
  const lines = out.split("\n");
  assert.equal(lines[0], "/repo/rules/orders.yaml");
  assert.match(out, /^ {2}4:59 +error +rule "a": unknown field 'amout' in acme.Order \(did you mean 'amount'\?\) +cel-unknown-field$/m);
  const frame = lines.findIndex((l) => l.includes("> 4 |"));
  assert.ok(frame > 0, out);
  const caret = lines[frame + 1]!;
  assert.equal(caret.indexOf("^"), lines[frame]!.indexOf("amout"));
  assert.equal(caret.trim().replace(/^\|\s*/, ""), "^^^^^");
  assert.match(out, /hint: tags select fields for CEL_FIELD and ENCRYPT rules only/);
  assert.match(lines.at(-2)!, /^✖ 3 problems \(1 error, 1 warning, 1 info, 0 hints\)/);
  assert.ok(!out.includes("\x1b["), "no colors unless asked");
  assert.ok(formatReport("stylish", report, { ...options, color: true }).includes("\x1b[31m"));
});

test("stylish --quiet shows only what fails; a clean report says so", () => {
  const quiet = formatReport("stylish", report, { ...options, quiet: true });
  assert.ok(quiet.includes("cel-unknown-field") && !quiet.includes("rule-tags-ignored") && !quiet.includes("rule-disabled"));
  const clean = formatReport("stylish", lintSources([{ file: "a.yaml", text: "subject: s\nschema: '\"string\"'\n" }]), options);
  assert.match(clean, /^✔ no problems \(1 file, 1 contract, 0 rules\)\n$/);
});

test("json: the summary and every diagnostic, as data", () => {
  const parsed = JSON.parse(formatReport("json", report, options));
  assert.equal(parsed.version, 1);
  assert.deepEqual(parsed.summary, report.summary);
  assert.deepEqual(parsed.diagnostics, JSON.parse(JSON.stringify(report.diagnostics)));
});

test("sarif: SARIF 2.1.0 with one reporting rule per code, levels, regions and relative URIs", () => {
  const log = JSON.parse(formatReport("sarif", report, options));
  assert.equal(log.version, "2.1.0");
  assert.match(log.$schema, /sarif-2\.1\.0/);
  const run = log.runs[0];
  assert.equal(run.tool.driver.name, "kontract");
  assert.equal(run.tool.driver.version, "1.2.3");
  assert.deepEqual(run.tool.driver.rules.map((r: { id: string }) => r.id), ["cel-unknown-field", "rule-disabled", "rule-tags-ignored"]);
  assert.deepEqual(run.results.map((r: { level: string }) => r.level), ["error", "warning", "note"]);
  assert.equal(run.originalUriBaseIds["%SRCROOT%"].uri, "file:///repo/");
  for (const r of run.results) {
    assert.equal(run.tool.driver.rules[r.ruleIndex].id, r.ruleId);
    const loc = r.locations[0].physicalLocation;
    assert.deepEqual(loc.artifactLocation, { uri: "rules/orders.yaml", uriBaseId: "%SRCROOT%" });
    assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1 && loc.region.endColumn > loc.region.startColumn);
  }
  assert.deepEqual(run.results[0].locations[0].physicalLocation.region, { startLine: 4, startColumn: 59, endLine: 4, endColumn: 64 });
});

test("github: one workflow command per diagnostic, with properties and data escaped", () => {
  const out = formatReport("github", report, options).trimEnd().split("\n");
  assert.equal(out.length, 3);
  assert.match(out[0]!, /^::error file=rules\/orders\.yaml,line=4,col=59,endLine=4,endColumn=64,title=kontract cel-unknown-field::rule "a": unknown field/);
  assert.match(out[1]!, /^::warning .*::.*%0Ahint: tags select fields/, "a newline in the text is %0A");
  assert.match(out[2]!, /^::notice /);
  const odd = formatReport("github", { ...report, diagnostics: [{ ...report.diagnostics[0]!, file: "/repo/a,b:c.yaml", message: "100% sure" }] }, options);
  assert.match(odd, /file=a%2Cb%3Ac\.yaml,/);
  assert.match(odd, /::100%25 sure/);
});

test("junit: a failing test case per diagnostic at the fail severity, XML-escaped", () => {
  const xml = formatReport("junit", report, options);
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="kontract lint" tests="1" failures="1" errors="0">/);
  assert.match(xml, /<testsuite name="rules\/orders.yaml" tests="1" failures="1" errors="0">/);
  assert.match(xml, /<testcase classname="rules\/orders.yaml" name="cel-unknown-field at 4:59 \(orders-value v1 a\)">/);
  assert.match(xml, /<failure message="rule &quot;a&quot;: unknown field &apos;amout&apos;/);
  // Lower severities are listed in system-out, not failed.
  assert.match(xml, /<system-out>[^<]*rule-tags-ignored[^<]*rule-disabled/);
  const strict = formatReport("junit", report, { ...options, failSeverity: "info" });
  assert.match(strict, /tests="3" failures="3"/);
  const clean = formatReport("junit", lintSources([{ file: "/repo/a.yaml", text: "subject: s\nschema: '\"string\"'\n" }]), options);
  assert.match(clean, /<testcase classname="a.yaml" name="a.yaml: no problems"\/>/);
});

test("every format is registered under its name", () => {
  assert.deepEqual(Object.keys(FORMATTERS).sort(), ["github", "json", "junit", "sarif", "stylish"]);
});
