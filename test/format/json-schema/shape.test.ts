import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CelShape } from "../../../src/cel/shape.js";
import { ORDER_SCHEMA, compileJson } from "./fixtures.js";

type RecordShape = Extract<CelShape, { kind: "record" }>;

function record(shape: CelShape | undefined): RecordShape {
  assert.equal(shape?.kind, "record");
  return shape as RecordShape;
}

describe("json schema CEL shape", () => {
  it("describes objects with properties as records named by title", () => {
    const root = record(compileJson(ORDER_SCHEMA).celShape);
    assert.equal(root.name, "Order");
    const f = Object.fromEntries(root.fields);
    assert.deepEqual(f.id, { kind: "string" });
    assert.deepEqual(f.email, { kind: "nullable", inner: { kind: "string" } });
    assert.deepEqual(f.amount, { kind: "double" });
    assert.deepEqual(f.status, { kind: "string", enum: { name: "#/properties/status", symbols: ["NEW", "DONE"] } }); // enum of strings
    assert.deepEqual(f.tags, { kind: "list", element: { kind: "string" } });
    assert.deepEqual(f.attrs, { kind: "map", value: { kind: "string" } });
    const address = record(f.address); // $ref followed
    assert.equal(address.name, "Address");
    assert.deepEqual(address.fields.get("zip"), { kind: "nullable", inner: { kind: "int" } });
    const items = f.items;
    assert.equal(items?.kind, "list");
    if (items?.kind === "list") assert.equal(record(items.element).name, "#/properties/items/items");
  });

  it("shares record shapes by schema node, so recursion gives a cycle", () => {
    const root = record(
      compileJson({ type: "object", properties: { v: { type: "integer" }, children: { type: "array", items: { $ref: "#" } } } }).celShape,
    );
    const children = root.fields.get("children");
    assert.equal(children?.kind === "list" && children.element, root);
  });

  it("merges allOf branches and $ref targets into one record", () => {
    const root = record(
      compileJson({
        title: "Derived",
        allOf: [{ $ref: "#/definitions/Base" }, { properties: { extra: { type: "boolean" } } }],
        definitions: { Base: { type: "object", properties: { id: { type: "string" } } } },
      }).celShape,
    );
    assert.deepEqual([...root.fields.keys()].sort(), ["extra", "id"]);
  });

  it("picks union branches by JSON type, or by validating oneOf/anyOf branches", () => {
    const root = record(
      compileJson({
        type: "object",
        properties: {
          t: { type: ["string", "integer", "null"] },
          o: {
            oneOf: [
              { type: "object", properties: { card: { type: "string" } }, required: ["card"] },
              { type: "object", properties: { iban: { type: "string" } }, required: ["iban"] },
            ],
          },
          n: { oneOf: [{ type: "null" }, { type: "number" }] },
          num: { type: ["integer", "number"] },
        },
      }).celShape,
    );
    const t = root.fields.get("t")!;
    assert.equal(t.kind, "union");
    if (t.kind === "union") {
      assert.deepEqual(t.branches, [{ kind: "string" }, { kind: "int" }, { kind: "null" }]);
      assert.deepEqual([t.pick("s"), t.pick(1), t.pick(null), t.pick(1.5)], [0, 1, 2, -1]);
    }
    const o = root.fields.get("o")!;
    assert.equal(o.kind, "union");
    if (o.kind === "union") assert.deepEqual([o.pick({ card: "1" }), o.pick({ iban: "2" }), o.pick({})], [0, 1, -1]);
    assert.deepEqual(root.fields.get("n"), { kind: "nullable", inner: { kind: "double" } });
    assert.deepEqual(root.fields.get("num"), { kind: "double" });
  });

  it("falls back to dyn for schemas that say nothing", () => {
    assert.deepEqual(compileJson({}).celShape, { kind: "dyn" });
    assert.deepEqual(compileJson(true).celShape, { kind: "dyn" });
  });
});
