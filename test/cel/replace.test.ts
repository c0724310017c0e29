/**
 * The strings extension's `replace`, as cel-go's (Go's strings.Replace):
 * linear in its input, empty `old` matching at every code point boundary, a
 * negative limit meaning "all", and a result whose size is charged to the
 * cost budget before it is built.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SHAPES, createCelRuntime, isCelFailure } from "../../src/cel/index.js";
import type { CelShape } from "../../src/cel/index.js";

const MSG: CelShape = { kind: "record", name: "M", fields: new Map<string, CelShape>([["s", SHAPES.string]]) };

function both(expr: string, s = ""): unknown[] {
  return [true, false].map((native) => {
    const program = createCelRuntime({ native }).compile(expr, ["message"]).typed({ message: MSG });
    return program.run({ message: { s } });
  });
}

describe("replace is cel-go's", () => {
  // cel-go ext/strings_test.go, and Go's strings.Replace for the empty pattern and limits.
  const cases: [string, string][] = [
    ["'12 days 12 hours'.replace('{0}', '2')", "12 days 12 hours"],
    ["'{0} days {0} hours'.replace('{0}', '2')", "2 days 2 hours"],
    ["'{0} days {0} hours'.replace('{0}', '2', 1).replace('{0}', '23')", "2 days 23 hours"],
    ["'{0} days {0} hours'.replace('{0}', '2', 1)", "2 days {0} hours"],
    ["'1 ©αT taco'.replace('αT', 'o©α')", "1 ©o©α taco"],
    ["'hello hello'.replace('he', 'we', 0)", "hello hello"],
    ["'hello hello'.replace('he', 'we', -1)", "wello wello"],
    ["'hello hello'.replace('', '_')", "_h_e_l_l_o_ _h_e_l_l_o_"],
    ["'hello hello'.replace('h', '')", "ello ello"],
    ["'abc'.replace('', 'x')", "xaxbxcx"],
    ["'abc'.replace('', 'x', 2)", "xaxbc"],
    ["''.replace('', 'x')", "x"],
    ["'a😀b'.replace('', '-')", "-a-😀-b-"],
    ["'aaaa'.replace('aa', 'a')", "aa"],
    ["'aaa'.replace('a', 'aa')", "aaaaaa"],
    ["'abab'.replace('ab', 'ba', -5)", "baba"],
  ];
  for (const [expr, want] of cases) {
    test(expr, () => {
      for (const r of both(`message.s + ${expr}`)) assert.equal(r, want);
    });
  }
});

describe("replace is bounded", () => {
  test("replacing every space of a 300 KB string returns the full result", () => {
    const s = "ab ".repeat(100_000);
    for (const r of both("message.s.replace(' ', '_')", s)) assert.equal(r, "ab_".repeat(100_000));
  });
  test("a result that would be quadratic in the input fails with rule-cost before it is built", () => {
    for (const r of both("message.s.replace('', message.s).size() > 0", "x".repeat(300_000))) {
      assert.ok(isCelFailure(r) && r.code === "rule-cost", String(r));
    }
  });
});
