/**
 * Suppression comments: only real YAML comments count, and a next-line
 * comment covers the node below it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDirectives } from "../../src/lint/suppress.js";

test("directives: kinds, codes, reasons; `#` inside a scalar is not a comment", () => {
  const text = `# kontract-disable-file a-code, b-code -- legacy file
x: |
  # kontract-disable-line not-a-comment
y: "# kontract-disable-line not-a-comment-either"
z: 1 # kontract-disable-line
`;
  assert.deepEqual(
    parseDirectives(text).map((d) => [d.kind, d.codes, d.line, d.from, d.to === Number.MAX_SAFE_INTEGER ? "end" : d.to]),
    [
      ["file", ["a-code", "b-code"], 1, 1, "end"],
      ["line", [], 5, 5, 5],
    ],
  );
});

test("next-line skips blank and comment lines, and covers the whole rule or block below", () => {
  const text = `rules:
  # kontract-disable-next-line x

  # (another comment)
  - name: a
    expr: |
      one
      two
  - name: b
    # kontract-disable-next-line
    expr: >-
      three
      four
    tags: [t]
`;
  const [rule, expr] = parseDirectives(text);
  assert.deepEqual([rule!.from, rule!.to], [5, 8]);
  assert.deepEqual([expr!.from, expr!.to], [11, 13]);
});

test("above the first key of a document, next-line covers that key, not the document", () => {
  const [d] = parseDirectives("# kontract-disable-next-line x\nsubject: s\nschema: t\n");
  assert.deepEqual([d!.from, d!.to], [2, 2]);
});
