/**
 * Differential fuzzing: random well-typed expressions over an Avro-like schema
 * (nested record, nullable fields, a list of records, maps, int/long/double/
 * string/bool/bytes), evaluated on random messages with edge values (0,
 * negatives, 2^53, int64 limits, empty strings and lists, nulls, and now and
 * then a value that does not fit its field), by the native fast path and by
 * the interpreter. Every result must be the same. Deterministic seed, bounded count.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse as parseCel } from "@bufbuild/cel";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { createCelRuntime, isCelFailure } from "../../../src/cel/index.js";
import { createMeter } from "../../../src/cel/cost.js";
import { DEFAULT_CEL_LIMITS } from "../../../src/cel/limits.js";
import { createRe2Engine } from "../../../src/cel/regex.js";
import { compilePass } from "../../../src/cel/native/pass-predicate.js";
import type { CelShape } from "../../../src/cel/index.js";
import { canon } from "./canon.js";
import { mulberry32 } from "../../helpers/random.js";

// ---- deterministic randomness ----

let rnd = mulberry32(20240601);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const chance = (p: number): boolean => rnd() < p;

// ---- the schema ----

const S = (kind: "int" | "double" | "string" | "bool" | "bytes"): CelShape => ({ kind }) as CelShape;
const nullable = (inner: CelShape): CelShape => ({ kind: "nullable", inner });
const ADDRESS: CelShape = { kind: "record", name: "Address", fields: new Map([["city", S("string")], ["zip", nullable(S("string"))]]) };
const ITEM: CelShape = { kind: "record", name: "Item", fields: new Map([["sku", S("string")], ["qty", S("int")], ["price", S("double")]]) };
const ORDER: CelShape = {
  kind: "record",
  name: "Order",
  fields: new Map<string, CelShape>([
    ["id", S("string")],
    ["n", S("int")],
    ["big", S("int")],
    ["d", S("double")],
    ["flag", S("bool")],
    ["data", S("bytes")],
    ["note", nullable(S("string"))],
    ["count", nullable(S("int"))],
    ["address", ADDRESS],
    ["maybeAddr", nullable(ADDRESS)],
    ["items", { kind: "list", element: ITEM }],
    ["tags", { kind: "list", element: S("string") }],
    ["nums", { kind: "list", element: S("int") }],
    ["attrs", { kind: "map", value: S("string") }],
    ["counts", { kind: "map", value: S("int") }],
  ]),
};

// ---- random messages ----

const INTS = [0, 1, -1, 2, 3, 7, -7, 100, 2 ** 31, -(2 ** 31), 2 ** 53, -(2 ** 53), 2 ** 53 - 1, 2 ** 60, -(2 ** 62), 9007199254740993n, 4611686018427387904n, 9223372036854775807n, -9223372036854775808n];
const DOUBLES = [0, -0, 1.5, -2.25, 10, 1e300, -1e-300, 0.1, 9007199254740992, NaN, Infinity];
const STRINGS = ["", "a", "abc", "Paris", "x-1", "ü€😀", "a@b.c", "user@example.com", "ABC def", "  "];
const KEYS = ["a", "k", "zip", "toString"];

/** A value that does not fit its field, now and then: both paths must fail (or not) alike. */
function misfit(): unknown {
  return pick<unknown>(["1", 1.5, true, null, undefined, [], {}, 9.5e18]);
}

function randomMessage(): Record<string, unknown> {
  const str = () => (chance(0.05) ? misfit() : pick(STRINGS));
  const int = () => (chance(0.05) ? misfit() : pick<unknown>(INTS));
  const address = () => ({ city: str(), zip: chance(0.4) ? null : str() });
  const list = <T>(gen: () => T, max: number) => Array.from({ length: Math.floor(rnd() * (max + 1)) }, gen);
  // Map values are null now and then: present for has() and `in`, unlike in a map literal.
  const map = <T>(gen: () => T) => Object.fromEntries(list(() => [pick(KEYS), chance(0.3) ? null : gen()] as const, 3));
  return {
    id: str(),
    n: int(),
    big: int(),
    d: chance(0.05) ? misfit() : pick(DOUBLES),
    flag: chance(0.05) ? misfit() : chance(0.5),
    data: chance(0.05) ? misfit() : Buffer.from(pick(STRINGS)),
    note: chance(0.4) ? null : str(),
    count: chance(0.4) ? null : int(),
    address: chance(0.01) ? misfit() : address(),
    maybeAddr: chance(0.4) ? null : address(),
    items: list(() => (chance(0.05) ? misfit() : { sku: str(), qty: int(), price: chance(0.05) ? misfit() : pick(DOUBLES) }), 4),
    tags: list(str, 4),
    nums: list(int, 4),
    attrs: map(str),
    counts: map(int),
  };
}

/** A valid message with one field replaced by a value that does not fit it, for every field: validation must match. */
function misfitMessages(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const fields = ["id", "n", "big", "d", "flag", "data", "note", "count", "address", "maybeAddr", "items", "tags", "nums", "attrs", "counts"];
  for (const field of fields) {
    for (const bad of ["1", 1.5, null, [], { a: 1 }, 2n ** 64n]) {
      let base: Record<string, unknown>;
      do base = randomMessage();
      while (Object.entries(base).some(([, v]) => v === undefined));
      out.push({ ...base, [field]: bad });
    }
  }
  // ...and inside containers.
  for (const bad of ["1", null, 1.5]) {
    const base = randomMessage();
    out.push({ ...base, items: [{ sku: "a", qty: bad, price: 1 }], nums: [1, bad], tags: ["a", bad], attrs: { k: bad }, counts: { k: bad } });
  }
  return out;
}

// ---- random well-typed expressions ----

type T = "int" | "double" | "string" | "bool" | "bytes" | "ints" | "strings" | "items" | "item";
interface Env {
  readonly vars: ReadonlyArray<readonly [string, T]>;
  readonly depth: number;
}

const INT_LITERALS = ["0", "1", "-1", "2", "3", "7", "100", "9223372036854775807", "(-9223372036854775807 - 1)", "4611686018427387904", "9007199254740993"];
const DOUBLE_LITERALS = ["0.0", "1.5", "-2.25", "10.0", "1e300", "0.1", "9007199254740992.0"];
const STRING_LITERALS = ["''", "'a'", "'abc'", "'Paris'", "'x'", "'ü'", "'@'", "'user@example.com'"];
const PATTERNS = ["'^[^@]+@[^@]+$'", "'a'", "'^$'", "'[0-9]+'", "'(?i)paris'", "'^.{3}$'"];

function vars(env: Env, t: T): string[] {
  return env.vars.filter(([, vt]) => vt === t).map(([n]) => n);
}

function deeper(env: Env): Env {
  return { vars: env.vars, depth: env.depth + 1 };
}

function gen(t: T, env: Env): string {
  const leaf = env.depth >= 4;
  const e = deeper(env);
  const local = vars(env, t);
  if (local.length > 0 && chance(0.3)) return pick(local);
  switch (t) {
    case "int":
      return leaf
        ? pick([...INT_LITERALS, "message.n", "message.big"])
        : pick<() => string>([
            () => pick(INT_LITERALS),
            () => pick(["message.n", "message.big", "message.count", "message.items[0].qty", "message.nums[1]", "message.counts['k']"]),
            () => `${genItem(e)}.qty`,
            () => `(${gen("int", e)} ${pick(["+", "-", "*", "/", "%"])} ${gen("int", e)})`,
            () => `-${gen("int", e)}`,
            () => `size(${gen(pick<T>(["string", "ints", "strings", "bytes"]), e)})`,
            () => `${gen("string", e)}.size()`,
            () => `int(${gen(pick<T>(["double", "string"]), e)})`,
            () => `(${gen("bool", e)} ? ${gen("int", e)} : ${gen("int", e)})`,
            () => `${gen("ints", e)}[${pick(["0", "1", "-1", "5"])}]`,
            () => `size(message.attrs)`,
            () => `size(message)`,
          ])();
    case "double":
      return leaf
        ? pick([...DOUBLE_LITERALS, "message.d"])
        : pick<() => string>([
            () => pick(DOUBLE_LITERALS),
            () => pick(["message.d", "message.items[0].price"]),
            () => `${genItem(e)}.price`,
            () => `(${gen("double", e)} ${pick(["+", "-", "*", "/"])} ${gen("double", e)})`,
            () => `-${gen("double", e)}`,
            () => `double(${gen("int", e)})`,
            () => `(${gen("bool", e)} ? ${gen("double", e)} : ${gen("double", e)})`,
          ])();
    case "string":
      return leaf
        ? pick([...STRING_LITERALS, "message.id", "message.address.city"])
        : pick<() => string>([
            () => pick(STRING_LITERALS),
            () => pick(["message.id", "message.address.city", "message.note", "message.address.zip", "message.maybeAddr.city", "message.tags[0]", "message.attrs['k']", "message.attrs.a"]),
            () => `${genItem(e)}.sku`,
            () => `(${gen("string", e)} + ${gen("string", e)})`,
            () => `${gen("string", e)}.${pick(["lowerAscii", "upperAscii", "trim"])}()`,
            () => `string(${gen(pick<T>(["int", "double", "bool"]), e)})`,
            () => `${gen("string", e)}.substring(${pick(["0", "1", "5"])})`,
            () => `${gen("string", e)}.substring(${pick(["0", "1", "2", "-1"])}, ${pick(["0", "2", "3", "6"])})`,
            () => `${gen("string", e)}.substring(${gen("int", e)}${chance(0.5) ? `, ${gen("int", e)}` : ""})`,
            () => `(${gen("bool", e)} ? ${gen("string", e)} : ${gen("string", e)})`,
          ])();
    case "bytes":
      return pick(["message.data", "b'abc'", "b''", "bytes('x')", "(message.data + b'!')"]);
    case "bool":
      return leaf
        ? pick(["true", "false", "message.flag", "has(message.note)"])
        : pick<() => string>([
            () => pick(["true", "false", "message.flag"]),
            () => {
              const [a, b] = pick<[T, T]>([["int", "int"], ["int", "double"], ["double", "int"], ["double", "double"], ["string", "string"], ["bytes", "bytes"], ["bool", "bool"]]);
              return `(${gen(a, e)} ${pick(["<", "<=", ">", ">=", "==", "!="])} ${gen(b, e)})`;
            },
            () => `(${gen(pick<T>(["string", "int", "ints"]), e)} == ${pick(["null", "message.note", "message.count"])})`,
            // ints beyond 2^53 against doubles: the interpreter compares Number(int), lossily.
            () => `(${pick(["9007199254740993", "message.big", "message.n"])} ${pick(["<", "<=", ">", ">=", "==", "!="])} ${pick(["9007199254740992.0", "message.d", "double(message.big)"])})`,
            () => `(${gen("ints", e)} == ${gen("ints", e)})`,
            () => `(${gen("bool", e)} ${pick(["&&", "||"])} ${gen("bool", e)})`,
            () => `!${gen("bool", e)}`,
            () => `has(message.${pick(["note", "count", "address", "maybeAddr", "items"])})`,
            () => `has(message.maybeAddr.zip)`,
            () => `has(message.${pick(["attrs", "counts"])}.${pick(["a", "k"])})`,
            () => `(${pick(["'a'", "'k'", "'toString'"])} in message.${pick(["attrs", "counts"])})`,
            () => `${gen("string", e)}.${pick(["contains", "startsWith", "endsWith"])}(${gen("string", e)})`,
            () => `${gen("string", e)}.matches(${pick(PATTERNS)})`,
            () => `${gen("string", e)}.${pick(["isEmail", "isHostname", "isUuid"])}()`,
            () => `(${gen("int", e)} in ${gen("ints", e)})`,
            () => `(${gen("string", e)} in ${gen("strings", e)})`,
            () => `(${gen("string", e)} in message.attrs)`,
            () => `(${pick(["'id'", "'note'", "'nope'"])} in message)`,
            () => comprehension(e),
            () => `(${gen("bool", e)} ? ${gen("bool", e)} : ${gen("bool", e)})`,
          ])();
    case "ints":
      return leaf
        ? pick(["message.nums", "[1, 2, 3]", "[]"])
        : pick<() => string>([
            () => pick(["message.nums", "[1, 2, 3]", "[0]"]),
            () => `[${gen("int", e)}, ${gen("int", e)}]`,
            () => `(${gen("ints", e)} + ${gen("ints", e)})`,
            () => `${gen("items", e)}.map(${fresh("i")}, ${lastVar}.qty)`,
            () => {
              const v = fresh("x");
              return `${gen("ints", e)}.filter(${v}, ${gen("bool", { vars: [...e.vars, [v, "int"]], depth: e.depth })})`;
            },
            () => `message.items.map(i, i.qty * 2)`,
          ])();
    case "strings":
      return pick(["message.tags", "['a', 'b']", "message.items.map(i, i.sku)", "message.address.city.split('a')", "(message.tags + ['x'])"]);
    case "items":
      return pick(["message.items", "message.items.filter(i, i.qty > 1)"]);
    case "item":
      return genItem(env);
  }
}

let lastVar = "";
let counter = 0;
function fresh(base: string): string {
  lastVar = `${base}${counter++ % 3}`;
  return lastVar;
}

function genItem(env: Env): string {
  const local = vars(env, "item");
  return local.length > 0 && chance(0.7) ? pick(local) : "message.items[0]";
}

function comprehension(env: Env): string {
  const kind = pick(["items", "ints", "strings", "keys"] as const);
  const v = fresh(kind === "items" ? "i" : kind === "ints" ? "x" : "s");
  const varType: T = kind === "items" ? "item" : kind === "ints" ? "int" : "string";
  const range = kind === "keys" ? pick(["message.attrs", "message.counts", "message"]) : gen(kind, env);
  const body = gen("bool", { vars: [...env.vars, [v, varType]], depth: env.depth + 1 });
  return `${range}.${pick(["exists", "all", "exists_one"])}(${v}, ${body})`;
}

// ---- the test ----

test("native fast path and interpreter agree on random expressions over random messages", () => {
  rnd = mulberry32(20240601);
  const fast = createCelRuntime({ native: true });
  const interpreter = createCelRuntime({ native: false });
  const shapes = { message: ORDER };
  const messages = [...Array.from({ length: 60 }, randomMessage), ...misfitMessages()];
  let expressions = 0;
  let native = 0;
  let evaluations = 0;
  let failures = 0;
  const mismatches: string[] = [];
  // A fixed count, never a time budget: a slow machine must run the same inputs.
  for (let n = 0; n < 2500; n++) {
    const expr = gen(pick<T>(["bool", "bool", "bool", "int", "double", "string", "ints"]), { vars: [], depth: 0 });
    let a;
    let b;
    try {
      a = fast.compile(expr, ["message"]).typed(shapes);
      b = interpreter.compile(expr, ["message"]).typed(shapes);
    } catch {
      continue; // rejected when compiling (e.g. a limit): nothing to compare
    }
    expressions++;
    if (!a.native) continue;
    native++;
    for (let m = 0; m < 8; m++) {
      const message = messages[Math.floor(rnd() * messages.length)];
      const got = canon(a.run({ message }));
      const reference = b.run({ message });
      const want = canon(reference);
      evaluations++;
      if (want === "error") failures++;
      if (got !== want && mismatches.length < 10) mismatches.push(`${expr}\n  on ${inspect(message)}\n  native ${got}\n  interpreter ${want}`);
      // The conditions' shortcut: true exactly when the result is exactly true.
      if (a.test!(message) !== (reference === true) && mismatches.length < 10) mismatches.push(`${expr}\n  on ${inspect(message)}\n  test() ${!(reference === true)}, interpreter ${want}`);
    }
  }
  console.log(`fuzz: ${expressions} expressions, ${native} native, ${evaluations} evaluations compared (${failures} failures)`);
  assert.deepEqual(mismatches, []);
  assert.ok(native >= expressions * 0.8, `only ${native} of ${expressions} expressions ran natively`);
  assert.ok(failures > 0 && failures < evaluations, "both outcomes must be exercised");
});

test("native fast path and interpreter spend the same cost: a small budget runs out on both or on neither", () => {
  rnd = mulberry32(20260101);
  // Budgets around what these expressions spend, so that many run out and many do not.
  const budgets = [5, 20, 60];
  const runtimes = budgets.map((maxCost) => [createCelRuntime({ native: true, limits: { maxCost } }), createCelRuntime({ native: false, limits: { maxCost } })] as const);
  const shapes = { message: ORDER };
  const messages = [...Array.from({ length: 40 }, randomMessage), ...misfitMessages()];
  const outcome = (r: unknown): string => (isCelFailure(r) && r.code === "rule-cost" ? "rule-cost" : canon(r));
  let spent = 0;
  let evaluations = 0;
  const mismatches: string[] = [];
  for (let n = 0; n < 600; n++) {
    const expr = gen(pick<T>(["bool", "bool", "ints", "string"]), { vars: [], depth: 0 });
    const [fast, interpreter] = runtimes[n % budgets.length]!;
    let a;
    let b;
    try {
      a = fast.compile(expr, ["message"]).typed(shapes);
      b = interpreter.compile(expr, ["message"]).typed(shapes);
    } catch {
      continue;
    }
    if (!a.native) continue;
    for (let m = 0; m < 6; m++) {
      const message = messages[Math.floor(rnd() * messages.length)];
      const got = outcome(a.run({ message }));
      const reference = b.run({ message });
      const want = outcome(reference);
      evaluations++;
      if (want === "rule-cost") spent++;
      if (got !== want && mismatches.length < 10) mismatches.push(`${expr} (maxCost ${budgets[n % budgets.length]})\n  on ${inspect(message)}\n  native ${got}\n  interpreter ${want}`);
      if (a.test!(message) !== (reference === true) && mismatches.length < 10) mismatches.push(`${expr}\n  test() disagrees with the interpreter's ${want}`);
    }
  }
  console.log(`cost fuzz: ${evaluations} evaluations compared, ${spent} ran out of budget`);
  assert.deepEqual(mismatches, []);
  assert.ok(spent > 0 && spent < evaluations, "both outcomes must be exercised");
});

test("pass predicates say true only where the interpreter gives exactly true, and say it for most that do", () => {
  rnd = mulberry32(20261205);
  // The default budget and budgets around what these expressions spend: a spent budget must never pass.
  const budgets = [DEFAULT_CEL_LIMITS.maxCost, 5, 20, 60];
  const re2 = createRe2Engine(DEFAULT_CEL_LIMITS.regexCacheSize, DEFAULT_CEL_LIMITS.maxRegexProgramSize);
  const interpreters = budgets.map((maxCost) => createCelRuntime({ native: false, limits: { maxCost } }));
  const shapes = { message: ORDER };
  const messages = [...Array.from({ length: 60 }, randomMessage), ...misfitMessages()];
  let expressions = 0;
  let compiled = 0;
  let trues = 0;
  let passes = 0;
  const mismatches: string[] = [];
  for (let n = 0; n < 3000; n++) {
    // Half from the general generator, half from the subset pass predicates cover (which the general one rarely stays in).
    const expr = n % 2 === 0 ? gen("bool", { vars: [], depth: 0 }) : passCondition([], 0);
    const k = (n >> 1) % budgets.length;
    let reference;
    try {
      reference = interpreters[k]!.compile(expr, ["message"]).typed(shapes);
    } catch {
      continue;
    }
    expressions++;
    const pass = compilePass(parse(expr), "message", ORDER, { re2, meter: createMeter(budgets[k]!) });
    if (pass === undefined) continue;
    compiled++;
    for (let m = 0; m < 8; m++) {
      const message = messages[Math.floor(rnd() * messages.length)];
      const want = reference.run({ message });
      const got = pass(message);
      if (want === true) trues++;
      if (got) passes++;
      if (got && want !== true && mismatches.length < 10) mismatches.push(`${expr} (maxCost ${budgets[k]})\n  on ${inspect(message)}\n  passed; the interpreter gives ${canon(want)}`);
    }
  }
  console.log(`pass fuzz: ${expressions} expressions, ${compiled} with a pass predicate; ${passes} passes of ${trues} exactly true results`);
  assert.deepEqual(mismatches, []);
  // Enough of the generated conditions are in the subset, and their passes are found, to make the above mean something.
  // (The generator mixes nullable fields, maps and bytes into most expressions; those stay with the closures.)
  assert.ok(compiled >= 150, `only ${compiled} of ${expressions} expressions have a pass predicate`);
  assert.ok(passes >= trues * 0.1 && passes > 500, `${passes} passes of ${trues}`);
});

/** A condition in the pass predicates' subset over ORDER: comparisons, equality, !, &&, ||, size, matches, exists and all. */
function passCondition(items: readonly string[], depth: number): string {
  const num = (): string => {
    const item = items.length > 0 && chance(0.6) ? pick(items) : undefined;
    return pick([
      () => (item !== undefined ? `${item}.${pick(["qty", "price"])}` : `message.${pick(["n", "big", "d"])}`),
      () => pick(["0", "1", "-1", "3", "2.5", "0.0", "100", "9007199254740993", "1e300"]),
      () => `size(${pick(["message.id", "message.address.city", "message.items", "message.tags", "message.nums"])})`,
      () => `message.${pick(["tags", "nums"])}.size()`,
    ])();
  };
  const str = (): string => (items.length > 0 && chance(0.5) ? `${pick(items)}.sku` : pick(["message.id", "message.address.city", `'${pick(["", "a", "Paris", "a@b.c"])}'`]));
  if (depth >= 3) return `${num()} ${pick(["<", "<=", ">", ">=", "==", "!="])} ${num()}`;
  return pick([
    () => `${num()} ${pick(["<", "<=", ">", ">=", "==", "!="])} ${num()}`,
    () => `${str()} ${pick(["==", "!="])} ${str()}`,
    () => `${str()}.matches(${pick(PATTERNS)})`,
    () => "message.flag",
    () => `!(${passCondition(items, depth + 1)})`,
    () => `(${passCondition(items, depth + 1)}) ${pick(["&&", "||"])} (${passCondition(items, depth + 1)})`,
    () => {
      const v = `i${depth}`;
      return `message.items.${pick(["exists", "all"])}(${v}, ${passCondition([...items, v], depth + 1)})`;
    },
    () => `message.${pick(["nums", "tags"])}.${pick(["exists", "all"])}(x, ${chance(0.5) ? "size(message.tags) >= 0 && " : ""}${pick(["x == x", "size(message.id) > 0"])})`,
  ])();
}

test("the bench's five conditions compile to pass predicates, which pass a typical order", () => {
  const shape: CelShape = {
    kind: "record",
    name: "Order",
    fields: new Map<string, CelShape>([
      ["orderId", S("string")],
      ["email", S("string")],
      ["amount", S("double")],
      ["createdAt", S("int")],
      ["address", { kind: "record", name: "Address", fields: new Map([["city", S("string")]]) }],
      ["items", { kind: "list", element: ITEM }],
    ]),
  };
  const order = { orderId: "o-1", email: "a@example.com", amount: 12.5, createdAt: 1_760_000_000_000, address: { city: "Paris" }, items: [{ sku: "A", qty: 4, price: 3.25 }] };
  const re2 = createRe2Engine(DEFAULT_CEL_LIMITS.regexCacheSize, DEFAULT_CEL_LIMITS.maxRegexProgramSize);
  for (const expr of [
    "message.amount > 0.0",
    "size(message.orderId) > 0 && size(message.address.city) <= 64",
    "message.email.matches('^[^@]+@[^@]+$')",
    "message.items.exists(i, i.qty > 3 && i.price < 10.0)",
    "message.createdAt > 1700000000000",
  ]) {
    const pass = compilePass(parse(expr), "message", shape, { re2, meter: createMeter(DEFAULT_CEL_LIMITS.maxCost) });
    assert.ok(pass, `${expr} has a pass predicate`);
    assert.equal(pass(order), true, expr);
    assert.equal(pass({ ...order, amount: -1, orderId: "", email: "x", items: [], createdAt: 0 }), false, `${expr} on an order that fails it`);
    assert.equal(pass(null), false, `${expr} on null`);
  }
  // Nothing of the expression is in the generated source: a field or string that looks like code is a value.
  const hostile = compilePass(parse("message[\"x\\\"]);throw 1;//\"] == \"');throw 1;//\""), "message", { kind: "record", name: "R", fields: new Map([['x");throw 1;//', S("string")]]) }, { re2, meter: createMeter(100) });
  assert.equal(hostile, undefined, "an index is outside the subset");
  const field = 'x"]);globalThis.pwned=1;//';
  const quoted = compilePass(parse(`message.items.exists(i, i.sku == ${JSON.stringify(field)})`), "message", ORDER, { re2, meter: createMeter(100) });
  assert.ok(quoted);
  assert.equal(quoted({ items: [{ sku: field, qty: 1, price: 1 }] }), true);
  assert.equal(quoted({ items: [{ sku: "x", qty: 1, price: 1 }] }), false);
  assert.equal((globalThis as { pwned?: unknown }).pwned, undefined);
});

function parse(expr: string): Expr {
  return parseCel(expr).expr as Expr;
}

function inspect(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? `bytes:${Buffer.from(x).toString("hex")}` : x === undefined ? "<undefined>" : x));
}
