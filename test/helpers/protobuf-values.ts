/**
 * Random protobuf-es init objects generated from a message descriptor, for
 * property tests (the compiled encoder, the native CEL shape): every scalar
 * type with its edge values, enums (open ones with undeclared numbers too),
 * lists, maps with keys of every type, oneofs, nested and recursive messages.
 * Deterministic for a given PRNG.
 */
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";

/** Every field kind of proto3: scalars, optional, packed and unpacked lists, maps of every key type, oneofs, well-known types, recursion. */
export const PROTO3 = `syntax = "proto3";
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

/** proto2: defaults, required fields, closed enums, unpacked lists by default. */
export const PROTO2 = `syntax = "proto2";
package p2;
message Legacy {
  optional int32 a = 1 [default = 7]; required string name = 2; optional Shade shade = 3 [default = DARK];
  repeated int32 unpacked = 4; repeated int32 packed = 5 [packed = true]; optional bytes raw = 6;
  optional Legacy next = 7; repeated Shade shades = 8; map<string, Shade> byName = 9; optional int64 big = 10 [default = -5];
  optional float f = 11; optional string s = 12 [default = "x"]; required sint64 id = 13;
}
enum Shade { LIGHT = 1; DARK = 2; }
`;

/** Edition 2023 features: presence per field, expanded lists, closed enums, legacy required. */
export const EDITIONS = `edition = "2023";
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

type Rand = () => number;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
export const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const STRINGS = ["", "a", "Paris", "x".repeat(64), "y".repeat(65), "z".repeat(200), "é", "naïve café", "日本語テキスト", "emoji 🎉 ok", "\u0000nul", "\u007f\u0080"];
const DOUBLES = [0, -0, 1, -1, 0.5, 1e308, -1e-308, 5e-324, Number.NaN, Infinity, -Infinity, 123.456, 2 ** 53];
const FLOATS = [0, -0, 1, -2.5, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, Number.NaN, Infinity, -Infinity, Math.fround(0.1), 0.1];

/** Whether 64-bit values are sometimes safe integers as numbers (protobuf-es accepts them; its own messages hold bigint). */
export const generation = { longsAsNumbers: true };

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
    case 2: {
      // a safe integer as a number: protobuf-es accepts it for 64-bit fields
      const n = unsigned ? int(r, 0, 2 ** 40) : int(r, -(2 ** 40), 2 ** 40);
      return generation.longsAsNumbers ? n : BigInt(n);
    }
    default:
      return BigInt(int(r, unsigned ? 0 : -1000, 100000));
  }
}

export function scalarValue(r: Rand, t: ScalarType): unknown {
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
export function initOf(r: Rand, desc: DescMessage, depth: number): Record<string, unknown> {
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
export function withRequired(desc: DescMessage, init: Record<string, unknown>, r: Rand): Record<string, unknown> {
  for (const f of desc.fields) {
    if (f.presence === 3 && init[f.localName] === undefined) init[f.localName] = f.fieldKind === "scalar" ? scalarValue(r, f.scalar) : undefined;
    if (f.fieldKind === "message" && isObject(init[f.localName])) withRequired(f.message, init[f.localName] as Record<string, unknown>, r);
  }
  return init;
}

export const isObject = (v: unknown): v is object => typeof v === "object" && v !== null;
