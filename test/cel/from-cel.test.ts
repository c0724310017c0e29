import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CelValueError, celView, createCelRuntime, fromCel, isCelFailure } from "../../src/cel/index.js";
import type { CelShape } from "../../src/cel/index.js";
import { isKontractError } from "../../src/errors.js";

const runtime = createCelRuntime();

function record(name: string, fields: Record<string, CelShape>): CelShape {
  return { kind: "record", name, fields: new Map(Object.entries(fields)) };
}

const user = record("User", {
  name: { kind: "string" },
  age: { kind: "int" },
  balance: { kind: "int", bigint: true },
  score: { kind: "double" },
  avatar: { kind: "nullable", inner: { kind: "bytes" } },
  tags: { kind: "list", element: { kind: "string" } },
  prefs: { kind: "map", value: { kind: "bool" } },
  joined: { kind: "timestamp", native: "millis" },
});

function sampleUser() {
  return {
    name: "ann",
    age: 41,
    balance: 10n,
    score: 1.5,
    avatar: null,
    tags: ["a"],
    prefs: { dark: true },
    joined: Date.UTC(2020, 0, 1),
  };
}

/** Runs `expr` with `message` bound to a view of `native`, and converts the result back to `shape`. */
function roundTrip(expr: string, shape: CelShape, native: unknown = sampleUser(), messageShape: CelShape = user): unknown {
  const r = runtime.compile(expr, ["message"]).run({ message: celView(native, messageShape) });
  assert.ok(!isCelFailure(r), isCelFailure(r) ? r.message : "");
  return fromCel(r, shape);
}

describe("identity results return the native value untouched", () => {
  test("records", () => {
    const native = sampleUser();
    assert.equal(roundTrip("message", user, native), native);
  });
  test("nested lists and maps, for the same shape objects", () => {
    const native = sampleUser();
    const fields = user.kind === "record" ? user.fields : new Map<string, CelShape>();
    assert.equal(roundTrip("message.tags", fields.get("tags")!, native), native.tags);
    assert.equal(roundTrip("message.prefs", fields.get("prefs")!, native), native.prefs);
  });
  test("an equal but distinct shape gets a converted copy", () => {
    const native = sampleUser();
    const out = roundTrip("message.tags", { kind: "list", element: { kind: "string" } }, native);
    assert.notEqual(out, native.tags);
    assert.deepEqual(out, native.tags);
  });
});

describe("scalars", () => {
  test("int results become numbers, or bigints when the shape says so", () => {
    assert.equal(roundTrip("message.age + 1", { kind: "int" }), 42);
    assert.equal(roundTrip("message.balance * 2", { kind: "int", bigint: true }), 20n);
  });
  test("an int beyond the safe-integer range fails clearly instead of losing precision", () => {
    assert.throws(
      () => roundTrip("9007199254740993", { kind: "int" }),
      (e) => e instanceof CelValueError && isKontractError(e) && e.code === "rule-runtime" && /not a safe integer/.test(e.message),
    );
  });
  test("an integral double converts to int, a fractional one does not", () => {
    assert.equal(roundTrip("message.score * 2.0", { kind: "int" }), 3);
    assert.throws(() => roundTrip("message.score", { kind: "int" }), CelValueError);
  });
  test("uints", () => {
    assert.equal(fromCel(runtime.compile("7u", []).run({}), { kind: "uint" }), 7);
    assert.throws(() => fromCel(-1n, { kind: "uint" }), /out of range for uint/);
  });
  test("doubles accept ints", () => {
    assert.equal(roundTrip("message.age", { kind: "double" }), 41);
  });
  test("bytes come back as Uint8Array", () => {
    const r = roundTrip("b'hi' + b'!'", { kind: "bytes" });
    assert.ok(r instanceof Uint8Array);
    assert.deepEqual([...(r as Uint8Array)], [104, 105, 33]);
  });
  test("strings, bools and null", () => {
    assert.equal(roundTrip("message.name.upperAscii()", { kind: "string" }), "ANN");
    assert.equal(roundTrip("message.age > 40", { kind: "bool" }), true);
    assert.equal(roundTrip("message.avatar", { kind: "nullable", inner: { kind: "bytes" } }), null);
    assert.throws(() => roundTrip("message.name", { kind: "bool" }), /expected bool, got string/);
  });
});

describe("timestamps", () => {
  const at = "timestamp('2024-06-01T12:00:00.123456789Z')";
  const ms = Date.UTC(2024, 5, 1, 12, 0, 0, 123);
  test("to Date, millis and micros (floored), as number or bigint", () => {
    assert.deepEqual(roundTrip(at, { kind: "timestamp", native: "date" }), new Date(ms));
    assert.equal(roundTrip(at, { kind: "timestamp", native: "millis" }), ms);
    assert.equal(roundTrip(at, { kind: "timestamp", native: "micros" }), ms * 1000 + 456);
    assert.equal(roundTrip(at, { kind: "timestamp", native: "micros", bigint: true }), BigInt(ms * 1000 + 456));
    assert.equal(roundTrip("timestamp('1969-12-31T23:59:59.9995Z')", { kind: "timestamp", native: "millis" }), -1);
  });
  test("a view's timestamp round-trips exactly", () => {
    const native = sampleUser();
    assert.equal(roundTrip("message.joined + duration('1s')", { kind: "timestamp", native: "millis" }, native), native.joined + 1000);
  });
});

describe("records, lists and maps built by the rule", () => {
  test("a map literal becomes a record with the schema's fields converted", () => {
    const out = roundTrip("{'name': message.name.upperAscii(), 'age': message.age + 1, 'tags': message.tags + ['b']}", user);
    assert.deepEqual(out, { name: "ANN", age: 42, tags: ["a", "b"] });
  });
  test("a key outside the schema is an error", () => {
    assert.throws(() => roundTrip("{'name': 'x', 'admin': true}", user), /record User has no field 'admin'/);
  });
  test("errors name the path of the offending value", () => {
    assert.throws(
      () => roundTrip("{'tags': ['a', 1]}", user),
      (e) => e instanceof CelValueError && e.path === "tags[1]",
    );
  });
  test("a '__proto__' key becomes an own property, never the prototype", () => {
    const out = roundTrip("{'__proto__': true, 'x': false}", { kind: "map", value: { kind: "bool" } }) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ["__proto__", "x"]);
    assert.equal(Object.getOwnPropertyDescriptor(out, "__proto__")?.value, true);
  });
  test("a view of another shape is converted field by field", () => {
    const small = record("Small", { name: { kind: "string" } });
    const out = roundTrip("message", small, { name: "z" }, record("Other", { name: { kind: "string" } }));
    assert.deepEqual(out, { name: "z" });
  });
  test("map keys must be strings", () => {
    assert.throws(() => roundTrip("{1: true}", { kind: "map", value: { kind: "bool" } }), /map keys must be strings/);
  });
});

describe("unions, dyn and native", () => {
  const intOrString: CelShape = {
    kind: "union",
    branches: [{ kind: "null" }, { kind: "int" }, { kind: "string" }],
    pick: (v) => (v === null ? 0 : typeof v === "number" ? 1 : typeof v === "string" ? 2 : -1),
  };
  test("a union takes the first branch whose native form it picks", () => {
    assert.equal(roundTrip("1 + 1", intOrString), 2);
    assert.equal(roundTrip("'a' + 'b'", intOrString), "ab");
    assert.equal(roundTrip("null", intOrString), null);
    assert.throws(() => roundTrip("true", intOrString), /fits no branch/);
  });
  test("dyn gives JSON-like values", () => {
    const out = roundTrip("{'n': 1, 'u': 2u, 'd': 1.5, 'l': [true, null], 'm': {'k': 'v'}, 't': timestamp('2024-01-01T00:00:00Z')}", {
      kind: "dyn",
    });
    assert.deepEqual(out, { n: 1, u: 2, d: 1.5, l: [true, null], m: { k: "v" }, t: "2024-01-01T00:00:00Z" });
  });
  test("native unwraps protobuf messages", () => {
    const out = roundTrip("google.protobuf.Timestamp{seconds: 5}", { kind: "native" }) as { seconds: bigint };
    assert.equal(out.seconds, 5n);
  });
});

test("an evaluation error is never converted", () => {
  const r = runtime.compile("1 / 0", []).run({});
  assert.ok(isCelFailure(r));
  assert.throws(() => fromCel(r, { kind: "int" }), /evaluation failed: int divide by zero/);
});
