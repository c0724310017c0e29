import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_SLICE, SLAB_BYTES, claim, currentSlab, freeStart, messageBuffer } from "../../src/util/message-buffers.js";

/** Fills `buf` with a pattern derived from `seed`, so an overwrite by a later buffer shows. */
function stamp(buf: Buffer, seed: number): void {
  for (let i = 0; i < buf.length; i++) buf[i] = (seed * 31 + i) & 0xff;
}
function intact(buf: Buffer, seed: number): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== ((seed * 31 + i) & 0xff)) return false;
  return true;
}

describe("message buffers", () => {
  it("hands out Buffers of the asked size that never overlap, across many slabs", () => {
    const taken: Buffer[] = [];
    // Sizes that do not divide the slab, so slab ends are crossed at every offset.
    for (let i = 0, total = 0; total < 5 * SLAB_BYTES; i++) {
      const b = messageBuffer(1 + ((i * 997) % 700));
      assert.ok(Buffer.isBuffer(b));
      // Node's own Buffer (kafkajs needs one), equal to any other Buffer of the same bytes.
      assert.equal(Object.getPrototypeOf(b), Buffer.prototype);
      assert.equal(b.length, 1 + ((i * 997) % 700));
      stamp(b, i);
      taken.push(b);
      total += b.length;
    }
    taken.forEach((b, i) => assert.ok(intact(b, i), `buffer ${i} was overwritten`));
  });

  it("gives a message larger than MAX_SLICE a buffer of its own, and goes on in the same slab", () => {
    const before = messageBuffer(10);
    const big = messageBuffer(MAX_SLICE + 1);
    assert.equal(big.length, MAX_SLICE + 1);
    assert.equal(big.buffer.byteLength, MAX_SLICE + 1, "an ArrayBuffer of its own, not a slab");
    assert.notEqual(big.buffer, before.buffer);
    const after = messageBuffer(10);
    assert.equal(after.buffer, before.buffer, "small messages keep filling the slab");
  });

  it("claims bytes written in place at the slab's free end, and refuses a claim outside the free room", () => {
    const slab = currentSlab();
    const start = freeStart();
    if (start + 8 > slab.length) messageBuffer(MAX_SLICE); // make room (starts a new slab if needed)
    const s = currentSlab();
    const at = freeStart();
    s.write("in-place", at, "latin1");
    const out = claim(at + 8);
    assert.deepStrictEqual(out, Buffer.from("in-place", "latin1"));
    assert.equal(out.buffer, s.buffer, "a view on the slab, not a copy");
    assert.equal(freeStart(), at + 8);
    assert.notEqual(messageBuffer(4).byteOffset, out.byteOffset, "claimed bytes are not handed out again");
    assert.throws(() => claim(freeStart() - 1), RangeError);
    assert.throws(() => claim(currentSlab().length + 1), RangeError);
  });
});
