import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorCode } from "../../../src/errors.js";
import { ORDER_SCHEMA, compileJson, orderValue } from "./fixtures.js";

const order = compileJson(ORDER_SCHEMA);

describe("json schema validate", () => {
  it("accepts a conforming value", () => {
    assert.equal(order.validate(orderValue()), undefined);
  });

  it("reports every problem with a $-path: indexes, missing and extra properties", () => {
    const strict = compileJson({ ...ORDER_SCHEMA, additionalProperties: false });
    const problems = strict.validate(
      orderValue({ id: 5, address: { zip: "x" }, items: [{ sku: "A", qty: 1 }, { qty: 0 }], status: "LOST", extra: true }),
    );
    assert.deepEqual(
      problems?.map((p) => `${p.path}: ${p.message}`),
      [
        "$.extra: must NOT have additional properties",
        "$.id: must be string",
        "$.address.city: must have required property 'city'",
        "$.address.zip: must be integer,null",
        "$.items[1].sku: must have required property 'sku'",
        "$.items[1].qty: must be >= 1",
        '$.status: must be equal to one of the allowed values: "NEW", "DONE"',
      ],
    );
  });

  it("tells array indexes from numeric keys by following the value", () => {
    const schema = compileJson({ type: "object", additionalProperties: { type: "string" } });
    assert.deepEqual(schema.validate({ "0": 1 })?.map((p) => p.path), ["$.0"]);
    assert.deepEqual(compileJson({ type: "array", items: { type: "string" } }).validate(["a", 1])?.map((p) => p.path), ["$[1]"]);
  });
});

describe("json schema: properties named like Object.prototype keys", () => {
  const schema = (required: string[]) =>
    compileJson({ type: "object", required, properties: { constructor: { type: "string" }, toString: { type: "string" } } });

  it("an optional `constructor` or `toString` that is absent is not validated against Object's own", () => {
    assert.equal(schema([]).validate({}), undefined);
    assert.equal(schema([]).validate({ constructor: "c", toString: "t" }), undefined);
    assert.deepEqual(schema([]).validate({ constructor: 1 })?.map((p) => p.path), ["$.constructor"]);
  });

  it("a required one that is absent is missing, not present through the prototype", () => {
    assert.deepEqual(schema(["constructor", "toString"]).validate({})?.map((p) => p.message), ["must have required property 'constructor'", "must have required property 'toString'"]);
    assert.equal(schema(["constructor"]).validate(JSON.parse('{"constructor": "c"}')), undefined);
  });
});

describe("json schema encode/decode", () => {
  it("writes UTF-8 JSON text and reads it back", () => {
    const value = orderValue({ id: "é-€-😀" });
    const bytes = order.encode(value);
    assert.equal(Buffer.from(bytes).toString("utf8"), JSON.stringify(value));
    assert.deepEqual(order.decode(bytes), value);
  });

  it("throws message-invalid naming the first problem", () => {
    assert.throws(
      () => order.encode(orderValue({ items: [{ sku: 1 }] })),
      (e: unknown) => isErrorCode(e, "message-invalid") && /at \$\.items\[0\]\.sku: must be string/.test(String(e)),
    );
  });

  it("throws message-invalid, not a TypeError, for values without JSON text", () => {
    const any = compileJson(true);
    for (const v of [10n, undefined, () => 1]) {
      assert.throws(() => any.encode(v), (e: unknown) => isErrorCode(e, "message-invalid"), String(v));
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => any.encode(cyclic), (e: unknown) => isErrorCode(e, "message-invalid"));
  });

  it("throws message-invalid for what JSON text would write as null or {} and read back otherwise: NaN, ±Infinity, undefined in a list, Map, Set, bytes (found by test/fuzz)", () => {
    const any = compileJson(true);
    const cases: [unknown, string][] = [
      [NaN, "\\$"],
      [{ a: [1, { b: Infinity }] }, "\\$\\.a\\[1\\]\\.b"],
      [[1, undefined], "\\$\\[1\\]"],
      [{ m: new Map([["k", 1]]) }, "\\$\\.m"],
      [{ s: new Set([1]) }, "\\$\\.s"],
      [{ b: Buffer.from("abc") }, "\\$\\.b"],
      [{ b: [new Uint8Array(2)] }, "\\$\\.b\\[0\\]"],
    ];
    for (const [v, at] of cases) {
      assert.throws(() => any.encode(v), (e: unknown) => isErrorCode(e, "message-invalid") && new RegExp(`at ${at}:`).test((e as Error).message), String(at));
    }
    // Declared number fields too: Ajv's "number" takes NaN.
    const numbers = compileJson({ type: "object", properties: { n: { type: "number" } } });
    assert.throws(() => numbers.encode({ n: -Infinity }), (e: unknown) => isErrorCode(e, "message-invalid"));
    // null, {} and undefined object members (no key) stay as they are.
    assert.equal(Buffer.from(any.encode({ a: null, b: {}, c: undefined, d: [null] })).toString(), '{"a":null,"b":{},"d":[null]}');
  });

  it("rejects payloads that are not UTF-8 or not JSON as wire-format errors", () => {
    const good = order.encode(orderValue());
    for (const bad of [Uint8Array.from([0xff, 0xfe, 0x7b]), good.subarray(0, good.length - 1), Buffer.from("{} trailing"), new Uint8Array(0)]) {
      assert.throws(() => order.decode(bad), (e: unknown) => isErrorCode(e, "wire-format"));
    }
  });

  it("passes JSON through toJson/fromJson (Java JsonSchema does too)", () => {
    const value = orderValue();
    assert.equal(order.toJson(value), value);
    assert.equal(order.fromJson(value), value);
    assert.throws(() => order.fromJson(undefined), (e: unknown) => isErrorCode(e, "message-invalid"));
  });
});

describe("json schema encode errors carry little of the input", () => {
  it("a 100 KB property name or a 3,000-level path gives an error of at most a few KB, typed", () => {
    const map = compileJson({ type: "object", properties: { m: { type: "object", additionalProperties: { type: "integer" } } } });
    const key = "k".repeat(100_000);
    let deep: unknown = "x";
    for (let i = 0; i < 3000; i++) deep = { m: deep };
    const nested = compileJson({ $ref: "#/definitions/n", definitions: { n: { type: "object", properties: { m: { anyOf: [{ $ref: "#/definitions/n" }, { type: "integer" }] } } } } });
    for (const [schema, value] of [[map, { m: { [key]: "x" } }], [nested, deep]] as const) {
      assert.throws(
        () => schema.encode(value),
        (e: unknown) => {
          assert.ok(isErrorCode(e, "message-invalid"));
          const message = (e as Error).message;
          assert.ok(message.length < 2_500, `${message.length} chars`);
          assert.match(message, /^value does not match JSON Schema .* at \$\.m.*… \(\d+ chars\): /);
          return true;
        },
      );
    }
  });
});


describe("json schema: numbers and unknown formats", () => {
  it("NaN and ±Infinity are not numbers a schema accepts (JSON has no such values)", () => {
    const s = compileJson({ type: "object", properties: { n: { type: "number" } } });
    for (const n of [NaN, Infinity, -Infinity]) assert.ok(s.validate({ n }), String(n));
    assert.equal(s.validate({ n: 1.5 }), undefined);
  });

  it("an unknown format is ignored without writing to the console (a library never does)", () => {
    const warn = console.warn;
    const log = console.log;
    const said: unknown[] = [];
    console.warn = (...a: unknown[]) => void said.push(a);
    console.log = (...a: unknown[]) => void said.push(a);
    try {
      const s = compileJson({ type: "object", properties: { d: { type: "string", format: "ate" } } });
      assert.equal(s.validate({ d: "x" }), undefined);
    } finally {
      console.warn = warn;
      console.log = log;
    }
    assert.deepEqual(said, []);
  });
});
