import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CelShape } from "../../../src/cel/shape.js";
import { ORDER_SCHEMA, compileAvro } from "./fixtures.js";

type Record_ = Extract<CelShape, { kind: "record" }>;

function record(shape: CelShape | undefined): Record_ {
  assert.equal(shape?.kind, "record");
  return shape as Record_;
}

describe("avro CEL shape", () => {
  const root = record(compileAvro(ORDER_SCHEMA).celShape);
  const field = (name: string) => root.fields.get(name);

  it("describes records by full name with a shape per field", () => {
    assert.equal(root.name, "com.acme.Order");
    assert.deepEqual(field("id"), { kind: "string" });
    assert.deepEqual(field("email"), { kind: "nullable", inner: { kind: "string" } });
    assert.deepEqual(field("status"), { kind: "string", enum: { name: "com.acme.Status", symbols: ["NEW", "DONE"] } }); // enums are their symbol
    assert.deepEqual(field("blob"), { kind: "bytes", buffer: true });
    assert.deepEqual(field("amount"), { kind: "double" });
    assert.deepEqual(field("count"), { kind: "int" }); // avsc longs are JS numbers
    assert.deepEqual(field("ts"), { kind: "timestamp", native: "millis" });
    assert.deepEqual(field("attrs"), { kind: "map", value: { kind: "string" } });
    const items = field("items");
    assert.equal(items?.kind === "list" && record(items.element).name, "com.acme.Item");
  });

  it("shares one shape per named record", () => {
    const address = record(field("address"));
    const shipping = field("shipping");
    assert.equal(shipping?.kind === "nullable" && shipping.inner, address);
  });

  it("gives recursive records a cyclic shape", () => {
    const node = record(
      compileAvro({ type: "record", name: "Node", fields: [{ name: "v", type: "int" }, { name: "next", type: ["null", "Node"] }] }).celShape,
    );
    const next = node.fields.get("next");
    assert.equal(next?.kind === "nullable" && next.inner, node);
  });

  it("maps micros timestamps, floats, booleans, fixed and null", () => {
    const r = record(
      compileAvro({
        type: "record",
        name: "T",
        fields: [
          { name: "us", type: { type: "long", logicalType: "timestamp-micros" } },
          { name: "f", type: "float" },
          { name: "b", type: "boolean" },
          { name: "x", type: { type: "fixed", name: "X", size: 2 } },
          { name: "n", type: "null" },
          { name: "i", type: "int" },
        ],
      }).celShape,
    );
    assert.deepEqual(Object.fromEntries(r.fields), {
      us: { kind: "timestamp", native: "micros" },
      f: { kind: "double" },
      b: { kind: "bool" },
      x: { kind: "bytes", buffer: true },
      n: { kind: "null" },
      i: { kind: "int" },
    });
  });

  it("picks union branches per value, for unwrapped and wrapped unions", () => {
    const r = record(
      compileAvro({
        type: "record",
        name: "U",
        fields: [
          { name: "u", type: ["null", "string", { type: "record", name: "P", fields: [{ name: "n", type: "int" }] }] },
          { name: "w", type: ["null", "int", "double"] },
        ],
      }).celShape,
    );
    const u = r.fields.get("u")!;
    assert.equal(u.kind, "union");
    if (u.kind !== "union") return;
    assert.deepEqual([u.pick(null), u.pick("s"), u.pick({ n: 1 }), u.pick(5)], [0, 1, 2, -1]);
    assert.equal(record(u.branches[2]).name, "P");
    const w = r.fields.get("w")!;
    assert.equal(w.kind, "union");
    if (w.kind !== "union") return;
    assert.deepEqual([w.pick(null), w.pick({ int: 1 }), w.pick({ double: 1.5 }), w.pick({ long: 1 }), w.pick(1)], [0, 1, 2, -1, -1]);
    // A wrapped branch looks like a one-field record keyed by the branch name.
    assert.deepEqual([...record(w.branches[2]).fields], [["double", { kind: "double" }]]);
  });
});
