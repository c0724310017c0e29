import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ORDER_SCHEMA, compileJson } from "./fixtures.js";

describe("json schema fields", () => {
  it("lists properties depth first with $-names; array items show their index as [*]", () => {
    assert.deepEqual(
      compileJson(ORDER_SCHEMA).fields.map((f) => `${f.fullName} ${f.typeName} ${f.primitive}`),
      [
        "$.id STRING true",
        "$.email STRING true",
        "$.address RECORD false",
        "$.address.city STRING true",
        "$.address.zip INT true",
        "$.items ARRAY false",
        "$.items[*].sku STRING true",
        "$.items[*].qty INT true",
        "$.tags ARRAY false",
        "$.status ENUM false",
        "$.amount DOUBLE true",
        "$.attrs MAP false",
      ],
    );
  });

  it("maps JSON Schema to Confluent type names; nullable forms report the non-null type", () => {
    const schema = compileJson({
      type: "object",
      properties: {
        s: { type: "string" },
        i: { type: "integer" },
        n: { type: "number" },
        b: { type: "boolean" },
        nul: { type: "null" },
        obj: { type: "object", properties: { x: { type: "string" } } },
        map: { type: "object" },
        untypedObj: { properties: { y: { type: "string" } } },
        arr: { type: "array" },
        en: { type: "string", enum: ["a"] },
        con: { const: 1 },
        optS: { type: ["null", "string"] },
        optOneOf: { oneOf: [{ type: "null" }, { type: "integer" }] },
        combined: { type: ["string", "integer"] },
        oneOf: { oneOf: [{ type: "string" }, { type: "integer" }] },
        anything: {},
        ref: { $ref: "#/properties/i" },
      },
    });
    const byName = Object.fromEntries(schema.fields.map((f) => [f.name, `${f.typeName} ${f.primitive}`]));
    assert.deepEqual(byName, {
      s: "STRING true",
      i: "INT true",
      n: "DOUBLE true",
      b: "BOOLEAN true",
      nul: "NULL true",
      obj: "RECORD false",
      x: "STRING true",
      map: "MAP false",
      untypedObj: "RECORD false",
      y: "STRING true",
      arr: "ARRAY false",
      en: "ENUM false",
      con: "ENUM false",
      optS: "STRING true",
      optOneOf: "INT true",
      combined: "COMBINED false",
      oneOf: "COMBINED false",
      anything: "NULL false", // Java calls an empty schema NULL, but never visits it
      ref: "INT true",
    });
  });

  it("lists properties of allOf/anyOf/oneOf branches and $ref targets under the same name", () => {
    const schema = compileJson({
      type: "object",
      properties: {
        pay: {
          oneOf: [
            { type: "object", properties: { card: { type: "string" } } },
            { type: "object", properties: { iban: { type: "string" } } },
          ],
        },
        both: { allOf: [{ $ref: "#/definitions/A" }, { properties: { b: { type: "integer" } } }] },
      },
      definitions: { A: { type: "object", properties: { a: { type: "string" } } } },
    });
    assert.deepEqual(
      schema.fields.map((f) => f.fullName),
      ["$.pay", "$.pay.card", "$.pay.iban", "$.both", "$.both.a", "$.both.b"],
    );
  });

  it("combines inline tags with metadata wildcards; patterns may name array indexes", () => {
    const schema = compileJson(ORDER_SCHEMA, {
      tags: {
        "$.?d": ["ONE_CHAR"],
        "$.address.*": ["ADDRESS"],
        "$.*": ["TOP"], // one segment only
        "**.sku": ["DEEP"],
        "$.items[*].qty": ["ANY_INDEX"], // * matches the digits of any index
        "$.items[0].sku": ["FIRST"], // matches some index, so the field may carry it
        "$.items.sku": ["JS_STYLE"], // the JS client's name; Java names carry the index, so never
      },
    });
    const tags = Object.fromEntries(schema.fields.map((f) => [f.fullName, [...f.tags].sort()]));
    assert.deepEqual(tags["$.id"], ["ID", "ONE_CHAR", "TOP"]);
    assert.deepEqual(tags["$.email"], ["PII", "TOP"]);
    assert.deepEqual(tags["$.address.city"], ["ADDRESS"]);
    assert.deepEqual(tags["$.items[*].sku"], ["DEEP", "FIRST"]);
    assert.deepEqual(tags["$.items[*].qty"], ["ANY_INDEX"]);
    assert.deepEqual(tags["$.tags"], ["PII", "TOP"]);
  });

  it("lists recursive schemas down to the first repetition", () => {
    const schema = compileJson({
      type: "object",
      properties: { value: { type: "string" }, children: { type: "array", items: { $ref: "#" } } },
    });
    assert.deepEqual(schema.fields.map((f) => f.fullName), ["$.value", "$.children"]);
  });
});
