/**
 * Byte compatibility with the reference JS client: its JsonSerializer writes
 * a 5-byte prefix followed by JSON.stringify of the message, so for the same
 * object our payload is byte-equal to that tail (key order included).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JsonDeserializer, JsonSerializer, MockClient, SerdeType } from "@confluentinc/schemaregistry";
import { ORDER_SCHEMA, compileJson, orderValue } from "./fixtures.js";

describe("json payloads match @confluentinc/schemaregistry", () => {
  it("encodes byte for byte like JsonSerializer, and JsonDeserializer reads ours", async () => {
    const client = new MockClient({ baseURLs: ["mock://"] });
    const id = await client.register("orders-value", { schemaType: "JSON", schema: JSON.stringify(ORDER_SCHEMA) });
    // strict: false, or the JS client's Ajv (without ajv-formats) refuses `format: "email"`.
    const ser = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true, validate: true, strict: false });
    const de = new JsonDeserializer(client, SerdeType.VALUE, {});
    const ours = compileJson(ORDER_SCHEMA);
    const value = orderValue({ id: "é€😀", email: null });
    const theirs = await ser.serialize("orders", value);
    assert.deepEqual(Buffer.from(ours.encode(value)), theirs.subarray(5));
    const framed = Buffer.concat([theirs.subarray(0, 5), ours.encode(value)]);
    assert.equal(framed.readInt32BE(1), id);
    assert.deepEqual(await de.deserialize("orders", framed), value);
  });
});
