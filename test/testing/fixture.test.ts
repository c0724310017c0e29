/**
 * Fixture files: the format's shorthands and defaults, and every mistake
 * reported at once with file:line:col.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FixtureError, parseFixture } from "../../src/testing/index.js";

test("defaults, shorthands, anchors and x- keys", () => {
  const f = parseFixture(
    `subject: orders-value
version: 2
x-base: &base {id: a, amount: 1.0}
cases:
  - name: passes
    message: *base
    expect: pass
  - name: invalid
    message: {<<: *base, amount: x}
    expect: invalid
  - name: read old
    mode: READ
    version: 1
    reader: {metadata: {application.major.version: "2"}}
    message: {id: b}
    expect: {violates: amountPositive, action: ERROR}
  - name: read pinned
    mode: READ
    reader: {version: 3}
    message: null
    expect: {transformedTo: null}
    skip: not yet
`,
    "fixtures/o.test.yaml",
  );
  assert.equal(f.subject, "orders-value");
  assert.equal(f.topic, "orders");
  assert.deepEqual(
    f.cases.map((c) => [c.name, c.mode, c.version, c.reader.use, c.skip]),
    [
      ["passes", "WRITE", 2, "writer", undefined],
      ["invalid", "WRITE", 2, "writer", undefined],
      ["read old", "READ", 1, "metadata", undefined],
      ["read pinned", "READ", 2, "version", "not yet"],
    ],
  );
  assert.deepEqual(f.cases[0]!.message, { id: "a", amount: 1.0 });
  assert.deepEqual(f.cases[1]!.message, { id: "a", amount: "x" });
  assert.deepEqual(f.cases[0]!.expect, { passes: true, hasTransformedTo: false });
  assert.deepEqual(f.cases[2]!.expect, { violates: ["amountPositive"], action: "ERROR", hasTransformedTo: false });
  assert.equal(f.cases[3]!.expect.hasTransformedTo, true);
  assert.equal(f.cases[3]!.expect.transformedTo, null);
  assert.deepEqual([f.cases[2]!.position.line, f.cases[2]!.position.column], [11, 11]);
});

test("every problem is reported, each with its position", () => {
  const text = `subjekt: x
cases:
  - name: a
    message: {}
    expect: {passes: true, violates: [r]}
  - name: a
    message: {}
    expect: {}
  - name: b
    reader: latest
    message: {}
    expect: pass
  - name: c
    expect: {invalid: true, action: NONE}
`;
  assert.throws(
    () => parseFixture(text, "f.test.yaml"),
    (e: unknown) => {
      assert.ok(e instanceof FixtureError);
      const lines = e.message.split("\n").slice(1).map((l) => l.trim());
      assert.deepEqual(lines, [
        "f.test.yaml:1:1: unknown key `subjekt` (allowed: subject, topic, version, mode, reader, cases, sequences)",
        "f.test.yaml:1:1: `subject` is required: the subject whose contract the cases run through",
        "f.test.yaml:5:13: `passes` means no rule fails: it cannot be combined with `violates` or an action",
        "f.test.yaml:6:11: case name \"a\" is used twice (first in case 1)",
        "f.test.yaml:8:13: `expect` needs passes, violates, transformedTo or invalid",
        "f.test.yaml:10:13: `reader` applies to READ cases only",
        "f.test.yaml:13:5: a case needs a `message`: the value in its JSON form",
        "f.test.yaml:14:13: `invalid` cannot be combined with other expectations",
      ]);
      return true;
    },
  );
});

test("YAML errors and a missing case list are fixture errors too", () => {
  assert.throws(() => parseFixture("subject: x\ncases: [\n", "f.yaml"), /f\.yaml:\d+:\d+: /);
  assert.throws(() => parseFixture("subject: x\n", "f.yaml"), /`cases` is required/);
});
