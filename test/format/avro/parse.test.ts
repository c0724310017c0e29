import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Contract } from "../../../src/contract/model.js";
import { isErrorCode } from "../../../src/errors.js";
import { avroFormat } from "../../../src/format/avro/index.js";
import { ORDER_SCHEMA, compileAvro } from "./fixtures.js";

function schemaError(schema: string, pattern: RegExp, references?: ReadonlyMap<string, Contract>) {
  assert.throws(
    () => avroFormat.compile({ schema }, references ? { references } : {}),
    (e: unknown) => isErrorCode(e, "schema-invalid") && pattern.test((e as Error).message),
  );
}

describe("avro compile", () => {
  it("names the root record by its full name", () => {
    assert.equal(compileAvro(ORDER_SCHEMA).name, "com.acme.Order");
    assert.equal(compileAvro("string").name, undefined);
  });

  it("rejects text that is not JSON", () => {
    schemaError("{type: record", /not JSON/);
  });

  it("rejects unknown types, naming them", () => {
    schemaError(JSON.stringify({ type: "record", name: "R", fields: [{ name: "a", type: "Nope" }] }), /undefined type name: Nope/);
    schemaError(JSON.stringify({ type: "strin" }), /unknown type: "strin"/);
  });

  it("rejects duplicate field names and bad defaults", () => {
    schemaError(
      JSON.stringify({ type: "record", name: "R", fields: [{ name: "a", type: "int" }, { name: "a", type: "int" }] }),
      /duplicate field name/,
    );
    schemaError(JSON.stringify({ type: "record", name: "R", fields: [{ name: "a", type: "int", default: "x" }] }), /incompatible field default/);
  });
});

describe("avro references", () => {
  const address: Contract = {
    schema: JSON.stringify({
      type: "record",
      name: "Address",
      namespace: "com.acme.common",
      fields: [{ name: "city", type: "string", "confluent:tags": ["PII"] }],
    }),
  };
  const customer: Contract = {
    schema: JSON.stringify({
      type: "record",
      name: "Customer",
      namespace: "com.acme.common",
      fields: [
        { name: "name", type: "string" },
        { name: "home", type: "com.acme.common.Address" },
      ],
    }),
  };
  const order = {
    type: "record",
    name: "Order",
    namespace: "com.acme",
    fields: [
      { name: "customer", type: "com.acme.common.Customer" },
      { name: "billing", type: "com.acme.common.Address" },
    ],
  };

  it("makes named types of referenced schemas usable by full name, whatever the order of the map", () => {
    // Customer depends on Address but comes first.
    const refs = new Map([
      ["customer.avsc", customer],
      ["address.avsc", address],
    ]);
    const schema = compileAvro(order, undefined, refs);
    const value = { customer: { name: "Ada", home: { city: "Paris" } }, billing: { city: "Lyon" } };
    assert.deepEqual(schema.toJson(schema.decode(schema.encode(value))), value);
  });

  it("keeps the inline tags of fields in referenced schemas", () => {
    const schema = compileAvro(order, undefined, new Map([["address.avsc", address], ["customer.avsc", customer]]));
    const city = schema.fields.find((f) => f.fullName === "com.acme.common.Address.city");
    assert.deepEqual([...(city?.tags ?? [])], ["PII"]);
  });

  it("fails naming the reference that does not parse", () => {
    const broken: Contract = { schema: JSON.stringify({ type: "record", name: "B", fields: [{ name: "x", type: "Missing" }] }) };
    schemaError(JSON.stringify(order), /reference broken\.avsc: undefined type name: Missing/, new Map([["broken.avsc", broken]]));
  });

  it("fails when the root names a type no reference defines", () => {
    schemaError(JSON.stringify(order), /undefined type name: com\.acme\.common\.Customer/, new Map([["address.avsc", address]]));
  });
});
