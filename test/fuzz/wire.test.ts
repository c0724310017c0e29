/**
 * Wire bytes from an untrusted topic: valid framed messages of every format,
 * mutated (bit flips, truncation, extension, random magic bytes, schema ids,
 * GUIDs, message indexes and varints, huge lengths) and fully random, through
 * the deserializer, read as written and as the latest version. Every call
 * returns a result or throws a SerializationError with a documented code and a
 * bounded message; nothing else, and nothing hangs (the inputs are small, so a
 * hang shows as the test's timeout). A decoded Avro or Protobuf value fits its schema.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isKontractError } from "../../src/errors.js";
import { writeGuid } from "../../src/wire/guid.js";
import type { Headers } from "../../src/wire/index.js";
import type { DeserializeResult } from "../../src/serde/index.js";
import { JSON_MESSAGES, deserializers, loadCorpus } from "./corpus.js";
import { forAll, shrinkBytes, type Rng } from "./property.js";

/** What Deserializer.deserialize documents for bytes that cannot be read. */
const WIRE_CODES = new Set(["wire-format", "unknown-schema", "message-invalid"]);
const MAX_MESSAGE = 10_000;

const corpus = await loadCorpus();
const readers = deserializers(corpus.store);
const seeds = corpus.subjects.flatMap((s) => corpus.valid.get(s)!.map((bytes) => ({ subject: s, bytes })));

interface Input {
  topic: string;
  bytes: Uint8Array;
  headers?: Headers;
}

/** A varint (LEB128) of an unsigned value, up to 10 bytes: Avro lengths, Protobuf tags and lengths. */
function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return out;
}

const HUGE = [0x7fffffffn, 0xffffffffn, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n, 1000n, 1n << 35n];

function randomBytes(r: Rng, n: number): number[] {
  return Array.from({ length: n }, () => r.int(256));
}

function guidBytes(r: Rng): Uint8Array {
  const out = new Uint8Array(16);
  if (r.chance(0.5)) writeGuid(r.pick(corpus.guids), out, 0);
  else out.set(randomBytes(r, 16));
  return out;
}

/** One mutation of a framed message. */
function mutate(r: Rng, input: Uint8Array): Uint8Array {
  const b = [...input];
  const at = (): number => r.int(b.length + 1);
  switch (r.int(12)) {
    case 0: // bit flips
      for (let k = 1 + r.int(3); k > 0 && b.length > 0; k--) b[r.int(b.length)]! ^= 1 << r.int(8);
      break;
    case 1: // random bytes overwritten
      for (let k = 1 + r.int(4); k > 0 && b.length > 0; k--) b[r.int(b.length)] = r.int(256);
      break;
    case 2: // truncation
      b.length = r.int(b.length + 1);
      break;
    case 3: // extension
      b.push(...randomBytes(r, 1 + r.int(32)));
      break;
    case 4: // bytes inserted or removed in the middle
      if (r.chance(0.5)) b.splice(at(), 0, ...randomBytes(r, 1 + r.int(8)));
      else b.splice(at(), 1 + r.int(4));
      break;
    case 5: // magic byte
      b[0] = r.chance(0.5) ? r.int(4) : r.int(256);
      break;
    case 6: // schema id: another subject's (other format), unknown, negative
      b.splice(1, 4, ...int32(r.chance(0.6) ? r.pick(corpus.ids) : r.pick([0, -1, 0x7fffffff, -0x80000000, 99, r.int(2 ** 31)])));
      break;
    case 7: // a V1 frame: GUID instead of id
      b.splice(0, 5, 1, ...guidBytes(r));
      break;
    case 8: // message indexes (or, for Avro and JSON, junk right after the id)
      b.splice(5, r.int(3), ...indexBytes(r));
      break;
    case 9: // a huge length or varint at a random place in the payload
      b.splice(5 + r.int(Math.max(1, b.length - 4)), r.int(3), ...varint(r.pick(HUGE) * (r.chance(0.5) ? 2n : 1n)));
      break;
    case 10: // the payload repeated (long input, same shapes)
      b.push(...b.slice(5));
      break;
    case 11: // JSON payloads: a structural character changed
      b[5 + r.int(Math.max(1, b.length - 5))] = r.pick([0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x2c, 0x3a, 0x5c, 0x30, 0x2d, 0x65]);
      break;
  }
  return Uint8Array.from(b.map((x) => x & 0xff));
}

function int32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** Confluent message indexes: honest, out of range, negative, or with a lying count. */
function indexBytes(r: Rng): number[] {
  const zig = (n: number): bigint => (n >= 0 ? BigInt(n) * 2n : BigInt(-n) * 2n - 1n);
  switch (r.int(4)) {
    case 0:
      return [0];
    case 1: {
      const xs = Array.from({ length: 1 + r.int(3) }, () => r.pick([0, 1, 2, 5, 1000]));
      return [...varint(zig(xs.length)), ...xs.flatMap((x) => varint(zig(x)))];
    }
    case 2:
      return [...varint(zig(r.pick([-1, 1000, 2 ** 30, -(2 ** 31)]))), ...varint(zig(r.int(3)))];
    default:
      return varint(r.pick(HUGE));
  }
}

function generate(r: Rng): Input {
  const seed = r.pick(seeds);
  const topic = seed.subject.replace(/-value$/, "");
  const roll = r.int(20);
  if (roll === 0) return { topic, bytes: Uint8Array.from(randomBytes(r, r.int(64))) };
  if (roll === 1) {
    // Header mode: the schema reference in __value_schema_id, the payload without a prefix.
    const header = Uint8Array.from([r.chance(0.8) ? 1 : r.int(256), ...guidBytes(r), ...(r.chance(0.5) ? indexBytes(r) : [])]);
    return { topic, bytes: mutate(r, seed.bytes).subarray(5), headers: { __value_schema_id: r.chance(0.2) ? header.subarray(0, r.int(header.length)) : header } };
  }
  let bytes = seed.bytes;
  for (let k = 1 + (r.chance(0.3) ? r.int(4) : 0); k > 0; k--) bytes = mutate(r, bytes);
  return { topic, bytes };
}

function show(input: Input): string {
  return `topic ${input.topic}, bytes ${Buffer.from(input.bytes).toString("hex")}${input.headers ? `, headers ${JSON.stringify(input.headers, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v))}` : ""}`;
}

/** How the calls ended, to check that the mutations reach every outcome. */
const outcomes = new Map<string, number>();
const count = (what: string): void => void outcomes.set(what, (outcomes.get(what) ?? 0) + 1);

async function check(input: Input): Promise<void> {
  for (const reader of readers) {
    let result: DeserializeResult;
    try {
      result = await reader.deserialize(input.topic, input.bytes, input.headers);
    } catch (e) {
      if (!isKontractError(e)) throw e; // as is: the report shows where it came from
      assert.ok(WIRE_CODES.has(e.code), `code ${e.code}: ${e.message.slice(0, 300)}`);
      assert.ok(e.message.length <= MAX_MESSAGE, `message of ${e.message.length} chars`);
      count(e.code);
      continue;
    }
    assert.ok(result.kind === "deserialized" || result.kind === "failed", `unexpected result kind ${(result as { kind: unknown }).kind}`);
    count(result.kind);
    if (result.kind !== "deserialized") continue;
    // What a consumer gets is a value of the schema: bytes never decode into something else.
    // (Not JSON Schema: its payloads are not validated on read, as in Java. Protobuf: when the
    // message indexes name the reader's message type.)
    const schema = result.reader.plan.schema;
    const sameType = schema.type !== "PROTOBUF" || (result.value as { $typeName?: unknown }).$typeName === schema.name;
    if (schema.type !== "JSON" && sameType) {
      assert.deepEqual(schema.validate(result.value), undefined, "a decoded value fits its schema");
      count(`${schema.type} value checked`);
    }
  }
}

test("mutated and random wire payloads deserialize or throw a typed wire error", { timeout: 120_000 }, async () => {
  await forAll({ seed: 0x5eed_0001, count: 15_000, generate, check, shrink: (i) => [...shrinkBytes(i.bytes)].map((bytes) => ({ ...i, bytes })), show });
  for (const outcome of ["deserialized", "failed", "wire-format", "unknown-schema", "AVRO value checked", "PROTOBUF value checked"]) assert.ok((outcomes.get(outcome) ?? 0) > 0, `no call ended ${outcome}: ${JSON.stringify([...outcomes])}`);
});

test("the unmutated corpus deserializes, so the mutations start from real messages", async () => {
  for (const { subject, bytes } of seeds) {
    const r = await readers[0]!.deserialize(subject.replace(/-value$/, ""), bytes);
    assert.equal(r.kind, "deserialized", subject);
  }
});

/** Protobuf bytes of `All { inner: { child: { child: … } } }`, `depth` levels, written forward (no copy per level). */
function nestedProtobuf(depth: number): number[] {
  const lengths = [0];
  for (let k = 1; k <= depth; k++) lengths.push(1 + varint(BigInt(lengths[k - 1]!)).length + lengths[k - 1]!);
  const out = [0x72, ...varint(BigInt(lengths[depth]!))]; // All.inner (field 14)
  for (let k = depth; k >= 1; k--) out.push(0x12, ...varint(BigInt(lengths[k - 1]!))); // Inner.child (field 2)
  return out;
}

test("payloads nested deeper than the stack deserialize or get a typed error: Avro, Protobuf and JSON", { timeout: 120_000 }, async () => {
  const framed = async (subject: string, payload: number[]) => Uint8Array.from([0, ...int32((await corpus.store.latest(subject)).id!), ...payload]);
  // Avro: all-avro-value's `list` (a recursive Node) as a chain of `{v: 1, next: …}`; where it
  // starts is where an encoding with a one-link list first differs from one without.
  const avro = (await corpus.store.latest("all-avro-value")).plan.schema;
  const base = avro.fromJson(JSON_MESSAGES["all-avro-value"]![1]) as Record<string, unknown>;
  const without = Buffer.from(avro.encode({ ...base, list: null }));
  const one = Buffer.from(avro.encode({ ...base, list: { v: 1, next: null } }));
  let at = 0;
  while (without[at] === one[at]) at++;
  // Shallow (protobuf-es stops at 100 levels by itself), then far deeper than the stack.
  for (const [depth, protoDepth] of [[1_000, 50], [100_000, 100_000]] as const) {
    const inputs: Input[] = [
      { topic: "all-avro", bytes: await framed("all-avro-value", [...without.subarray(0, at), ...Array.from({ length: depth }, () => [2, 2]).flat(), 0, ...without.subarray(at + 1)]) },
      { topic: "all-proto", bytes: await framed("all-proto-value", [0, ...nestedProtobuf(protoDepth)]) },
      { topic: "all-json", bytes: await framed("all-json-value", [...Buffer.from(`{"s":"a","obj":{"deep":${"[".repeat(depth)}${"]".repeat(depth)}}}`)]) },
    ];
    for (const input of inputs) {
      await check(input);
      // Shallow enough: the bytes are right, and they read.
      if (depth === 1_000) assert.equal((await readers[0]!.deserialize(input.topic, input.bytes)).kind, "deserialized", input.topic);
    }
  }
});
