/**
 * The corpora: every broken contract yields exactly the diagnostics in its
 * sidecar (code, severity, start and end), and the valid contracts, which use
 * every rule shape, lint clean. `UPDATE_CORPUS=1` rewrites the sidecars (review
 * the diff before committing).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { readSchemaFile } from "../../src/contract/index.js";
import { ALL_CODES, lintSources, parseConfig, type Diagnostic } from "../../src/lint/index.js";

const BROKEN = join(import.meta.dirname, "corpus/broken");
const VALID = join(import.meta.dirname, "corpus/valid");

// The reader the CLI uses: it refuses what a contract must not read.
const readFile = readSchemaFile;

interface Expected {
  code: string;
  severity: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Only when the diagnostic is in another file (a schema file). */
  file?: string;
}

function lintOne(file: string): Diagnostic[] {
  return [...lintSources([{ file, text: readFileSync(file, "utf8") }], { readFile }).diagnostics];
}

function shape(d: Diagnostic, file: string): Expected {
  return {
    code: d.code,
    severity: d.severity,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    ...(d.file !== file ? { file: relative(BROKEN, d.file) } : {}),
  };
}

const brokenFiles = readdirSync(BROKEN).filter((f) => f.endsWith(".yaml")).sort();
const seenCodes = new Set<string>();

for (const name of brokenFiles) {
  test(`broken corpus: ${name} gives exactly its expected diagnostics`, () => {
    const file = join(BROKEN, name);
    const sidecar = file.replace(/\.yaml$/, ".expected.json");
    const actual = lintOne(file).map((d) => shape(d, file));
    if (process.env.UPDATE_CORPUS === "1") writeFileSync(sidecar, JSON.stringify(actual, null, 2) + "\n");
    assert.ok(existsSync(sidecar), `missing ${sidecar} (run with UPDATE_CORPUS=1 and review it)`);
    const expected = JSON.parse(readFileSync(sidecar, "utf8")) as Expected[];
    assert.deepEqual(actual, expected);
    // Each file is named after the defect class it demonstrates.
    const own = name.replace(/\.yaml$/, "");
    assert.ok(actual.some((d) => own === d.code || own.startsWith(d.code + "-")), `${name} shows no ${own} diagnostic`);
    for (const d of actual) seenCodes.add(d.code);
  });
}

test("broken corpus: every diagnostic code has at least one broken contract", () => {
  const missing = ALL_CODES.filter((c) => !seenCodes.has(c));
  assert.deepEqual(missing, []);
});

test("valid corpus: contracts using every rule shape lint clean (no false positives)", () => {
  const files = readdirSync(VALID).filter((f) => f.endsWith(".yaml")).sort().map((n) => join(VALID, n));
  const configFile = join(VALID, "kontract.config.yml");
  const config = parseConfig(readFileSync(configFile, "utf8"), configFile, VALID);
  const report = lintSources(files.map((file) => ({ file, text: readFileSync(file, "utf8") })), { readFile, config });
  assert.deepEqual(report.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}: ${d.message}`), []);
  assert.equal(report.summary.documents, 6);
  assert.ok(report.summary.rules >= 30, `${report.summary.rules} rules`);
});

test("valid corpus: the same contracts without the configuration flag the custom action and executor", () => {
  const files = readdirSync(VALID).filter((f) => f.endsWith(".yaml")).sort().map((n) => join(VALID, n));
  const report = lintSources(files.map((file) => ({ file, text: readFileSync(file, "utf8") })), { readFile });
  assert.deepEqual([...new Set(report.diagnostics.map((d) => d.code))].sort(), ["rule-action-unknown", "rule-type-unsupported"]);
});

test("the shipped rules/ lint clean: only the disabled rule is reported, as info", () => {
  const dir = join(import.meta.dirname, "../../rules");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort().map((n) => join(dir, n));
  const report = lintSources(files.map((file) => ({ file, text: readFileSync(file, "utf8") })), { readFile });
  assert.deepEqual(
    report.diagnostics.map((d) => [d.code, d.severity, d.rule]),
    [["rule-disabled", "info", "chfOrdersShipToSwitzerland"]],
  );
});
