import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isErrorCode, SerializationError } from "../../src/errors.js";
import { decodeFrame, encodeFrame, prefixLength, readIndexes, v0SchemaId, writeIndexes, indexesLength } from "../../src/wire/index.js";

const GUID = "0b5f6c4e-9a1d-4c2e-8f3a-1234567890ab";
const GUID_BYTES = [0x0b, 0x5f, 0x6c, 0x4e, 0x9a, 0x1d, 0x4c, 0x2e, 0x8f, 0x3a, 0x12, 0x34, 0x56, 0x78, 0x90, 0xab];
const payload = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);

function throwsWire(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SerializationError, `expected SerializationError, got ${String(e)}`);
    assert.ok(isErrorCode(e, "wire-format"));
    assert.match(e.message, message);
    return true;
  });
}

describe("V0 frames (magic 0x00 + int32 BE id)", () => {
  it("writes the magic byte, the big-endian id and the payload", () => {
    assert.deepEqual([...encodeFrame({ id: 0x01020304 }, payload)], [0, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef]);
  });

  it("reads back the id and the payload as a view on the input, not a copy", () => {
    const bytes = encodeFrame({ id: 42 }, payload);
    const frame = decodeFrame(bytes, { protobuf: false });
    assert.equal(frame.id, 42);
    assert.equal(frame.guid, undefined);
    assert.equal(frame.indexes, undefined);
    assert.deepEqual([...frame.payload], [...payload]);
    assert.equal(frame.payload.buffer, bytes.buffer);
    assert.equal(frame.payload.byteOffset, bytes.byteOffset + 5);
  });

  it("reads ids as signed int32, like Buffer.readInt32BE", () => {
    assert.equal(decodeFrame(Uint8Array.of(0, 0xff, 0xff, 0xff, 0xfe), { protobuf: false }).id, -2);
    assert.equal(decodeFrame(encodeFrame({ id: 2147483647 }, payload), { protobuf: false }).id, 2147483647);
  });

  it("rejects ids that are not 32-bit integers", () => {
    throwsWire(() => encodeFrame({ id: 2 ** 31 }, payload), /invalid schema id/);
    throwsWire(() => encodeFrame({ id: 1.5 }, payload), /invalid schema id/);
  });

  it("accepts an empty payload", () => {
    const frame = decodeFrame(Uint8Array.of(0, 0, 0, 0, 7), { protobuf: false });
    assert.equal(frame.id, 7);
    assert.equal(frame.payload.length, 0);
  });

  it("works on Node Buffers and keeps them as Buffers", () => {
    const bytes = Buffer.from([0, 0, 0, 0, 9, 1, 2]);
    const frame = decodeFrame(bytes, { protobuf: false });
    assert.ok(Buffer.isBuffer(frame.payload));
    assert.deepEqual([...frame.payload], [1, 2]);
  });

  it("allocates the output with the given allocator, e.g. Buffer.allocUnsafe", () => {
    const out = encodeFrame({ id: 1 }, payload, (n) => Buffer.allocUnsafe(n));
    assert.ok(Buffer.isBuffer(out));
    assert.equal(out.length, 9);
  });
});

describe("V1 frames (magic 0x01 + 16 GUID bytes)", () => {
  it("writes the GUID bytes most significant half first", () => {
    assert.deepEqual([...encodeFrame({ guid: GUID }, payload)], [1, ...GUID_BYTES, ...payload]);
  });

  it("reads the GUID back in lower case", () => {
    const frame = decodeFrame(encodeFrame({ guid: GUID.toUpperCase() }, payload), { protobuf: false });
    assert.equal(frame.guid, GUID);
    assert.equal(frame.id, undefined);
    assert.deepEqual([...frame.payload], [...payload]);
  });

  it("prefers the id (V0) when both id and guid are given", () => {
    assert.equal(encodeFrame({ id: 1, guid: GUID }, payload)[0], 0);
  });

  it("rejects malformed GUID text", () => {
    throwsWire(() => encodeFrame({ guid: "not-a-guid" }, payload), /invalid schema GUID/);
    throwsWire(() => encodeFrame({ guid: GUID.replace("0b", "0g") }, payload), /invalid schema GUID/);
  });

  it("needs an id or a guid", () => {
    throwsWire(() => encodeFrame({}, payload), /schema id or a schema GUID/);
  });
});

describe("malformed frames", () => {
  it("rejects unknown magic bytes, naming the byte", () => {
    throwsWire(() => decodeFrame(Uint8Array.of(0x02, 0, 0, 0, 1), { protobuf: false }), /unknown magic byte 0x02/);
    throwsWire(() => decodeFrame(Uint8Array.of(0x7b, 0x7d), { protobuf: false }), /unknown magic byte 0x7b/);
  });

  it("rejects empty and truncated input", () => {
    throwsWire(() => decodeFrame(new Uint8Array(0), { protobuf: false }), /empty message/);
    throwsWire(() => decodeFrame(Uint8Array.of(0, 0, 0, 1), { protobuf: false }), /truncated/);
    throwsWire(() => decodeFrame(Uint8Array.of(1, ...GUID_BYTES.slice(0, 15)), { protobuf: false }), /truncated/);
  });
});

describe("Protobuf message indexes", () => {
  it("writes [0] as the single byte 0x00", () => {
    assert.deepEqual([...encodeFrame({ id: 1, indexes: [0] }, payload)], [0, 0, 0, 0, 1, 0x00, ...payload]);
  });

  it("writes a zigzag varint count, then zigzag varint indexes", () => {
    // count 2 -> 4, index 1 -> 2, index 0 -> 0
    assert.deepEqual([...encodeFrame({ id: 1, indexes: [1, 0] }, new Uint8Array(0))], [0, 0, 0, 0, 1, 4, 2, 0]);
    // index 64 -> zigzag 128 -> varint 0x80 0x01
    assert.deepEqual([...encodeFrame({ id: 1, indexes: [64] }, new Uint8Array(0))], [0, 0, 0, 0, 1, 2, 0x80, 0x01]);
  });

  it("round-trips nested paths after V0 and V1 ids", () => {
    for (const ref of [{ id: 5 }, { guid: GUID }]) {
      for (const indexes of [[0], [3], [0, 2, 1], [1000, 70000]]) {
        const bytes = encodeFrame({ ...ref, indexes }, payload);
        assert.equal(bytes.length, prefixLength({ ...ref, indexes }) + payload.length);
        const frame = decodeFrame(bytes, { protobuf: true });
        assert.deepEqual(frame.indexes, indexes);
        assert.deepEqual([...frame.payload], [...payload]);
      }
    }
  });

  it("reads a count of 0 as [0]", () => {
    const frame = decodeFrame(Uint8Array.of(0, 0, 0, 0, 1, 0x00, 0x0a), { protobuf: true });
    assert.deepEqual(frame.indexes, [0]);
    assert.deepEqual([...frame.payload], [0x0a]);
  });

  it("rejects a negative count, as when the indexes are absent and a protobuf tag follows the id", () => {
    // 0x0a (field 1, length-delimited) read as zigzag is -5
    throwsWire(() => decodeFrame(Uint8Array.of(0, 0, 0, 0, 1, 0x0a, 0x01, 0x41), { protobuf: true }), /message indexes are absent or malformed/);
  });

  it("rejects negative indexes and truncated indexes", () => {
    throwsWire(() => decodeFrame(Uint8Array.of(0, 0, 0, 0, 1, 0x02, 0x01), { protobuf: true }), /absent or malformed/);
    throwsWire(() => decodeFrame(Uint8Array.of(0, 0, 0, 0, 1, 0x04, 0x02), { protobuf: true }), /absent or malformed/);
    throwsWire(() => decodeFrame(Uint8Array.of(0, 0, 0, 0, 1), { protobuf: true }), /absent or malformed/);
    throwsWire(() => decodeFrame(Uint8Array.of(0, 0, 0, 0, 1, 0x02, 0x80), { protobuf: true }), /absent or malformed/);
  });

  it("rejects varints longer than 32 bits", () => {
    throwsWire(() => readIndexes(Uint8Array.of(0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 0), /absent or malformed/);
  });

  it("does not read indexes unless asked (Avro and JSON Schema)", () => {
    const frame = decodeFrame(Uint8Array.of(0, 0, 0, 0, 1, 0x02, 0x02), { protobuf: false });
    assert.equal(frame.indexes, undefined);
    assert.deepEqual([...frame.payload], [2, 2]);
  });

  it("rejects negative or fractional indexes when writing", () => {
    throwsWire(() => encodeFrame({ id: 1, indexes: [-1] }, payload), /invalid message index/);
    throwsWire(() => encodeFrame({ id: 1, indexes: [0, 0.5] }, payload), /invalid message index/);
  });

  it("writes in place at an offset and reports the length", () => {
    const out = new Uint8Array(10).fill(0xee);
    assert.equal(indexesLength([2, 1]), 3);
    assert.equal(writeIndexes([2, 1], out, 4), 7);
    assert.deepEqual([...out], [0xee, 0xee, 0xee, 0xee, 4, 4, 2, 0xee, 0xee, 0xee]);
  });
});

describe("v0SchemaId (the consumer's allocation-free read)", () => {
  it("gives the id decodeFrame gives for every V0 frame, negative ids included", () => {
    for (const id of [0, 1, 42, 0x7fffffff, -1, -0x80000000]) {
      const framed = encodeFrame({ id }, new Uint8Array([9, 9]));
      assert.equal(v0SchemaId(framed), decodeFrame(framed, { protobuf: false }).id);
    }
  });

  it("is undefined for whatever is not a complete V0 prefix, which decodeFrame then explains", () => {
    const guid = encodeFrame({ guid: "2f6d7c8e-1b2a-4c3d-8e9f-0a1b2c3d4e5f" }, new Uint8Array([1]));
    for (const bytes of [new Uint8Array([]), new Uint8Array([0, 0, 0, 1]), new Uint8Array([7, 0, 0, 0, 1]), guid]) {
      assert.equal(v0SchemaId(bytes), undefined);
    }
  });
});
