/**
 * docs/lint.md documents every diagnostic code, with its default severity,
 * and nothing else: codes are a public, stable interface.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_CODES, LINT_CODES } from "../../src/lint/index.js";

const doc = readFileSync(join(import.meta.dirname, "../../docs/lint.md"), "utf8");

test("every code has a section in docs/lint.md with its default severity, and no section names an unknown code", () => {
  const sections = new Map<string, string>();
  for (const m of doc.matchAll(/^#### `([a-z0-9-]+)`\n\[(\w+)\]/gm)) sections.set(m[1]!, m[2]!);
  assert.deepEqual([...sections.keys()].sort(), [...ALL_CODES].sort());
  for (const code of ALL_CODES) assert.equal(sections.get(code), LINT_CODES[code].severity, code);
});

test("the README and docs/lint.md state the number of codes there are", () => {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const stated = [...`${readme}\n${doc}`.matchAll(/\b(\d+) (?:diagnostic )?codes\b|a stable code \((\d+) of them/g)].map((m) => Number(m[1] ?? m[2]));
  assert.ok(stated.length > 0, "no count of codes found in the README");
  for (const n of stated) assert.equal(n, ALL_CODES.length);
});
