/**
 * The native fast path over protobuf-es messages (the `message` shape from
 * src/format/protobuf/cel-shape.ts) against the interpreter, which reads the
 * same messages by reflection: random expressions over every field kind
 * (32/64-bit, unsigned, enums, optional, oneofs, nested and recursive messages,
 * lists, string-keyed maps, proto2 defaults) on generated messages. Every
 * result must be the same. Deterministic seeds, fixed counts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { createCelRuntime } from "../../../src/cel/index.js";
import { compileProtobuf, type ProtobufSchema } from "../../../src/format/protobuf/index.js";
import { canon } from "./canon.js";
import { mulberry32 } from "../../helpers/random.js";
import { PROTO2, PROTO3, generation, initOf, withRequired } from "../../helpers/protobuf-values.js";

const schemaOf = (schema: string, messageName: string): ProtobufSchema => compileProtobuf({ schema, schemaType: "PROTOBUF" }, { messageName });

const P3 = {
  int: ["message.i32", "message.i64", "message.s32", "message.s64", "message.sf32", "message.sf64", "message.color", "message.oi64", "message.ocolor", "message.ci", "message.ce", "message.inner.n", "message.child.i64", "message.inner.next.n", "message.inners[0].n", "message.ri64[0]", "message.rs32[1]", "message.rcolor[0]", "message.big_number", "message.child.child.i32", "message.cm.n", "message.msm['a'].n"],
  uint: ["message.u32", "message.u64", "message.fx32", "message.fx64", "message.rfx32[0]", "message.ru64_unpacked[1]"],
  double: ["message.d", "message.f", "message.od", "message.od2", "message.rd[0]", "message.rf[0]", "message.child.d"],
  string: ["message.s", "message.os", "message.cs", "message.inner.name", "message.mss['a']", "message.mss.a", "message.rs[0]", "message.child.s", "message.cm.name", "message.inners[1].name"],
  bool: ["message.b", "message.ob", "message.rb[0]", "message.child.b"],
  bytes: ["message.by", "message.ob2", "message.rby[0]"],
  has: ["s", "i64", "d", "b", "by", "color", "od", "oi64", "os", "ob", "ocolor", "rd", "rs", "mss", "msm", "inner", "child", "cs", "ci", "cm", "ce", "ob2", "inner.next", "child.inner", "inner.name", "cm.name", "child.oi64"],
  lists: ["message.rs", "message.ri64", "message.rd", "message.rcolor", "message.ru64_unpacked"],
};

const P2 = {
  int: ["message.a", "message.shade", "message.big", "message.id", "message.next.a", "message.next.big", "message.unpacked[0]", "message.shades[0]", "message.byName['a']"],
  uint: [] as string[],
  double: ["message.f", "message.next.f"],
  string: ["message.name", "message.s", "message.next.s", "message.next.name"],
  bool: [] as string[],
  bytes: ["message.raw"],
  has: ["a", "name", "shade", "unpacked", "raw", "next", "shades", "byName", "big", "f", "s", "next.a", "next.s"],
  lists: ["message.unpacked", "message.packed", "message.shades"],
};

type Fields = typeof P3;

function generator(fields: Fields, r: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const num = (): string => {
    const kind = pick(["int", "int", "uint", "double"] as const);
    const xs = fields[kind].length ? fields[kind] : fields.int;
    return pick(xs);
  };
  const bool = (depth: number): string => {
    const d = depth + 1;
    const options: (() => string)[] = [
      () => `has(message.${pick(fields.has)})`,
      () => `(${pick(fields.int)} ${pick(["<", "<=", ">", ">=", "==", "!="])} ${pick(["0", "1", "-1", "2", "9223372036854775807", "7", ...fields.int])})`,
      () => `(${num()} ${pick(["<", ">", "==", "!="])} ${num()})`,
      () => `(${pick(fields.double)} ${pick(["<", ">=", "=="])} ${pick(["0.0", "-0.0", "1.5", "1e308"])})`,
      () => `(${pick(fields.string)} ${pick(["==", "!=", "<"])} ${pick(["''", "'a'", "'x'", ...fields.string])})`,
      () => `${pick(fields.string)}.${pick(["startsWith", "contains", "endsWith"])}('a')`,
      () => `size(${pick([...fields.string, ...fields.bytes, ...fields.lists])}) ${pick([">", "=="])} ${pick(["0", "1", "3"])}`,
      () => `${pick(fields.lists)}.exists(x, x == ${pick(["0", "1", "''", "'a'", "2"])})`,
      () => `(${pick(["'a'", "'k'", "'toString'"])} in ${pick(["message.mss", "message.msm", "message.byName"])})`,
      () => `${pick(["message.inners", "message.child.inners"])}.all(i, i.n >= 0 || has(i.next))`,
      () => `(${pick(fields.bytes)} == b'')`,
      () => `(${bool(d)} ${pick(["&&", "||"])} ${bool(d)})`,
      () => `!${bool(d)}`,
    ];
    if (fields.uint.length) options.push(() => `(${pick(fields.uint)} ${pick(["<", ">", "=="])} ${pick(["0u", "1u", "18446744073709551615u", ...fields.uint])})`);
    if (fields.bool.length) options.push(() => pick(fields.bool));
    return depth > 2 ? `has(message.${pick(fields.has)})` : pick(options)();
  };
  return (): string =>
    pick<() => string>([
      () => bool(0),
      () => bool(0),
      () => num(),
      () => `${pick(fields.int)} + ${pick(["1", "9223372036854775807", pick(fields.int)])}`,
      () => (fields.uint.length ? `${pick(fields.uint)} * ${pick(["2u", "18446744073709551615u"])}` : num()),
      () => `double(${pick(fields.int)})`,
      () => `string(${num()})`,
      () => pick(fields.string),
      () => pick(fields.bytes),
      () => pick(fields.lists),
      () => `${pick(fields.lists)}.map(x, x)`,
    ])();
}

/**
 * `canonical`: 64-bit values as bigint only, as protobuf-es's own messages hold
 * them; the fast path then reads every value itself, and its test() shortcut
 * agrees with the interpreter exactly. Otherwise numbers in 64-bit fields are
 * deferred to the interpreter, and test() may answer "not sure" (false).
 */
function differential(source: string, name: string, fields: Fields, seed: number, canonical: boolean): void {
  generation.longsAsNumbers = !canonical;
  const schema = schemaOf(source, name);
  const fast = createCelRuntime({ native: true, registry: schema.registry as never });
  const interpreter = createCelRuntime({ native: false, registry: schema.registry as never });
  const shapes = { message: schema.celShape };
  const r = mulberry32(seed);
  const messages = Array.from({ length: 40 }, () => create(schema.desc, withRequired(schema.desc, initOf(r, schema.desc, 0), r) as never));
  messages.push(create(schema.desc, withRequired(schema.desc, {}, r) as never));
  const expr = generator(fields, r);
  let native = 0;
  let expressions = 0;
  let failures = 0;
  let evaluations = 0;
  const mismatches: string[] = [];
  for (let n = 0; n < 800; n++) {
    const e = expr();
    let a;
    let b;
    try {
      a = fast.compile(e, ["message"]).typed(shapes);
      b = interpreter.compile(e, ["message"]).typed(shapes);
    } catch {
      continue;
    }
    expressions++;
    if (!a.native) continue;
    native++;
    for (let m = 0; m < 6; m++) {
      const message = messages[Math.floor(r() * messages.length)]!;
      const reference = b.run({ message });
      const want = canon(reference);
      const got = canon(a.run({ message }));
      evaluations++;
      if (want === "error") failures++;
      if (got !== want && mismatches.length < 10) mismatches.push(`${e}\n  native ${got}\n  interpreter ${want}`);
      // The shortcut may say "not sure" (false) for a message it defers; run() then answers. It never passes wrongly.
      if (canonical && a.test!(message) !== (reference === true) && mismatches.length < 10) mismatches.push(`${e}\n  test() disagrees with the interpreter's ${want}`);
      if (a.test!(message) && reference !== true && mismatches.length < 10) mismatches.push(`${e}\n  test() passes where the interpreter gives ${want}`);
    }
  }
  generation.longsAsNumbers = true;
  console.log(`${name}${canonical ? " (canonical)" : ""}: ${expressions} expressions, ${native} native, ${evaluations} evaluations compared (${failures} failures)`);
  assert.deepEqual(mismatches, []);
  assert.ok(native >= expressions * 0.7, `only ${native} of ${expressions} expressions ran natively`);
}

test("native fast path and interpreter agree on proto3 messages (seed 31)", () => differential(PROTO3, "p3.All", P3, 31, true));

test("native fast path and interpreter agree on proto2 messages, defaults included (seed 32)", () => differential(PROTO2, "p2.Legacy", P2, 32, true));

test("numbers in 64-bit fields (read by reflection as doubles) are deferred to the interpreter (seeds 33, 34)", () => {
  differential(PROTO3, "p3.All", P3, 33, false);
  differential(PROTO2, "p2.Legacy", P2, 34, false);
});

test("what the fast path leaves to the interpreter", () => {
  const schema = schemaOf(PROTO3, "p3.All");
  const fast = createCelRuntime({ native: true, registry: schema.registry as never });
  const shapes = { message: schema.celShape };
  for (const e of [
    "message.inner", // a message result: the interpreter's own object
    "message.inners",
    "message.at", // well-known types
    "message.took",
    "message.mi[1]", // a map with int keys
    "message.inner == message.inner", // message equality
    "message",
  ]) {
    assert.equal(fast.compile(e, ["message"]).typed(shapes).native, false, e);
  }
  const nullable = schemaOf(`syntax = "proto3"; import "google/protobuf/struct.proto"; message N { google.protobuf.NullValue nothing = 1; repeated google.protobuf.NullValue nothings = 2; int32 n = 3; }`, "N");
  const runtime = createCelRuntime({ native: true, registry: nullable.registry as never });
  for (const e of ["message.nothing == null", "message.nothings"]) assert.equal(runtime.compile(e, ["message"]).typed({ message: nullable.celShape }).native, false, e);
  assert.equal(runtime.compile("message.n == 0", ["message"]).typed({ message: nullable.celShape }).native, true);
  for (const e of ["message.d > 0.0", "message.inner.next.n == 0", "has(message.cm)", "message.inners.exists(i, i.n > 3)", "message.i64 > 5"]) {
    assert.equal(fast.compile(e, ["message"]).typed(shapes).native, true, e);
  }
});

test("a runtime without a type registry leaves protobuf messages to the interpreter (which cannot read them either)", () => {
  const schema = schemaOf(PROTO3, "p3.All");
  const shapes = { message: schema.celShape };
  const bare = createCelRuntime({ native: true });
  const program = bare.compile("message.d > 0.0", ["message"]).typed(shapes);
  assert.equal(program.native, false);
  const interpreted = createCelRuntime({ native: false }).compile("message.d > 0.0", ["message"]).typed(shapes);
  const m = create(schema.desc, { d: 1 } as never);
  assert.equal(canon(program.run({ message: m })), canon(interpreted.run({ message: m })));
});
