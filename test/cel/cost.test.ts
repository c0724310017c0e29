/**
 * The evaluation cost budget (docs/cel.md, "Cost budget"): every evaluation
 * has a deterministic budget of cost units, interrupted when spent, on the
 * interpreter and on the native fast path alike, with a failure of code
 * `rule-cost`. Never a timing assertion: a bounded evaluation must end with
 * the typed failure, however long it takes.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CEL_LIMITS, SHAPES, createCelRuntime, isCelFailure } from "../../src/cel/index.js";
import type { CelShape } from "../../src/cel/index.js";

const LIST: CelShape = { kind: "list", element: SHAPES.int };
const MSG: CelShape = { kind: "record", name: "M", fields: new Map<string, CelShape>([["l", LIST], ["s", SHAPES.string]]) };
const l600 = Array.from({ length: 600 }, (_, i) => i);

/** The result on the interpreter and on the native path; both must agree. */
function both(expr: string, message: unknown, limits = {}): unknown[] {
  return [true, false].map((native) => {
    const program = createCelRuntime({ native, limits }).compile(expr, ["message"]).typed({ message: MSG });
    assert.equal(program.native, native, `${expr}: native=${native}`);
    return program.run({ message });
  });
}

function assertCost(r: unknown): void {
  assert.ok(isCelFailure(r), `expected a failure, got ${String(r)}`);
  assert.equal(r.code, "rule-cost");
  assert.match(r.message, /cost/);
}

describe("the cost budget interrupts an evaluation", () => {
  test("three nested all() over 600 elements fails with rule-cost on both paths", () => {
    for (const r of both("message.l.all(a, message.l.all(b, message.l.all(c, true)))", { l: l600, s: "" })) assertCost(r);
  });
  test("three nested map() over 600 elements fails with rule-cost before building 216M elements", () => {
    for (const r of both("message.l.map(a, message.l.map(b, message.l.map(c, c))).size() > 0", { l: l600, s: "" })) assertCost(r);
  });
  test("absorbing the failure with || does not turn it into a pass", () => {
    for (const r of both("message.l.all(a, message.l.all(b, message.l.all(c, true))) || true", { l: l600, s: "" })) assertCost(r);
    for (const r of both("message.l.exists(a, message.l.all(b, message.l.all(c, true)) && a < 0) || true", { l: l600, s: "" })) assertCost(r);
  });
  test("the budget is per evaluation: the next one starts afresh", () => {
    const program = createCelRuntime({ limits: { maxCost: 5_000 } }).compile("message.l.all(a, a >= 0)", ["message"]).typed({ message: MSG });
    assertCost(program.run({ message: { l: l600.concat(l600), s: "" } }));
    assert.equal(program.run({ message: { l: l600.slice(0, 10), s: "" } }), true);
  });
  test("two nested loops over 600 elements pass within the default budget", () => {
    for (const r of both("message.l.all(a, message.l.all(b, a + b >= 0))", { l: l600, s: "" })) assert.equal(r, true);
  });
  test("the cost of an evaluation is the same on both paths: the budget fails both at the same size", () => {
    const expr = "message.l.filter(a, a % 2 == 0).map(a, a * 2).all(a, a >= 0)";
    for (let n = 0; n < 80; n++) {
      const [native, interpreted] = both(expr, { l: l600.slice(0, n), s: "" }, { maxCost: 1_000 });
      assert.equal(isCelFailure(native), isCelFailure(interpreted), `n=${n}`);
      if (isCelFailure(native) && isCelFailure(interpreted)) assert.equal(native.code, interpreted.code);
    }
  });
  test("maxCost is a CEL limit with a documented default", () => {
    assert.equal(DEFAULT_CEL_LIMITS.maxCost, 10_000_000);
    assert.throws(() => createCelRuntime({ limits: { maxCost: -1 } }), /maxCost/);
  });
  test("the interpreter's untyped run() is bounded too", () => {
    const r = createCelRuntime().compile("l.all(a, l.all(b, l.all(c, true)))", ["l"]).run({ l: l600.map(BigInt) });
    assertCost(r);
  });
});

describe("operations whose work grows with their operands charge it (cel-go's formulas)", () => {
  const s = "a".repeat(100_000);
  const l = Array.from({ length: 2_000 }, (_, i) => i);
  test("a substring search of message data inside a loop over it fails with rule-cost", () => {
    // 2,000 iterations of ceil(100,000 * 0.1) * ceil(8 * 0.1) = 10,000 units each: 20M units.
    for (const r of both("message.l.all(a, !message.s.contains('b' + string(a)))", { l, s })) assertCost(r);
  });
  test("startsWith and endsWith charge ceil(0.1 * |s|)", () => {
    for (const r of both("message.l.all(a, message.s.startsWith('a') && message.s.endsWith('a'))", { l, s })) assertCost(r);
    for (const r of both("message.s.startsWith('a')", { l, s }, { maxCost: 9_999 })) assertCost(r);
    for (const r of both("message.s.startsWith('a')", { l, s }, { maxCost: 10_000 })) assert.equal(r, true);
  });
  test("x in list charges the list's size", () => {
    const big = Array.from({ length: 20_000 }, (_, i) => i);
    for (const r of both("message.l.all(a, a in message.l)", { l: big, s: "" })) assertCost(r);
    for (const r of both("5 in message.l", { l: big, s: "" }, { maxCost: 19_999 })) assertCost(r);
    for (const r of both("5 in message.l", { l: big, s: "" }, { maxCost: 20_000 })) assert.equal(r, true);
  });
});

describe("the strings extension charges the traversal of its string operands", () => {
  const s = "a,".repeat(50_000);
  const l = Array.from({ length: 2_000 }, (_, i) => i);
  test("splitting message data inside a loop over it fails with rule-cost", () => {
    for (const r of both("message.l.all(a, message.s.split(',').size() > a)", { l, s })) assertCost(r);
  });
  test("ceil(0.1 * characters) of the receiver and string arguments, the same on both paths", () => {
    // 100,000 characters: 10,000 units.
    for (const r of both("message.s.lowerAscii() == message.s", { l, s }, { maxCost: 9_999 })) assertCost(r);
    for (const r of both("message.s.lowerAscii() == message.s", { l, s }, { maxCost: 10_000 })) assert.equal(r, true);
  });
  test("errors of the extension keep their position", () => {
    for (const r of both("message.s.substring(5, 1) == ''", { l, s })) {
      assert.ok(isCelFailure(r) && r.code === undefined && r.line === 1 && r.column !== undefined, String(r));
    }
  });
});

describe("building lists in loops is linear", () => {
  test("map and filter over 50,000 elements give the same result on both paths", () => {
    const l = Array.from({ length: 50_000 }, (_, i) => i);
    for (const r of both("message.l.map(a, a * 2).filter(a, a % 3 == 0).all(b, b >= 0)", { l, s: "" })) assert.equal(r, true);
    for (const r of both("message.l.map(a, a + 1).size() == 50000 && message.l.filter(a, a < 10).map(a, [a]).size() == 10", { l, s: "" })) assert.equal(r, true);
  });
  test("lists built by + stay values: a list concatenated twice is not changed by the second", () => {
    for (const r of both("[[1], [2]].map(x, x + [3]) == [[1, 3], [2, 3]] && message.l.map(a, [a]).map(x, x + x).size() == 3", { l: [1, 2, 3], s: "" })) assert.equal(r, true);
  });
});
