/**
 * The compiled JSON writer (fast-encode.ts) against the generic encode (Ajv,
 * JSON.stringify, the exactness walk) on generated values, valid and not,
 * with JavaScript's odd values mixed in: whatever the writer writes, the
 * generic encode accepts and writes byte for byte the same; what it gives up
 * on goes to the generic encode. Schemas with keywords it does not implement
 * get no writer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_BASE, createAjvLoader, type Dialect } from "../../../src/format/json-schema/ajv.js";
import { jsonEncode } from "../../../src/format/json-schema/codec.js";
import { FALLBACK, compileJsonWriter, type JsonWriter } from "../../../src/format/json-schema/fast-encode.js";
import { jsonSchemaFormat } from "../../../src/format/json-schema/index.js";
import { writeNumber, writeString } from "../../../src/util/json-bytes.js";
import type { SchemaNode } from "../../../src/format/json-schema/locate.js";
import { ORDER_JSON_SCHEMA, orderValue } from "../../../bench/order.js";
import { rng, type Rng } from "../../fuzz/property.js";
import { mulberry32 } from "../../helpers/random.js";

const RICH = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Rich",
  type: "object",
  javaType: "com.acme.Rich", // unknown to Ajv: ignored, as Ajv ignores it
  properties: {
    s: { type: "string", "confluent:tags": ["PII"] },
    e: { type: "string", enum: ["A", "B", "é"] },
    n: { type: "number" },
    i: { type: "integer" },
    b: { type: "boolean" },
    nil: { type: "null" },
    sn: { type: ["string", "null"] },
    ni: { type: ["integer", "boolean"], enum: [1, 2, true] },
    c: { const: "fixed" },
    any: {},
    yes: true,
    no: false,
    untyped: { properties: { a: { type: "integer" } }, required: ["a"] },
    strict: { type: "object", additionalProperties: false, properties: { x: { type: "string" } }, required: ["x"] },
    list: { type: "array", items: { type: ["object", "number"], properties: { k: { type: "string" } } } },
    free: { type: "array" },
    deep: { type: "object", properties: { deeper: { type: "object", properties: { v: { type: "number" } } } } },
  },
  required: ["s", "n", "extra"],
};

const UNSUPPORTED = [
  { type: "string", minLength: 1 },
  { type: "object", properties: { a: { type: "string", pattern: "^a" } } },
  { type: "string", format: "date" },
  { type: "object", properties: { a: { $ref: "#/definitions/x" } }, definitions: { x: { type: "string" } } },
  { type: "number", minimum: 0 },
  { anyOf: [{ type: "string" }, { type: "number" }] },
  { type: "array", items: [{ type: "string" }] },
  { type: "object", additionalProperties: { type: "string" } },
  { type: "string", enum: [{ a: 1 }] },
];

class Thing {
  a = 1;
}
class Things extends Array<number> {}

const LONG = "a long string, longer than what is written char by char from JS";
const STRINGS = ["", "a", "A", "B", "é", "fixed", "x y", 'quo"te', "back\\slash", "tab\there", "\u0000", "\ud800", "😀", "\u2028", "__proto__", "constructor", "\u007f", LONG, `${LONG} é`, `${LONG} "`, `${LONG} 😀`, `${LONG} \udc00`];
const NUMBERS = [0, -0, 1, 2, -7, 1.5, -0.25, 10.7, 1234567.891, 0.1 + 0.2, 1e-6, 2 ** 31, 1_760_000_000_123, 1e21, 1e-7, 2 ** 53, NaN, Infinity, -Infinity];

function oddValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 9 : 13)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick(NUMBERS);
    case 3:
      return r.pick(STRINGS);
    case 4:
      return undefined;
    case 5:
      return r.pick([() => 1, Symbol("s"), 10n, new Date(0), new Map(), Buffer.from("ab"), new Thing(), Object.create(null) as object, Object.assign(["a"], { toJSON: () => "y" }), Things.of(1)]);
    case 6:
      return { toJSON: () => "x" };
    case 7:
      return JSON.parse('{"__proto__": 1}') as unknown;
    case 8:
      return r.pick(STRINGS.slice(0, 6));
    case 9:
      // eslint-disable-next-line no-sparse-arrays
      return r.chance(0.3) ? [1, , 3] : Array.from({ length: r.int(3) }, () => oddValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let k = r.int(3); k > 0; k--) o[r.pick(["a", "k", "x", "v", "s"])] = oddValue(r, depth + 1);
      return o;
    }
  }
}

/** A value for `schema`, mostly fitting; `noise` is the chance of an odd value, a missing or an extra member. */
function valueFor(schema: SchemaNode, r: Rng, noise: number, depth = 0): unknown {
  if (r.chance(noise) || typeof schema === "boolean" || depth > 4) return oddValue(r, depth);
  if (Array.isArray(schema.enum)) return r.pick(schema.enum);
  if (schema.const !== undefined) return schema.const;
  const types = schema.type === undefined ? ["object", "string", "number"] : ([] as string[]).concat(schema.type as string | string[]);
  switch (r.pick(types)) {
    case "string":
      return r.pick(STRINGS);
    case "number":
      return r.pick(NUMBERS.slice(0, 13));
    case "integer":
      return r.pick([0, 1, -7, 2 ** 31, 1_760_000_000_123, 2 ** 53, 1e21]);
    case "boolean":
      return r.chance(0.5);
    case "null":
      return null;
    case "array":
      return Array.from({ length: r.int(4) }, () => valueFor((schema.items as SchemaNode | undefined) ?? true, r, noise, depth + 1));
    default: {
      const properties = (schema.properties ?? {}) as Record<string, SchemaNode>;
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const o: Record<string, unknown> = {};
      let keys = [...new Set([...Object.keys(properties), ...required])];
      if (r.chance(noise * 3)) keys = keys.reverse();
      for (const k of keys) {
        if (!required.has(k) && r.chance(0.3)) continue;
        if (r.chance(noise) || properties[k] === false) continue;
        o[k] = properties[k] === undefined ? r.pick(STRINGS) : valueFor(properties[k]!, r, noise, depth + 1);
      }
      if (r.chance(noise)) o[r.pick(["zz", "s", "1"])] = oddValue(r, depth + 1);
      return o;
    }
  }
}

/**
 * The writer's bytes for `value`, or undefined when it gives up. Written
 * first into a buffer too small by up to `short` bytes, where it must count
 * the size it needs (what it writes there does not matter: the caller writes
 * again), then into one of that size.
 */
function writeAll(writer: JsonWriter, value: unknown, short: number): Buffer | undefined {
  const at = 3;
  let probe: Buffer | undefined;
  let end: number;
  try {
    end = writer(Buffer.alloc(1 << 16), at, value);
    if (end === FALLBACK) return undefined;
    probe = Buffer.alloc(Math.max(at, end - short));
    assert.equal(writer(probe, at, value), end, "the size counted past the buffer's end");
  } catch (e) {
    if (probe !== undefined) throw e;
    return undefined;
  }
  const out = Buffer.alloc(end);
  assert.equal(writer(out, at, value), end);
  return out.subarray(at);
}

function compile(schema: object | boolean, dialect: Dialect = "draft-07") {
  const node = schema as SchemaNode;
  const ajv = createAjvLoader(dialect).load({ node, base: DEFAULT_BASE }, []);
  return { ajv, writer: compileJsonWriter(node, ajv.validates) };
}

for (const [name, schema] of [
  ["bench order", JSON.parse(ORDER_JSON_SCHEMA) as object],
  ["rich", RICH],
] as const) {
  test(`whatever the compiled writer writes for ${name} messages, the generic encode writes too, byte for byte (5,000 generated values)`, () => {
    const { ajv, writer } = compile(schema);
    assert.ok(writer, "the schema gets a compiled writer");
    const r = rng(name.length * 7919);
    let written = 0;
    for (let n = 0; n < 5000; n++) {
      const value = n === 0 && name === "bench order" ? orderValue(1) : valueFor(schema as SchemaNode, r, n % 4 === 0 ? 0 : 0.05);
      const text = writeAll(writer, value, r.int(64));
      if (text === undefined) continue;
      written++;
      let generic: Uint8Array;
      try {
        generic = jsonEncode(ajv.validateRoot, value, name);
      } catch (e) {
        assert.fail(`the writer wrote ${text.toString("utf8")} for a value the generic encode refuses: ${(e as Error).message}`);
      }
      assert.deepEqual(text, Buffer.from(generic), text.toString("utf8"));
    }
    // It is the common path, not an occasional one.
    assert.ok(written > 1000, `${written} of 5000 written`);
    // ...and so is the generic encode's refusal: the generator makes both kinds.
    assert.ok(written < 4900, `${written} of 5000 written`);
  });
}

const NAMES = ["a", "b", "k", "s", "é", "with space", 'q"uote'];
const KINDS = ["string", "number", "integer", "boolean", "null", "object", "array"];

/** A schema of the keywords the writer implements, nested up to 3 levels. */
function schemaFor(r: Rng, depth = 0): SchemaNode {
  if (r.chance(0.05)) return r.chance(0.8);
  const kinds = depth > 2 ? KINDS.slice(0, 5) : KINDS;
  const node: Record<string, unknown> = {};
  if (r.chance(0.85)) node.type = r.chance(0.7) ? r.pick(kinds) : [...new Set([r.pick(kinds), r.pick(kinds)])];
  if (r.chance(0.15)) node.enum = [...new Set([r.pick(STRINGS.slice(0, 8)), r.pick(NUMBERS.slice(0, 11)), r.chance(0.5), null].filter((_, i) => i === 0 || r.chance(0.5)))];
  if (r.chance(0.05)) node.const = r.pick(["a", "é", 1, 2.5, true, null]);
  if (r.chance(0.1)) node.title = "annotated";
  const types = node.type === undefined ? KINDS : ([] as string[]).concat(node.type as string | string[]);
  if (types.includes("object") && depth <= 2 && r.chance(0.8)) {
    const properties: Record<string, SchemaNode> = {};
    for (let k = r.int(5); k > 0; k--) properties[r.pick(NAMES)] = schemaFor(r, depth + 1);
    node.properties = properties;
    const required = Object.keys(properties).filter(() => r.chance(0.5));
    if (r.chance(0.1)) required.push("undeclared");
    if (required.length > 0) node.required = [...new Set(required)];
    if (r.chance(0.4)) node.additionalProperties = r.chance(0.5);
  }
  if (types.includes("array") && depth <= 2 && r.chance(0.8)) node.items = schemaFor(r, depth + 1);
  return node;
}

test("on generated schemas too, whatever the compiled writer writes the generic encode writes, byte for byte (400 schemas, 25 values each)", () => {
  const r = rng(20261205);
  let written = 0;
  for (let n = 0; n < 400; n++) {
    const schema = schemaFor(r);
    const { ajv, writer } = compile(schema);
    assert.ok(writer, `a writer for ${JSON.stringify(schema)}`);
    for (let k = 0; k < 25; k++) {
      const value = valueFor(schema, r, k % 3 === 0 ? 0 : 0.1);
      const bytes = writeAll(writer, value, r.int(64));
      if (bytes === undefined) continue;
      written++;
      let generic: Uint8Array;
      try {
        generic = jsonEncode(ajv.validateRoot, value, "generated");
      } catch (e) {
        assert.fail(`for ${JSON.stringify(schema)}, the writer wrote ${bytes.toString("utf8")} for a value the generic encode refuses: ${(e as Error).message}`);
      }
      assert.deepEqual(bytes, Buffer.from(generic), `for ${JSON.stringify(schema)}: ${bytes.toString("utf8")}`);
    }
  }
  assert.ok(written > 3000, `${written} of 10,000 written`);
});

test("schemas with keywords the writer does not implement get none; unknown keywords and annotations do not matter", () => {
  for (const schema of UNSUPPORTED) assert.equal(compile(schema).writer, undefined, JSON.stringify(schema));
  assert.ok(compile({ type: "string", title: "t", description: "d", default: "x", examples: ["y"], $comment: "c", javaType: "String" }).writer);
  assert.ok(compile({ type: "object", properties: { a: { type: "string" } } }, "2020-12").writer);
  assert.equal(compile({ type: "object", unevaluatedProperties: false }, "2020-12").writer, undefined);
});

test("the JSON Schema encode writes the compiled writer's text, and the generic encode's errors for what it gives up on", () => {
  const compiled = jsonSchemaFormat.compile({ schema: ORDER_JSON_SCHEMA, schemaType: "JSON" });
  const value = orderValue(7);
  assert.equal(Buffer.from(compiled.encode(value, 3)).subarray(3).toString("utf8"), JSON.stringify(value));
  assert.throws(() => compiled.encode({ ...value, amount: NaN }), /must be number/);
  assert.throws(() => compiled.encode({ ...value, items: [undefined] }), /does not match JSON Schema Order/);
  const { items, ...rest } = value;
  const reordered = { items, ...rest };
  assert.equal(Buffer.from(compiled.encode(reordered)).toString("utf8"), JSON.stringify(reordered));
});

test("a message written across the end of the message slab, or too big for it, is written whole, behind its headroom", () => {
  const compiled = jsonSchemaFormat.compile({ schema: ORDER_JSON_SCHEMA, schemaType: "JSON" });
  // About 330 bytes each: 300 of them cross the 32 KB slab's end at least twice; every 50th is bigger than a slice of it.
  for (let i = 0; i < 300; i++) {
    const value = { ...orderValue(i), note: i % 50 === 0 ? "x".repeat(5000 + i) : `note ${i}` };
    const bytes = Buffer.from(compiled.encode(value, 5));
    assert.equal(bytes.subarray(5).toString("utf8"), JSON.stringify(value), `message ${i}`);
  }
});

test("numbers are written as JSON.stringify writes them (20,000 generated numbers)", () => {
  const r = rng(4242);
  const view = new DataView(new ArrayBuffer(8));
  const b = Buffer.alloc(64);
  const special = [0, -0, 1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 999_999_999, 1e9, 1e9 + 1, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21 - 65536, 1e21, 5e-324, 1e-6, 9.999999999999999e-7, 1e-7, 0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3, 2 / 3, 123.456, 1.005, 0.000001234, 1e15 - 0.5, 1e15 + 0.5, 999999999999999.9, 1.7976931348623157e308];
  for (let n = 0; n < 20_000; n++) {
    let x: number;
    switch (n < special.length * 2 ? 0 : r.int(4)) {
      case 0:
        x = special[n % special.length]! * (n >= special.length ? -1 : 1);
        break;
      case 1: {
        // A decimal of few digits at some magnitude, as prices and amounts are.
        const digits = Math.floor(r() * 10 ** (1 + r.int(15)));
        x = digits / 10 ** r.int(12);
        break;
      }
      case 2:
        view.setUint32(0, Math.floor(r() * 2 ** 32));
        view.setUint32(4, Math.floor(r() * 2 ** 32));
        x = view.getFloat64(0);
        break;
      default:
        x = Math.floor(r() * 2 ** (1 + r.int(53)));
        break;
    }
    if (!Number.isFinite(x)) continue;
    if (r.chance(0.3)) x = -x;
    const end = writeNumber(b, 1, x);
    assert.equal(b.toString("latin1", 1, end), JSON.stringify(x), `${x}`);
  }
});

test("strings are written as JSON.stringify writes them, escapes and non-ASCII included", () => {
  const b = Buffer.alloc(512);
  const chars = ["a", "Z", " ", "~", "\u007f", '"', "\\", "\n", "\u0000", "\u001f", "é", "€", "😀", "\ud800", "\udfff", "\u2028"];
  const r = rng(77);
  for (let n = 0; n < 5000; n++) {
    let s = "";
    for (let k = r.int(r.chance(0.2) ? 120 : 20); k > 0; k--) s += r.chance(0.8) ? String.fromCharCode(32 + r.int(95)) : r.pick(chars);
    const end = writeString(b, 0, s);
    assert.deepEqual(b.subarray(0, end), Buffer.from(JSON.stringify(s)), JSON.stringify(s));
  }
});

/** Any UTF-16 code unit sequence: ASCII mostly, then escapes, controls, non-ASCII, surrogate pairs and lone surrogates. */
function anyString(next: () => number): string {
  const pieces = ["a", "Z", "0", " ", "~", "\u007f", '"', "\\", "/", "\n", "\r", "\t", "\b", "\f", "\u0000", "\u001f", "é", "ß", "€", "\u2028", "\u2029", "\ufeff", "\uffff", "😀", "\ud800", "\udbff", "\udc00", "\udfff"];
  const length = Math.floor(next() * (next() < 0.1 ? 80 : 16));
  let s = "";
  for (let k = 0; k < length; k++) s += next() < 0.75 ? String.fromCharCode(0x20 + Math.floor(next() * 95)) : pieces[Math.floor(next() * pieces.length)]!;
  return s;
}

/** Any finite number: small and large integers, -0, decimals, tiny and huge magnitudes, random doubles. */
function anyNumber(next: () => number, integer: boolean): number {
  const special = [0, -0, 1, -1, 9, 10, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e21, -1e21, 1.7976931348623157e308, 1_760_000_000_123];
  const pick = Math.floor(next() * 5);
  if (pick === 0) return special[Math.floor(next() * special.length)]!;
  if (integer) return Math.floor((next() - 0.5) * 2 ** (1 + Math.floor(next() * 60)));
  if (pick === 1) return (next() - 0.5) * 10 ** (Math.floor(next() * 40) - 20);
  if (pick === 2) return 5e-324 * Math.floor(next() * 1000);
  const view = new DataView(new ArrayBuffer(8));
  do {
    view.setUint32(0, Math.floor(next() * 2 ** 32));
    view.setUint32(4, Math.floor(next() * 2 ** 32));
  } while (!Number.isFinite(view.getFloat64(0)));
  return view.getFloat64(0);
}

test("for random valid orders, the compiled writer writes JSON.stringify's bytes and never gives up: non-ASCII, escapes, lone surrogates, -0, large numbers (3,000 orders, seed 12)", () => {
  const next = mulberry32(12);
  const { writer } = compile(JSON.parse(ORDER_JSON_SCHEMA) as object);
  assert.ok(writer);
  const compiled = jsonSchemaFormat.compile({ schema: ORDER_JSON_SCHEMA, schemaType: "JSON" });
  for (let n = 0; n < 3000; n++) {
    const item = () => ({ sku: anyString(next), qty: anyNumber(next, true), price: anyNumber(next, false) });
    const value = {
      orderId: anyString(next),
      customerId: anyString(next),
      email: anyString(next),
      amount: anyNumber(next, false),
      currency: ["EUR", "USD", "GBP"][Math.floor(next() * 3)],
      status: anyString(next),
      createdAt: anyNumber(next, true),
      note: next() < 0.3 ? null : anyString(next),
      address: { street: anyString(next), city: anyString(next), zip: anyString(next), country: anyString(next) },
      items: Array.from({ length: Math.floor(next() * 4) }, item),
    };
    const expected = Buffer.from(JSON.stringify(value), "utf8");
    // At a random offset of a buffer with room to spare, then in one that ends short by up to 40 bytes (only the size counts).
    const at = Math.floor(next() * 16);
    const roomy = Buffer.alloc(at + expected.length + 64);
    assert.equal(writer(roomy, at, value), at + expected.length, JSON.stringify(value));
    assert.deepEqual(roomy.subarray(at, at + expected.length), expected, JSON.stringify(value));
    const short = Buffer.alloc(Math.max(0, at + expected.length - 1 - Math.floor(next() * 40)));
    assert.equal(writer(short, at, value), at + expected.length, "the size counted past the end");
    // The format's encode (the compiled path, in the message slab behind the prefix) gives the same bytes.
    assert.deepEqual(Buffer.from(compiled.encode(value, 5)).subarray(5), expected);
  }
});

test("enum strings are written from their bytes whether the enum is compared in the code (up to 8) or looked up (more), escapes included", () => {
  for (const size of [1, 8, 9, 40]) {
    const symbols = Array.from({ length: size }, (_, i) => (i % 3 === 0 ? `s${i} é` : i % 3 === 1 ? `q"${i}\ud800` : `S${i}`));
    const { writer } = compile({ type: "object", properties: { e: { type: ["string", "null"], enum: [...symbols, null] } }, required: ["e"] });
    assert.ok(writer);
    for (const e of [...symbols, null]) {
      const out = Buffer.alloc(256);
      const end = writer(out, 0, { e });
      assert.equal(out.toString("utf8", 0, end), JSON.stringify({ e }), `${size}: ${JSON.stringify(e)}`);
    }
    for (const e of ["", "s0", `S${size}`, "constructor"]) assert.equal(writer(Buffer.alloc(256), 0, { e }), FALLBACK, `${size}: ${e}`);
  }
});
