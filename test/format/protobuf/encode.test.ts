/**
 * The compiled encoder (src/format/protobuf/encode.ts) writes protobuf-es's
 * toBinary bytes exactly, over generated messages of many shapes, and hands
 * anything it is not sure of to the generic path.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary, type Message } from "@bufbuild/protobuf";
import { SerializationError } from "../../../src/errors.js";
import { compileProtobuf, type ProtobufSchema } from "../../../src/format/protobuf/index.js";
import { fastEncoder } from "../../../src/format/protobuf/encode.js";
import { mulberry32 } from "../../helpers/random.js";
import { EDITIONS, PROTO2, PROTO3, initOf, isObject, pick, withRequired } from "../../helpers/protobuf-values.js";

const FALLBACK = `syntax = "proto3";
package fb;
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";
message Wrapped { google.protobuf.Int64Value count = 1; string name = 2; }
message Structured { google.protobuf.Struct extra = 1; string name = 2; }
message HoldsWrapped { Wrapped w = 1; }
`;

const schemaOf = (schema: string, messageName: string): ProtobufSchema => compileProtobuf({ schema, schemaType: "PROTOBUF" }, { messageName });

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function sameBytes(schema: ProtobufSchema, message: Message, what: string): void {
  assert.equal(schema.validate(message), undefined, `${what}: the generated message should be valid`);
  const expected = toBinary(schema.desc, message);
  const fast = fastEncoder(schema.desc)!;
  const got = fast(message, 0);
  assert.ok(got !== undefined, `${what}: the compiled encoder refused a valid message`);
  assert.equal(hex(got), hex(expected), what);
  // Behind headroom, through the schema, as the serializer calls it.
  const framed = schema.encode(message, 6);
  assert.equal(hex(framed.subarray(6)), hex(expected), `${what} (headroom)`);
}

describe("protobuf compiled encoder", () => {
  const cases: [string, string, string][] = [
    ["proto3", PROTO3, "p3.All"],
    ["proto2", PROTO2, "p2.Legacy"],
    ["editions", EDITIONS, "ed.Ed"],
  ];
  for (const [name, source, message] of cases) {
    it(`writes toBinary's bytes for generated ${name} messages (seed 12, 400 messages)`, () => {
      const schema = schemaOf(source, message);
      assert.ok(fastEncoder(schema.desc), `${name}: the type should compile`);
      const r = mulberry32(12);
      for (let i = 0; i < 400; i++) {
        const m = create(schema.desc, withRequired(schema.desc, initOf(r, schema.desc, 0), r) as never);
        sameBytes(schema, m, `${name} #${i}`);
      }
    });
  }

  it("accepts only what the generic check accepts, on spoiled messages (seed 7, 3000 messages)", () => {
    const WRONG: unknown[] = [null, undefined, "1", 1, 1.5, -1, 2 ** 32, 1n, -1n, 2n ** 64n, true, {}, [], [1], new Uint8Array(1), "a\ud800", { case: "cs", value: 1 }, Number.NaN];
    for (const [source, name] of [[PROTO3, "p3.All"], [PROTO2, "p2.Legacy"], [EDITIONS, "ed.Ed"]] as const) {
      const schema = schemaOf(source, name);
      const fast = fastEncoder(schema.desc)!;
      const r = mulberry32(7);
      let accepted = 0;
      for (let i = 0; i < 1000; i++) {
        const m = create(schema.desc, withRequired(schema.desc, initOf(r, schema.desc, 0), r) as never) as unknown as Record<string, unknown>;
        // Spoil one member, possibly one level down.
        const target = r() < 0.3 && isObject(m.inner ?? m.next) ? ((m.inner ?? m.next) as Record<string, unknown>) : m;
        const keys = Object.keys(target).filter((k) => k !== "$typeName");
        target[r() < 0.1 ? "stray" : pick(r, keys)] = pick(r, WRONG);
        const got = fast(m, 0);
        if (got === undefined) continue;
        accepted++;
        assert.equal(schema.validate(m), undefined, `${name} #${i}: accepted what the check refuses`);
        assert.equal(hex(got), hex(toBinary(schema.desc, m as never)), `${name} #${i}`);
      }
      // Some spoils are still valid values (a number in another number field): both paths take them.
      assert.ok(accepted > 0, `${name}: no spoiled message was valid`);
    }
  });

  it("writes messages across slab ends and larger than a slab's slice: the same bytes (seed 5)", () => {
    const schema = schemaOf(PROTO3, "p3.All");
    const r = mulberry32(5);
    // Long strings and nested messages over 127 bytes (their length takes two bytes or more).
    for (let i = 0; i < 300; i++) {
      const size = pick(r, [10, 200, 1000, 5000, 40000]);
      const m = create(schema.desc, { s: "x".repeat(size), inner: { name: "é".repeat(size / 2), next: { name: "y".repeat(size) } }, inners: [{ name: "z".repeat(size) }] } as never);
      sameBytes(schema, m, `${size} bytes #${i}`);
    }
  });

  it("writes unknown fields after the known ones, as toBinary does", () => {
    const schema = schemaOf(PROTO3, "p3.Inner");
    const m = create(schema.desc, { name: "n", n: 3 } as never);
    (m as { $unknown?: unknown }).$unknown = [
      { no: 99, wireType: 0, data: Uint8Array.of(5) },
      { no: 7, wireType: 2, data: Uint8Array.of(2, 0x61, 0x62) },
    ];
    sameBytes(schema, m, "unknown fields");
  });

  it("writes the bench's order", async () => {
    const { ORDER_PROTO, orderProtoInit } = await import("../../../bench/order.js");
    const schema = schemaOf(ORDER_PROTO, "com.acme.orders.Order");
    for (let i = 0; i < 50; i++) sameBytes(schema, create(schema.desc, orderProtoInit(i) as never), `order ${i}`);
  });

  it("leaves types it does not compile to toBinary, with the same bytes", () => {
    for (const name of ["fb.Wrapped", "fb.Structured", "fb.HoldsWrapped"]) {
      const schema = schemaOf(FALLBACK, name);
      assert.equal(fastEncoder(schema.desc), undefined, name);
    }
    const wrapped = schemaOf(FALLBACK, "fb.Wrapped");
    const m = create(wrapped.desc, { count: 5n, name: "x" } as never);
    assert.equal(hex(wrapped.encode(m)), hex(toBinary(wrapped.desc, m)));
  });

  describe("refuses what it is not sure of; the generic path decides", () => {
    const schema = schemaOf(PROTO3, "p3.All");
    const fast = fastEncoder(schema.desc)!;
    const base = () => create(schema.desc, { s: "ok", i64: 5n, inner: { name: "in" } } as never) as unknown as Record<string, unknown>;
    const refused = (what: string, m: unknown) => assert.equal(fast(m, 0), undefined, what);

    it("values the check rejects: encode throws message-invalid", () => {
      const bad: [string, (m: Record<string, unknown>) => void][] = [
        ["a number in a string field", (m) => (m.s = 5)],
        ["a lone surrogate", (m) => (m.s = "a\ud800b")],
        ["an int32 out of range", (m) => (m.i32 = 2 ** 31)],
        ["a fraction in an int32", (m) => (m.i32 = 1.5)],
        ["a float out of range", (m) => (m.f = 1e39)],
        ["an unknown key", (m) => (m.extra = 1)],
        ["an int64 out of range", (m) => (m.i64 = 2n ** 63n)],
        ["a negative uint64", (m) => (m.u64 = -1n)],
        ["a list that is not an array", (m) => (m.rs = "abc")],
        ["a bad list element", (m) => (m.rs = ["a", 1])],
        ["a nested message of another type", (m) => (m.inner = create(schema.desc, {} as never))],
        ["a oneof case that is no member", (m) => (m.choice = { case: "nope", value: 1 })],
        ["a bad map key", (m) => (m.mi = { x: 1n })],
      ];
      for (const [what, spoil] of bad) {
        const m = base();
        spoil(m);
        refused(what, m);
        assert.throws(() => schema.encode(m as never), (e) => e instanceof SerializationError && e.code === "message-invalid", what);
      }
    });

    it("values the generic path accepts in another form: the same bytes as toBinary", () => {
      const forms: [string, (m: Record<string, unknown>) => void][] = [
        ["an int64 as a decimal string", (m) => (m.i64 = "123")],
        ["a non-canonical int map key", (m) => (m.mi = { "007": 1n })],
      ];
      for (const [what, change] of forms) {
        const m = base();
        change(m);
        refused(what, m);
        assert.equal(hex(schema.encode(m as never)), hex(toBinary(schema.desc, m as never)), what);
      }
    });

    it("a plain init object for a nested message: toBinary's error, as before", () => {
      const m = base();
      m.inner = { name: "plain" };
      refused("nested init object", m);
      assert.throws(() => schema.encode(m as never), (e) => e instanceof SerializationError && e.code === "message-invalid");
    });

    it("a plain init object at the top is created first, as before", () => {
      refused("init object", { s: "ok" });
      const bytes = schema.encode({ s: "ok" } as never);
      assert.equal(hex(bytes), hex(toBinary(schema.desc, create(schema.desc, { s: "ok" } as never))));
    });

    it("a proto2 required field not set: toBinary's error", () => {
      const legacy = schemaOf(PROTO2, "p2.Legacy");
      const m = create(legacy.desc, { name: "n" } as never);
      assert.equal(fastEncoder(legacy.desc)!(m, 0), undefined);
      assert.throws(() => legacy.encode(m), (e) => e instanceof SerializationError && /required field not set/.test(e.message));
    });

    it("a key added to Object.prototype: not trusted to count keys, the generic path encodes", () => {
      const m = base();
      const proto = Object.prototype as Record<string, unknown>;
      proto.polluted = 1;
      try {
        refused("polluted prototype", m);
        assert.equal(hex(schema.encode(m as never)), hex(toBinary(schema.desc, m as never)));
      } finally {
        delete proto.polluted;
      }
      assert.ok(fast(m, 0));
    });

    it("a getter is read once: the value it gave first is the one written", () => {
      for (const [first, second] of [["a longer string", "short"], ["short", "longer"], ["abc", "\u00e9bc"], ["abc", ""]]) {
        const m = base();
        let reads = 0;
        Object.defineProperty(m, "s", { enumerable: true, get: () => (reads++ === 0 ? first : second) });
        const expected = base();
        expected.s = first;
        assert.equal(hex(fast(m, 0)!), hex(toBinary(schema.desc, expected as never)), `${first} then ${second}`);
      }
    });
  });
});
