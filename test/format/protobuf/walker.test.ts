import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { toBinary, type Message } from "@bufbuild/protobuf";
import { compileProtobuf, type ProtobufSchema } from "../../../src/format/protobuf/index.js";
import type { FieldVisit } from "../../../src/format/types.js";

const SCHEMA = `syntax = "proto3";
package acme;
import "confluent/meta.proto";
import "google/protobuf/wrappers.proto";

message Order {
  string name = 1;
  Customer customer = 2;
  repeated Line lines = 3;
  repeated string notes = 4 [(confluent.field_meta).tags = "PII"];
  map<string, string> attrs = 5 [(confluent.field_meta).tags = "PII"];
  map<int32, Customer> by_id = 6;
  oneof pay {
    string card = 7 [(confluent.field_meta).tags = "PII"];
    string iban = 8 [(confluent.field_meta).tags = "PII"];
    Customer payer = 9;
  }
  Status status = 10;
  optional string coupon = 11 [(confluent.field_meta).tags = "PII"];
  google.protobuf.StringValue nick = 12 [(confluent.field_meta).tags = "PII"];
  int32 qty = 13;
  enum Status { NEW = 0; }
}
message Customer {
  string name = 1 [(confluent.field_meta).tags = "PII"];
  string email = 2 [(confluent.field_meta).tags = "PII"];
  Customer referrer = 3;
}
message Line { string sku = 1; int64 cents = 2; }`;

const compile = (): ProtobufSchema => compileProtobuf({ schema: SCHEMA, schemaType: "PROTOBUF" });
const PII = new Set(["PII"]);

function order(s: ProtobufSchema): Message {
  return s.coerce({
    name: "order-name",
    customer: { name: "Ann", email: "ann@x.io", referrer: { name: "Bob", email: "bob@x.io" } },
    lines: [{ sku: "a", cents: 100n }, { sku: "b", cents: 200n }],
    notes: ["n1", "n2"],
    attrs: { channel: "web", lang: "fr" },
    byId: { 7: { name: "Cy", email: "cy@x.io" } },
    pay: { case: "card", value: "4111" },
    qty: 3,
  });
}

/** Runs the walker, recording visits; the visitor upper-cases strings when `change` is set. */
function walk(s: ProtobufSchema, message: Message, tags?: ReadonlySet<string>, change = false) {
  const visits: { path: string; fullName: string; value: unknown; visit: FieldVisit }[] = [];
  const out = s.fieldWalker(tags)(message, (value, visit) => {
    visits.push({ path: visit.path, fullName: visit.field.fullName, value, visit });
    return change && typeof value === "string" ? value.toUpperCase() : value;
  });
  return { out, visits, paths: visits.map((v) => v.path) };
}

describe("Protobuf field walker: which fields are visited", () => {
  it("visits every primitive leaf when the rule has no tags, never enums or messages themselves", () => {
    const s = compile();
    const { paths } = walk(s, order(s));
    assert.deepEqual(paths, [
      "name",
      "customer.name",
      "customer.email",
      "customer.referrer.name",
      "customer.referrer.email",
      "lines[0].sku",
      "lines[0].cents",
      "lines[1].sku",
      "lines[1].cents",
      "notes[0]",
      "notes[1]",
      'attrs["channel"]',
      'attrs["lang"]',
      "by_id[7].name",
      "by_id[7].email",
      "card",
      "qty",
    ]);
  });

  it("visits only leaves whose tags intersect the rule's tags", () => {
    const s = compile();
    const { paths } = walk(s, order(s), PII);
    assert.deepEqual(paths, [
      "customer.name",
      "customer.email",
      "customer.referrer.name",
      "customer.referrer.email",
      "notes[0]",
      "notes[1]",
      'attrs["channel"]',
      'attrs["lang"]',
      "by_id[7].name",
      "by_id[7].email",
      "card",
    ]);
  });

  it("recurses with the nested message's own descriptor (the JS client passes the parent's)", () => {
    // Order.name is untagged, Customer.name is PII: the nested walk must see Customer's field
    const s = compile();
    const { visits } = walk(s, order(s), PII);
    const customerName = visits.find((v) => v.path === "customer.name")!;
    assert.equal(customerName.fullName, "acme.Customer.name");
    assert.deepEqual(customerName.visit.field.tags, PII);
    assert.equal(visits.some((v) => v.path === "name"), false);
  });

  it("skips unset oneof members and visits the set one", () => {
    const s = compile();
    const { paths } = walk(s, s.coerce({ pay: { case: "iban", value: "DE00" } }), PII);
    assert.deepEqual(paths, ["iban"]);
    assert.deepEqual(walk(s, s.coerce({}), PII).paths, []);
  });

  it("recurses into a message held by a oneof", () => {
    const s = compile();
    const { paths } = walk(s, s.coerce({ pay: { case: "payer", value: { name: "P" } } }), PII);
    assert.deepEqual(paths, ["payer.name", "payer.email"]);
  });

  it("skips unset fields with explicit presence, and visits them once set", () => {
    const s = compile();
    assert.deepEqual(walk(s, s.coerce({}), PII).paths, []);
    const { visits } = walk(s, s.coerce({ coupon: "", nick: "nn" }), PII);
    assert.deepEqual(
      visits.map((v) => [v.path, v.value]),
      [
        ["coupon", ""],
        ["nick", "nn"],
      ],
    );
  });

  it("terminates on recursive message types", () => {
    const s = compileProtobuf({ schema: SCHEMA, schemaType: "PROTOBUF" }, { messageName: "acme.Customer" });
    const deep = s.coerce({ name: "a", referrer: { name: "b", referrer: { name: "c" } } });
    assert.deepEqual(walk(s, deep, new Set(["PII"])).paths, ["name", "email", "referrer.name", "referrer.email", "referrer.referrer.name", "referrer.referrer.email"]);
  });

  it("tells the visitor the field, the containing message and a native shape", () => {
    const s = compile();
    const message = order(s) as Message & { customer: Message & { referrer: Message } };
    const { visits } = walk(s, message, PII);
    const referrerEmail = visits.find((v) => v.path === "customer.referrer.email")!;
    assert.equal(referrerEmail.visit.container, message.customer.referrer);
    assert.deepEqual(referrerEmail.visit.containerShape, { kind: "native" });
    assert.equal(referrerEmail.visit.field.typeName, "STRING");
    const attr = visits.find((v) => v.path === 'attrs["lang"]')!;
    assert.equal(attr.visit.container, message);
    assert.equal(attr.fullName, "acme.Order.AttrsEntry.value");
  });

  it("returns a no-op walker when no field can match, and caches walkers per tag set", () => {
    const s = compile();
    const message = order(s);
    const none = s.fieldWalker(new Set(["NOPE"]));
    let called = false;
    assert.equal(none(message, (v) => ((called = true), v)), message);
    assert.equal(called, false);
    assert.equal(s.fieldWalker(new Set(["A", "B"])), s.fieldWalker(new Set(["B", "A"])));
  });
});

describe("Protobuf field walker: copy on write", () => {
  it("returns the input itself when no value changes", () => {
    const s = compile();
    const message = order(s);
    assert.equal(walk(s, message, undefined, false).out, message);
  });

  it("never mutates the input", () => {
    const s = compile();
    const message = order(s);
    const before = toBinary(s.desc, message);
    const { out } = walk(s, message, PII, true);
    assert.notEqual(out, message);
    assert.deepEqual(toBinary(s.desc, message), before);
  });

  it("writes changed values and shares unchanged subtrees", () => {
    const s = compile();
    const message = order(s) as Message & Record<string, any>;
    const { out } = walk(s, message, new Set(["PII"]), true) as { out: Message & Record<string, any> };
    assert.equal(out.customer.name, "ANN");
    assert.equal(out.customer.referrer.email, "BOB@X.IO");
    assert.deepEqual(out.notes, ["N1", "N2"]);
    assert.deepEqual(out.attrs, { channel: "WEB", lang: "FR" });
    assert.equal(out.byId[7].name, "CY");
    assert.deepEqual(out.pay, { case: "card", value: "4111" });
    assert.equal(out.name, "order-name");
    // untouched subtrees are the same objects
    assert.equal(out.lines, message.lines);
    assert.equal(out.$typeName, "acme.Order");
    // and the result still encodes
    assert.ok(s.encode(out).length > 0);
  });

  it("writes a changed oneof member back under the same case", () => {
    const s = compile();
    const message = s.coerce({ pay: { case: "iban", value: "de00" } });
    const { out } = walk(s, message, PII, true);
    assert.deepEqual((out as Message & { pay: unknown }).pay, { case: "iban", value: "DE00" });
  });

  it("keeps proto2 default values and presence on copied messages", () => {
    const s = compileProtobuf({
      schema: `syntax = "proto2"; message M { optional string a = 1; optional int32 n = 2 [default = 7]; }`,
      schemaType: "PROTOBUF",
    });
    const message = s.coerce({ a: "x" });
    const out = s.fieldWalker(undefined)(message, (v) => (typeof v === "string" ? v + "!" : v)) as Message & { a: string; n: number };
    assert.equal(out.a, "x!");
    assert.equal(out.n, 7, "the default still reads through the prototype");
    assert.equal(Object.prototype.hasOwnProperty.call(out, "n"), false, "n stays unset");
    assert.deepEqual(s.decode(s.encode(out)), s.coerce({ a: "x!" }));
  });
});
