/**
 * The shared varint reader and writer (src/util/varint.ts), which Confluent's message indexes, DEK
 * key material and the packed changelog all read with: values round-trip, and what is not a varint
 * of at most the given bytes (cut short, too long, past 2^53 - 1) reads as -1.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readVarint, unzigzag, varintEnd, writeVarint, zigzag } from "../../src/util/varint.js";
import { mulberry32 } from "../helpers/random.js";

describe("varints", () => {
  it("round-trip every value below 2^53 (2,000 seeded values, and the edges), back to back", () => {
    const random = mulberry32(53);
    const values = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 2_000; i++) values.push(Math.floor(random() * 2 ** Math.floor(random() * 53)));
    const out = new Uint8Array(values.length * 8);
    let p = 0;
    for (const v of values) p = writeVarint(out, p, v);
    let q = 0;
    for (const v of values) {
      assert.equal(readVarint(out, q, 8), v);
      q = varintEnd;
    }
    assert.equal(q, p);
  });

  it("reads as -1 what is cut short, runs past its bytes, or passes 2^53 - 1", () => {
    assert.equal(readVarint(Uint8Array.of(0x80, 0x80), 0, 8), -1, "cut short");
    assert.equal(readVarint(Uint8Array.of(), 0, 8), -1, "nothing");
    assert.equal(readVarint(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 0, 5), -1, "six bytes where five may be");
    assert.equal(readVarint(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x01), 0, 5), 2 ** 28);
    assert.equal(varintEnd, 5);
    // 2^53: seven groups of 0, then 16 × 2^49.
    assert.equal(readVarint(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), 0, 8), -1, "past 2^53 - 1");
    assert.equal(readVarint(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f), 0, 8), Number.MAX_SAFE_INTEGER);
  });

  it("zigzag maps 0, -1, 1, -2 to 0, 1, 2, 3, and back, for integers of magnitude below 2^52", () => {
    assert.deepEqual([0, -1, 1, -2, 2].map(zigzag), [0, 1, 2, 3, 4]);
    const random = mulberry32(52);
    for (let i = 0; i < 2_000; i++) {
      const d = Math.floor((random() - 0.5) * 2 ** Math.floor(random() * 53));
      assert.equal(unzigzag(zigzag(d)), d);
    }
  });
});
