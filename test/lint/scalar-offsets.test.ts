/**
 * Expression positions: each character of a scalar's value maps back to where
 * it is written, whatever the quoting, escapes or line folding.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Scalar, isScalar, parseDocument } from "yaml";
import { scalarValueOffsets, type ScalarStyle } from "../../src/lint/scalar-offsets.js";

const STYLE: Record<string, ScalarStyle> = {
  [Scalar.PLAIN]: "plain",
  [Scalar.QUOTE_SINGLE]: "single",
  [Scalar.QUOTE_DOUBLE]: "double",
  [Scalar.BLOCK_LITERAL]: "literal",
  [Scalar.BLOCK_FOLDED]: "folded",
};

/** The offsets of `expr`'s value in `text`, with the value as the parser reads it. */
function offsets(text: string): { value: string; offsets: number[] | undefined } {
  const doc = parseDocument(text);
  const node = doc.get("expr", true);
  assert.ok(isScalar(node) && typeof node.value === "string" && node.range);
  return { value: node.value, offsets: scalarValueOffsets(text, { style: STYLE[node.type!]!, value: node.value, start: node.range[0], end: node.range[1] }) };
}

/** Every non-space value character sits at its own offset in the text. */
function assertMapped(text: string): { value: string; offsets: number[] } {
  const r = offsets(text);
  assert.ok(r.offsets, `no exact mapping for ${JSON.stringify(text)}`);
  assert.equal(r.offsets.length, r.value.length + 1);
  for (let i = 0; i < r.value.length; i++) {
    const c = r.value[i]!;
    if (c === " " || c === "\n") continue;
    // An escaped character maps to the start of its escape sequence.
    const at = text[r.offsets[i]!];
    assert.ok(at === c || at === "\\", `value[${i}] ${JSON.stringify(c)} of ${JSON.stringify(r.value)} maps to ${JSON.stringify(at)}`);
  }
  return r as { value: string; offsets: number[] };
}

test("plain scalars, on one line and folded over several", () => {
  assertMapped("expr: message.amount > 0\n");
  const r = assertMapped("expr: message.a > 0 &&\n  message.b < 1\n\n  || message.c\n");
  assert.equal(r.value, "message.a > 0 && message.b < 1\n|| message.c");
});

test("single-quoted scalars with '' escapes and folding", () => {
  const r = assertMapped("expr: 'message.s == ''a;b'' &&\n   size(message.s) > 1'\n");
  assert.equal(r.value, "message.s == 'a;b' && size(message.s) > 1");
  // The ' of the value maps to one of the two quote characters that encode it.
  const i = r.value.indexOf("'");
  assert.equal(r.offsets[i], "expr: 'message.s == ".length);
});

test("double-quoted scalars with escapes", () => {
  const text = 'expr: "message.s == \\"x\\" && message.t.matches(\'\\\\d+\') ; \\u00e9"\n';
  const r = assertMapped(text);
  assert.equal(r.value, "message.s == \"x\" && message.t.matches('\\d+') ; é");
  // The escaped quote's value character points at its backslash.
  assert.equal(text[r.offsets[r.value.indexOf('"')]!], "\\");
  assert.equal(text[r.offsets[r.value.indexOf("é")]!], "\\");
});

test("literal block scalars keep lines and strip indentation", () => {
  const r = assertMapped("rule:\n  x: 1\nexpr: |\n  message.items.all(i,\n    i.qty > 0)\n");
  assert.equal(r.value, "message.items.all(i,\n  i.qty > 0)\n");
  assert.equal(r.offsets[r.value.indexOf("i.qty")], "rule:\n  x: 1\nexpr: |\n  message.items.all(i,\n    ".length);
});

test("folded block scalars join lines with spaces", () => {
  const r = assertMapped("expr: >-\n  message.a == 'x' ||\n  message.b == 'y'\n");
  assert.equal(r.value, "message.a == 'x' || message.b == 'y'");
});

test("a scalar whose folding cannot be replayed gives no mapping rather than a wrong one", () => {
  // A value that does not match the text (e.g. from a tag or an alias elsewhere) is refused.
  assert.equal(scalarValueOffsets("expr: abc\n", { style: "plain", value: "abd", start: 6, end: 9 }), undefined);
});
