import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Metadata } from "../../../src/contract/model.js";
import { compileProtobuf } from "../../../src/format/protobuf/index.js";
import type { FieldInfo } from "../../../src/format/types.js";

const SCHEMA = `syntax = "proto3";
package acme;
import "confluent/meta.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/timestamp.proto";

message Order {
  string id = 1 [(confluent.field_meta).tags = "PII"];
  bytes blob = 2;
  int32 i32 = 3;
  sint32 s32 = 4;
  uint32 u32 = 5;
  fixed32 f32 = 6;
  sfixed32 sf32 = 7;
  int64 i64 = 8;
  sint64 s64 = 9;
  uint64 u64 = 10;
  fixed64 f64 = 11;
  sfixed64 sf64 = 12;
  float fl = 13;
  double db = 14;
  bool ok = 15;
  Status status = 16;
  Address address = 17;
  repeated string labels = 18;
  repeated Address history = 19;
  map<string, string> attrs = 20 [(confluent.field_meta).tags = "PII"];
  map<int32, Address> by_id = 21;
  oneof pay { string card = 22; int64 cash = 23; }
  google.protobuf.StringValue nick = 24;
  google.protobuf.Timestamp at = 25;
  repeated Status statuses = 26;
  enum Status { NEW = 0; }
}
message Address {
  string city = 1 [(confluent.field_meta) = { tags: ["PII", "GEO"] }];
  Address parent = 2;
}`;

function fields(metadata?: Metadata): Map<string, FieldInfo> {
  const s = compileProtobuf({ schema: SCHEMA, schemaType: "PROTOBUF", metadata });
  return new Map(s.fields.map((f) => [f.fullName, f]));
}

describe("Protobuf fields as CEL_FIELD rules see them", () => {
  it("name fields by message full name plus field name", () => {
    const f = fields();
    assert.equal(f.get("acme.Order.id")?.name, "id");
    assert.equal(f.get("acme.Address.city")?.name, "city");
  });

  it("map scalar types as Java's ProtobufSchema.getType does", () => {
    const f = fields();
    const type = (n: string) => f.get(`acme.Order.${n}`)?.typeName;
    assert.equal(type("id"), "STRING");
    assert.equal(type("blob"), "BYTES");
    for (const n of ["i32", "u32", "f32", "sf32"]) assert.equal(type(n), "INT", n);
    for (const n of ["i64", "u64", "f64", "sf64"]) assert.equal(type(n), "LONG", n);
    assert.equal(type("fl"), "FLOAT");
    assert.equal(type("db"), "DOUBLE");
    assert.equal(type("ok"), "BOOLEAN");
  });

  it("type sint32/sint64 as INT/LONG like the JS client (Java falls through to NULL for them)", () => {
    const f = fields();
    assert.equal(f.get("acme.Order.s32")?.typeName, "INT");
    assert.equal(f.get("acme.Order.s64")?.typeName, "LONG");
  });

  it("type messages RECORD, enums ENUM, maps MAP, and repeated fields by their element", () => {
    const f = fields();
    assert.equal(f.get("acme.Order.address")?.typeName, "RECORD");
    assert.equal(f.get("acme.Order.status")?.typeName, "ENUM");
    assert.equal(f.get("acme.Order.attrs")?.typeName, "MAP");
    assert.equal(f.get("acme.Order.labels")?.typeName, "STRING");
    assert.equal(f.get("acme.Order.history")?.typeName, "RECORD");
    assert.equal(f.get("acme.Order.statuses")?.typeName, "ENUM");
    assert.equal(f.get("acme.Order.at")?.typeName, "RECORD");
  });

  it("mark only scalar leaves primitive", () => {
    const f = fields();
    assert.equal(f.get("acme.Order.id")?.primitive, true);
    assert.equal(f.get("acme.Order.labels")?.primitive, true);
    assert.equal(f.get("acme.Order.card")?.primitive, true);
    for (const n of ["address", "status", "attrs", "history", "statuses", "by_id"]) {
      assert.equal(f.get(`acme.Order.${n}`)?.primitive, false, n);
    }
  });

  it("describe map values as the entry message's value field, as Java walks them", () => {
    const f = fields();
    const value = f.get("acme.Order.AttrsEntry.value");
    assert.equal(value?.typeName, "STRING");
    assert.equal(value?.primitive, true);
    assert.equal(f.get("acme.Order.ByIdEntry.value")?.typeName, "RECORD");
  });

  it("treat a singular wrapper field, which protobuf-es unboxes, as a leaf of the wrapped type", () => {
    const f = fields();
    assert.equal(f.get("acme.Order.nick")?.typeName, "STRING");
    assert.equal(f.get("acme.Order.nick")?.primitive, true);
    assert.equal(f.has("google.protobuf.StringValue.value"), false);
  });

  it("include nested messages once each, depth first, including well-known types", () => {
    const s = compileProtobuf({ schema: SCHEMA, schemaType: "PROTOBUF" });
    const names = s.fields.map((f) => f.fullName);
    assert.equal(new Set(names).size, names.length);
    // address's fields come right after it, before the next Order field
    const i = names.indexOf("acme.Order.address");
    assert.deepEqual(names.slice(i, i + 4), ["acme.Order.address", "acme.Address.city", "acme.Address.parent", "acme.Order.labels"]);
    assert.ok(names.includes("google.protobuf.Timestamp.seconds"));
  });

  it("carry inline (confluent.field_meta) tags", () => {
    const f = fields();
    assert.deepEqual(f.get("acme.Order.id")?.tags, new Set(["PII"]));
    assert.deepEqual(f.get("acme.Address.city")?.tags, new Set(["PII", "GEO"]));
    assert.deepEqual(f.get("acme.Order.blob")?.tags, new Set());
  });

  it("give map values the map field's inline tags", () => {
    assert.deepEqual(fields().get("acme.Order.AttrsEntry.value")?.tags, new Set(["PII"]));
  });

  it("add metadata tags whose wildcard matches the full name", () => {
    const f = fields({ tags: { "acme.Order.i*": ["NUM"], "**.city": ["LOC"], "acme.*.parent": ["TREE"] } });
    assert.deepEqual(f.get("acme.Order.i32")?.tags, new Set(["NUM"]));
    assert.deepEqual(f.get("acme.Order.id")?.tags, new Set(["PII", "NUM"]));
    assert.deepEqual(f.get("acme.Address.city")?.tags, new Set(["PII", "GEO", "LOC"]));
    assert.deepEqual(f.get("acme.Address.parent")?.tags, new Set(["TREE"]));
    assert.deepEqual(f.get("acme.Order.s32")?.tags, new Set());
  });
});
