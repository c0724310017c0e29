/**
 * The strings extension functions the native path runs itself (substring,
 * lowerAscii, upperAscii, trim): native, with the interpreter's results and,
 * unlike the fuzz tests' canonical comparison, its exact error messages and
 * positions, which reach violations and dead letters.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCelRuntime, isCelFailure } from "../../../src/cel/index.js";
import type { CelShape } from "../../../src/cel/index.js";

const EXPRESSIONS = [
  "value.substring(0, 2) + '***'",
  "size(value) > 4 ? value.substring(0, 2) + '***' : '***'",
  "value.substring(1)",
  "value.substring(5)",
  "value.substring(2, 1)",
  "value.substring(-1, 2)",
  "value.substring(1, 9)",
  "value.substring(n)",
  "value.substring(n, n + 1)",
  "value.substring(9223372036854775807)",
  "value.lowerAscii()",
  "value.upperAscii()",
  "value.trim()",
  "value.trim().lowerAscii().substring(0, 1)",
];
const VALUES = ["", "a", "AbC ", "  x y\u00a0", "\u2028é€😀Z\u3000", "ÀÉ abc XYZ", "\t\n"];

function plain(r: unknown): unknown {
  return isCelFailure(r) ? { message: r.message, line: r.line, column: r.column } : r;
}

test("substring, lowerAscii, upperAscii and trim run natively with the interpreter's values, errors and positions", () => {
  const fast = createCelRuntime({ native: true });
  const interpreter = createCelRuntime({ native: false });
  const shapes: Record<string, CelShape> = { value: { kind: "string" }, n: { kind: "int" } };
  for (const expr of EXPRESSIONS) {
    const a = fast.compile(expr, ["value", "n"]).typed(shapes);
    const b = interpreter.compile(expr, ["value", "n"]).typed(shapes);
    assert.equal(a.native, true, expr);
    for (const value of VALUES) {
      for (const n of [0, 2, -3, 40]) {
        assert.deepEqual(plain(a.run({ value, n })), plain(b.run({ value, n })), `${expr} on ${JSON.stringify(value)}, n = ${n}`);
      }
    }
  }
});

test("the native strings functions charge the receiver's traversal, as the interpreter's: a small budget runs out on both", () => {
  const expr = "value.substring(1) + value.lowerAscii() + value.upperAscii() + value.trim()";
  for (const maxCost of [1, 3, 5, 8, 9, 10, 11, 12, 20]) {
    const fast = createCelRuntime({ native: true, limits: { maxCost } });
    const interpreter = createCelRuntime({ native: false, limits: { maxCost } });
    const shapes: Record<string, CelShape> = { value: { kind: "string" } };
    const a = fast.compile(expr, ["value"]).typed(shapes);
    const b = interpreter.compile(expr, ["value"]).typed(shapes);
    assert.equal(a.native, true);
    const value = "x".repeat(25);
    assert.deepEqual(plain(a.run({ value })), plain(b.run({ value })), `maxCost ${maxCost}`);
  }
});
