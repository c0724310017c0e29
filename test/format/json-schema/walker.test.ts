import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ORDER_SCHEMA, compileJson, deepFreeze, orderValue, untouchable, visits } from "./fixtures.js";

const order = compileJson(ORDER_SCHEMA);

describe("json schema field walker", () => {
  it("visits every primitive leaf when the rule has no tags; Java names carry array indexes", () => {
    const { seen } = visits(order, undefined, orderValue({ email: null }));
    assert.deepEqual(
      seen.map((s) => `${s.path} ${s.fullName} ${s.typeName}`),
      [
        "$.id $.id STRING",
        "$.email $.email NULL", // a null in a nullable field resolves to the null type (Java)
        "$.address.city $.address.city STRING",
        "$.address.zip $.address.zip INT",
        "$.items[0].sku $.items[0].sku STRING",
        "$.items[0].qty $.items[0].qty INT",
        "$.items[1].sku $.items[1].sku STRING",
        "$.items[1].qty $.items[1].qty INT",
        "$.tags[0] $.tags STRING", // elements of a primitive array belong to the array's field
        "$.amount $.amount DOUBLE",
      ],
    );
    assert.equal(seen[1]!.value, null);
  });

  it("visits only fields whose tags intersect, resolving index-specific patterns per element", () => {
    const schema = compileJson(ORDER_SCHEMA, { tags: { "$.items[1].sku": ["SECOND"], "$.address.*": ["PII"] } });
    assert.deepEqual(
      visits(schema, ["SECOND"], orderValue()).seen.map((s) => [s.path, s.tags]),
      [["$.items[1].sku", ["SECOND"]]],
    );
    assert.deepEqual(
      visits(schema, ["PII"], orderValue()).seen.map((s) => s.path),
      ["$.email", "$.address.city", "$.address.zip", "$.tags[0]"],
    );
  });

  it("prunes at compile time: subtrees without matching fields are never read", () => {
    const value = orderValue({ address: untouchable("address"), items: untouchable("items"), attrs: untouchable("attrs") });
    assert.deepEqual(visits(order, ["ID"], value).seen.map((s) => s.path), ["$.id"]);
  });

  it("skips absent properties and does not follow $ref into null", () => {
    const { seen } = visits(order, undefined, { id: "x", address: null, amount: 1 });
    assert.deepEqual(seen.map((s) => s.path), ["$.id", "$.amount"]);
  });

  it("returns the input itself when nothing changes, and copies only the changed path", () => {
    const value = deepFreeze(orderValue());
    assert.equal(visits(order, undefined, value).out, value);
    const snapshot = JSON.stringify(value);
    const { out } = visits(order, undefined, value, (v, visit) => (visit.path === "$.items[1].sku" ? "CHANGED" : v));
    const o = out as { items: { sku: string }[]; address: unknown; tags: unknown };
    assert.equal(JSON.stringify(value), snapshot);
    assert.equal(o.items[1]!.sku, "CHANGED");
    assert.equal(o.items[0], (value.items as unknown[])[0]);
    assert.equal(o.address, value.address);
    assert.equal(o.tags, value.tags);
  });

  it("passes the containing object and its record shape; later properties see earlier changes", () => {
    const value = orderValue();
    const { seen, out } = visits(order, undefined, value, (v, visit) => (visit.path === "$.address.city" ? "Lyon" : v));
    const zip = seen.find((s) => s.path === "$.address.zip")!;
    assert.equal((zip.visit.container as { city: string }).city, "Lyon");
    assert.equal(zip.visit.containerShape.kind === "record" && zip.visit.containerShape.name, "Address");
    const tag = seen.find((s) => s.path === "$.tags[0]")!;
    assert.equal(tag.visit.container, out); // the root, already copied for the address change
    assert.equal(tag.visit.containerShape.kind === "record" && tag.visit.containerShape.name, "Order");
  });

  it("resolves type arrays by the value's type", () => {
    const schema = compileJson({ type: "object", properties: { v: { type: ["string", "integer", "object"], properties: { x: { type: "boolean" } } } } });
    const typeOf = (v: unknown) => visits(schema, undefined, { v }).seen.map((s) => `${s.path} ${s.typeName}`);
    assert.deepEqual(typeOf("s"), ["$.v STRING"]);
    assert.deepEqual(typeOf(3), ["$.v INT"]);
    assert.deepEqual(typeOf({ x: true }), ["$.v.x BOOLEAN"]);
    assert.deepEqual(typeOf([1]), []);
  });

  describe("combinators", () => {
    const schema = compileJson({
      type: "object",
      properties: {
        all: {
          type: "object",
          properties: { own: { type: "string" } }, // sibling of allOf: visited too
          allOf: [{ $ref: "#/definitions/A" }, { properties: { b: { type: "string" } } }],
        },
        one: {
          oneOf: [
            { type: "object", properties: { card: { type: "string" } }, required: ["card"] },
            { type: "object", properties: { iban: { type: "string" } }, required: ["iban"] },
          ],
        },
        any: {
          anyOf: [
            { type: "object", properties: { p: { type: "string" } }, required: ["p"] },
            { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
            { type: "object", properties: { p: { type: "string", maxLength: 1 } }, required: ["p"] },
          ],
        },
      },
      definitions: { A: { type: "object", properties: { a: { type: "string" } } } },
    });

    it("allOf visits every branch and the sibling properties", () => {
      const { seen } = visits(schema, undefined, { all: { own: "o", a: "x", b: "y" } });
      assert.deepEqual(seen.map((s) => s.path), ["$.all.own", "$.all.a", "$.all.b"]);
    });

    it("oneOf visits the first branch the value validates against", () => {
      assert.deepEqual(visits(schema, undefined, { one: { iban: "DE1" } }).seen.map((s) => s.path), ["$.one.iban"]);
      assert.deepEqual(visits(schema, undefined, { one: { card: "4111", iban: "DE1" } }).seen.map((s) => s.path), ["$.one.card"]);
    });

    it("anyOf visits every branch the value validates against", () => {
      const { seen } = visits(schema, undefined, { any: { p: "x", q: "y" } });
      assert.deepEqual(seen.map((s) => s.path), ["$.any.p", "$.any.q", "$.any.p"]);
      assert.deepEqual(visits(schema, undefined, { any: { p: "long", q: "y" } }).seen.map((s) => s.path), ["$.any.p", "$.any.q"]);
    });

    it("a transform in one allOf branch is seen by the next and copied once", () => {
      const value = deepFreeze({ all: { own: "o", a: "x", b: "y" } });
      const { out } = visits(schema, undefined, value, (v) => `${String(v)}!`);
      assert.deepEqual(out, { all: { own: "o!", a: "x!", b: "y!" } });
    });
  });

  it("walks recursive schemas to any depth, checking tags per visit", () => {
    const tree = compileJson(
      {
        type: "object",
        properties: {
          value: { type: "string", "confluent:tags": ["PII"] },
          label: { type: "string" },
          children: { type: "array", items: { $ref: "#" } },
        },
      },
      { tags: { "$.children[0].label": ["FIRST_LABEL"] } },
    );
    const value = { value: "a", label: "l0", children: [{ value: "b", label: "l1", children: [{ value: "c", label: "l2", children: [] }] }] };
    const pii = visits(tree, ["PII"], value, (v) => `${String(v)}!`);
    assert.deepEqual(pii.seen.map((s) => s.fullName), ["$.value", "$.children[0].value", "$.children[0].children[0].value"]);
    assert.deepEqual(pii.out, {
      value: "a!",
      label: "l0",
      children: [{ value: "b!", label: "l1", children: [{ value: "c!", label: "l2", children: [] }] }],
    });
    assert.deepEqual(visits(tree, ["FIRST_LABEL"], value).seen.map((s) => s.path), ["$.children[0].label"]);
    // No field anywhere can carry this tag: even the recursive part is pruned.
    assert.equal(visits(tree, ["NOPE"], { value: "a", children: untouchable("children") }).seen.length, 0);
  });

  it("writes a changed __proto__ property as an own property, not the prototype", () => {
    const schema = compileJson({ type: "object", properties: { ["__proto__"]: { type: "string" } } });
    const value = JSON.parse('{"__proto__": "x"}') as object;
    const { out } = visits(schema, undefined, value, (v) => `${String(v)}!`);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(out, "__proto__")?.value, "x!");
  });

  it("compiles one walker per tag set", () => {
    assert.equal(order.fieldWalker(new Set(["A", "B"])), order.fieldWalker(new Set(["B", "A"])));
    assert.equal(order.fieldWalker(undefined), order.fieldWalker(new Set()));
  });

  it("does nothing for a primitive root schema (no field context, as Java)", () => {
    assert.deepEqual(visits(compileJson({ type: "string" }), undefined, "x").seen, []);
  });
});
