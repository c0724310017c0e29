import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Contract } from "../../../src/contract/model.js";
import { isErrorCode } from "../../../src/errors.js";
import { jsonSchemaFormat } from "../../../src/format/json-schema/index.js";
import { ORDER_SCHEMA, compileJson, visits } from "./fixtures.js";

function schemaError(schema: string, pattern: RegExp) {
  assert.throws(
    () => jsonSchemaFormat.compile({ schemaType: "JSON", schema }),
    (e: unknown) => isErrorCode(e, "schema-invalid") && pattern.test((e as Error).message),
  );
}

describe("json schema compile", () => {
  it("names the schema by its title", () => {
    assert.equal(compileJson(ORDER_SCHEMA).name, "Order");
    assert.equal(compileJson({ type: "string" }).name, undefined);
  });

  it("rejects text that is not JSON, or not a schema", () => {
    schemaError("{type: object", /not JSON/);
    schemaError("[1, 2]", /must be an object or a boolean/);
  });

  it("rejects schemas the meta-schema rejects, with Ajv's reason", () => {
    schemaError(JSON.stringify({ type: "strin" }), /type must be equal to one of the allowed values/);
    schemaError(JSON.stringify({ type: "object", properties: { a: { "confluent:tags": "PII" } } }), /confluent:tags.*must be array/);
  });

  it("rejects $refs that resolve nowhere, naming them", () => {
    schemaError(JSON.stringify({ type: "object", properties: { a: { $ref: "#/definitions/Nope" } } }), /#\/definitions\/Nope/);
    schemaError(JSON.stringify({ properties: { a: { $ref: "other.json" } } }), /other\.json/);
  });

  it("rejects dialects it does not support", () => {
    schemaError(JSON.stringify({ $schema: "http://json-schema.org/draft-04/schema#" }), /draft-04.* not supported/);
  });

  it("rejects $async schemas, whose validation would be a promise", () => {
    schemaError(JSON.stringify({ $async: true, type: "object" }), /\$async/);
  });

  it("validates formats (ajv-formats), as Java's validator does", () => {
    const schema = compileJson(ORDER_SCHEMA);
    assert.deepEqual(
      schema.validate({ id: "o", amount: 1, email: "not an email" })?.map((p) => p.path),
      ["$.email"],
    );
  });
});

describe("json schema dialects", () => {
  const tuple = { type: "array", prefixItems: [{ type: "string" }] };

  it("defaults to draft-07, where prefixItems means nothing", () => {
    assert.equal(compileJson(tuple).validate([1]), undefined);
  });

  it("uses draft 2020-12 when $schema says so", () => {
    const schema = compileJson({ $schema: "https://json-schema.org/draft/2020-12/schema", ...tuple });
    assert.deepEqual(schema.validate([1])?.map((p) => p.path), ["$[0]"]);
  });

  it("resolves $defs refs and walks them in 2020-12", () => {
    const schema = compileJson({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { home: { $ref: "#/$defs/Address" } },
      $defs: { Address: { type: "object", properties: { city: { type: "string", "confluent:tags": ["PII"] } } } },
    });
    assert.deepEqual(visits(schema, ["PII"], { home: { city: "Paris" } }).seen.map((s) => s.path), ["$.home.city"]);
    assert.deepEqual(schema.validate({ home: { city: 1 } })?.map((p) => p.path), ["$.home.city"]);
  });

  it("accepts draft-06 and 2019-09", () => {
    assert.equal(compileJson({ $schema: "http://json-schema.org/draft-06/schema#", type: "string" }).validate("x"), undefined);
    assert.notEqual(compileJson({ $schema: "https://json-schema.org/draft/2019-09/schema", type: "string" }).validate(1), undefined);
  });
});

describe("json schema references", () => {
  const address: Contract = {
    schemaType: "JSON",
    schema: JSON.stringify({
      type: "object",
      properties: { city: { type: "string", "confluent:tags": ["PII"] }, zip: { type: "string" } },
      required: ["city"],
    }),
  };
  const order = {
    type: "object",
    properties: { billing: { $ref: "address.json" }, shipping: { $ref: "address.json#/properties/city" } },
  };

  it("resolves a $ref by the reference name, for validation, fields and walks (inline tags stay on the $ref's own node, as Java)", () => {
    const schema = compileJson(order, undefined, new Map([["address.json", address]]));
    assert.equal(schema.validate({ billing: { city: "Paris" }, shipping: "Lyon" }), undefined);
    assert.deepEqual(schema.validate({ billing: { zip: "1" } })?.map((p) => p.path), ["$.billing.city"]);
    assert.deepEqual(
      schema.fields.map((f) => `${f.fullName}:${[...f.tags]}`),
      ["$.billing:", "$.billing.city:PII", "$.billing.zip:", "$.shipping:"],
    );
    const { seen } = visits(schema, ["PII"], { billing: { city: "Paris", zip: "1" }, shipping: "Lyon" });
    assert.deepEqual(seen.map((s) => s.path), ["$.billing.city"]);
  });

  it("resolves relative refs against the root $id, with references named by absolute URL", () => {
    const schema = compileJson(
      { $id: "https://acme.example/schemas/order.json", ...order },
      undefined,
      new Map([["https://acme.example/schemas/address.json", address]]),
    );
    assert.deepEqual(schema.validate({ billing: { zip: "1" } })?.map((p) => p.path), ["$.billing.city"]);
  });

  it("fails when a reference is missing", () => {
    assert.throws(() => compileJson(order), (e: unknown) => isErrorCode(e, "schema-invalid"));
  });
});
