/**
 * The compiled encoder (src/format/protobuf/encode.ts) writes protobuf-es's
 * toBinary bytes exactly, over generated messages of many shapes, and hands
 * anything it is not sure of to the generic path.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ScalarType, create, toBinary, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { SerializationError } from "../../../src/errors.js";
import { compileProtobuf, type ProtobufSchema } from "../../../src/format/protobuf/index.js";
import { fastEncoder } from "../../../src/format/protobuf/encode.js";
import { mulberry32 } from "../../helpers/random.js";

const PROTO3 = `syntax = "proto3";
package p3;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/any.proto";

message All {
  double d = 1; float f = 2; int32 i32 = 3; int64 i64 = 4; uint32 u32 = 5; uint64 u64 = 6;
  sint32 s32 = 7; sint64 s64 = 8; fixed32 fx32 = 9; fixed64 fx64 = 10; sfixed32 sf32 = 11; sfixed64 sf64 = 12;
  bool b = 13; string s = 14; bytes by = 15; Color color = 16;
  optional double od = 17; optional int64 oi64 = 18; optional string os = 19; optional bool ob = 20; optional Color ocolor = 21;
  repeated double rd = 22; repeated int64 ri64 = 23; repeated sint32 rs32 = 24; repeated string rs = 25; repeated bytes rby = 26;
  repeated Color rcolor = 27; repeated fixed32 rfx32 = 28; repeated int32 ri32_unpacked = 29 [packed = false];
  repeated uint64 ru64_unpacked = 30 [packed = false]; repeated float rf = 31; repeated bool rb = 32;
  Inner inner = 33; repeated Inner inners = 34;
  map<string, string> mss = 35; map<int32, int64> mi = 36; map<int64, Inner> mim = 37; map<bool, Color> mbe = 38;
  map<uint32, bytes> mub = 39; map<sint64, double> msd = 40; map<fixed32, float> mff = 41; map<string, Inner> msm = 42;
  oneof choice { string cs = 43; int64 ci = 44; Inner cm = 45; Color ce = 46; }
  oneof other { bytes ob2 = 47; double od2 = 48; }
  google.protobuf.Timestamp at = 49; google.protobuf.Duration took = 50; google.protobuf.Any any = 51;
  All child = 52; int32 big_number = 536870911;
}
message Inner { string name = 1; int32 n = 2; Inner next = 3; repeated sint64 xs = 4; }
enum Color { RED = 0; GREEN = 1; BLUE = 2; NEG = -3; }
`;

const PROTO2 = `syntax = "proto2";
package p2;
message Legacy {
  optional int32 a = 1 [default = 7]; required string name = 2; optional Shade shade = 3 [default = DARK];
  repeated int32 unpacked = 4; repeated int32 packed = 5 [packed = true]; optional bytes raw = 6;
  optional Legacy next = 7; repeated Shade shades = 8; map<string, Shade> byName = 9; optional int64 big = 10 [default = -5];
  optional float f = 11; optional string s = 12 [default = "x"]; required sint64 id = 13;
}
enum Shade { LIGHT = 1; DARK = 2; }
`;

const EDITIONS = `edition = "2023";
package ed;
message Ed {
  int32 explicit_default = 1;
  int32 implicit = 2 [features.field_presence = IMPLICIT];
  string name = 3 [features.field_presence = IMPLICIT];
  repeated int32 packed_default = 4;
  repeated int32 expanded = 5 [features.repeated_field_encoding = EXPANDED];
  Kind kind = 6;
  int64 legacy_required = 7 [features.field_presence = LEGACY_REQUIRED];
  Ed next = 8;
}
enum Kind { option features.enum_type = CLOSED; K1 = 1; K2 = 2; }
`;

const FALLBACK = `syntax = "proto3";
package fb;
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";
message Wrapped { google.protobuf.Int64Value count = 1; string name = 2; }
message Structured { google.protobuf.Struct extra = 1; string name = 2; }
message HoldsWrapped { Wrapped w = 1; }
`;

const schemaOf = (schema: string, messageName: string): ProtobufSchema => compileProtobuf({ schema, schemaType: "PROTOBUF" }, { messageName });

// ---- value generation from the descriptor ----

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const STRINGS = ["", "a", "Paris", "x".repeat(64), "y".repeat(65), "z".repeat(200), "é", "naïve café", "日本語テキスト", "emoji 🎉 ok", "\u0000nul", "\u007f\u0080"];
const DOUBLES = [0, -0, 1, -1, 0.5, 1e308, -1e-308, 5e-324, Number.NaN, Infinity, -Infinity, 123.456, 2 ** 53];
const FLOATS = [0, -0, 1, -2.5, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, Number.NaN, Infinity, -Infinity, Math.fround(0.1), 0.1];

function int64Value(r: Rand, unsigned: boolean): bigint | number {
  const lo = unsigned ? 0n : -(2n ** 63n);
  const hi = unsigned ? 2n ** 64n - 1n : 2n ** 63n - 1n;
  const edge = [lo, hi, 0n, 1n, unsigned ? 2n ** 32n : -1n, 2n ** 53n, unsigned ? 2n ** 63n : -(2n ** 53n), 127n, 128n, 16384n, 2n ** 35n - 1n];
  switch (int(r, 0, 3)) {
    case 0:
      return pick(r, edge);
    case 1: {
      // a random 64-bit pattern in range
      const v = (BigInt(int(r, 0, 0xffffffff)) << 32n) | BigInt(int(r, 0, 0xffffffff));
      return unsigned ? v : BigInt.asIntN(64, v);
    }
    case 2:
      // a safe integer as a number: protobuf-es accepts it for 64-bit fields
      return unsigned ? int(r, 0, 2 ** 40) : int(r, -(2 ** 40), 2 ** 40);
    default:
      return BigInt(int(r, unsigned ? 0 : -1000, 100000));
  }
}

function scalarValue(r: Rand, t: ScalarType): unknown {
  switch (t) {
    case ScalarType.DOUBLE:
      return r() < 0.5 ? pick(r, DOUBLES) : (r() - 0.5) * 10 ** int(r, -10, 10);
    case ScalarType.FLOAT:
      return r() < 0.5 ? pick(r, FLOATS) : Math.fround((r() - 0.5) * 10 ** int(r, -5, 5));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return pick(r, [0, 1, -1, 127, 128, -128, 2 ** 31 - 1, -(2 ** 31), int(r, -(2 ** 31), 2 ** 31 - 1), int(r, -300, 300)]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return pick(r, [0, 1, 127, 128, 16383, 16384, 2 ** 32 - 1, 2 ** 31, int(r, 0, 2 ** 32 - 1), int(r, 0, 300)]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64Value(r, false);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return int64Value(r, true);
    case ScalarType.BOOL:
      return r() < 0.5;
    case ScalarType.STRING:
      return r() < 0.7 ? pick(r, STRINGS) : `s-${int(r, 0, 1e6)}`;
    case ScalarType.BYTES:
      return Uint8Array.from({ length: pick(r, [0, 1, 5, 130]) }, () => int(r, 0, 255));
  }
}

function enumValue(r: Rand, field: DescField): number {
  const values = field.enum!.values.map((v) => v.number);
  return field.enum!.open && r() < 0.2 ? int(r, -5, 50) : pick(r, values);
}

function mapKey(r: Rand, t: ScalarType): string {
  const v = scalarValue(r, t);
  return String(v);
}

function elementOf(r: Rand, field: DescField, kind: string, depth: number): unknown {
  if (kind === "message") return initOf(r, field.message!, depth + 1);
  if (kind === "enum") return enumValue(r, field);
  return scalarValue(r, field.scalar!);
}

/** An init object for create(): some fields set, some left out; recursion bounded. */
function initOf(r: Rand, desc: DescMessage, depth: number): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const member of desc.members) {
    if (r() < 0.35) continue;
    if (member.kind === "oneof") {
      const field = pick(r, member.fields);
      if (field.fieldKind === "message" && depth > 2) continue;
      init[member.localName] = { case: field.localName, value: elementOf(r, field, field.fieldKind, depth) };
      continue;
    }
    const f = member;
    switch (f.fieldKind) {
      case "scalar":
        init[f.localName] = scalarValue(r, f.scalar);
        break;
      case "enum":
        init[f.localName] = enumValue(r, f);
        break;
      case "message":
        if (depth < 3) init[f.localName] = initOf(r, f.message, depth + 1);
        break;
      case "list":
        if (f.listKind === "message" && depth > 2) break;
        init[f.localName] = Array.from({ length: int(r, 0, 4) }, () => elementOf(r, f, f.listKind, depth));
        break;
      case "map": {
        if (f.mapKind === "message" && depth > 2) break;
        const m: Record<string, unknown> = {};
        for (let i = int(r, 0, 3); i > 0; i--) m[mapKey(r, f.mapKey)] = elementOf(r, f, f.mapKind, depth);
        init[f.localName] = m;
        break;
      }
    }
  }
  return init;
}

/** Required fields (proto2, editions' LEGACY_REQUIRED) set, so that toBinary accepts the message. */
function withRequired(desc: DescMessage, init: Record<string, unknown>, r: Rand): Record<string, unknown> {
  for (const f of desc.fields) {
    if (f.presence === 3 && init[f.localName] === undefined) init[f.localName] = f.fieldKind === "scalar" ? scalarValue(r, f.scalar) : undefined;
    if (f.fieldKind === "message" && isObject(init[f.localName])) withRequired(f.message, init[f.localName] as Record<string, unknown>, r);
  }
  return init;
}

const isObject = (v: unknown): v is object => typeof v === "object" && v !== null;

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

    it("a getter that reads differently the second time: the string measured is the one written, or nothing", () => {
      const withGetter = (first: string, second: string) => {
        const m = base();
        let reads = 0;
        Object.defineProperty(m, "s", { enumerable: true, get: () => (reads++ === 0 ? first : second) });
        return m;
      };
      for (const [first, second] of [["a longer string", "short"], ["short", "longer"], ["abc", "\u00e9bc"]]) {
        const expected = base();
        expected.s = first;
        assert.equal(hex(fast(withGetter(first, second), 0)!), hex(toBinary(schema.desc, expected as never)), `${first} then ${second}`);
      }
      // Set when sized, at its zero when written: the lengths disagree.
      assert.equal(fast(withGetter("abc", ""), 0), undefined);
    });
  });
});
