/**
 * The ENCRYPT and ENCRYPT_PAYLOAD executors on the engine and serde, with the in-memory DEK
 * registry and the local KMS: round trips, key creation and caching, rotation, missing keys,
 * passthrough, and what errors may say.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Contract, Rule } from "../../src/contract/model.js";
import type { DekRegistry } from "../../src/contract/keys.js";
import { createEngine, encryptionExecutors, localKms, type EncryptionOptions, type FailedOutcome, type Outcome, type PassedOutcome } from "../../src/engine/index.js";
import { avroFormat } from "../../src/format/avro/index.js";
import { jsonSchemaFormat } from "../../src/format/json-schema/index.js";
import { createMemoryDekRegistry } from "../../src/registry/memory-dek-registry.js";
import { createMemoryRegistry } from "../../src/registry/memory-registry.js";
import { createContractStore, createDeserializer, createSerializer } from "../../src/serde/index.js";
import { RegistryError, isErrorCode } from "../../src/errors.js";
import { MC, ORDER_SCHEMA, order } from "../helpers/contracts.js";

const SECRET = "mysecret-for-tests";
const PARAMS = { "encrypt.kek.name": "kek1", "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "mykey" };
const enc = (params: Record<string, string> = {}, extra: Partial<Rule> = {}): Rule => ({
  name: "encryptPII",
  kind: "TRANSFORM",
  mode: "WRITEREAD",
  type: "ENCRYPT",
  tags: ["PII"],
  params: { ...PARAMS, ...params },
  ...extra,
});

function plans(rules: Rule[], options: Partial<EncryptionOptions> & { dekRegistry: DekRegistry }) {
  const c: Contract = { schema: ORDER_SCHEMA, schemaType: "JSON", ruleSet: { domainRules: rules } };
  const engine = createEngine({ executors: encryptionExecutors({ config: { secret: SECRET }, ...options }) });
  return engine.compile("orders-value", c, jsonSchemaFormat.compile(c));
}

const passed = (o: Outcome): PassedOutcome => (assert.equal(o.kind, "passed", JSON.stringify(o.kind === "failed" ? o.violations : [])), o as PassedOutcome);
const failed = (o: Outcome): FailedOutcome => (assert.equal(o.kind, "failed"), o as FailedOutcome);
type Order = ReturnType<typeof order> & { email: string; address: { city: string; zip: string } };

/** Counts registry calls and KMS unwraps. */
function counting(inner: DekRegistry) {
  const calls = { getDek: 0, createDek: 0, getKek: 0, unwrap: 0 };
  const registry: DekRegistry = {
    getKek: (...a) => (calls.getKek++, inner.getKek(...a)),
    createKek: (...a) => inner.createKek(...a),
    getDek: (...a) => (calls.getDek++, inner.getDek(...a)),
    createDek: (...a) => (calls.createDek++, inner.createDek(...a)),
  };
  const base = localKms({});
  const kms = { type: "local-kms", key: (id: string, config: Record<string, string>) => {
    const k = base.key(id, config);
    return { wrap: k.wrap, unwrap: (w: Uint8Array) => (calls.unwrap++, k.unwrap(w)) };
  } };
  return { registry, kms, calls };
}

describe("ENCRYPT on fields", () => {
  test("WRITE encrypts every PII field as base64, leaves the rest, and READ restores the message", async () => {
    const p = plans([enc()], { dekRegistry: createMemoryDekRegistry() });
    const msg = order();
    const w = passed(await p.write.run(msg, MC));
    const v = w.value as Order;
    assert.notEqual(v.email, "ada@example.com");
    assert.equal(Buffer.from(v.email, "base64").length, "ada@example.com".length + 28, "IV + ciphertext + tag");
    assert.notEqual(v.address.zip, "75001");
    assert.equal(v.address.city, "Paris");
    assert.equal(v.id, "o-1");
    assert.deepEqual(msg, order(), "the input is not mutated");
    const r = passed(await p.read.run(v, MC));
    assert.deepEqual(r.value, order());
  });

  test("the DEK is created once, fetched and unwrapped once; after the first message every run is synchronous", async () => {
    const { registry, kms, calls } = counting(createMemoryDekRegistry());
    const p = plans([enc()], { dekRegistry: registry, kms: [kms] });
    const first = await p.write.run(order(), MC);
    passed(first);
    const written: unknown[] = [];
    for (let i = 0; i < 50; i++) {
      const o = p.write.run(order({ email: `u${i}@example.com` }), MC);
      assert.ok(!(o instanceof Promise), "cached key: no Promise");
      written.push(passed(o).value);
    }
    // A reader with its own engine: fetches the DEK and unwraps it once.
    const reader = counting(registry);
    const rp = plans([enc()], { dekRegistry: reader.registry, kms: [reader.kms] });
    passed(await rp.read.run(written[0], MC));
    for (const [i, w] of written.entries()) {
      const o = rp.read.run(w, MC);
      assert.ok(!(o instanceof Promise));
      assert.equal((passed(o).value as Order).email, `u${i}@example.com`);
    }
    assert.deepEqual({ createDek: calls.createDek, unwrap: calls.unwrap }, { createDek: 1, unwrap: 0 }, "the writer made the key: no unwrap");
    assert.deepEqual({ getDek: reader.calls.getDek, unwrap: reader.calls.unwrap }, { getDek: 1, unwrap: 1 });
  });

  test("cacheTtlMs bounds how long an unwrapped DEK is kept; context keeps keys of schema contexts apart", async () => {
    let now = 1_000_000;
    const { registry, kms, calls } = counting(createMemoryDekRegistry());
    const p = plans([enc()], { dekRegistry: registry, kms: [kms], cacheTtlMs: 60_000, now: () => now, context: ".team-a" });
    passed(await p.write.run(order(), MC));
    passed(await p.write.run(order(), MC));
    assert.equal(calls.getDek, 1);
    now += 60_001;
    passed(await p.write.run(order(), MC));
    assert.equal(calls.getDek, 2, "fetched again once the cache lifetime is over");
    assert.equal(calls.createDek, 1, "and found the same DEK");
    const v = passed(await p.write.run(order(), MC)).value;
    const other = plans([enc()], { dekRegistry: registry, kms: [kms], context: ".team-b" });
    assert.equal(failed(await other.read.run(v, MC)).violations[0]!.code, "key-unavailable", "another context has no such KEK");
  });

  test("AES256_SIV is deterministic: equal values give equal ciphertexts", async () => {
    const p = plans([enc({ "encrypt.dek.algorithm": "AES256_SIV" })], { dekRegistry: createMemoryDekRegistry() });
    const a = passed(await p.write.run(order(), MC)).value as Order;
    const b = passed(await p.write.run(order(), MC)).value as Order;
    assert.equal(a.email, b.email);
    assert.equal(Buffer.from(a.email, "base64").length, "ada@example.com".length + 16);
    assert.deepEqual(passed(await p.read.run(a, MC)).value, order());
  });

  test("rotation: a version prefix, a new DEK version once the old one expires, and old data still reads", async () => {
    let now = Date.UTC(2026, 0, 1);
    const deks = createMemoryDekRegistry({ now: () => now });
    const p = plans([enc({ "encrypt.dek.expiry.days": "1" })], { dekRegistry: deks, now: () => now });
    const v1 = passed(await p.write.run(order(), MC)).value as Order;
    assert.deepEqual([...Buffer.from(v1.email, "base64").subarray(0, 5)], [0, 0, 0, 0, 1]);
    now += 86_400_000 + 1;
    const v2 = passed(await p.write.run(order(), MC)).value as Order;
    assert.deepEqual([...Buffer.from(v2.email, "base64").subarray(0, 5)], [0, 0, 0, 0, 2]);
    assert.deepEqual(deks.deks().map((d) => d.version).sort(), [1, 2]);
    for (const v of [v1, v2]) assert.deepEqual(passed(await p.read.run(v, MC)).value, order());
  });

  test("a consumer without the KEK gets a typed error naming the KEK and subject, never the plaintext", async () => {
    const writer = plans([enc()], { dekRegistry: createMemoryDekRegistry() });
    const v = passed(await writer.write.run(order(), MC)).value;
    const reader = plans([enc()], { dekRegistry: createMemoryDekRegistry() });
    const f = failed(await reader.read.run(v, MC));
    assert.equal(f.violations[0]!.code, "key-unavailable");
    assert.match(f.violations[0]!.message, /KEK kek1, subject orders-value/);
    assert.equal(f.error.code, "rule-violation");
    assert.ok(!JSON.stringify({ v: f.violations, m: f.error.message }).includes("ada@example.com"));
  });

  test("a wrong KMS secret: the unwrap fails with key-unavailable; the secret is in no message", async () => {
    const deks = createMemoryDekRegistry();
    const v = passed(await plans([enc()], { dekRegistry: deks }).write.run(order(), MC)).value;
    const reader = plans([enc()], { dekRegistry: deks, config: { secret: "the-wrong-secret-xyz" } });
    const f = failed(await reader.read.run(v, MC));
    assert.equal(f.violations[0]!.code, "key-unavailable");
    const text = JSON.stringify(f.violations) + f.error.message + String((f.error.cause as Error | undefined)?.message);
    for (const s of ["the-wrong-secret-xyz", SECRET, "ada@example.com", "75001"]) assert.ok(!text.includes(s), s);
  });

  test("a KMS failure names the driver's reason when it is a KontractError, and only then", async () => {
    const deks = createMemoryDekRegistry();
    const v = passed(await plans([enc()], { dekRegistry: deks }).write.run(order(), MC)).value;
    const noSecret = plans([enc()], { dekRegistry: deks, kms: [localKms({})], config: {} });
    const f = failed(await noSecret.read.run(v, MC));
    assert.match(f.violations[0]!.message, /could not unwrap DEK version 1: local-kms needs a secret/);
    // A third-party driver's plain Error may say anything (a secret, a value): kept as the cause only.
    const leaky = { type: "local-kms", key: () => ({ wrap: () => Promise.reject(new Error("token=s3cr3t")), unwrap: () => Promise.reject(new Error("token=s3cr3t")) }) };
    const g = failed(await plans([enc()], { dekRegistry: deks, kms: [leaky] }).read.run(v, MC));
    assert.match(g.violations[0]!.message, /could not unwrap DEK version 1$/);
    assert.ok(!(JSON.stringify(g.violations) + g.error.message).includes("s3cr3t"));
  });

  test("a registry outage rejects the run with the retriable error (retry, not dead-letter), and is not remembered", async () => {
    const deks = createMemoryDekRegistry();
    let down = true;
    const flaky: DekRegistry = {
      ...deks,
      getKek: (...a) => (down ? Promise.reject(new RegistryError("schema registry http://r: get KEK 'kek1': cannot reach the registry", { code: "registry-unreachable", retriable: true })) : deks.getKek(...a)),
    };
    const p = plans([enc()], { dekRegistry: flaky, passthrough: true });
    await assert.rejects(Promise.resolve(p.write.run(order(), MC)), (e: unknown) => isErrorCode(e, "registry-unreachable"));
    down = false;
    const v = passed(await p.write.run(order(), MC)).value;
    down = true;
    const reader = plans([enc()], { dekRegistry: flaky, passthrough: true });
    await assert.rejects(Promise.resolve(reader.read.run(v, MC)), (e: unknown) => isErrorCode(e, "registry-unreachable"), "an outage is not passed through as ciphertext");
    down = false;
    assert.deepEqual(passed(await reader.read.run(v, MC)).value, order());
  });

  test("concurrent first writes of two producers end on one DEK, which a reader unwraps", async () => {
    const deks = createMemoryDekRegistry();
    const [a, b] = [plans([enc()], { dekRegistry: deks }), plans([enc()], { dekRegistry: deks })];
    const [va, vb] = await Promise.all([a.write.run(order(), MC), b.write.run(order({ email: "bob@example.com" }), MC)]);
    assert.equal(deks.deks().length, 1, "the second create lost the race and read the winner's DEK");
    const reader = plans([enc()], { dekRegistry: deks });
    assert.equal((passed(await reader.read.run(passed(va).value, MC)).value as Order).email, "ada@example.com");
    assert.equal((passed(await reader.read.run(passed(vb).value, MC)).value as Order).email, "bob@example.com");
  });

  test("encrypt.alternate.kms.key.ids: the alternates are tried in order when the KEK's own key fails", async () => {
    const base = localKms({});
    const tried: string[] = [];
    const regional = {
      type: "local-kms",
      key: (id: string, config: Record<string, string>) => {
        const k = base.key(id, config);
        const down = () => Promise.reject(new Error(`region of ${id} is down`));
        return id === "mykey" ? { wrap: () => (tried.push(id), down()), unwrap: () => (tried.push(id), down()) } : { wrap: (p: Uint8Array) => (tried.push(id), k.wrap(p)), unwrap: (w: Uint8Array) => (tried.push(id), k.unwrap(w)) };
      },
    };
    const deks = createMemoryDekRegistry();
    const params = { "encrypt.alternate.kms.key.ids": "dr-1, dr-2" };
    const v = passed(await plans([enc(params)], { dekRegistry: deks, kms: [regional] }).write.run(order(), MC)).value;
    assert.deepEqual(tried, ["mykey", "dr-1"]);
    tried.length = 0;
    assert.deepEqual(passed(await plans([enc(params)], { dekRegistry: deks, kms: [regional] }).read.run(v, MC)).value, order());
    assert.deepEqual(tried, ["mykey", "dr-1"]);
    const f = failed(await plans([enc()], { dekRegistry: deks, kms: [regional] }).read.run(v, MC));
    assert.equal(f.violations[0]!.code, "key-unavailable", "without alternates the down key is all there is");
  });

  test("passthrough: a consumer without key access reads the ciphertext", async () => {
    const writer = plans([enc()], { dekRegistry: createMemoryDekRegistry() });
    const v = passed(await writer.write.run(order(), MC)).value as Order;
    const reader = plans([enc()], { dekRegistry: createMemoryDekRegistry(), passthrough: true });
    const r = passed(await reader.read.run(v, MC)).value as Order;
    assert.equal(r.email, v.email);
    assert.equal(r.address.zip, v.address.zip);
  });

  test("altered ciphertext fails with decrypt-failed naming the field, not its value", async () => {
    const p = plans([enc()], { dekRegistry: createMemoryDekRegistry() });
    const v = passed(await p.write.run(order(), MC)).value as Order;
    const bytes = Buffer.from(v.email, "base64");
    bytes[20]! ^= 1;
    const f = failed(await p.read.run({ ...v, email: bytes.toString("base64") }, MC));
    assert.equal(f.violations[0]!.code, "decrypt-failed");
    assert.match(f.violations[0]!.message, /KEK kek1, subject orders-value: field \$\.email/);
  });

  test("a tag on a number field: a typed error, as Java's 'type not supported for encryption'", async () => {
    const p = plans([enc({}, { tags: ["PII"] })], { dekRegistry: createMemoryDekRegistry() });
    const c: Contract = { schema: ORDER_SCHEMA, schemaType: "JSON", ruleSet: { domainRules: [enc()] }, metadata: { tags: { "$.amount": ["PII"] } } };
    const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createMemoryDekRegistry(), config: { secret: SECRET } }) });
    const f = failed(await engine.compile("orders-value", c, jsonSchemaFormat.compile(c)).write.run(order(), MC));
    assert.equal(f.violations[0]!.code, "encryption");
    assert.match(f.violations[0]!.message, /\$\.amount: type DOUBLE not supported for encryption/);
    passed(await p.write.run(order(), MC));
  });

  test("metadata wildcard tags select fields to encrypt", async () => {
    const c: Contract = { schema: ORDER_SCHEMA, schemaType: "JSON", ruleSet: { domainRules: [enc()] }, metadata: { tags: { "$.address.c*": ["PII"] } } };
    const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createMemoryDekRegistry(), config: { secret: SECRET } }) });
    const p = engine.compile("orders-value", c, jsonSchemaFormat.compile(c));
    const v = passed(await p.write.run(order(), MC)).value as Order;
    assert.notEqual(v.address.city, "Paris");
    assert.deepEqual(passed(await p.read.run(v, MC)).value, order());
  });

  test("bad params fail compilation with code encryption", () => {
    const compileError = (rule: Rule, tags?: string[]) => {
      const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createMemoryDekRegistry() }), ...(tags ? { sensitiveTags: tags } : {}) });
      const c: Contract = { schema: ORDER_SCHEMA, schemaType: "JSON", ruleSet: { domainRules: [rule] } };
      const errors = engine.compile("s", c, jsonSchemaFormat.compile(c)).compileErrors;
      assert.equal(errors.length, 1, JSON.stringify(rule));
      assert.equal(errors[0]!.code, "encryption");
      return errors[0]!.message;
    };
    assert.match(compileError({ ...enc(), params: {} }), /encrypt\.kek\.name is required/);
    assert.match(compileError(enc({ "encrypt.kms.type": "vault-x" })), /unknown encrypt\.kms\.type 'vault-x'/);
    assert.match(compileError(enc({ "encrypt.dek.algorithm": "AES512" })), /unknown encrypt\.dek\.algorithm/);
    assert.match(compileError(enc({ "encrypt.dek.expiry.days": "-1" })), /expiry/);
    assert.match(compileError(enc({}, { tags: [] })), /needs tags/);
    assert.match(compileError(enc(), ["SECRET"]), /tag PII of an ENCRYPT rule must be a sensitive tag/);
  });

  test("a union field: its string branch is encrypted, its other branches stay clear both ways (Java's isInCombined)", async () => {
    const schema = JSON.stringify({
      type: "record",
      name: "R",
      fields: [
        { name: "ref", type: ["null", "string", "int"], "confluent:tags": ["PII"] },
        { name: "count", type: ["null", "int"], default: null, "confluent:tags": ["PII"] },
      ],
    });
    const c: Contract = { schema, schemaType: "AVRO", ruleSet: { domainRules: [enc()] } };
    const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createMemoryDekRegistry(), config: { secret: SECRET } }) });
    const p = engine.compile("refs-value", c, avroFormat.compile(c));
    const s = passed(await p.write.run({ ref: "hello", count: null }, MC)).value as { ref: string };
    assert.equal(Buffer.from(s.ref, "base64").length, 5 + 28);
    assert.deepEqual(passed(await p.read.run(s, MC)).value, { ref: "hello", count: null });
    const n = passed(await p.write.run({ ref: 7, count: null }, MC));
    assert.deepEqual(n.value, { ref: 7, count: null });
    assert.deepEqual(passed(await p.read.run(n.value, MC)).value, { ref: 7, count: null });
    // A nullable int is not a union of several types: its value cannot be encrypted, as in Java.
    const f = failed(await p.write.run({ ref: null, count: 3 }, MC));
    assert.match(f.violations[0]!.message, /R\.count: type INT not supported for encryption/);
  });

  test("JSON Schema oneOf: a string is encrypted, an integer stays clear", async () => {
    const schema = JSON.stringify({ type: "object", properties: { ref: { oneOf: [{ type: "string" }, { type: "integer" }], "confluent:tags": ["PII"] } } });
    const c: Contract = { schema, schemaType: "JSON", ruleSet: { domainRules: [enc()] } };
    const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createMemoryDekRegistry(), config: { secret: SECRET } }) });
    const p = engine.compile("refs-value", c, jsonSchemaFormat.compile(c));
    const s = passed(await p.write.run({ ref: "hello" }, MC)).value as { ref: string };
    assert.notEqual(s.ref, "hello");
    assert.deepEqual(passed(await p.read.run(s, MC)).value, { ref: "hello" });
    assert.deepEqual(passed(await p.write.run({ ref: 7 }, MC)).value, { ref: 7 });
  });

  test("READ leaves a value that is not a string or bytes as it is: WRITE never encrypts one (Java)", async () => {
    const schema = JSON.stringify({ type: "object", properties: { amount: { type: "number", "confluent:tags": ["PII"] } } });
    const c: Contract = { schema, schemaType: "JSON", ruleSet: { domainRules: [enc()] } };
    const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createMemoryDekRegistry(), config: { secret: SECRET } }) });
    const p = engine.compile("amounts-value", c, jsonSchemaFormat.compile(c));
    assert.deepEqual(passed(await p.read.run({ amount: 12.5 }, MC)).value, { amount: 12.5 });
    assert.equal(failed(await p.write.run({ amount: 12.5 }, MC)).violations[0]!.code, "encryption");
  });
});

describe("ENCRYPT_PAYLOAD and the serde", () => {
  const AVRO: Contract = {
    schema: JSON.stringify({ type: "record", name: "User", fields: [{ name: "name", type: "string" }, { name: "ssn", type: { type: "string", "confluent:tags": ["PII"] } }, { name: "blob", type: ["null", { type: "bytes", "confluent:tags": ["PII"] }], default: null }] }),
    ruleSet: {
      domainRules: [enc()],
      encodingRules: [{ name: "encryptPayload", kind: "TRANSFORM", mode: "WRITEREAD", type: "ENCRYPT_PAYLOAD", params: { ...PARAMS, "encrypt.dek.algorithm": "AES128_GCM" } }],
    },
  };

  test("an Avro record: fields and then the payload are encrypted on write, and read back", async () => {
    const registry = createMemoryRegistry();
    await registry.register("users-value", AVRO);
    const deks = createMemoryDekRegistry();
    const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: deks, config: { secret: SECRET } }) });
    const store = createContractStore({ registry, engine });
    const ser = createSerializer({ store });
    const de = createDeserializer({ store });
    const user = { name: "Ada", ssn: "123-45-6789", blob: Buffer.from("raw secret bytes") };
    const s = await ser.serialize("users", user);
    assert.equal(s.kind, "serialized");
    if (s.kind !== "serialized") return;
    assert.ok(!Buffer.from(s.bytes).includes("Ada"), "the payload is encrypted as a whole");
    // Java needs preserve.source.fields=true for this; kontract never changes the caller's object.
    assert.deepEqual(user, { name: "Ada", ssn: "123-45-6789", blob: Buffer.from("raw secret bytes") });
    assert.deepEqual(deks.deks().map((d) => d.algorithm).sort(), ["AES128_GCM", "AES256_GCM"]);
    const d = await de.deserialize("users", s.bytes);
    assert.equal(d.kind, "deserialized");
    if (d.kind === "deserialized") assert.deepEqual({ ...(d.value as object) }, user);
  });
});
