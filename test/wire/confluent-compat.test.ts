/**
 * Byte compatibility with the reference client, @confluentinc/schemaregistry:
 * frames its serializers write decode with ours, and frames we write decode
 * with its deserializers, in the prefix and in the header (GUID) forms.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import confluent from "@confluentinc/schemaregistry";
import avro from "avsc";
import { createMutableRegistry, fromBinary, getExtension, hasExtension, toBinary, type Message } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { compileProtobuf, type ProtobufSchema } from "../../src/format/protobuf/index.js";
import { VALUE_SCHEMA_ID_HEADER, decodeFrame, encodeFrame, readSchemaIdHeader, schemaIdHeader } from "../../src/wire/index.js";

const {
  SchemaRegistryClient,
  SerdeType,
  AvroSerializer,
  AvroDeserializer,
  JsonSerializer,
  JsonDeserializer,
  ProtobufSerializer,
  ProtobufDeserializer,
  HeaderSchemaIdSerializer,
} = confluent;

type Client = ReturnType<typeof SchemaRegistryClient.newClient>;
type Headers = Record<string, Buffer>;

const toBuffer = (n: number) => Buffer.allocUnsafe(n);

function mockClient(): Client {
  return SchemaRegistryClient.newClient({ baseURLs: ["mock://"], cacheCapacity: 100 });
}

/** Registers and returns the id and guid the mock registry assigned. */
async function register(client: Client, subject: string, info: { schema: string; schemaType: string; references?: { name: string; subject: string; version: number }[] }) {
  const meta = await client.registerFullResponse(subject, info, false);
  assert.ok(meta.guid, "the mock registry assigns GUIDs");
  return { id: meta.id as number, guid: meta.guid as string };
}

describe("Avro frames are byte-compatible with @confluentinc/schemaregistry", () => {
  const schema = {
    type: "record",
    name: "Order",
    namespace: "acme",
    fields: [
      { name: "id", type: "string" },
      { name: "qty", type: "int" },
      { name: "price", type: "double" },
    ],
  };
  const type = avro.Type.forSchema(schema as avro.Schema);
  const value = { id: "o-1", qty: 3, price: 9.5 };

  it("theirs -> ours: prefix frame decodes, payload is the Avro encoding", async () => {
    const client = mockClient();
    const { id } = await register(client, "orders-value", { schemaType: "AVRO", schema: JSON.stringify(schema) });
    const bytes: Buffer = await new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true }).serialize("orders", value);
    const frame = decodeFrame(bytes, { protobuf: false });
    assert.equal(frame.id, id);
    assert.deepEqual({ ...type.fromBuffer(Buffer.from(frame.payload)) }, value);
  });

  it("ours -> theirs: prefix frame deserializes to the same value", async () => {
    const client = mockClient();
    const { id } = await register(client, "orders-value", { schemaType: "AVRO", schema: JSON.stringify(schema) });
    const bytes = encodeFrame({ id }, type.toBuffer(value), toBuffer);
    const back = await new AvroDeserializer(client, SerdeType.VALUE, {}).deserialize("orders", bytes);
    assert.deepEqual({ ...back }, value);
  });

  it("theirs -> ours: header (GUID) form", async () => {
    const client = mockClient();
    const { guid } = await register(client, "orders-value", { schemaType: "AVRO", schema: JSON.stringify(schema) });
    const headers: Headers = {};
    const ser = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, schemaIdSerializer: HeaderSchemaIdSerializer });
    const payload: Buffer = await ser.serialize("orders", value, headers);
    const ref = readSchemaIdHeader(headers, false, { protobuf: false });
    assert.equal(ref?.guid, guid);
    assert.deepEqual({ ...type.fromBuffer(payload) }, value);
  });

  it("ours -> theirs: header (GUID) form", async () => {
    const client = mockClient();
    const { guid } = await register(client, "orders-value", { schemaType: "AVRO", schema: JSON.stringify(schema) });
    const headers: Headers = { [VALUE_SCHEMA_ID_HEADER]: Buffer.from(schemaIdHeader({ guid })) };
    const back = await new AvroDeserializer(client, SerdeType.VALUE, {}).deserialize("orders", type.toBuffer(value), headers);
    assert.deepEqual({ ...back }, value);
  });
});

describe("JSON Schema frames are byte-compatible with @confluentinc/schemaregistry", () => {
  const schema = JSON.stringify({
    type: "object",
    properties: { id: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
  });
  const value = { id: "o-1", tags: ["a", "b"] };

  it("theirs -> ours: prefix frame decodes, payload is the JSON text", async () => {
    const client = mockClient();
    const { id } = await register(client, "orders-value", { schemaType: "JSON", schema });
    const bytes: Buffer = await new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true }).serialize("orders", value);
    const frame = decodeFrame(bytes, { protobuf: false });
    assert.equal(frame.id, id);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(frame.payload)), value);
  });

  it("ours -> theirs: prefix frame deserializes to the same value", async () => {
    const client = mockClient();
    const { id } = await register(client, "orders-value", { schemaType: "JSON", schema });
    const bytes = encodeFrame({ id }, new TextEncoder().encode(JSON.stringify(value)), toBuffer);
    assert.deepEqual(await new JsonDeserializer(client, SerdeType.VALUE, {}).deserialize("orders", bytes), value);
  });

  it("ours -> theirs: header (GUID) form", async () => {
    const client = mockClient();
    const { guid } = await register(client, "orders-value", { schemaType: "JSON", schema });
    const headers: Headers = { [VALUE_SCHEMA_ID_HEADER]: Buffer.from(schemaIdHeader({ guid })) };
    const payload = Buffer.from(JSON.stringify(value));
    assert.deepEqual(await new JsonDeserializer(client, SerdeType.VALUE, {}).deserialize("orders", payload, headers), value);
  });
});

describe("Protobuf frames are byte-compatible with @confluentinc/schemaregistry", () => {
  const common = `syntax = "proto3";
package common;
message Money { string currency = 1; int64 units = 2; }`;
  const orders = `syntax = "proto3";
package acme;
import "common.proto";
import "confluent/meta.proto";

message Order {
  string id = 1 [(confluent.field_meta).tags = "PII"];
  repeated Line lines = 2;
  map<string, string> attrs = 3;
  Status status = 4;
  common.Money total = 5;
  message Line {
    string sku = 1;
    sint32 qty = 2;
    message Note { string text = 1; }
  }
  enum Status { NEW = 0; PAID = 1; }
}
message Refund { string order_id = 1; uint64 cents = 2; }`;

  const references = new Map([["common.proto", { schema: common, schemaType: "PROTOBUF" as const }]]);
  const compile = () => compileProtobuf({ schema: orders, schemaType: "PROTOBUF" }, { references });
  const base64 = (s: ProtobufSchema) => Buffer.from(toBinary(FileDescriptorProtoSchema, s.fileDescriptor)).toString("base64");

  const values: Record<string, Record<string, unknown>> = {
    "acme.Order": {
      id: "o-1",
      lines: [{ sku: "a", qty: -2 }, { sku: "b", qty: 5 }],
      attrs: { channel: "web" },
      status: 1,
      total: { currency: "EUR", units: 12n },
    },
    "acme.Order.Line": { sku: "a", qty: 7 },
    "acme.Order.Line.Note": { text: "gift" },
    "acme.Refund": { orderId: "o-1", cents: 18446744073709551615n },
  };
  const expectedIndexes: Record<string, number[]> = {
    "acme.Order": [0],
    "acme.Order.Line": [0, 0],
    "acme.Order.Line.Note": [0, 0, 0],
    "acme.Refund": [1],
  };

  /** Registers the file descriptors as the JS client does: base64 FileDescriptorProto, references by import name. */
  async function registerOrders(client: Client, s: ProtobufSchema) {
    const commonSchema = compileProtobuf({ schema: common, schemaType: "PROTOBUF" });
    const commonFd = Buffer.from(toBinary(FileDescriptorProtoSchema, commonSchema.fileDescriptor)).toString("base64");
    await register(client, "common", { schemaType: "PROTOBUF", schema: commonFd });
    return register(client, "orders-value", {
      schemaType: "PROTOBUF",
      schema: base64(s),
      references: [{ name: "common.proto", subject: "common", version: 1 }],
    });
  }

  for (const typeName of Object.keys(values)) {
    it(`theirs -> ours: ${typeName} decodes with our adapter at message indexes ${JSON.stringify(expectedIndexes[typeName])}`, async () => {
      const s = compile();
      const client = mockClient();
      const { id } = await registerOrders(client, s);
      const message = s.forName(typeName).coerce(values[typeName]);
      const ser = new ProtobufSerializer(client, SerdeType.VALUE, { useLatestVersion: true, registry: createMutableRegistry(s.registry) });
      const bytes: Buffer = await ser.serialize("orders", message);
      const frame = decodeFrame(bytes, { protobuf: true });
      assert.equal(frame.id, id);
      assert.deepEqual(frame.indexes, expectedIndexes[typeName]);
      assert.deepEqual(s.forName(typeName).messageIndexes, expectedIndexes[typeName]);
      const ours = s.forIndexes(frame.indexes!);
      assert.equal(ours.name, typeName);
      assert.deepEqual(ours.toJson(ours.decode(frame.payload)), ours.toJson(message));
    });

    it(`ours -> theirs: ${typeName} deserializes with their ProtobufDeserializer`, async () => {
      const s = compile();
      const client = mockClient();
      const { id } = await registerOrders(client, s);
      const ours = s.forName(typeName);
      const message = ours.coerce(values[typeName]);
      const bytes = encodeFrame({ id, indexes: ours.messageIndexes }, ours.encode(message), toBuffer);
      const back: Message = await new ProtobufDeserializer(client, SerdeType.VALUE, {}).deserialize("orders", bytes);
      assert.equal(back.$typeName, typeName);
      assert.deepEqual(ours.toJson(back), ours.toJson(message));
    });
  }

  it("theirs -> ours: header (GUID) form carries the message indexes", async () => {
    const s = compile();
    const client = mockClient();
    const { guid } = await registerOrders(client, s);
    const ours = s.forName("acme.Order.Line");
    const message = ours.coerce(values["acme.Order.Line"]);
    const headers: Headers = {};
    const ser = new ProtobufSerializer(client, SerdeType.VALUE, {
      useLatestVersion: true,
      registry: createMutableRegistry(s.registry),
      schemaIdSerializer: HeaderSchemaIdSerializer,
    });
    const payload: Buffer = await ser.serialize("orders", message, headers);
    const ref = readSchemaIdHeader(headers, false, { protobuf: true });
    assert.equal(ref?.guid, guid);
    assert.deepEqual(ref?.indexes, [0, 0]);
    assert.deepEqual(ours.toJson(ours.decode(payload)), ours.toJson(message));
  });

  it("ours -> theirs: header (GUID) form", async () => {
    const s = compile();
    const client = mockClient();
    const { guid } = await registerOrders(client, s);
    const ours = s.forName("acme.Refund");
    const message = ours.coerce(values["acme.Refund"]);
    const headers: Headers = { [VALUE_SCHEMA_ID_HEADER]: Buffer.from(schemaIdHeader({ guid, indexes: ours.messageIndexes })) };
    const back: Message = await new ProtobufDeserializer(client, SerdeType.VALUE, {}).deserialize("orders", Buffer.from(ours.encode(message)), headers);
    assert.deepEqual(ours.toJson(back), ours.toJson(message));
  });

  it("inline (confluent.field_meta) tags are encoded at the numbers the JS client reads", async () => {
    const s = compile();
    const client = mockClient();
    await registerOrders(client, s);
    // what their deserializer does with the registered schema: base64 -> FileDescriptorProto
    const registered = await client.getLatestSchemaMetadata("orders-value");
    const fd = fromBinary(FileDescriptorProtoSchema, Buffer.from(registered.schema, "base64"));
    const idField = fd.messageType[0]!.field.find((f) => f.name === "id")!;
    assert.ok(idField.options && hasExtension(idField.options, confluent.field_meta));
    assert.deepEqual(getExtension(idField.options, confluent.field_meta).tags, ["PII"]);
  });
});
