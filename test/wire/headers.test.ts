import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isErrorCode } from "../../src/errors.js";
import {
  KEY_SCHEMA_ID_HEADER,
  VALUE_SCHEMA_ID_HEADER,
  decodeDual,
  encodeFrame,
  readSchemaIdHeader,
  schemaIdHeader,
  schemaIdHeaderName,
} from "../../src/wire/index.js";

const GUID_A = "11111111-2222-3333-4444-555555555555";
const GUID_B = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const payload = Uint8Array.of(0x08, 0x96, 0x01);

describe("schema id headers", () => {
  it("are named __key_schema_id and __value_schema_id", () => {
    assert.equal(schemaIdHeaderName(true), "__key_schema_id");
    assert.equal(schemaIdHeaderName(false), "__value_schema_id");
    assert.equal(KEY_SCHEMA_ID_HEADER, "__key_schema_id");
    assert.equal(VALUE_SCHEMA_ID_HEADER, "__value_schema_id");
  });

  it("hold the V1 form: magic 0x01, the GUID, then the message indexes", () => {
    const header = schemaIdHeader({ guid: GUID_A, indexes: [1, 0] });
    assert.deepEqual([...header], [...encodeFrame({ guid: GUID_A, indexes: [1, 0] }, new Uint8Array(0))]);
    assert.equal(header[0], 0x01);
    assert.equal(header.length, 1 + 16 + 3);
  });

  it("need a GUID: the header never carries a numeric id", () => {
    assert.throws(() => schemaIdHeader({ id: 3 }), (e: unknown) => isErrorCode(e, "wire-format"));
  });

  it("read back for the value or the key side only", () => {
    const headers = { [VALUE_SCHEMA_ID_HEADER]: schemaIdHeader({ guid: GUID_A }) };
    assert.equal(readSchemaIdHeader(headers, false, { protobuf: false })?.guid, GUID_A);
    assert.equal(readSchemaIdHeader(headers, true, { protobuf: false }), undefined);
    assert.equal(readSchemaIdHeader(undefined, false, { protobuf: false }), undefined);
  });

  it("read the last header when the header repeats", () => {
    const headers = {
      [VALUE_SCHEMA_ID_HEADER]: [schemaIdHeader({ guid: GUID_A, indexes: [0] }), schemaIdHeader({ guid: GUID_B, indexes: [2] })],
    };
    const frame = readSchemaIdHeader(headers, false, { protobuf: true });
    assert.equal(frame?.guid, GUID_B);
    assert.deepEqual(frame?.indexes, [2]);
  });

  it("read a V0 header too, since Confluent's readers accept either form", () => {
    const headers = { [KEY_SCHEMA_ID_HEADER]: encodeFrame({ id: 12 }, new Uint8Array(0)) };
    assert.equal(readSchemaIdHeader(headers, true, { protobuf: false })?.id, 12);
  });

  it("read string header values as UTF-8 bytes, as the Confluent clients do", () => {
    // a V0 header whose bytes are all ASCII
    const headers = { [VALUE_SCHEMA_ID_HEADER]: "\u0000\u0000\u0000\u0000\u0021" };
    assert.equal(readSchemaIdHeader(headers, false, { protobuf: false })?.id, 33);
  });

  it("reject malformed header values with wire-format errors", () => {
    const headers = { [VALUE_SCHEMA_ID_HEADER]: Uint8Array.of(0x05) };
    assert.throws(() => readSchemaIdHeader(headers, false, { protobuf: false }), (e: unknown) => isErrorCode(e, "wire-format"));
  });
});

describe("decodeDual (Confluent's DualSchemaIdDeserializer)", () => {
  it("uses the header when present: the whole message is the payload", () => {
    const headers = { [VALUE_SCHEMA_ID_HEADER]: schemaIdHeader({ guid: GUID_A, indexes: [1] }) };
    const frame = decodeDual(payload, headers, { isKey: false, protobuf: true });
    assert.equal(frame.guid, GUID_A);
    assert.deepEqual(frame.indexes, [1]);
    assert.equal(frame.payload, payload);
  });

  it("falls back to the prefix when there is no header for this side", () => {
    const bytes = encodeFrame({ id: 7, indexes: [0] }, payload);
    const headers = { [KEY_SCHEMA_ID_HEADER]: schemaIdHeader({ guid: GUID_A }) };
    const frame = decodeDual(bytes, headers, { isKey: false, protobuf: true });
    assert.equal(frame.id, 7);
    assert.deepEqual(frame.indexes, [0]);
    assert.deepEqual([...frame.payload], [...payload]);
  });

  it("prefers the header over a prefix that is also there", () => {
    const bytes = encodeFrame({ id: 7 }, payload);
    const headers = { [VALUE_SCHEMA_ID_HEADER]: [schemaIdHeader({ guid: GUID_A })] };
    const frame = decodeDual(bytes, headers, { isKey: false, protobuf: false });
    assert.equal(frame.guid, GUID_A);
    assert.equal(frame.payload, bytes);
  });
});
