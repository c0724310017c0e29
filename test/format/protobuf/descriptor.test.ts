import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { getExtension, hasExtension, toBinary, fromBinary, create, type DescMessage } from "@bufbuild/protobuf";
import { Edition, FieldDescriptorProto_Label, FieldDescriptorProto_Type, FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { Contract } from "../../../src/contract/model.js";
import { ContractError, isErrorCode } from "../../../src/errors.js";
import { compileProtobuf, builtinFile, ROOT_FILE_NAME } from "../../../src/format/protobuf/index.js";
import { fieldMetaExtension, messageMetaExtension } from "../../../src/format/protobuf/registry.js";
import { mapEntryName } from "../../../src/format/protobuf/descriptor.js";

const proto = (schema: string): Contract => ({ schema, schemaType: "PROTOBUF" });
const refs = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, proto(v)]));

function message(schema: string, name: string, references?: Record<string, string>): DescMessage {
  const s = compileProtobuf(proto(schema), references ? { references: refs(references) } : {});
  const desc = s.registry.getMessage(name);
  assert.ok(desc, `message ${name}`);
  return desc;
}

describe("parsing .proto text into descriptors", () => {
  it("builds messages, nested types, enums and scalar fields as protoc does", () => {
    const s = compileProtobuf(
      proto(`syntax = "proto3";
package acme.v1;
message Order {
  string id = 1;
  int64 amount = 2;
  Status status = 3;
  Line line = 4;
  message Line { string sku = 1; }
  enum Status { NEW = 0; PAID = 1; }
}`),
    );
    assert.equal(s.file.proto.name, ROOT_FILE_NAME);
    assert.equal(s.file.proto.syntax, "proto3");
    assert.equal(s.file.proto.package, "acme.v1");
    const order = s.desc;
    assert.equal(order.typeName, "acme.v1.Order");
    assert.deepEqual(
      order.fields.map((f) => [f.name, f.number, f.proto.type, f.proto.typeName]),
      [
        ["id", 1, FieldDescriptorProto_Type.STRING, ""],
        ["amount", 2, FieldDescriptorProto_Type.INT64, ""],
        ["status", 3, FieldDescriptorProto_Type.ENUM, ".acme.v1.Order.Status"],
        ["line", 4, FieldDescriptorProto_Type.MESSAGE, ".acme.v1.Order.Line"],
      ],
    );
  });

  it("resolves type names innermost scope first, and absolute names from the root", () => {
    const m = message(
      `syntax = "proto3";
package a.b;
message Thing { string x = 1; }
message Outer {
  message Thing { int32 y = 1; }
  Thing inner = 1;
  .a.b.Thing outer = 2;
  b.Thing relative = 3;
}`,
      "a.b.Outer",
    );
    assert.deepEqual(
      m.fields.map((f) => f.message?.typeName),
      ["a.b.Outer.Thing", "a.b.Thing", "a.b.Thing"],
    );
  });

  it("gives json names (protoc camel case, or the json_name option)", () => {
    const m = message(`syntax = "proto3"; message M { string order_id = 1; string x_y_z = 2; string other = 3 [json_name = "OTHER"]; }`, "M");
    assert.deepEqual(
      m.fields.map((f) => f.jsonName),
      ["orderId", "xYZ", "OTHER"],
    );
  });

  it("adds the synthetic map entry message under protoc's name, outside the message indexes", () => {
    assert.equal(mapEntryName("my_attrs"), "MyAttrsEntry");
    assert.equal(mapEntryName("attrs2x"), "Attrs2xEntry");
    const s = compileProtobuf(proto(`syntax = "proto3"; message M { map<string, int64> my_attrs = 1; message Inner {} }`));
    const field = s.desc.fields[0]!;
    assert.equal(field.fieldKind, "map");
    assert.equal(field.proto.typeName, ".M.MyAttrsEntry");
    // protobuf-es (and the Confluent clients) leave map entries out of the nested messages
    assert.deepEqual(s.desc.nestedMessages.map((m) => m.name), ["Inner"]);
    assert.deepEqual(s.forName("M.Inner").messageIndexes, [0, 0]);
  });

  it("lists real oneofs before the synthetic oneofs of proto3 optional fields", () => {
    const m = message(
      `syntax = "proto3"; message M { optional int32 a = 1; oneof choice { string b = 2; int32 c = 3; } optional string d = 4; }`,
      "M",
    );
    assert.deepEqual(m.proto.oneofDecl.map((o) => o.name), ["choice", "_a", "_d"]);
    assert.deepEqual(m.oneofs.map((o) => o.name), ["choice"]);
    const a = m.fields[0]!;
    assert.equal(a.proto.proto3Optional, true);
    assert.equal(a.oneof, undefined);
    assert.equal(a.presence, FeatureSet_FieldPresence.EXPLICIT);
    assert.equal(m.fields[1]!.oneof?.name, "choice");
  });

  it("keeps proto2 labels, defaults, groups, extension ranges and extensions", () => {
    const s = compileProtobuf(
      proto(`syntax = "proto2";
package p;
message M {
  required string id = 1;
  optional int32 n = 2 [default = 7];
  repeated int32 packed_ints = 3 [packed = true];
  optional group G = 4 { optional int32 a = 5; }
  extensions 100 to 199;
}
extend M { optional string note = 100; }`),
    );
    const m = s.desc;
    assert.equal(s.file.proto.syntax, "proto2");
    assert.equal(m.fields[0]!.proto.label, FieldDescriptorProto_Label.REQUIRED);
    assert.equal(m.fields[1]!.proto.defaultValue, "7");
    assert.equal((create(m) as unknown as { n: number }).n, 7);
    const packedInts = m.fields[2]!;
    assert.equal(packedInts.fieldKind === "list" && packedInts.packed, true);
    assert.equal(m.fields[3]!.proto.type, FieldDescriptorProto_Type.GROUP);
    assert.deepEqual(m.proto.extensionRange.map((r) => [r.start, r.end]), [[100, 200]]);
    const note = s.registry.getExtension("p.note");
    assert.equal(note?.extendee, m);
  });

  it("reads reserved ranges and names, and enum aliases", () => {
    const s = compileProtobuf(
      proto(`syntax = "proto3";
message M { reserved 2, 5 to 7; reserved "old"; string a = 1; }
enum E { option allow_alias = true; A = 0; B = 1; C = 1 [deprecated = true]; reserved 10 to max; }`),
    );
    assert.deepEqual(s.desc.proto.reservedRange.map((r) => [r.start, r.end]), [[2, 3], [5, 8]]);
    assert.deepEqual(s.desc.proto.reservedName, ["old"]);
    const e = s.registry.getEnum("E")!;
    assert.equal(e.proto.options?.allowAlias, true);
    assert.equal(e.values.find((v) => v.name === "C")?.deprecated, true);
    assert.deepEqual(e.proto.reservedRange.map((r) => [r.start, r.end]), [[10, 536870911]]);
  });

  it("supports edition 2023 with file-level features", () => {
    const s = compileProtobuf(
      proto(`edition = "2023";
package e;
option features.field_presence = IMPLICIT;
message M { string a = 1; string b = 2 [features.field_presence = EXPLICIT]; }`),
    );
    assert.equal(s.file.proto.edition, Edition.EDITION_2023);
    assert.equal(s.desc.fields[0]!.presence, FeatureSet_FieldPresence.IMPLICIT);
    assert.equal(s.desc.fields[1]!.presence, FeatureSet_FieldPresence.EXPLICIT);
  });

  it("treats a file without a syntax statement as proto2", () => {
    const s = compileProtobuf(proto(`message M { optional string a = 1; }`));
    assert.equal(s.file.proto.syntax, "proto2");
    assert.equal(s.desc.fields[0]!.presence, FeatureSet_FieldPresence.EXPLICIT);
  });
});

describe("imports and schema references", () => {
  it("provides google/protobuf well-known types without references", () => {
    const m = message(
      `syntax = "proto3";
import "google/protobuf/timestamp.proto";
import "google/protobuf/struct.proto";
message M { google.protobuf.Timestamp at = 1; google.protobuf.Struct doc = 2; }`,
      "M",
    );
    assert.deepEqual(m.fields.map((f) => f.message?.typeName), ["google.protobuf.Timestamp", "google.protobuf.Struct"]);
    assert.ok(builtinFile("google/protobuf/wrappers.proto"));
  });

  it("resolves references by import path, transitively", () => {
    const m = message(
      `syntax = "proto3"; package app; import "shop/order.proto"; message Envelope { shop.Order order = 1; }`,
      "app.Envelope",
      {
        "shop/order.proto": `syntax = "proto3"; package shop; import "shop/money.proto"; message Order { Money total = 1; }`,
        "shop/money.proto": `syntax = "proto3"; package shop; message Money { int64 units = 1; }`,
      },
    );
    const order = m.fields[0]!.message!;
    assert.equal(order.typeName, "shop.Order");
    assert.equal(order.file.name, "shop/order");
    assert.equal(order.fields[0]!.message?.typeName, "shop.Money");
  });

  it("fails with schema-missing naming an import that is neither built in nor referenced", () => {
    assert.throws(
      () => compileProtobuf(proto(`syntax = "proto3"; import "missing.proto"; message M {}`)),
      (e: unknown) => isErrorCode(e, "schema-missing") && /import "missing\.proto"/.test((e as Error).message),
    );
  });

  it("rejects import cycles", () => {
    assert.throws(
      () =>
        compileProtobuf(proto(`syntax = "proto3"; import "a.proto"; message M {}`), {
          references: refs({ "a.proto": `syntax = "proto3"; import "b.proto";`, "b.proto": `syntax = "proto3"; import "a.proto";` }),
        }),
      (e: unknown) => isErrorCode(e, "schema-invalid") && /import cycle/.test((e as Error).message),
    );
  });

  it("rejects a reference that is not a Protobuf schema", () => {
    assert.throws(
      () =>
        compileProtobuf(proto(`syntax = "proto3"; import "a.proto"; message M {}`), {
          references: new Map([["a.proto", { schema: "{}", schemaType: "JSON" as const }]]),
        }),
      (e: unknown) => isErrorCode(e, "schema-invalid") && /JSON schema/.test((e as Error).message),
    );
  });
});

describe("invalid schemas", () => {
  it("report syntax errors as schema-invalid with the line", () => {
    assert.throws(
      () => compileProtobuf(proto(`syntax = "proto3";\nmessage A {\n  string x = ;\n}`)),
      (e: unknown) => {
        assert.ok(e instanceof ContractError);
        assert.equal(e.code, "schema-invalid");
        assert.equal(e.position?.line, 3);
        return true;
      },
    );
  });

  it("report unknown field types, naming the field", () => {
    assert.throws(
      () => compileProtobuf(proto(`syntax = "proto3"; package p; message A { strin x = 1; }`)),
      (e: unknown) => isErrorCode(e, "schema-invalid") && /field p\.A\.x: unknown type "strin"/.test((e as Error).message),
    );
  });

  it("report duplicate field numbers and names", () => {
    assert.throws(() => compileProtobuf(proto(`syntax = "proto3"; message A { string a = 1; int32 b = 1; }`)), (e: unknown) => isErrorCode(e, "schema-invalid"));
    assert.throws(() => compileProtobuf(proto(`syntax = "proto3"; message A { string a = 1; string a = 2; }`)), (e: unknown) => isErrorCode(e, "schema-invalid"));
  });

  it("report a schema without messages, and a messageName that is not declared", () => {
    assert.throws(() => compileProtobuf(proto(`syntax = "proto3"; enum E { A = 0; }`)), (e: unknown) => isErrorCode(e, "schema-invalid"));
    assert.throws(
      () => compileProtobuf(proto(`syntax = "proto3"; message A {}`), { messageName: "B" }),
      (e: unknown) => isErrorCode(e, "schema-invalid") && /declares: A/.test((e as Error).message),
    );
  });

  it("report a schema of another type", () => {
    assert.throws(() => compileProtobuf({ schema: "{}", schemaType: "JSON" }), (e: unknown) => isErrorCode(e, "schema-invalid"));
  });
});

describe("confluent/meta.proto options", () => {
  const schema = `syntax = "proto3";
package acme;
import "confluent/meta.proto";
message Order {
  option (confluent.message_meta) = { doc: "an order", tags: ["ORDER"] };
  string email = 1 [(confluent.field_meta) = { tags: ["PII", "EMAIL"], params: { key: "k" value: "v" } }];
  string ssn = 2 [(confluent.field_meta).tags = "PII", (confluent.field_meta).tags = "SSN"];
  string plain = 3;
}`;

  it("store field tags in the (confluent.field_meta) extension", () => {
    const s = compileProtobuf(proto(schema));
    const meta = (i: number) => {
      const options = s.desc.fields[i]!.proto.options;
      return options && hasExtension(options, fieldMetaExtension()) ? (getExtension(options, fieldMetaExtension()) as { tags: string[]; params: Record<string, string> }) : undefined;
    };
    assert.deepEqual(meta(0)?.tags, ["PII", "EMAIL"]);
    assert.deepEqual(meta(0)?.params, { k: "v" });
    assert.deepEqual(meta(1)?.tags, ["PII", "SSN"]);
    assert.equal(meta(2), undefined);
    const messageOptions = s.desc.proto.options!;
    assert.deepEqual((getExtension(messageOptions, messageMetaExtension()) as { tags: string[] }).tags, ["ORDER"]);
  });

  it("encode the extension as field 1088 of the options, as in confluentinc/schema-registry", () => {
    const s = compileProtobuf(proto(schema));
    const options = s.desc.fields[1]!.proto.options!;
    const bytes = toBinary(fieldOptionsDesc(s), options);
    // tag 1088, wire type 2 -> varint 0x82 0x44; then Meta { tags (3): "PII", "SSN" }
    assert.deepEqual([...bytes.slice(0, 2)], [0x82, 0x44]);
    assert.deepEqual([...bytes.slice(3)], [0x1a, 3, ...Buffer.from("PII"), 0x1a, 3, ...Buffer.from("SSN")]);
  });

  it("are read by name even when confluent/meta.proto is not imported", () => {
    const s = compileProtobuf(proto(`syntax = "proto3"; message M { string a = 1 [(confluent.field_meta).tags = "PII"]; }`));
    assert.deepEqual(s.fields[0]!.tags, new Set(["PII"]));
  });

  it("reject a field of confluent.Meta that does not exist", () => {
    assert.throws(
      () => compileProtobuf(proto(`syntax = "proto3"; import "confluent/meta.proto"; message M { string a = 1 [(confluent.field_meta).tag = "PII"]; }`)),
      (e: unknown) => isErrorCode(e, "schema-invalid") && /has no field "tag"/.test((e as Error).message),
    );
  });

  it("leave options whose extension is not declared uninterpreted", () => {
    const s = compileProtobuf(proto(`syntax = "proto3"; message M { string a = 1 [(other.rules).min_len = 3]; }`));
    assert.equal(s.desc.fields[0]!.proto.options, undefined);
  });

  it("apply to user-defined extensions from references too", () => {
    const s = compileProtobuf(
      proto(`syntax = "proto3"; import "opts.proto"; message M { string a = 1 [(opts.label) = "x"]; }`),
      {
        references: refs({
          "opts.proto": `syntax = "proto3"; package opts; import "google/protobuf/descriptor.proto"; extend google.protobuf.FieldOptions { string label = 50001; }`,
        }),
      },
    );
    const ext = s.registry.getExtension("opts.label")!;
    assert.equal(getExtension(s.desc.fields[0]!.proto.options!, ext), "x");
  });

  it("round-trip through the binary descriptor", () => {
    const s = compileProtobuf(proto(schema));
    const desc = fieldOptionsDesc(s);
    const copy = fromBinary(desc, toBinary(desc, s.desc.fields[0]!.proto.options!));
    assert.deepEqual((getExtension(copy, fieldMetaExtension()) as { tags: string[] }).tags, ["PII", "EMAIL"]);
  });
});

function fieldOptionsDesc(s: ReturnType<typeof compileProtobuf>): DescMessage {
  return s.registry.getMessage("google.protobuf.FieldOptions")!;
}
