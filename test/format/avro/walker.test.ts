import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ORDER_SCHEMA, compileAvro, orderValue, visits } from "./fixtures.js";

const order = compileAvro(ORDER_SCHEMA, { tags: { "**.city": ["PII"] } });

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** An object whose every property access fails: proves a walker never looked inside. */
function untouchable(what: string): object {
  return new Proxy(
    {},
    {
      get: () => assert.fail(`walker read ${what}`),
      has: () => assert.fail(`walker read ${what}`),
      ownKeys: () => assert.fail(`walker read ${what}`),
    },
  );
}

describe("avro field walker", () => {
  it("visits every primitive leaf when the rule has no tags, skipping enums", () => {
    const { seen } = visits(order, undefined, orderValue());
    assert.deepEqual(
      seen.map((s) => `${s.path} ${s.fullName} ${s.typeName}`),
      [
        "id com.acme.Order.id STRING",
        "email com.acme.Order.email STRING",
        "address.city com.acme.Address.city STRING",
        "address.zip com.acme.Address.zip INT",
        "items[0].sku com.acme.Item.sku STRING",
        "items[0].qty com.acme.Item.qty INT",
        "items[1].sku com.acme.Item.sku STRING",
        "items[1].qty com.acme.Item.qty INT",
        "attrs.color com.acme.Order.attrs STRING",
        'attrs["gift wrap"] com.acme.Order.attrs STRING',
        "blob com.acme.Order.blob BYTES",
        "amount com.acme.Order.amount DOUBLE",
        "count com.acme.Order.count LONG",
        "ts com.acme.Order.ts LONG",
        // A null record, as Java: the union resolves to its null branch, a primitive.
        "shipping com.acme.Order.shipping NULL",
      ],
    );
  });

  it("visits only fields whose inline or metadata tags intersect the rule's", () => {
    const value = orderValue({ shipping: { city: "Lyon", zip: null } });
    const { seen } = visits(order, ["PII"], value);
    assert.deepEqual(
      seen.map((s) => [s.path, s.tags]),
      [
        ["email", ["PII"]],
        ["address.city", ["PII"]],
        ["shipping.city", ["PII"]],
      ],
    );
  });

  it("passes nulls of nullable fields as the union's null branch, typed NULL (Java binds CEL null)", () => {
    const { seen } = visits(order, ["PII"], orderValue({ email: null }));
    assert.deepEqual(
      seen.map((s) => [s.path, s.typeName, s.value]),
      [
        ["email", "NULL", null],
        ["address.city", "STRING", "Paris"],
      ],
    );
  });

  it("prunes at compile time: subtrees without matching fields are never read", () => {
    const email = compileAvro(ORDER_SCHEMA);
    const value = orderValue({ address: untouchable("address"), items: untouchable("items"), attrs: untouchable("attrs") });
    const { seen } = visits(email, ["PII"], value);
    assert.deepEqual(seen.map((s) => s.path), ["email"]);
  });

  it("returns the input itself when the visitor changes nothing", () => {
    const value = deepFreeze(orderValue());
    assert.equal(visits(order, undefined, value).out, value);
  });

  it("copies only along the changed path and never mutates its input", () => {
    const value = deepFreeze(orderValue());
    const snapshot = order.toJson(value);
    const { out } = visits(order, undefined, value, (v, visit) => (visit.path === "items[1].sku" ? "CHANGED" : v));
    const o = out as ReturnType<typeof orderValue> & { items: { sku: string }[] };
    assert.deepEqual(order.toJson(value), snapshot);
    assert.notEqual(o, value);
    assert.notEqual(o.items, value.items);
    assert.equal(o.items[1]!.sku, "CHANGED");
    assert.equal(o.items[0], (value.items as unknown[])[0]);
    assert.equal(o.address, value.address);
    assert.equal(o.attrs, value.attrs);
    assert.equal(o.blob, value.blob);
  });

  it("keeps avsc's record classes when copying decoded records", () => {
    const decoded = order.decode(order.encode(orderValue()));
    const { out } = visits(order, ["PII"], decoded, (v) => (typeof v === "string" ? v.toUpperCase() : v));
    const o = out as { address: object; email: string };
    assert.equal(Object.getPrototypeOf(o), Object.getPrototypeOf(decoded));
    assert.equal(Object.getPrototypeOf(o.address), Object.getPrototypeOf((decoded as { address: object }).address));
    assert.equal(o.email, "ADA@EXAMPLE.COM");
    assert.equal(order.validate(out), undefined);
    // The copy has the decoded record's fields, in its order; only the changed one differs, and the input is untouched.
    assert.deepEqual(Object.keys(o), Object.keys(decoded as object));
    assert.deepStrictEqual({ ...(o as object), email: "x", address: null }, { ...(decoded as object), email: "x", address: null });
    assert.equal((decoded as { email: string }).email, "ada@example.com");
  });

  it("passes the containing record and its shape; later fields see earlier changes", () => {
    const value = orderValue();
    const { seen, out } = visits(order, undefined, value, (v, visit) => (visit.path === "address.city" ? "Lyon" : v));
    const sku = seen.find((s) => s.path === "items[1].sku")!;
    assert.equal(sku.visit.container, (value.items as unknown[])[1]);
    assert.equal(sku.visit.containerShape.kind === "record" && sku.visit.containerShape.name, "com.acme.Item");
    const zip = seen.find((s) => s.path === "address.zip")!;
    assert.equal((zip.visit.container as { city: string }).city, "Lyon");
    const attr = seen.find((s) => s.path === "attrs.color")!;
    // Map values belong to the record holding the map: here already the copy made for address.
    assert.equal(attr.visit.container, out);
  });

  it("resolves union branches per value", () => {
    const schema = compileAvro({
      type: "record",
      name: "R",
      fields: [
        { name: "contact", type: ["null", "string", { type: "record", name: "Phone", fields: [{ name: "number", type: "string" }] }] },
        { name: "n", type: ["int", "double"] }, // ambiguous for avsc: wrapped as {int: x} / {double: x}
      ],
    });
    const asString = visits(schema, undefined, { contact: "a@b.c", n: { int: 1 } });
    assert.deepEqual(
      asString.seen.map((s) => [s.path, s.fullName, s.typeName, s.value]),
      [
        ["contact", "R.contact", "STRING", "a@b.c"],
        ["n", "R.n", "INT", 1],
      ],
    );
    const value = deepFreeze({ contact: { number: "123" }, n: { double: 1.5 } });
    const asRecord = visits(schema, undefined, value, (v) => (typeof v === "number" ? v * 2 : v));
    assert.deepEqual(
      asRecord.seen.map((s) => [s.path, s.fullName, s.typeName]),
      [
        ["contact.number", "Phone.number", "STRING"],
        ["n", "R.n", "DOUBLE"],
      ],
    );
    assert.deepEqual(asRecord.out, { contact: { number: "123" }, n: { double: 3 } });
    assert.equal((asRecord.out as { contact: unknown }).contact, value.contact);
  });

  it("walks recursive records to any depth", () => {
    const list = compileAvro({
      type: "record",
      name: "Node",
      fields: [
        { name: "value", type: "string", "confluent:tags": ["PII"] },
        { name: "next", type: ["null", "Node"] },
      ],
    });
    const value = { value: "a", next: { value: "b", next: { value: "c", next: null } } };
    const { seen } = visits(list, ["PII"], value);
    assert.deepEqual(seen.map((s) => s.path), ["value", "next.value", "next.next.value"]);
  });

  it("compiles one walker per tag set", () => {
    assert.equal(order.fieldWalker(new Set(["A", "B"])), order.fieldWalker(new Set(["B", "A"])));
    assert.equal(order.fieldWalker(undefined), order.fieldWalker(new Set()));
    assert.notEqual(order.fieldWalker(new Set(["A"])), order.fieldWalker(undefined));
  });

  it("does nothing for a schema whose root is a primitive (no field context, as Java)", () => {
    const { seen, out } = visits(compileAvro("string"), undefined, "x");
    assert.deepEqual(seen, []);
    assert.equal(out, "x");
  });
});
