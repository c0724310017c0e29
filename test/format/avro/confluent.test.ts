/**
 * Byte compatibility with the reference JS client: its AvroSerializer writes
 * a 5-byte prefix (magic 0 + schema id) followed by the Avro payload; our
 * payload must equal that tail, and its deserializer must read ours.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AvroDeserializer, AvroSerializer, MockClient, SerdeType } from "@confluentinc/schemaregistry";
import { ORDER_SCHEMA, compileAvro, orderValue, plain } from "./fixtures.js";

async function confluentSerde(subject: string, schema: unknown) {
  const client = new MockClient({ baseURLs: ["mock://"] });
  const id = await client.register(subject, { schemaType: "AVRO", schema: JSON.stringify(schema) });
  const ser = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
  const de = new AvroDeserializer(client, SerdeType.VALUE, {});
  return { id, ser, de };
}

function framed(id: number, payload: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeInt32BE(id, 1);
  return Buffer.concat([prefix, payload]);
}

describe("avro payloads match @confluentinc/schemaregistry", () => {
  it("encodes a record with nested record, array, map, nullables, enum, bytes and long like AvroSerializer", async () => {
    const { id, ser, de } = await confluentSerde("orders-value", ORDER_SCHEMA);
    const ours = compileAvro(ORDER_SCHEMA);
    for (const value of [orderValue(), orderValue({ email: null, shipping: { city: "Lyon", zip: 1 }, items: [], attrs: {} })]) {
      const theirs = await ser.serialize("orders", value);
      assert.equal(theirs.readInt32BE(1), id);
      assert.deepEqual(Buffer.from(ours.encode(value)), theirs.subarray(5));
      assert.deepEqual(plain(await de.deserialize("orders", framed(id, ours.encode(value)))), value);
    }
  });

  it("writes a top-level bytes schema raw, like AvroSerializer", async () => {
    const { ser } = await confluentSerde("raw-value", "bytes");
    const raw = Buffer.from([1, 2, 3, 250]);
    const theirs = await ser.serialize("raw", raw);
    assert.deepEqual(Buffer.from(compileAvro("bytes").encode(raw)), theirs.subarray(5));
  });
});
