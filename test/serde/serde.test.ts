/**
 * The serde pipeline on the embedded file registry: contract resolution,
 * rules, encoding, Confluent framing, and the errors bad bytes get.
 */
import { test } from "node:test";
import { inspect } from "node:util";
import assert from "node:assert/strict";
import type { Contract, Rule } from "../../src/contract/model.js";
import { createEngine } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import { createAvroFormat } from "../../src/format/avro/index.js";
import { createFileRegistry } from "../../src/registry/file-registry.js";
import { createContractStore, createDeserializer, createSerializer, type SerializeResult, type DeserializeResult } from "../../src/serde/index.js";
import { isKontractError } from "../../src/errors.js";

const AVRO = JSON.stringify({
  type: "record",
  name: "User",
  namespace: "acme",
  fields: [
    { name: "name", type: "string" },
    { name: "age", type: "int" },
    { name: "email", type: "string", "confluent:tags": ["PII"] },
  ],
});

async function setup(contracts: Record<string, Contract[]>, readerSchema?: Parameters<typeof createDeserializer>[0]["readerSchema"]) {
  const registry = createFileRegistry({ documents: [] });
  for (const [subject, versions] of Object.entries(contracts)) for (const c of versions) await registry.register(subject, c);
  const store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  return {
    registry,
    serializer: createSerializer({ store }),
    deserializer: createDeserializer({ store, ...(readerSchema ? { readerSchema } : {}) }),
  };
}

/** avsc decodes records as instances of generated classes; compare their fields. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

const rule = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "CONDITION", mode: "WRITEREAD", type: "CEL", expr, ...extra });

function serialized(r: SerializeResult): Extract<SerializeResult, { kind: "serialized" }> {
  assert.equal(r.kind, "serialized", r.kind === "failed" ? JSON.stringify(r.outcome.violations) : "");
  return r as Extract<SerializeResult, { kind: "serialized" }>;
}

test("Avro: serialize frames the payload with magic byte 0 and the schema id, and round-trips", async () => {
  const { serializer, deserializer } = await setup({ "users-value": [{ schema: AVRO, ruleSet: { domainRules: [rule("adult", "message.age >= 18")] } }] });
  const r = serialized(await serializer.serialize("users", { name: "Ada", age: 36, email: "ada@example.com" }));
  assert.equal(r.bytes[0], 0);
  assert.equal(Buffer.from(r.bytes).readInt32BE(1), r.contract.id);
  const d = (await deserializer.deserialize("users", r.bytes)) as Extract<DeserializeResult, { kind: "deserialized" }>;
  assert.equal(d.kind, "deserialized");
  assert.deepEqual(plain(d.value), { name: "Ada", age: 36, email: "ada@example.com" });
});

test("once the contract is cached, serialize and deserialize run synchronously", async () => {
  const { serializer, deserializer } = await setup({ "users-value": [{ schema: AVRO, ruleSet: { domainRules: [rule("adult", "message.age >= 18")] } }] });
  const first = serializer.serialize("users", { name: "Ada", age: 36, email: "a@b.c" });
  assert.ok(first instanceof Promise);
  const bytes = serialized(await first).bytes;
  const again = serializer.serialize("users", { name: "Bob", age: 40, email: "b@b.c" });
  assert.ok(!(again instanceof Promise), "no await on the hot path");
  await deserializer.deserialize("users", bytes);
  assert.ok(!(deserializer.deserialize("users", bytes) instanceof Promise));
});

test("records of one topic switching writers, between records of another topic, are each read with their own writer's contract", async () => {
  // The deserializer keeps the last writer per topic: a switch of schema id (or of topic) must not reuse it.
  const v2 = JSON.stringify({ ...JSON.parse(AVRO), fields: [...JSON.parse(AVRO).fields, { name: "vip", type: "boolean", default: false }] });
  const { registry, deserializer } = await setup({
    "users-value": [{ schema: AVRO }, { schema: v2, ruleSet: { domainRules: [rule("noVip", "!message.vip", { mode: "READ", onFailure: "DLQ" })] } }],
    "admins-value": [{ schema: AVRO }],
  });
  const store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const frame = async (subject: string, version: number, value: object) => {
    const r = serialized(await createSerializer({ store, writerSchema: { use: "version", version } }).serialize(subject.replace(/-value$/, ""), value));
    return { id: r.contract.id, bytes: r.bytes };
  };
  const ada = { name: "Ada", age: 36, email: "a@b.c" };
  const u1 = await frame("users-value", 1, ada);
  const u2 = await frame("users-value", 2, { ...ada, vip: true });
  const a1 = await frame("admins-value", 1, ada);
  assert.notEqual(u1.id, u2.id);
  const read = async (topic: string, bytes: Uint8Array) => {
    const r = await deserializer.deserialize(topic, bytes);
    return r.kind === "deserialized" ? { kind: r.kind, id: r.writer.id, vip: (r.value as { vip?: boolean }).vip, violations: r.violations.length, outcome: r.outcome.kind } : { kind: r.kind, id: r.writer.id, rule: r.outcome.rule.name };
  };
  const seen = [];
  for (const [topic, f] of [["users", u1], ["users", u1], ["users", u2], ["admins", a1], ["users", u2], ["users", u1]] as const) seen.push(await read(topic, f.bytes));
  const asIs = (id: number | undefined) => ({ kind: "deserialized", id, vip: undefined, violations: 0, outcome: "passed" });
  const dead = { kind: "failed", id: u2.id, rule: "noVip" };
  assert.deepEqual(seen, [asIs(u1.id), asIs(u1.id), dead, asIs(a1.id), dead, asIs(u1.id)]);
});

test("a failing WRITE rule returns the failed outcome and encodes nothing", async () => {
  const { serializer } = await setup({ "users-value": [{ schema: AVRO, ruleSet: { domainRules: [rule("adult", "message.age >= 18", { onFailure: "DLQ" })] } }] });
  const r = await serializer.serialize("users", { name: "Kid", age: 9, email: "k@b.c" });
  assert.equal(r.kind, "failed");
  assert.equal(r.kind === "failed" && r.outcome.action, "DLQ");
});

test("verdict gives serialize's outcome and refusals without encoding: passed, transformed, failed, not the schema's, a lone surrogate; JSON Schema and Protobuf too", async () => {
  const transform: Rule = { name: "mask", kind: "TRANSFORM", mode: "WRITE", type: "CEL_FIELD", tags: ["PII"], expr: "typeName == 'STRING' ; value + '!'" };
  const { serializer } = await setup({
    "users-value": [{ schema: AVRO, ruleSet: { domainRules: [rule("adult", "message.age >= 18", { onFailure: "DLQ" }), transform] } }],
    "j-value": [{ schema: JSON.stringify({ type: "object", properties: { n: { type: "integer" } } }), schemaType: "JSON", ruleSet: { domainRules: [rule("n", "message.n > 1")] } }],
    "p-value": [{ schema: 'syntax = "proto3";\npackage acme;\nmessage Ping { int64 n = 2; }\n', schemaType: "PROTOBUF", ruleSet: { domainRules: [rule("n", "message.n > 1")] } }],
  });
  const same = async (topic: string, value: unknown): Promise<void> => {
    const refusal = (e: unknown) => (isKontractError(e) ? `${e.code}: ${e.message}` : e);
    const expected = await Promise.resolve().then(() => serializer.serialize(topic, value)).then((r) => inspect(r.outcome, { depth: 10 }), refusal);
    const got = await Promise.resolve().then(() => serializer.verdict(topic, value)).then((o) => inspect(o, { depth: 10 }), refusal);
    assert.equal(got, expected, inspect(value));
  };
  await same("users", { name: "Ada", age: 36, email: "a@b.c" });
  await same("users", { name: "Kid", age: 9, email: "k@b.c" });
  await same("users", { name: "Ada", age: "old", email: "a@b.c" });
  await same("users", { name: "Ad\ud800", age: 36, email: "a@b.c" });
  await same("j", { n: 2 });
  await same("j", { n: 1 });
  await same("p", { n: 5n });
  await same("p", { n: 1n });
});

test("READ rules run on deserialize", async () => {
  const { serializer, deserializer } = await setup({
    "users-value": [{ schema: AVRO, ruleSet: { domainRules: [rule("readOnly", "message.age < 30", { mode: "READ" })] } }],
  });
  const bytes = serialized(await serializer.serialize("users", { name: "Ada", age: 36, email: "a@b.c" })).bytes;
  const d = await deserializer.deserialize("users", bytes);
  assert.equal(d.kind, "failed");
});

test("a value that does not match the schema is a SerializationError naming the field", async () => {
  const { serializer } = await setup({ "users-value": [{ schema: AVRO }] });
  await assert.rejects(async () => serializer.serialize("users", { name: "Ada", age: "old", email: "a@b.c" }), (e: unknown) => isKontractError(e) && e.code === "message-invalid" && /age/.test(e.message));
});

test("corrupt bytes get typed errors: wrong magic byte, truncated frame, unknown id, garbage payload", async () => {
  const { serializer, deserializer } = await setup({ "users-value": [{ schema: AVRO }] });
  const good = serialized(await serializer.serialize("users", { name: "Ada", age: 36, email: "a@b.c" })).bytes;
  const code = (e: unknown) => (isKontractError(e) ? e.code : String(e));
  await assert.rejects(async () => deserializer.deserialize("users", Uint8Array.from([7, 0, 0, 0, 1, 2])), (e) => code(e) === "wire-format" && /magic byte 0x07/.test((e as Error).message));
  await assert.rejects(async () => deserializer.deserialize("users", good.subarray(0, 3)), (e) => code(e) === "wire-format");
  const unknown = Buffer.from(good);
  unknown.writeInt32BE(4242, 1);
  await assert.rejects(async () => deserializer.deserialize("users", unknown), (e) => code(e) === "unknown-schema" && /4242/.test((e as Error).message));
  const garbage = Buffer.concat([good.subarray(0, 5), Buffer.from([0xff, 0xff, 0xff])]);
  await assert.rejects(async () => deserializer.deserialize("users", garbage), (e) => code(e) === "wire-format" || code(e) === "message-invalid");
});

test("an unknown subject is a typed registry error naming it", async () => {
  const { serializer } = await setup({});
  await assert.rejects(async () => serializer.serialize("nosuch", { a: 1 }), (e) => isKontractError(e) && e.code === "unknown-schema" && /nosuch-value/.test((e as Error).message));
});

test("a __rule.name header skips no rule: any producer can set one; the rule to skip is the caller's verified word", async () => {
  const { registry, deserializer } = await setup({
    "users-value": [{ schema: AVRO, ruleSet: { domainRules: [rule("young", "message.age < 30", { mode: "READ" })] } }],
  });
  const latest = await registry.getVersion("users-value", "latest");
  const avro = FORMATS.AVRO.compile(latest);
  const payload = avro.encode({ name: "Ada", age: 36, email: "a@b.c" });
  const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, latest.id]), payload]);
  assert.equal((await deserializer.deserialize("users", bytes)).kind, "failed");
  assert.equal((await deserializer.deserialize("users", bytes, { "__rule.name": ["other", "young"] })).kind, "failed");
  assert.equal((await deserializer.deserialize("users", bytes, { "__rule.name": "other" }, "young")).kind, "deserialized");
});

test("migration: a v1 message read as v2 (latest with metadata) is upgraded by v2's rules", async () => {
  const v1 = JSON.stringify({ type: "record", name: "Order", fields: [{ name: "id", type: "string" }, { name: "amount", type: "double" }] });
  const v2 = JSON.stringify({ type: "record", name: "Order", fields: [{ name: "id", type: "string" }, { name: "total", type: "double" }] });
  const { serializer, deserializer, registry } = await setup(
    {
      "orders-value": [
        { schema: v1, metadata: { properties: { "application.major.version": "1" } } },
        {
          schema: v2,
          metadata: { properties: { "application.major.version": "2" } },
          ruleSet: {
            migrationRules: [
              { name: "up", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': amount}])" },
              { name: "down", kind: "TRANSFORM", mode: "DOWNGRADE", type: "JSONATA", expr: "$merge([$sift($, function($v, $k) {$k != 'total'}), {'amount': total}])" },
            ],
          },
        },
      ],
    },
    { use: "latest-with-metadata", metadata: { "application.major.version": "2" } },
  );
  // a v1 producer
  const v1Store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const v1Producer = createSerializer({ store: v1Store, writerSchema: { use: "latest-with-metadata", metadata: { "application.major.version": "1" } } });
  const bytes = serialized(await v1Producer.serialize("orders", { id: "o1", amount: 9.5 })).bytes;
  const d = (await deserializer.deserialize("orders", bytes)) as Extract<DeserializeResult, { kind: "deserialized" }>;
  assert.equal(d.kind, "deserialized");
  assert.deepEqual(plain(d.value), { id: "o1", total: 9.5 });
  assert.equal(d.reader.version, 2);
  // and back: a v2 message read by a v1 consumer is downgraded
  const v1Consumer = createDeserializer({ store: v1Store, readerSchema: { use: "latest-with-metadata", metadata: { "application.major.version": "1" } } });
  const v2bytes = serialized(await serializer.serialize("orders", { id: "o2", total: 3 })).bytes;
  const back = (await v1Consumer.deserialize("orders", v2bytes)) as Extract<DeserializeResult, { kind: "deserialized" }>;
  assert.deepEqual(plain(back.value), { id: "o2", amount: 3 });
});

test("JSON Schema and Protobuf round-trip through the same pipeline", async () => {
  const json = JSON.stringify({ type: "object", properties: { id: { type: "string" }, n: { type: "integer" } }, required: ["id"] });
  const proto = 'syntax = "proto3";\npackage acme;\nmessage Ping { string id = 1; int64 n = 2; }\n';
  const { serializer, deserializer } = await setup({
    "j-value": [{ schema: json, schemaType: "JSON", ruleSet: { domainRules: [rule("n", "message.n > 1")] } }],
    "p-value": [{ schema: proto, schemaType: "PROTOBUF", ruleSet: { domainRules: [rule("n", "message.n > 1")] } }],
  });
  const j = serialized(await serializer.serialize("j", { id: "a", n: 2 }));
  assert.deepEqual(((await deserializer.deserialize("j", j.bytes)) as { value: unknown }).value, { id: "a", n: 2 });
  assert.equal((await serializer.serialize("j", { id: "a", n: 1 })).kind, "failed");
  const p = serialized(await serializer.serialize("p", { id: "a", n: 5n }));
  assert.equal(p.bytes[5], 0, "message index [0] is the single byte 0");
  const pv = ((await deserializer.deserialize("p", p.bytes)) as { value: { id: string; n: bigint } }).value;
  assert.equal(pv.id, "a");
  assert.equal(pv.n, 5n);
  assert.equal((await serializer.serialize("p", { id: "a", n: 1n })).kind, "failed");
});

test("Avro: without migration rules, a v2 reader resolves v1 bytes by Avro schema resolution (defaults fill new fields)", async () => {
  const v1 = JSON.stringify({ type: "record", name: "Ev", fields: [{ name: "id", type: "string" }] });
  const v2 = JSON.stringify({ type: "record", name: "Ev", fields: [{ name: "id", type: "string" }, { name: "source", type: "string", default: "web" }] });
  const { registry, deserializer } = await setup({ "ev-value": [{ schema: v1 }, { schema: v2 }] }, { use: "latest" });
  const store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const v1Producer = createSerializer({ store, writerSchema: { use: "version", version: 1 } });
  const bytes = serialized(await v1Producer.serialize("ev", { id: "e1" })).bytes;
  const d = (await deserializer.deserialize("ev", bytes)) as Extract<DeserializeResult, { kind: "deserialized" }>;
  assert.equal(d.kind, "deserialized");
  assert.deepEqual(plain(d.value), { id: "e1", source: "web" });
});

test("schema errors name the field and the type found, never the value (values may be personal data)", async () => {
  const { serializer } = await setup({ "users-value": [{ schema: AVRO }] });
  const secret = "4111-1111-1111-1111";
  await assert.rejects(
    async () => serializer.serialize("users", { name: "Ada", age: secret, email: "a@b.c" }),
    (e: unknown) => isKontractError(e) && /age/.test(e.message) && !e.message.includes(secret),
  );
});

test("versions with the same schema but other metadata tags tag other fields: each compiles its own", async () => {
  const mask: Rule = { name: "maskPii", kind: "TRANSFORM", mode: "WRITE", type: "CEL_FIELD", tags: ["PII"], expr: "typeName == 'STRING' ; 'xxx'" };
  const v1: Contract = { schema: AVRO, ruleSet: { domainRules: [mask] } };
  // v2: the same schema text, and metadata that also tags `name` as PII.
  const v2: Contract = { schema: AVRO, metadata: { tags: { "acme.User.name": ["PII"] } }, ruleSet: { domainRules: [mask] } };
  const registry = createFileRegistry({ documents: [] });
  await registry.register("users-value", v1);
  await registry.register("users-value", v2);
  const store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const user = { name: "Ada", age: 36, email: "ada@example.com" };
  const at = async (version: number) => {
    const r = serialized(await createSerializer({ store, writerSchema: { use: "version", version } }).serialize("users", user));
    return plain((await createDeserializer({ store }).deserialize("users", r.bytes)) as Extract<DeserializeResult, { kind: "deserialized" }>);
  };
  assert.deepEqual((await at(1) as { value: unknown }).value, { name: "Ada", age: 36, email: "xxx" });
  assert.deepEqual((await at(2) as { value: unknown }).value, { name: "xxx", age: 36, email: "xxx" });
});

test("stores in one process share a compiled schema (once compiled, already optimized code), per format adapter", async () => {
  const registry = createFileRegistry({ documents: [] });
  await registry.register("users-value", { schema: AVRO, ruleSet: { domainRules: [rule("adult", "message.age >= 18")] } });
  const storeA = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const storeB = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const a = await storeA.latest("users-value");
  const b = await storeB.latest("users-value");
  assert.notEqual(a.plan, b.plan, "each store compiles its own plan (rules, engine options)");
  assert.equal(a.plan.schema, b.plan.schema);
  const other = createContractStore({ registry, engine: createEngine(), formats: { ...FORMATS, AVRO: createAvroFormat({ json: "plain" }) } });
  assert.notEqual((await other.latest("users-value")).plan.schema, a.plan.schema, "another adapter compiles its own");
});

test("Avro: a whole-message CEL TRANSFORM that returns a map keeps bytes fields encodable", async () => {
  const schema = JSON.stringify({
    type: "record",
    name: "Blob",
    namespace: "acme",
    fields: [
      { name: "b", type: "bytes" },
      { name: "f", type: { type: "fixed", name: "F2", size: 2 } },
    ],
  });
  const t = rule("rebuild", "{'b': message.b, 'f': message.f}", { kind: "TRANSFORM", mode: "WRITE" });
  const { serializer, deserializer } = await setup({ "blobs-value": [{ schema, ruleSet: { domainRules: [t] } }] });
  const r = serialized(await serializer.serialize("blobs", { b: Buffer.from([1, 2, 3]), f: Buffer.from([4, 5]) }));
  const d = (await deserializer.deserialize("blobs", r.bytes)) as Extract<DeserializeResult, { kind: "deserialized" }>;
  assert.deepEqual([...(d.value as { b: Buffer }).b], [1, 2, 3]);
  assert.deepEqual([...(d.value as { f: Buffer }).f], [4, 5]);
});

test("a whole-message CEL TRANSFORM whose result does not fit the schema is a rule failure, through onFailure", async () => {
  const schema = JSON.stringify({
    type: "record",
    name: "Paid",
    namespace: "acme",
    fields: [{ name: "status", type: { type: "enum", name: "Status", symbols: ["PAID", "OPEN"] } }],
  });
  const t = rule("typo", "{'status': 'PAYED'}", { kind: "TRANSFORM", mode: "WRITE", onFailure: "DLQ" });
  const { serializer } = await setup({ "paid-value": [{ schema, ruleSet: { domainRules: [t] } }] });
  const r = await serializer.serialize("paid", { status: "PAID" });
  assert.equal(r.kind, "failed");
  if (r.kind !== "failed") return;
  assert.equal(r.outcome.action, "DLQ");
  assert.equal(r.outcome.violations[0]!.rule, "typo");
  assert.match(r.outcome.violations[0]!.message, /does not fit the schema/);
});
