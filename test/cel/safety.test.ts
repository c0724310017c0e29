/**
 * Safety of the CEL layer: RE2 only (no catastrophic backtracking), compile-time
 * limits that bound evaluation cost, clear compile errors with positions, and
 * evaluation errors that are always failures, never passes.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CelCompileError,
  DEFAULT_CEL_LIMITS,
  createCelRuntime,
  isCelFailure,
  validateRe2,
} from "../../src/cel/index.js";
import { isKontractError } from "../../src/errors.js";

const runtime = createCelRuntime();

function compileError(expr: string, variables: readonly string[] = ["message"], rt = runtime): CelCompileError {
  try {
    rt.compile(expr, variables);
  } catch (e) {
    assert.ok(e instanceof CelCompileError, `expected CelCompileError, got ${String(e)}`);
    return e;
  }
  assert.fail(`${expr} compiled`);
}

describe("regular expressions are RE2", () => {
  test("a ReDoS pattern on 30 'a' + '!' completes and does not match", () => {
    const r = runtime.compile("s.matches('^(a+)+$')", ["s"]).run({ s: "a".repeat(30) + "!" });
    assert.equal(r, false);
  });
  test("patterns RE2 lacks (lookahead, backreferences) fail the rule", () => {
    for (const pattern of ["a(?=b)", "(a)\\\\1"]) {
      const r = runtime.compile(`'ab'.matches('${pattern}')`, []).run({});
      assert.ok(isCelFailure(r), pattern);
    }
  });
  test("RE2 syntax such as (?i) works", () => {
    assert.equal(runtime.compile("'ABC'.matches('(?i)^abc$')", []).run({}), true);
  });
  test("patterns from data work and an invalid one fails each time it is used", () => {
    const program = runtime.compile("s.matches(p)", ["s", "p"]);
    assert.equal(program.run({ s: "abc", p: "^a.c$" }), true);
    assert.ok(isCelFailure(program.run({ s: "abc", p: "(" })));
    assert.ok(isCelFailure(program.run({ s: "abc", p: "(" })));
  });
  test("validateRe2 reports what RE2 rejects", () => {
    assert.equal(validateRe2("^[^@]+@[^@]+$"), undefined);
    assert.match(validateRe2("a(?=b)") ?? "", /.+/);
    assert.match(validateRe2("(") ?? "", /missing/i);
  });
});

describe("limits bound the work an expression can do", () => {
  test("defaults are documented values", () => {
    assert.deepEqual(
      { ...DEFAULT_CEL_LIMITS },
      { maxExpressionLength: 10_000, maxAstNodes: 2_000, maxDepth: 100, maxComprehensionDepth: 3, regexCacheSize: 512, maxRegexProgramSize: 1_000, maxCost: 10_000_000 },
    );
  });
  test("expression length", () => {
    const e = compileError("1 == 1 && " + "true && ".repeat(2000) + "true");
    assert.match(e.message, /expression too long/);
    assert.equal(e.code, "rule-compile");
  });
  test("AST size", () => {
    const expr = Array.from({ length: 1200 }, (_, i) => `message.f${i} == ${i}`).join(" || ");
    assert.match(compileError(expr, ["message"], createCelRuntime({ limits: { maxExpressionLength: 100_000 } })).message, /more than 2000 nodes/);
  });
  test("nesting depth", () => {
    assert.match(compileError("[".repeat(150) + "]".repeat(150)).message, /nested too deeply/);
    // Parentheses add no AST level.
    assert.doesNotThrow(() => runtime.compile("(".repeat(150) + "1" + ")".repeat(150), []));
    assert.match(compileError(Array.from({ length: 150 }, () => "1").join(" + ")).message, /nested too deeply/);
  });
  test("nesting the parser cannot handle is a compile error, not a crash", () => {
    assert.match(compileError("[".repeat(2000) + "]".repeat(2000)).message, /nested too deeply/);
  });
  test("comprehension nesting", () => {
    const three = "message.a.all(x, x.all(y, y.all(z, z > 0)))";
    assert.doesNotThrow(() => runtime.compile(three, ["message"]));
    const four = "message.a.all(x, x.all(y, y.all(z, z.all(w, w > 0))))";
    assert.match(compileError(four).message, /comprehensions nested too deeply/);
    const sequential = "message.a.all(x, x > 0) && message.a.exists(x, x > 1) && message.a.map(x, x).size() > 0";
    assert.doesNotThrow(() => createCelRuntime({ limits: { maxComprehensionDepth: 1 } }).compile(sequential, ["message"]));
  });
  test("limits are configurable", () => {
    const strict = createCelRuntime({ limits: { maxExpressionLength: 10 } });
    assert.match(compileError("message.age > 18", ["message"], strict).message, /too long/);
  });
  test("invalid limits are rejected", () => {
    assert.throws(() => createCelRuntime({ limits: { maxDepth: -1 } }), (e) => isKontractError(e) && e.code === "usage");
  });
});

describe("compile errors", () => {
  test("are KontractErrors with code rule-compile and a 1-based position", () => {
    const e = compileError("message.age >= ");
    assert.ok(isKontractError(e));
    assert.equal(e.code, "rule-compile");
    assert.equal(e.line, 1);
    assert.equal(typeof e.column, "number");
    assert.match(e.message, /^1:\d+: syntax error/);
  });
  test("positions count lines", () => {
    const e = compileError("message.a == 1\n  && message.b = 2");
    assert.equal(e.line, 2);
  });
  test("an undeclared variable is rejected where it is used", () => {
    const e = compileError("message.age > 1 || mesage.vip");
    assert.match(e.reason, /undeclared reference to 'mesage.vip'/);
    assert.deepEqual([e.line, e.column], [1, 26]);
  });
  test("an unknown function or method is rejected", () => {
    assert.match(compileError("message.name.startswith('A')").reason, /unknown method startswith\(\)/);
    assert.match(compileError("sizeof(message)").reason, /unknown function sizeof\(\)/);
    assert.match(compileError("message.name.startsWith()").reason, /no overload of method startsWith\(\) takes 0 arguments/);
  });
  test("optional syntax and values are rejected with a clear message", () => {
    for (const expr of ["message.?age", "[?message.a]", "{?'a': message.a}", "optional.of(1)", "optional.none()"]) {
      assert.match(compileError(expr).reason, /optional values .* are not supported/, expr);
    }
  });
  test("cel.bind, cel.block and the math extension are rejected", () => {
    assert.match(compileError("cel.bind(x, 1, x + 1)").reason, /cel\.bind\(\) is not supported/);
    assert.match(compileError("cel.block([1], 2)").reason, /cel\.block\(\) is not supported/);
    assert.match(compileError("math.greatest(1, 2)").reason, /math extension is not supported/);
  });
  test("two-variable macros and backtick field names are rejected", () => {
    assert.match(compileError("message.m.all(k, v, v > 0)").reason, /two-variable macros/);
    assert.match(compileError("message.`a-b` == 1").reason, /quoted field names/);
  });
  test("an unknown message type is rejected", () => {
    assert.match(compileError("Unknown{a: 1}").reason, /unknown message type Unknown/);
  });
  test("has() needs a field selection", () => {
    assert.match(compileError("has(message)").reason, /has\(\) needs a field selection/);
  });
  test("comprehension variables, type names and strings.quote resolve", () => {
    for (const expr of [
      "message.items.exists(i, i.qty > 1)",
      "type(message) == map",
      "type(1) == int",
      "strings.quote(message.name) != ''",
      "google.protobuf.Timestamp{seconds: 1} < now",
    ]) {
      assert.doesNotThrow(() => runtime.compile(expr, ["message"]), expr);
    }
  });
});

describe("evaluation errors are failures, never passes", () => {
  for (const [expr, bindings] of [
    ["1 / 0 == 1", {}],
    ["message.nope == 1", { message: new Map([["a", 1n]]) }],
    ["int('x') > 0", {}],
    ["message > 1", { message: "a" }],
    ["9223372036854775807 + 1 > 0", {}],
    ["message.a", { message: new Map() }],
  ] as const) {
    test(expr, () => {
      const r = runtime.compile(expr, ["message"]).run(bindings);
      assert.ok(isCelFailure(r), `got ${String(r)}`);
      assert.notEqual(r, true);
      assert.ok(r.message.length > 0);
    });
  }
  test("a variable that is declared but not bound fails", () => {
    assert.ok(isCelFailure(runtime.compile("message == 1", ["message"]).run({})));
  });
  test("bindings CEL cannot represent fail instead of throwing", () => {
    const program = runtime.compile("message == 1", ["message"]);
    for (const bad of [() => 1, Symbol("x"), new (class Foo {})(), Object.create(null)]) {
      const r = program.run({ message: bad });
      assert.ok(isCelFailure(r), String(r));
    }
  });
  test("failure messages carry the failing sub-expression's position", () => {
    const r = runtime.compile("true &&\n  message.nope", ["message"]).run({ message: new Map() });
    assert.ok(isCelFailure(r));
    assert.deepEqual([r.line, r.column], [2, 10]);
  });
  test("CEL's own error absorption still applies", () => {
    assert.equal(runtime.compile("1 / 0 == 1 || true", []).run({}), true);
    assert.equal(runtime.compile("false && 1 / 0 == 1", []).run({}), false);
  });
});
