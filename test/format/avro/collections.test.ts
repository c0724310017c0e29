/**
 * Arrays and maps in corrupt payloads: a few bytes claiming millions or
 * billions of items must give a wire-format error, not a heap exhausted (which
 * kills the process) or a loop of hours, as avsc alone gives. Valid payloads
 * decode exactly as avsc decodes them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import avsc from "avsc";
import { MAX_EMPTY_ITEMS } from "../../../src/format/avro/collections.js";
import { isErrorCode } from "../../../src/errors.js";
import type { CompiledSchema } from "../../../src/format/types.js";
import { compileAvro } from "./fixtures.js";

/** Avro's zigzag varint of a (possibly huge) non-negative or negative integer. */
function long(n: number): number[] {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (z >= 128) {
    out.push((z % 128) | 0x80);
    z = Math.floor(z / 128);
  }
  out.push(z);
  return out;
}

function wireError(schema: CompiledSchema, bytes: number[], why: RegExp): void {
  assert.throws(
    () => schema.decode(Uint8Array.from(bytes)),
    (e: unknown) => isErrorCode(e, "wire-format") && why.test((e as Error).message),
  );
}

const strings = compileAvro({ type: "record", name: "R", fields: [{ name: "items", type: { type: "array", items: "string" } }] });
const nulls = compileAvro({ type: "record", name: "N", fields: [{ name: "items", type: { type: "array", items: "null" } }] });
const maps = compileAvro({ type: "record", name: "M", fields: [{ name: "m", type: { type: "map", values: "long" } }] });

describe("avro arrays and maps from corrupt bytes", () => {
  it("an array claiming 10^8 items in a few bytes is a wire-format error, without allocating them", () => {
    // avsc alone preallocates 10^8 slots and fills them: with a 512 MB heap the process dies.
    wireError(strings, long(1e8), /truncated buffer/);
    wireError(strings, [...long(1e8), ...long(1), 0x61], /truncated buffer/);
    wireError(strings, long(2 ** 40), /truncated buffer/);
  });

  it("a map claiming 10^15 entries is a wire-format error, not a loop of hours", () => {
    wireError(maps, long(1e15), /truncated buffer/);
    wireError(maps, [...long(-1e15), ...long(3)], /truncated buffer/);
  });

  it("items of zero bytes are refused beyond MAX_EMPTY_ITEMS, and decode up to it", () => {
    wireError(nulls, [...long(MAX_EMPTY_ITEMS + 1), 0], /more than 1,000,000 items of zero bytes/);
    const ok = nulls.decode(Uint8Array.from([...long(1000), 0])) as { items: null[] };
    assert.equal(ok.items.length, 1000);
    assert.ok(ok.items.every((x) => x === null));
  });

  it("a skipped array (a field the reader dropped) claiming 10^15 items is an error too", () => {
    const writer = compileAvro({
      type: "record",
      name: "W",
      fields: [
        { name: "dropped", type: { type: "array", items: "string" } },
        { name: "kept", type: "string" },
      ],
    });
    const reader = compileAvro({ type: "record", name: "W", fields: [{ name: "kept", type: "string" }] });
    const valid = writer.encode({ dropped: ["a", "b"], kept: "k" });
    assert.deepEqual({ ...(reader.decodeFrom!(valid, writer) as object) }, { kept: "k" });
    assert.throws(
      () => reader.decodeFrom!(Uint8Array.from(long(1e15)), writer),
      (e: unknown) => isErrorCode(e, "wire-format") && /truncated buffer/.test((e as Error).message),
    );
  });

  it("a map key __proto__ is an own entry, not the map's prototype", () => {
    const bytes = Uint8Array.from([...long(1), ...long(9), ..."__proto__".split("").map((c) => c.charCodeAt(0)), ...long(7), 0]);
    const m = (maps.decode(bytes) as { m: Record<string, number> }).m;
    assert.equal(Object.getPrototypeOf(m), Object.prototype);
    assert.deepEqual(Object.keys(m), ["__proto__"]);
    assert.equal(Object.getOwnPropertyDescriptor(m, "__proto__")?.value, 7);
  });
});

describe("avro arrays and maps from valid bytes", () => {
  const schema = {
    type: "record",
    name: "Deep",
    fields: [
      { name: "tags", type: { type: "array", items: "string" } },
      { name: "scores", type: { type: "map", values: { type: "array", items: ["null", "double"] } } },
      { name: "rows", type: { type: "array", items: { type: "record", name: "Row", fields: [{ name: "k", type: "string" }, { name: "v", type: { type: "map", values: "int" } }] } } },
      { name: "empties", type: { type: "array", items: { type: "record", name: "Empty", fields: [] } } },
    ],
  };
  const ours = compileAvro(schema);
  const plain = avsc.Type.forSchema(schema as avsc.Schema, { wrapUnions: "auto" });

  it("decode exactly as avsc decodes them (random values)", () => {
    for (let i = 0; i < 300; i++) {
      const value = plain.random();
      const bytes = plain.toBuffer(value);
      assert.deepEqual(JSON.parse(JSON.stringify(ours.decode(bytes))), JSON.parse(JSON.stringify(plain.fromBuffer(bytes))));
    }
  });

  it("read blocks with negative counts (a byte size follows), as Avro allows", () => {
    // tags: one block of -2 items with its byte size, then a block of 1, then the end.
    const tagBytes = [...long(1), 0x61, ...long(1), 0x62];
    const bytes = [...long(-2), ...long(tagBytes.length), ...tagBytes, ...long(1), ...long(1), 0x63, 0, 0, 0, 0];
    const v = ours.decode(Uint8Array.from(bytes)) as { tags: string[] };
    assert.deepEqual(v.tags, ["a", "b", "c"]);
    assert.deepEqual(JSON.parse(JSON.stringify(v)), JSON.parse(JSON.stringify(plain.fromBuffer(Buffer.from(bytes)))));
  });
});
