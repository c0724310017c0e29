/**
 * RE2 program size is limited, as RE2's own max_mem limits it: matching costs
 * input length times program size, so a huge alternation inside the
 * expression length limit could stall a consumer on a large input. And
 * `matches` charges the cost budget with cel-go's formula.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CEL_LIMITS, SHAPES, createCelRuntime, isCelFailure, validateRe2 } from "../../src/cel/index.js";
import type { CelShape } from "../../src/cel/index.js";
import { lintSources } from "../../src/lint/index.js";
import { compileRe2 } from "../../src/engine/executors/re2-regex.js";

const MSG: CelShape = { kind: "record", name: "M", fields: new Map<string, CelShape>([["s", SHAPES.string], ["p", SHAPES.string]]) };
/** A 5 KB alternation of 1,000 words: an RE2 program of 5,003 instructions. */
const ALTERNATION = "(" + Array.from({ length: 1000 }, (_, i) => "w" + i.toString(36).padStart(3, "x")).join("|") + ")";

function both(expr: string, message: Record<string, string>, limits = {}): unknown[] {
  return [true, false].map((native) => createCelRuntime({ native, limits }).compile(expr, ["message"]).typed({ message: MSG }).run({ message }));
}

describe("RE2 program size", () => {
  test("a 5 KB alternation is rejected as too large, literal or from data, on both paths", () => {
    for (const expr of [`message.s.matches('^${ALTERNATION}$')`, `message.s.matches('${ALTERNATION}')`, "message.s.matches(message.p)"]) {
      for (const r of both(expr, { s: "w001".repeat(7_500), p: ALTERNATION })) {
        assert.ok(isCelFailure(r), `${expr.slice(0, 40)}: ${String(r)}`);
        assert.match(r.message, /too large.*500[35] instructions.*limit is 1000/);
      }
    }
  });
  test("realistic validation patterns are well within the default", () => {
    const email = "^[a-zA-Z0-9.!#$%&*+/=?^_{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$";
    for (const r of both(`message.s.matches('${email}') && message.s.matches('^.{1,255}$')`, { s: "ada@example.com", p: "" })) assert.equal(r, true);
  });
  test("maxRegexProgramSize is a CEL limit with a documented default", () => {
    assert.equal(DEFAULT_CEL_LIMITS.maxRegexProgramSize, 1_000);
    for (const r of both("message.s.matches(message.p)", { s: "wxx1", p: ALTERNATION }, { maxRegexProgramSize: 10_000 })) assert.equal(r, true);
  });
  test("validateRe2 reports a pattern over the default limit, and lint reports it as cel-regex", () => {
    assert.match(validateRe2(ALTERNATION) ?? "", /too large/);
    const text = `subject: s-value\nruleSet:\n  domainRules:\n    - {name: r, kind: CONDITION, type: CEL, expr: "message.id.matches('${ALTERNATION}')"}\nschema:\n  type: record\n  name: R\n  fields:\n    - {name: id, type: string}\n`;
    const ds = lintSources([{ file: "c.yaml", text }], {}).diagnostics;
    assert.deepEqual(ds.map((d) => d.code), ["cel-regex"]);
  });
});

test("JSONata's RE2 regexes have the same program size limit", () => {
  // re2js factors the word alternation into a small program; counted repetitions stay large.
  assert.throws(() => compileRe2("a[ab]{995}c|b[ab]{995}c", ""), /too large.*instructions.*limit is 1000/);
  assert.equal(compileRe2("^[a-z]{1,64}$", "").matches("abc"), true);
});

describe("matches charges the cost budget", () => {
  test("with cel-go's formula, the same on both paths", () => {
    // ceil((1 + 10,000) * 0.1) * ceil(3 * 0.25) = 1,001 units: over a budget of 1,000, within 1,001.
    for (const r of both("message.s.matches('a+b')", { s: "a".repeat(10_000), p: "" }, { maxCost: 1_000 })) assert.ok(isCelFailure(r) && r.code === "rule-cost", String(r));
    for (const r of both("message.s.matches('a+b')", { s: "a".repeat(10_000), p: "" }, { maxCost: 1_001 })) assert.equal(r, false);
    for (const r of both("message.s.matches(message.p)", { s: "a".repeat(10_000), p: "a+b" }, { maxCost: 1_000 })) assert.ok(isCelFailure(r) && r.code === "rule-cost", String(r));
  });
});
