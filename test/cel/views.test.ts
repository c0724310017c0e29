import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { celView, createCelRuntime, isCelFailure } from "../../src/cel/index.js";
import type { CelFailure, CelShape } from "../../src/cel/index.js";

const runtime = createCelRuntime();

const str: CelShape = { kind: "string" };
const int: CelShape = { kind: "int" };
const dbl: CelShape = { kind: "double" };

function record(name: string, fields: Record<string, CelShape>): CelShape {
  return { kind: "record", name, fields: new Map(Object.entries(fields)) };
}

const address = record("Address", { city: str, zip: str });
const item = record("Item", { sku: str, qty: int, price: dbl });
const order = record("Order", {
  id: int,
  big: { kind: "int", bigint: true },
  count: { kind: "uint" },
  score: dbl,
  active: { kind: "bool" },
  name: str,
  data: { kind: "bytes" },
  nothing: { kind: "null" },
  nick: { kind: "nullable", inner: str },
  address,
  items: { kind: "list", element: item },
  tags: { kind: "list", element: str },
  attrs: { kind: "map", value: str },
  counts: { kind: "map", value: int },
  createdAt: { kind: "timestamp", native: "millis" },
});

function sampleOrder() {
  return {
    id: 7,
    big: 9007199254740993n,
    count: 3,
    score: 87.5,
    active: true,
    name: "Alice",
    data: Buffer.from("abc"),
    nothing: null,
    nick: null,
    address: { city: "Paris", zip: "75001" },
    items: [
      { sku: "A", qty: 1, price: 19.99 },
      { sku: "B", qty: 5, price: 4.5 },
    ],
    tags: ["x", "y"],
    attrs: { color: "red", size: "L" },
    counts: new Map([["a", 1], ["b", 2]]),
    createdAt: Date.UTC(2024, 5, 1, 12, 0, 0, 123),
  };
}

/** Evaluates `expr` with `message` bound to a view of `native`. */
function evalOn(expr: string, native: unknown = sampleOrder(), shape: CelShape = order): unknown {
  return runtime.compile(expr, ["message"]).run({ message: celView(native, shape) });
}

function expectTrue(expr: string, native?: unknown, shape?: CelShape): void {
  const r = evalOn(expr, native, shape);
  assert.equal(r, true, `${expr} gave ${isCelFailure(r) ? `failure: ${r.message}` : String(r)}`);
}

function expectFailure(expr: string, native?: unknown, shape?: CelShape): CelFailure {
  const r = evalOn(expr, native, shape);
  assert.ok(isCelFailure(r), `${expr} should fail, gave ${String(r)}`);
  return r;
}

describe("typed access", () => {
  test("int fields are CEL ints (bigint), so int arithmetic works on numbers from the decoder", () => {
    expectTrue("type(message.id) == int && message.id + 1 == 8 && message.id * 2 == 14");
    assert.equal(evalOn("message.id"), 7n);
  });
  test("bigint-native ints keep their precision", () => {
    expectTrue("message.big == 9007199254740993");
  });
  test("uint fields are CEL uints", () => {
    expectTrue("type(message.count) == uint && message.count == 3u");
  });
  test("doubles, strings and bools", () => {
    expectTrue("type(message.score) == double && message.score > 50.0 && message.name.startsWith('Al') && message.active");
  });
  test("a Buffer is CEL bytes", () => {
    expectTrue("message.data == b'abc' && size(message.data) == 3 && string(message.data) == 'abc'");
    const data = evalOn("message.data");
    assert.ok(data instanceof Uint8Array && !Buffer.isBuffer(data), "a plain Uint8Array, not a Buffer");
  });
  test("null fields", () => {
    expectTrue("message.nothing == null && type(message.nothing) == null_type");
  });
  test("timestamp-millis is a google.protobuf.Timestamp with millisecond precision", () => {
    expectTrue("message.createdAt == timestamp('2024-06-01T12:00:00.123Z')");
    expectTrue("message.createdAt > timestamp('2024-01-01T00:00:00Z') && message.createdAt.getFullYear() == 2024");
  });
  test("timestamps stored as Date, micros and bigint", () => {
    const ts = (native: "date" | "millis" | "micros") => record("T", { t: { kind: "timestamp", native } });
    expectTrue("message.t == timestamp('2024-06-01T12:00:00.123Z')", { t: new Date(Date.UTC(2024, 5, 1, 12, 0, 0, 123)) }, ts("date"));
    expectTrue("message.t == timestamp('2024-06-01T12:00:00.123456Z')", { t: 1717243200123456 }, ts("micros"));
    expectTrue("message.t == timestamp('2024-06-01T12:00:00.123456Z')", { t: 1717243200123456n }, ts("micros"));
    expectTrue("message.t == timestamp('1969-12-31T23:59:59.999Z')", { t: -1 }, ts("millis"));
    expectFailure("message.t > timestamp('2024-01-01T00:00:00Z')", { t: new Date(NaN) }, ts("date"));
  });
});

describe("nested values", () => {
  test("nested records", () => {
    expectTrue("message.address.city == 'Paris' && size(message.address.zip) == 5");
  });
  test("lists of records: index, size, element fields", () => {
    expectTrue("size(message.items) == 2 && message.items[1].qty == 5 && message.items[0].price < 20.0");
  });
  test("maps from plain objects and from Maps", () => {
    expectTrue("message.attrs.color == 'red' && message.attrs['size'] == 'L' && size(message.attrs) == 2");
    expectTrue("message.counts.a + message.counts['b'] == 3 && size(message.counts) == 2");
  });
  test("a list element that does not fit its shape fails when read", () => {
    const o = { ...sampleOrder(), items: [{ sku: "A", qty: "many", price: 1 }] };
    const f = expectFailure("message.items[0].qty > 1", o);
    assert.match(f.message, /field 'qty': expected int, got string/);
  });
  test("recursive record shapes", () => {
    const fields = new Map<string, CelShape>([["value", int]]);
    const node: CelShape = { kind: "record", name: "Node", fields };
    fields.set("next", { kind: "nullable", inner: node });
    const list = { value: 1, next: { value: 2, next: { value: 3, next: null } } };
    expectTrue("message.next.next.value == 3 && message.next.next.next == null", list, node);
  });
});

describe("nullable, union and dyn", () => {
  test("a nullable field holds null or the inner shape", () => {
    expectTrue("message.nick == null");
    expectTrue("message.nick == 'Al' && message.nick.size() == 2", { ...sampleOrder(), nick: "Al" });
  });
  test("a union converts each value by the branch its pick chooses", () => {
    const shape = record("U", {
      u: {
        kind: "union",
        branches: [int, str],
        pick: (v) => (typeof v === "number" ? 0 : typeof v === "string" ? 1 : -1),
      },
    });
    expectTrue("type(message.u) == int && message.u == 4", { u: 4 }, shape);
    expectTrue("type(message.u) == string && message.u == 'four'", { u: "four" }, shape);
    const f = expectFailure("message.u == 4", { u: true }, shape);
    assert.match(f.message, /no branch/);
  });
  test("dyn with intNumbers reads JSON integers as CEL ints", () => {
    const shape = record("J", { extra: { kind: "dyn", intNumbers: true } });
    const json = { extra: { count: 2, ratio: 1.5, list: [1, "a", null], nested: { ok: true } } };
    expectTrue(
      "message.extra.count + 1 == 3 && type(message.extra.ratio) == double && message.extra.list[0] == 1" +
        " && message.extra.list[2] == null && message.extra.nested.ok",
      json,
      shape,
    );
  });
  test("dyn without intNumbers reads every JSON number as a double", () => {
    const shape = record("J", { extra: { kind: "dyn" } });
    expectTrue("type(message.extra.count) == double && message.extra.count == 2.0", { extra: { count: 2 } }, shape);
  });
});

describe("only schema fields are visible", () => {
  for (const expr of [
    "message.constructor",
    "message.__proto__",
    "message['constructor']",
    "message.toString",
    "message.hasOwnProperty",
    "message.attrs.constructor",
    "message.attrs['__proto__']",
    "message.items.length",
  ]) {
    test(`${expr} is "no such field"`, () => {
      const f = expectFailure(expr);
      assert.match(f.message, /field not found/);
    });
  }
  test("keys outside the schema are invisible, even when the object has them", () => {
    const o = { ...sampleOrder(), secret: "s3cr3t" };
    expectFailure("message.secret == 's3cr3t'", o);
    expectTrue("!has(message.secret) && !('secret' in message)", o);
  });
  test("methods of class instances (such as avsc records) are not fields", () => {
    class Rec {
      constructor(readonly city: string) {}
      zip(): string {
        return "method";
      }
    }
    const f = expectFailure("message.zip == 'method'", new Rec("Paris"), address);
    assert.match(f.message, /not found/);
    expectTrue("message.city == 'Paris' && !has(message.zip)", new Rec("Paris"), address);
  });
  test("a schema field named like an Object.prototype member is read only as an own property", () => {
    const shape = record("P", { constructor: str, toString: str });
    expectTrue("message.constructor == 'c' && !has(message.toString)", { constructor: "c" }, shape);
    expectFailure("message.toString == ''", { constructor: "c" }, shape);
  });
  test("a map literal with a '__proto__' key is harmless", () => {
    const r = runtime.compile("{'__proto__': {'polluted': true}}.polluted", []).run({});
    assert.ok(isCelFailure(r));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
  test("a '__proto__' key in map data is plain data", () => {
    const attrs = JSON.parse('{"__proto__": "p", "a": "b"}') as Record<string, string>;
    expectTrue("message.attrs['__proto__'] == 'p' && '__proto__' in message.attrs && size(message.attrs) == 2", {
      ...sampleOrder(),
      attrs,
    });
    assert.equal(({} as Record<string, unknown>).a, undefined);
  });
});

describe("has(), size(), in, equality and macros on views", () => {
  test("has() is true for a field holding a value, including null, and false for an absent one", () => {
    expectTrue("has(message.name) && has(message.nick) && has(message.address.city)");
    const { name: _dropped, ...withoutName } = sampleOrder();
    expectTrue("!has(message.name)", withoutName);
    expectFailure("message.name == 'Alice'", withoutName);
  });
  test("size() of records, lists and maps", () => {
    expectTrue("size(message.address) == 2 && message.items.size() == 2 && size(message.attrs) == 2");
  });
  test("in on lists and maps", () => {
    expectTrue("'y' in message.tags && !('z' in message.tags) && 'color' in message.attrs && 'city' in message.address");
  });
  test("equality between views and literals", () => {
    expectTrue("message.address == {'city': 'Paris', 'zip': '75001'} && message.tags == ['x', 'y']");
    expectTrue("message.address != {'city': 'Paris'} && message.items[0] != message.items[1]");
    expectTrue("message.attrs == {'size': 'L', 'color': 'red'}");
  });
  test("exists, all, exists_one, map and filter over list views", () => {
    expectTrue("message.items.exists(i, i.qty > 3 && i.price < 10.0)");
    expectTrue("message.items.all(i, i.qty > 0) && !message.items.all(i, i.qty > 1)");
    expectTrue("message.items.exists_one(i, i.sku == 'B')");
    expectTrue("message.items.map(i, i.qty) == [1, 5] && message.items.filter(i, i.qty > 1).size() == 1");
    expectTrue("message.items.map(i, i.qty > 1, i.sku) == ['B']");
  });
  test("macros over map and record keys", () => {
    expectTrue("message.attrs.all(k, k in ['color', 'size']) && message.address.exists(k, k == 'zip')");
    expectTrue("message.counts.filter(k, message.counts[k] > 1) == ['b']");
  });
  test("one view serves several programs", () => {
    const view = celView(sampleOrder(), order);
    for (const expr of ["message.id == 7", "message.address.city == 'Paris'", "message.items.size() == 2"]) {
      assert.equal(runtime.compile(expr, ["message"]).run({ message: view }), true, expr);
    }
  });
});

describe("laziness", () => {
  test("a rule reads only the fields it uses, and the message is not copied", () => {
    const reads: string[] = [];
    const native = new Proxy(sampleOrder(), {
      get(target, key, receiver) {
        if (typeof key === "string") reads.push(key);
        return Reflect.get(target, key, receiver);
      },
    });
    const view = celView(native, order);
    assert.deepEqual(reads, [], "creating the view reads nothing");
    expectTrue("message.name == 'Alice' && message.address.city == 'Paris'", native);
    assert.deepEqual([...new Set(reads)].sort(), ["address", "name"]);
    assert.equal((view as { native: unknown }).native, native);
  });
});

describe("values that do not fit their shape", () => {
  test("fail the rule that reads them, naming the field", () => {
    const f = expectFailure("message.id > 1", { ...sampleOrder(), id: "seven" });
    assert.match(f.message, /field 'id': expected int, got string/);
  });
  test("a fractional number is not an int", () => {
    expectFailure("message.id > 1", { ...sampleOrder(), id: 1.5 });
  });
  test("a top-level value of the wrong kind fails the rule", () => {
    expectFailure("message.id == 7", "not a record");
  });
  test("fields the rule does not read are not converted", () => {
    expectTrue("message.name == 'Alice'", { ...sampleOrder(), id: "seven" });
  });
});
