import assert from "node:assert/strict";
import { describe, it } from "node:test";
import avsc from "avsc";
import { readAvro, shortStrings, writeAvro } from "../../../src/format/avro/tap.js";
import { mulberry32 } from "../../helpers/random.js";
import { MAX_SLICE, SLAB_BYTES } from "../../../src/util/message-buffers.js";
import { isErrorCode } from "../../../src/errors.js";
import { ORDER_SCHEMA, compileAvro, orderValue } from "./fixtures.js";

// Around both thresholds (up to 12 bytes read in JS, 63 chars written in JS), ASCII and not;
// every ASCII length from 0 to 13, as each short length has its own code path.
const STRINGS = [
  ...Array.from({ length: 14 }, (_, n) => "abcdefghijklm".slice(0, n)),
  "x".repeat(62),
  "x".repeat(63),
  "x".repeat(64),
  "x".repeat(5000),
  "é",
  "abcdefghijké", // 12 chars, 13 bytes
  "abcdefghijé", // 12 bytes, non-ASCII last
  "日本語",
  "a😀b", // surrogate pair
  "\u0000\u007f", // ASCII edge bytes
  "\u0080",
  "x".repeat(62) + "é",
  "é" + "x".repeat(62),
];

const record = avsc.Type.forSchema({
  type: "record",
  name: "R",
  fields: [
    { name: "s", type: "string" },
    { name: "n", type: ["null", "string"] },
    { name: "list", type: { type: "array", items: "string" } },
    { name: "map", type: { type: "map", values: "string" } },
  ],
});

describe("avro fast tap", () => {
  it("writes exactly avsc's bytes and reads back exactly avsc's values, for every string", () => {
    for (const s of STRINGS) {
      const value = { s, n: s, list: [s, s], map: { [s]: s } };
      const ours = writeAvro(record, value);
      const theirs = record.toBuffer(value);
      assert.deepEqual(ours, theirs, JSON.stringify(s));
      assert.deepEqual({ ...(readAvro(record, theirs) as object) }, { ...(record.fromBuffer(theirs) as object) }, JSON.stringify(s));
    }
  });

  it("refuses a lone surrogate, where avsc writes bytes that read back as another string", () => {
    const value = { s: "lone \ud800 surrogate", n: null, list: [], map: {} };
    assert.notEqual((record.fromBuffer(record.toBuffer(value)) as { s: string }).s, value.s);
    assert.throws(() => writeAvro(record, value), /lone surrogate/);
  });

  it("reads back every short string right when many repeat and collide in the table of kept strings", () => {
    const string = avsc.Type.forSchema("string");
    // 20k distinct short ASCII strings (far more than the table's slots, so slots collide), each
    // read three times in a shuffled order: kept strings, replaced ones and misses all come back exact.
    const rnd = mulberry32(7);
    const distinct = Array.from({ length: 20_000 }, (_, i) => i.toString(36).padStart(1 + (i % 12), "_"));
    assert.equal(new Set(distinct).size, distinct.length);
    const reads = [...distinct, ...distinct, ...distinct].map((s) => ({ s, r: rnd() })).sort((a, b) => a.r - b.r);
    for (const { s } of reads) assert.equal(readAvro(string, string.toBuffer(s)), s);
    // Same length, same bytes but one: never mistaken for each other.
    for (let k = 0; k < 3; k++) for (const s of ["abcdefghijkl", "abcdefghijkm", "Abcdefghijkl"]) assert.equal(readAvro(string, string.toBuffer(s)), s);
  });

  it("keeps a repeated short string per slot, and never answers a different string from it", () => {
    // One slot: every string collides with the kept one.
    const read = shortStrings(1);
    const at = (s: string) => {
      const buf = Buffer.from(`__${s}`, "utf8") as Parameters<typeof read>[0];
      return read(buf, 2, buf.length);
    };
    for (const s of ["abc", "abc", "abc"]) assert.equal(at(s), s);
    // Kept "abc" now; same length differing last, first or middle, shorter, longer, empty, non-ASCII.
    for (const s of ["abd", "xbc", "aXc", "ab", "abcd", "", "abc", "é", "abcdefghijkl", "abcdefghijkl", "abcdefghijkm", "abc"]) assert.equal(at(s), s);
    assert.throws(() => shortStrings(3), RangeError);
  });

  it("decodes invalid UTF-8 as avsc does (replacement characters), on both sides of the short-string threshold", () => {
    const string = avsc.Type.forSchema("string");
    for (const bytes of [[0xff], [0x61, 0xc3], Array.from({ length: 20 }, (_, i) => (i === 19 ? 0xfe : 0x61))]) {
      const buf = Buffer.from([bytes.length << 1, ...bytes]);
      assert.equal(readAvro(string, buf), string.fromBuffer(buf));
    }
  });

  it("leaves room in front of the payload for the wire prefix", () => {
    const value = { s: "héllo", n: null, list: [], map: {} };
    const out = writeAvro(record, value, 5);
    assert.equal(out.length, 5 + record.toBuffer(value).length);
    assert.deepEqual(out.subarray(5), record.toBuffer(value));
    assert.ok(Buffer.isBuffer(out));
  });

  it("reads at an offset", () => {
    const payload = record.toBuffer({ s: "abc", n: "d", list: ["e"], map: {} });
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), payload]);
    assert.deepEqual({ ...(readAvro(record, framed, 5) as object) }, { s: "abc", n: "d", list: ["e"], map: {} });
  });

  it("grows its scratch buffer for values larger than it, and keeps encoding right afterwards", () => {
    const big = { s: "y".repeat(200_000), n: "é".repeat(70_000), list: ["z".repeat(10)], map: {} };
    assert.deepEqual(writeAvro(record, big), record.toBuffer(big));
    const small = { s: "a", n: null, list: [], map: { k: "v" } };
    assert.deepEqual(writeAvro(record, small), record.toBuffer(small));
  });

  it("writes messages in place in the message slabs: earlier outputs stay intact, also for messages crossing a slab's end", () => {
    const outs: { value: object; bytes: Buffer }[] = [];
    // ~3 slabs of messages of varying size, then ones larger than a slice, then small again.
    const strings = [...Array.from({ length: 400 }, (_, i) => "s".repeat((i * 7) % 600) + String(i)), "L".repeat(MAX_SLICE * 2), "tail", "é".repeat(3000)];
    strings.forEach((s, i) => {
      const value = { s, n: i % 2 ? null : s.slice(0, 5), list: [String(i)], map: {} };
      outs.push({ value, bytes: writeAvro(record, value, i % 3 === 0 ? 5 : 0) });
    });
    assert.ok(outs.reduce((n, o) => n + o.bytes.length, 0) > 3 * SLAB_BYTES);
    outs.forEach(({ value, bytes }, i) => {
      const payload = i % 3 === 0 ? bytes.subarray(5) : bytes;
      assert.equal(bytes.length, payload.length + (i % 3 === 0 ? 5 : 0));
      assert.deepEqual(payload, record.toBuffer(value), `message ${i}`);
    });
  });

  it("rejects truncated payloads, including a string cut short, and trailing bytes", () => {
    const payload = record.toBuffer({ s: "abcdef", n: null, list: [], map: {} });
    assert.throws(() => readAvro(record, payload.subarray(0, 4)), /truncated buffer/);
    assert.throws(() => readAvro(record, payload.subarray(0, payload.length - 1)), /truncated buffer/);
    assert.throws(() => readAvro(record, Buffer.concat([payload, Buffer.from([0])])), /trailing data/);
    // A negative string length.
    assert.throws(() => readAvro(avsc.Type.forSchema("string"), Buffer.from([0x01])), /truncated buffer/);
  });

  it("the Avro format decodes a truncated payload to a wire-format error", () => {
    const order = compileAvro(ORDER_SCHEMA);
    const bytes = order.encode(orderValue());
    assert.throws(
      () => order.decode(bytes.subarray(0, bytes.length - 3)),
      (e: unknown) => isErrorCode(e, "wire-format") && /does not decode/.test((e as Error).message),
    );
  });
});
