/**
 * Values from producers: valid messages of every format with random edits,
 * both shaped (a leaf replaced by another value of its type) and mis-shaped
 * (wrong types, missing and extra fields, NaN and ±Infinity, huge strings,
 * bigints, deep nesting, `__proto__` and `constructor` keys), through the
 * serializer. A value either serializes and reads back equal, or gets a typed
 * error: never another exception, never a different value on the way back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isKontractError } from "../../src/errors.js";
import type { CompiledSchema } from "../../src/format/types.js";
import { createDeserializer, createSerializer } from "../../src/serde/index.js";
import { JSON_MESSAGES, loadCorpus } from "./corpus.js";
import { forAll, type Rng } from "./property.js";

const MAX_MESSAGE = 10_000;

const corpus = await loadCorpus();
// The same schemas without rules: what is written must be what is read.
for (const subject of corpus.subjects) {
  const { schema, schemaType, references } = (await corpus.store.latest(subject)).contract;
  await corpus.registry.register(`plain-${subject}`, { schema, ...(schemaType ? { schemaType } : {}), ...(references ? { references } : {}) });
}
const serializer = createSerializer({ store: corpus.store });
const deserializer = createDeserializer({ store: corpus.store });
const schemas = new Map<string, CompiledSchema>();
for (const subject of corpus.subjects) schemas.set(subject, (await corpus.store.latest(subject)).plan.schema);

// ---- random values ----

const STRINGS = ["", "a", "abc", "ü€😀", "\u0000", "\ud800", "\udc00x", "__proto__", "constructor", "x".repeat(70_000), "GREEN", "PAID", "EUR", "C-123456", "2024-02-30"];
const NUMBERS = [0, -0, 1, -1, 1.5, Math.fround(1.1), 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, 5e-324, NaN, Infinity, -Infinity];
const BIGINTS = [0n, 1n, -1n, 2n ** 31n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n, -(2n ** 100n)];

function deep(r: Rng): unknown {
  const depth = r.pick([10, 200, 5_000]);
  let v: unknown = r.pick<unknown>([1, "x", null]);
  for (let i = 0; i < depth; i++) v = r.chance(0.5) ? [v] : { a: v };
  return v;
}

/** An own `__proto__` key, as JSON.parse makes it (an object literal would set the prototype). */
const protoKey = (v: unknown): Record<string, unknown> => Object.assign(JSON.parse('{"__proto__": null}') as Record<string, unknown>, { ["__proto__"]: v });

function weird(r: Rng): unknown {
  switch (r.int(14)) {
    case 0:
      return r.pick(STRINGS);
    case 1:
      return r.pick(NUMBERS);
    case 2:
      return r.pick(BIGINTS);
    case 3:
      return r.pick<unknown>([true, false, null, undefined]);
    case 4:
      return r.chance(0.5) ? Buffer.from(r.pick(STRINGS)) : new Uint8Array(r.int(6));
    case 5:
      return r.pick<unknown>([[], [1, "a"], [null], [r.pick(NUMBERS)]]);
    case 6:
      return r.pick<unknown>([{}, { a: 1 }, { string: "x" }, { int: 1 }, { "fuzz.Node": { v: 1, next: null } }]);
    case 7:
      return deep(r);
    case 8:
      return protoKey(r.chance(0.5) ? { polluted: true } : "x");
    case 9:
      return r.pick<unknown>([{ constructor: "x" }, { constructor: { prototype: { polluted: true } } }, { toString: 1, valueOf: "x" }]);
    case 10:
      return Object.assign(Object.create(null) as object, { a: 1 });
    case 11:
      return r.pick<unknown>([new Date(0), new Map([["a", 1]]), new Set([1]), /x/]);
    case 12:
      return r.pick<unknown>([Symbol("s"), () => 1]);
    default:
      return r.pick<unknown>(["", 0, []]);
  }
}

/** Another value of the same JS type: shaped edits that usually still fit. */
function sameType(r: Rng, v: unknown): unknown {
  switch (typeof v) {
    case "string":
      return r.pick(STRINGS.filter((s) => s.length < 100)) + (r.chance(0.3) ? String(r.int(1000)) : "");
    case "number":
      return Number.isInteger(v) ? r.pick([0, 1, -1, 7, 2 ** 31 - 1, -(2 ** 31), 123456]) : Math.fround(r.pick([0, 0.5, -2.25, 1e10]));
    case "bigint":
      return r.pick(BIGINTS);
    case "boolean":
      return r.chance(0.5);
    default:
      return v instanceof Uint8Array ? Buffer.from(r.pick(STRINGS.slice(0, 5))) : v;
  }
}

/** Recursive fields of the fuzz schemas (corpus.ts), and how to nest them. */
const RECURSIVE: Record<string, { field: string; end: unknown; link: (next: unknown) => unknown }> = {
  "all-avro-value": { field: "list", end: null, link: (next) => ({ v: 1, next }) },
  "all-proto-value": { field: "inner", end: { name: "end" }, link: (child) => ({ name: "n", child }) },
  "all-json-value": { field: "obj", end: {}, link: (deep) => ({ x: "x", deep }) },
};

interface Slot {
  holder: Record<string | number, unknown>;
  key: string | number;
}

/** Every place in a value that holds something: object keys and array elements. */
function slots(v: unknown, out: Slot[] = [], depth = 0): Slot[] {
  if (depth > 20 || typeof v !== "object" || v === null || v instanceof Uint8Array) return out;
  const holder = v as Record<string | number, unknown>;
  for (const key of Array.isArray(v) ? v.keys() : Object.keys(v)) {
    out.push({ holder, key });
    slots(holder[key], out, depth + 1);
  }
  return out;
}

/** A deep copy that keeps prototypes (avsc records, protobuf-es messages, null-prototype objects); Maps, Sets, Dates and RegExps are kept. */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy);
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? Buffer.from(v) : Uint8Array.from(v);
  if (typeof v === "object" && v !== null && !(v instanceof Map || v instanceof Set || v instanceof Date || v instanceof RegExp)) {
    const out = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
    // defineProperty: an own "__proto__" key stays a key.
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: copy((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** Smaller values: one member or list element left out, each in turn (a deep copy per candidate). */
function* shrinkValue(value: unknown): Iterable<unknown> {
  const count = slots(value).length;
  for (let i = 0; i < count && i < 200; i++) {
    const v = copy(value);
    const slot = slots(v)[i];
    if (!slot) return;
    const { holder, key } = slot;
    if (Array.isArray(holder)) holder.splice(Number(key), 1);
    else delete holder[key];
    yield v;
  }
}

interface Input {
  subject: string;
  value: unknown;
  /** What was done to the valid message, for the report. */
  edits: string[];
}

function generate(r: Rng): Input {
  const subject = r.pick(corpus.subjects);
  const schema = schemas.get(subject)!;
  const json = r.pick(JSON_MESSAGES[subject]!);
  let value: unknown;
  try {
    value = copy(schema.fromJson(json));
  } catch {
    value = copy(json);
  }
  const edits: string[] = [];
  if (r.chance(0.02)) return { subject, value: weird(r), edits: ["whole value replaced"] };
  // The recursive fields, nested shallow or deeper than the stack.
  const chain = RECURSIVE[subject];
  if (chain && r.chance(0.05)) {
    const depth = r.pick([3, 100, 50_000]);
    let link: unknown = chain.end;
    for (let i = 0; i < depth; i++) link = chain.link(link);
    (value as Record<string, unknown>)[chain.field] = link;
    return { subject, value, edits: [`${chain.field} nested ${depth} deep`] };
  }
  for (let k = 1 + (r.chance(0.3) ? r.int(3) : 0); k > 0; k--) {
    const all = slots(value);
    if (all.length === 0) break;
    const { holder, key } = r.pick(all);
    const roll = r.int(10);
    if (roll < 4) {
      holder[key] = sameType(r, holder[key]);
      edits.push(`${String(key)} = same type`);
    } else if (roll < 8) {
      holder[key] = weird(r);
      edits.push(`${String(key)} = weird`);
    } else if (roll === 8) {
      delete holder[key];
      edits.push(`${String(key)} deleted`);
    } else if (!Array.isArray(holder)) {
      const extra = r.pick(["extra", "__proto__", "constructor", "prototype", "toString", "$typeName", "hasOwnProperty"]);
      Object.defineProperty(holder, extra, { value: weird(r), enumerable: true, writable: true, configurable: true });
      edits.push(`extra key ${extra}`);
    }
  }
  return { subject, value, edits };
}

// ---- the check ----

/**
 * Differences between two JSON forms. 32-bit floats read back rounded, as the
 * formats define, and -0 may read back as 0 (JSON text has one zero).
 */
function differences(want: unknown, got: unknown, path = "$", out: string[] = []): string[] {
  if (out.length > 5) return out;
  // What a toJSON method returns is what JSON text holds (a Date's ISO text).
  if (typeof (want as { toJSON?: unknown } | null)?.toJSON === "function" && !(want instanceof Uint8Array)) want = (want as { toJSON(): unknown }).toJSON();
  if (typeof want === "number" && typeof got === "number") {
    if (!Object.is(want, got) && want !== got && !Object.is(Math.fround(want), got)) out.push(`${path}: wrote ${show(want)}, read ${show(got)}`);
    return out;
  }
  if (typeof want !== "object" || want === null || typeof got !== "object" || got === null) {
    if (!Object.is(want, got)) out.push(`${path}: wrote ${show(want)}, read ${show(got)}`);
    return out;
  }
  if (Array.isArray(want) !== Array.isArray(got) || want instanceof Uint8Array !== got instanceof Uint8Array) {
    out.push(`${path}: wrote ${show(want)}, read ${show(got)}`);
    return out;
  }
  // Own keys only, and a member holding undefined, a function or a symbol is no member, as in JSON.stringify.
  const own = (o: object, k: string): unknown => (Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined);
  const defined = (o: object): string[] => Object.keys(o).filter((k) => !["undefined", "function", "symbol"].includes(typeof own(o, k)));
  for (const k of new Set([...defined(want), ...defined(got)])) differences(own(want, k), own(got, k), `${path}.${k}`, out);
  return out;
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...(${v.length})` : v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x))?.slice(0, 200) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const outcomes = new Map<string, number>();
const count = (what: string): void => void outcomes.set(what, (outcomes.get(what) ?? 0) + 1);

async function check({ subject, value }: Input): Promise<void> {
  for (const s of [subject, `plain-${subject}`]) {
    const topic = s.replace(/-value$/, "");
    let written;
    try {
      written = await serializer.serialize(topic, value);
    } catch (e) {
      if (!isKontractError(e)) throw e; // as is: the report shows where it came from
      assert.ok(e.message.length <= MAX_MESSAGE, `${s}: message of ${e.message.length} chars`);
      count(e.code);
      continue;
    }
    count(written.kind);
    if (written.kind !== "serialized") continue;
    const read = await deserializer.deserialize(topic, written.bytes);
    if (s === subject) continue; // rules transform on the way, and READ rules may fail
    assert.equal(read.kind, "deserialized", `${s}: what was written does not read back`);
    const schema = schemas.get(subject)!;
    let want: unknown;
    try {
      want = schema.toJson(schema.coerce(value));
    } catch {
      // A field left out that the format fills in on write (an Avro field with a default, any Protobuf
      // field): the JSON form needs every field, so there is nothing to compare with but the read itself.
      assert.notEqual(schema.type, "JSON", `${s}: written, but has no JSON form`);
      continue;
    }
    const diff = differences(want, schema.toJson(read.kind === "deserialized" ? read.value : undefined));
    assert.deepEqual(diff, [], `${s}: the value read back differs`);
    count("compared");
  }
}

test("random and mis-shaped values serialize and read back equal, or get a typed error", { timeout: 120_000 }, async () => {
  await forAll({
    seed: 0x5eed_0002,
    count: 3000,
    generate,
    check,
    shrink: function* (i) {
      for (const value of shrinkValue(i.value)) yield { ...i, value };
    },
    show: (i) => `${i.subject} after ${i.edits.join("; ")}: ${show(i.value)}`,
  });
  for (const outcome of ["serialized", "compared", "failed", "message-invalid"]) assert.ok((outcomes.get(outcome) ?? 0) > 0, `no call ended ${outcome}: ${JSON.stringify([...outcomes])}`);
});
