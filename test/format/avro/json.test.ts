import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorCode } from "../../../src/errors.js";
import { createAvroFormat, withJsonForm } from "../../../src/format/avro/index.js";
import { jsonSchemaFormat } from "../../../src/format/json-schema/index.js";

const aJsonSchema = () => jsonSchemaFormat.compile({ schema: '{"type":"object"}', schemaType: "JSON" });
import { ORDER_SCHEMA, compileAvro, orderValue, plain } from "./fixtures.js";

const order = compileAvro(ORDER_SCHEMA);
const plainOrder = createAvroFormat({ json: "plain" }).compile({ schema: JSON.stringify(ORDER_SCHEMA) });

describe("avro JSON form", () => {
  it("is Avro's JSON encoding by default, as Java hands to JSONata: wrapped unions, bytes as ISO-8859-1", () => {
    const value = orderValue({ shipping: { city: "Lyon", zip: null } });
    assert.deepEqual(order.toJson(value), {
      id: "o-1",
      email: { string: "ada@example.com" },
      address: { city: "Paris", zip: { int: 75001 } },
      items: [
        { sku: "A-1", qty: 2 },
        { sku: "B-2", qty: 1 },
      ],
      attrs: { color: "red", "gift wrap": "yes" },
      status: "NEW",
      blob: "\u0000\u00ff\u0010",
      amount: 12.5,
      count: 2 ** 40,
      ts: 1_700_000_000_000,
      shipping: { "com.acme.Address": { city: "Lyon", zip: null } },
    });
  });

  it("round-trips through fromJson to a valid avsc value", () => {
    const value = orderValue({ shipping: { city: "Lyon", zip: 69000 } });
    const back = order.fromJson(order.toJson(value));
    assert.equal(order.validate(back), undefined);
    assert.deepEqual(plain(back), value);
    // Records come back as avsc record instances, as decode() gives them.
    assert.equal(Object.getPrototypeOf(back), Object.getPrototypeOf(order.decode(order.encode(value))));
  });

  it("accepts unwrapped unions and short names for named branches in fromJson", () => {
    const json = order.toJson(orderValue()) as Record<string, unknown>;
    const back = order.fromJson({ ...json, email: "x@y.z", shipping: { Address: { city: "Lyon", zip: 1 } } }) as Record<string, unknown>;
    assert.equal(back.email, "x@y.z");
    assert.deepEqual(plain(back.shipping), { city: "Lyon", zip: 1 });
  });

  it("fills missing fields from their defaults and rejects missing fields without one", () => {
    const json = order.toJson(orderValue()) as Record<string, unknown>;
    const { email: _e, shipping: _s, ...rest } = json;
    const back = order.fromJson(rest) as Record<string, unknown>;
    assert.equal(back.email, null);
    assert.equal(back.shipping, null);
    const { id: _id, ...noId } = json;
    assert.throws(() => order.fromJson(noId), (e: unknown) => isErrorCode(e, "message-invalid") && /at id is missing/.test(String(e)));
  });

  it("throws message-invalid with the path when the JSON does not fit", () => {
    const json = order.toJson(orderValue()) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [{ ...json, items: [{ sku: "A", qty: "1" }] }, /at items\[0\]\.qty/],
      [{ ...json, status: "LOST" }, /at status/],
      [{ ...json, count: 2 ** 60 }, /at count/], // beyond what avsc longs (JS numbers) hold exactly
      [{ ...json, blob: "\u0100" }, /at blob/], // not one char per byte
      [{ ...json, attrs: { "gift wrap": 1 } }, /at attrs\["gift wrap"\]/],
      ["not a record", /at the root/],
    ];
    for (const [bad, pattern] of cases) {
      assert.throws(() => order.fromJson(bad), (e: unknown) => isErrorCode(e, "message-invalid") && pattern.test(String(e)), String(pattern));
    }
  });

  it("writes NaN and infinities as strings and reads them back", () => {
    const schema = compileAvro({ type: "record", name: "F", fields: [{ name: "d", type: "double" }, { name: "f", type: "float" }] });
    assert.deepEqual(schema.toJson({ d: NaN, f: -Infinity }), { d: "NaN", f: "-Infinity" });
    const back = schema.fromJson({ d: "NaN", f: "-Infinity" }) as { d: number; f: number };
    assert.ok(Number.isNaN(back.d));
    assert.equal(back.f, -Infinity);
  });

  it("plain form: unions unwrapped, bytes as base64", () => {
    const value = orderValue({ shipping: { city: "Lyon", zip: null } });
    const json = plainOrder.toJson(value) as Record<string, unknown>;
    assert.equal(json.email, "ada@example.com");
    assert.equal(json.blob, "AP8Q");
    assert.deepEqual(json.shipping, { city: "Lyon", zip: null });
    assert.deepEqual(plain(plainOrder.fromJson(json)), value);
    assert.throws(() => plainOrder.fromJson({ ...json, blob: "not base64!" }), (e: unknown) => isErrorCode(e, "message-invalid"));
  });

  it("withJsonForm: the same schema in the plain form, its values the same record classes as decode gives", () => {
    const asPlain = withJsonForm(order, "plain");
    const value = orderValue({ shipping: { city: "Lyon", zip: null } });
    const json = asPlain.toJson(value) as Record<string, unknown>;
    assert.deepEqual(json, plainOrder.toJson(value));
    const back = asPlain.fromJson(json) as { address: object };
    const decoded = order.decode(order.encode(value)) as { address: object };
    assert.equal(Object.getPrototypeOf(back), Object.getPrototypeOf(decoded));
    assert.equal(Object.getPrototypeOf(back.address), Object.getPrototypeOf(decoded.address));
    assert.deepEqual(asPlain.jsonRedactor(new Set(["PII"]))!(value, () => "***"), plainOrder.jsonRedactor(new Set(["PII"]))!(value, () => "***"));
    // Everything else is the schema's own, and it stays an Avro schema (for decodeFrom and another form).
    assert.equal(asPlain.encode, order.encode);
    assert.deepEqual(withJsonForm(asPlain, "avro").toJson(value), order.toJson(value));
    assert.throws(() => withJsonForm(aJsonSchema(), "plain"), TypeError);
  });

  it("keeps ambiguous (wrapped) unions in avsc's wrapped representation", () => {
    const schema = compileAvro({ type: "record", name: "N", fields: [{ name: "n", type: ["int", "double"] }] });
    assert.deepEqual(schema.toJson({ n: { double: 1.5 } }), { n: { double: 1.5 } });
    assert.deepEqual(plain(schema.fromJson({ n: { int: 2 } })), { n: { int: 2 } });
    assert.deepEqual(plain(schema.fromJson({ n: 2 })), { n: { int: 2 } }); // unwrapped: first branch that fits
    assert.equal(schema.validate(schema.fromJson({ n: 2.5 })), undefined);
  });
});

describe("avro JSON form: fields named like Object.prototype keys", () => {
  const schema = compileAvro({
    type: "record",
    name: "R",
    fields: [
      { name: "constructor", type: ["null", "string"], default: null },
      { name: "toString", type: "string", default: "d" },
    ],
  });

  it("fromJson gives absent fields their defaults instead of reading Object.prototype", () => {
    assert.deepEqual(schema.toJson(schema.fromJson({})), { constructor: null, toString: "d" });
    assert.deepEqual(schema.toJson(schema.fromJson({ constructor: "c", toString: "t" })), { constructor: { string: "c" }, toString: "t" });
  });

  it("toJson of a plain object without the fields says they are missing, not that they are functions", () => {
    assert.throws(() => schema.toJson({}), (e: unknown) => isErrorCode(e, "message-invalid") && /constructor .*got undefined/.test((e as Error).message));
  });

  it("refuses the name __proto__ for a field or a type, as a schema error", () => {
    for (const s of [
      { type: "record", name: "P", fields: [{ name: "__proto__", type: "string" }] },
      { type: "record", name: "__proto__", fields: [] },
    ]) {
      assert.throws(() => compileAvro(s), (e: unknown) => isErrorCode(e, "schema-invalid") && /__proto__/.test((e as Error).message));
    }
  });
});
