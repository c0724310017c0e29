import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ORDER_SCHEMA, compileAvro } from "./fixtures.js";

const ALL_TYPES = {
  type: "record",
  name: "All",
  namespace: "t",
  fields: [
    { name: "rec", type: { type: "record", name: "Inner", fields: [{ name: "x", type: "int" }] } },
    { name: "en", type: { type: "enum", name: "E", symbols: ["A"] } },
    { name: "arr", type: { type: "array", items: "string" } },
    { name: "map", type: { type: "map", values: "long" } },
    { name: "union", type: ["string", "int"] },
    { name: "fix", type: { type: "fixed", name: "F", size: 4 } },
    { name: "s", type: "string" },
    { name: "b", type: "bytes" },
    { name: "i", type: "int" },
    { name: "l", type: "long" },
    { name: "f", type: "float" },
    { name: "d", type: "double" },
    { name: "bool", type: "boolean" },
    { name: "n", type: "null" },
    { name: "optString", type: ["null", "string"] },
    { name: "optRec", type: ["Inner", "null"] },
  ],
};

describe("avro fields", () => {
  it("lists fields depth first, each record once, with Confluent full names", () => {
    const names = compileAvro(ORDER_SCHEMA).fields.map((f) => f.fullName);
    assert.deepEqual(names, [
      "com.acme.Order.id",
      "com.acme.Order.email",
      "com.acme.Order.address",
      "com.acme.Address.city",
      "com.acme.Address.zip",
      "com.acme.Order.items",
      "com.acme.Item.sku",
      "com.acme.Item.qty",
      "com.acme.Order.attrs",
      "com.acme.Order.status",
      "com.acme.Order.blob",
      "com.acme.Order.amount",
      "com.acme.Order.count",
      "com.acme.Order.ts",
      "com.acme.Order.shipping", // Address again: not listed twice
    ]);
  });

  it("maps every Avro type to Confluent's type name; nullable unions report the non-null type", () => {
    const byName = Object.fromEntries(compileAvro(ALL_TYPES).fields.map((f) => [f.name, [f.typeName, f.primitive]]));
    assert.deepEqual(byName, {
      rec: ["RECORD", false],
      x: ["INT", true],
      en: ["ENUM", false],
      arr: ["ARRAY", false],
      map: ["MAP", false],
      union: ["COMBINED", false],
      fix: ["FIXED", false],
      s: ["STRING", true],
      b: ["BYTES", true],
      i: ["INT", true],
      l: ["LONG", true],
      f: ["FLOAT", true],
      d: ["DOUBLE", true],
      bool: ["BOOLEAN", true],
      n: ["NULL", true],
      optString: ["STRING", true],
      optRec: ["RECORD", false],
    });
  });

  it("combines inline tags with metadata wildcards (?, *, **) matched on the full name", () => {
    const schema = compileAvro(ORDER_SCHEMA, {
      tags: {
        "com.acme.Order.?d": ["ONE_CHAR"], // id only: ? is exactly one non-dot char
        "com.acme.*.city": ["STAR"], // * stays within one name segment
        "com.*.city": ["NO_MATCH"], // ... so this does not reach com.acme.Address.city
        "**.sku": ["DEEP"],
        "com.acme.Order.email": ["PII", "EMAIL"],
      },
    });
    const tags = Object.fromEntries(schema.fields.map((f) => [f.fullName, [...f.tags].sort()]));
    assert.deepEqual(tags["com.acme.Order.id"], ["ID", "ONE_CHAR"]);
    assert.deepEqual(tags["com.acme.Order.email"], ["EMAIL", "PII"]);
    assert.deepEqual(tags["com.acme.Address.city"], ["STAR"]);
    assert.deepEqual(tags["com.acme.Item.sku"], ["DEEP"]);
    assert.deepEqual(tags["com.acme.Item.qty"], []);
  });

  it("lists a recursive record's fields once", () => {
    const schema = compileAvro({
      type: "record",
      name: "Node",
      fields: [
        { name: "value", type: "string" },
        { name: "next", type: ["null", "Node"] },
      ],
    });
    assert.deepEqual(
      schema.fields.map((f) => `${f.fullName}:${f.typeName}`),
      ["Node.value:STRING", "Node.next:RECORD"],
    );
  });
});
