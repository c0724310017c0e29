/**
 * Packed changelog records (src/kafka/stateful.ts): a window's entries written a flush's worth per
 * record must restore exactly what was packed, in order, and no record may outgrow the broker's
 * default message size, whatever the keys.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PACK_CHARS, packEntries, unpackEntries } from "../../src/kafka/stateful.js";
import { mulberry32 } from "../helpers/random.js";

// Keys are untrusted text: quotes, backslashes, NULs, newlines, non-ASCII (a cut may leave half a surrogate pair).
const KEY_CHARS = 'k"\\\u0000\n\u00e9\u{1F600}';

describe("packed changelog entries", () => {
  it("round-trip in order, split so that no record holds more than PACK_CHARS characters of keys and values", () => {
    const random = mulberry32(14);
    const pairs: [string, string | null][] = [];
    for (let i = 0; i < 20_000; i++) {
      // Some long keys, so that a few records split early.
      const key = `${KEY_CHARS.slice(0, Math.floor(random() * KEY_CHARS.length))}-${i}-${"x".repeat(random() < 0.01 ? 5_000 : Math.floor(random() * 40))}`;
      pairs.push([key, random() < 0.05 ? null : `${1_760_000_000_000 + i * 2}@${i}`]);
    }
    const values = packEntries(pairs);
    assert.ok(values.length > 1, "20,000 entries take more than one record");
    for (const v of values) {
      const entries = unpackEntries(Buffer.from(v, "utf8"));
      const chars = entries.reduce((n, [k, val]) => n + k.length + (val?.length ?? 0) + 8, 0);
      assert.ok(chars <= PACK_CHARS || entries.length === 1, `a record holds ${chars} characters`);
      assert.ok(Buffer.byteLength(v) < 1024 * 1024, `a record of ${Buffer.byteLength(v)} bytes`);
    }
    assert.deepEqual(values.flatMap((v) => unpackEntries(Buffer.from(v, "utf8"))), pairs);
  });

  it("a malformed record restores nothing, and a record's valid entries are kept when others are not", () => {
    for (const bad of ["not json", "{}", '"a"', "null"]) assert.deepEqual(unpackEntries(Buffer.from(bad)), [], bad);
    assert.deepEqual(unpackEntries(null), []);
    assert.deepEqual(unpackEntries(Buffer.from('[["a","1@0"],["b"],[1,"x"],["c",null],["d",2]]')), [
      ["a", "1@0"],
      ["c", null],
    ]);
  });
});
