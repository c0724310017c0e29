import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Contract } from "../../src/contract/model.js";
import { isErrorCode } from "../../src/errors.js";
import { createRestRegistry, type RestRegistry } from "../../src/registry/rest/index.js";
import { type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.js";

const ORDER_V1 = JSON.stringify({
  type: "record",
  name: "Order",
  fields: [
    { name: "id", type: "string" },
    { name: "amount", type: "double" },
  ],
});

const ORDER_V2 = JSON.stringify({
  type: "record",
  name: "Order",
  fields: [
    { name: "id", type: "string" },
    { name: "amount", type: "double" },
    { name: "note", type: ["null", "string"], default: null },
  ],
});

const CONTRACT: Contract = {
  schema: ORDER_V1,
  metadata: {
    properties: { owner: "payments", "app.major.version": "1" },
    tags: { "Order.id": ["PII"] },
    sensitive: ["owner"],
  },
  ruleSet: {
    domainRules: [
      {
        name: "positiveAmount",
        kind: "CONDITION",
        mode: "WRITE",
        type: "CEL",
        expr: "message.amount > 0",
        onFailure: "DLQ",
        params: { "dlq.topic": "orders-dlq" },
      },
    ],
    migrationRules: [{ name: "totalToAmount", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "$merge([$, {'amount': total}])" }],
  },
};

let fake: FakeRegistry;
let registry: RestRegistry;
let n = 0;
const subject = () => `orders-${++n}-value`;

before(async () => {
  fake = await startFakeRegistry();
  registry = createRestRegistry({ url: fake.url, retries: 0 });
});
after(() => fake.close());

describe("register and read back", () => {
  test("metadata and ruleSet survive register -> getVersion/getById/lookup unchanged", async () => {
    const s = subject();
    const stored = await registry.register(s, CONTRACT);
    assert.equal(stored.subject, s);
    assert.equal(stored.version, 1);
    assert.deepEqual(stored.metadata, CONTRACT.metadata);
    assert.deepEqual(stored.ruleSet, CONTRACT.ruleSet);

    const fresh = createRestRegistry({ url: fake.url });
    const byVersion = await fresh.getVersion(s, 1);
    assert.deepEqual(byVersion.ruleSet, CONTRACT.ruleSet);
    assert.deepEqual(byVersion.metadata, CONTRACT.metadata);
    const byId = await fresh.getById(stored.id, s);
    assert.equal(byId.id, stored.id);
    assert.deepEqual(byId.ruleSet, CONTRACT.ruleSet);
    const found = await fresh.lookup(s, CONTRACT);
    assert.equal(found.version, 1);
    assert.deepEqual(found.metadata, CONTRACT.metadata);
  });

  test("the register body carries schema, metadata and ruleSet verbatim and no schemaType for an unset one", async () => {
    const s = subject();
    await registry.register(s, CONTRACT);
    const post = fake.requests.find((r) => r.method === "POST" && r.path === `/subjects/${s}/versions`);
    assert.deepEqual(post?.body, { schema: ORDER_V1, metadata: CONTRACT.metadata, ruleSet: CONTRACT.ruleSet });
    assert.equal(post?.headers["content-type"], "application/vnd.schemaregistry.v1+json");
  });

  test("an explicit schemaType is sent, also AVRO", async () => {
    const s = subject();
    await registry.register(s, { schema: ORDER_V1, schemaType: "AVRO" });
    const post = fake.requests.find((r) => r.method === "POST" && r.path === `/subjects/${s}/versions`);
    assert.deepEqual(post?.body, { schema: ORDER_V1, schemaType: "AVRO" });
  });

  test("register returns what the registry stored: config defaults and overrides merged in", async () => {
    const s = subject();
    await registry.updateConfig(s, {
      defaultRuleSet: { domainRules: [{ name: "idSet", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.id != ''" }] },
      overrideMetadata: { properties: { domain: "sales" } },
    });
    const stored = await registry.register(s, { schema: ORDER_V1, metadata: { properties: { owner: "payments" } } });
    assert.deepEqual(stored.ruleSet?.domainRules?.map((r) => r.name), ["idSet"]);
    assert.deepEqual(stored.metadata?.properties, { owner: "payments", domain: "sales" });
  });

  test("an id-only register answer is resolved through /schemas/ids/{id}/versions to the new version", async () => {
    const s = subject();
    const before = fake.requests.length;
    const v1 = await registry.register(s, CONTRACT);
    // Same schema text, other rules: a new version under the same id.
    const changed: Contract = { ...CONTRACT, ruleSet: { domainRules: [{ ...CONTRACT.ruleSet!.domainRules![0], expr: "message.amount >= 0" }] } };
    const v2 = await registry.register(s, changed);
    assert.equal(v2.id, v1.id);
    assert.equal(v2.version, 2);
    assert.equal(v2.ruleSet?.domainRules?.[0].expr, "message.amount >= 0");
    const mine = fake.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(mine, [
      `POST /subjects/${s}/versions`,
      `GET /schemas/ids/${v1.id}/versions`,
      `GET /subjects/${s}/versions/1`,
      `POST /subjects/${s}/versions`,
      `GET /schemas/ids/${v1.id}/versions`,
      `GET /subjects/${s}/versions/2`,
    ]);
  });

  test("a full register answer (newer Confluent) is used as is, without further requests", async () => {
    const full = await startFakeRegistry({ fullRegisterResponse: true });
    try {
      const client = createRestRegistry({ url: full.url });
      const stored = await client.register("orders-value", CONTRACT);
      assert.equal(stored.version, 1);
      assert.deepEqual(stored.ruleSet, CONTRACT.ruleSet);
      assert.equal(full.requests.length, 1);
    } finally {
      await full.close();
    }
  });

  test("registering a second schema version under a subject gives version 2 with its own id", async () => {
    const s = subject();
    const v1 = await registry.register(s, { schema: ORDER_V1 });
    const v2 = await registry.register(s, { schema: ORDER_V2 });
    assert.equal(v2.version, 2);
    assert.notEqual(v2.id, v1.id);
    assert.deepEqual(await registry.versions(s), [1, 2]);
    assert.ok((await registry.subjects()).includes(s));
  });
});

describe("reads", () => {
  test("getVersion 'latest' returns the newest version", async () => {
    const s = subject();
    await registry.register(s, { schema: ORDER_V1 });
    await registry.register(s, { schema: ORDER_V2 });
    const latest = await createRestRegistry({ url: fake.url }).getVersion(s, "latest");
    assert.equal(latest.version, 2);
    assert.equal(latest.schema, ORDER_V2);
  });

  test("getLatestWithMetadata sends key/value pairs and picks the newest matching version", async () => {
    const s = subject();
    await registry.register(s, { schema: ORDER_V1, metadata: { properties: { "app.major.version": "1", owner: "a" } } });
    await registry.register(s, { schema: ORDER_V2, metadata: { properties: { "app.major.version": "2", owner: "a" } } });
    const v1 = await registry.getLatestWithMetadata(s, { owner: "a", "app.major.version": "1" });
    assert.equal(v1.version, 1);
    const req = fake.requests.find((r) => r.path === `/subjects/${s}/metadata`);
    assert.deepEqual(req?.query.getAll("key"), ["app.major.version", "owner"]);
    assert.deepEqual(req?.query.getAll("value"), ["1", "a"]);
    assert.equal((await registry.getLatestWithMetadata(s, { owner: "a" })).version, 2);
  });

  test("getByGuid returns the contract under its guid; Confluent sends no numeric id there", async () => {
    const s = subject();
    const stored = await registry.register(s, CONTRACT);
    assert.ok(stored.guid);
    const byGuid = await registry.getByGuid(stored.guid);
    assert.equal(byGuid.guid, stored.guid);
    assert.equal(byGuid.schema, ORDER_V1);
    assert.equal(byGuid.id, undefined);
  });

  test("lookup asks with deleted=true and finds a soft-deleted version", async () => {
    const s = subject();
    await registry.register(s, { schema: ORDER_V1 });
    await registry.deleteSubject(s);
    const found = await createRestRegistry({ url: fake.url }).lookup(s, { schema: ORDER_V1 });
    assert.equal(found.version, 1);
    const req = fake.requests.findLast((r) => r.method === "POST" && r.path === `/subjects/${s}`);
    assert.equal(req?.query.get("deleted"), "true");
  });

  test("responses map 1:1: an absent schemaType stays absent, an explicit AVRO stays AVRO", async () => {
    const s = subject();
    const confluentLike = await registry.register(s, { schema: ORDER_V1 });
    assert.equal("schemaType" in confluentLike, false);
    const axon = await startFakeRegistry({ alwaysSchemaType: true });
    try {
      const stored = await createRestRegistry({ url: axon.url }).register("x-value", { schema: ORDER_V1 });
      assert.equal(stored.schemaType, "AVRO");
    } finally {
      await axon.close();
    }
  });

  test("JSON and PROTOBUF schema types and references round-trip", async () => {
    const s = subject();
    const json = await registry.register(s, { schema: '{"type":"object"}', schemaType: "JSON" });
    assert.equal((await registry.getById(json.id)).schemaType, "JSON");
    const p = subject();
    const proto: Contract = {
      schema: 'syntax = "proto3"; import "common.proto"; message A { Common c = 1; }',
      schemaType: "PROTOBUF",
      references: [{ name: "common.proto", subject: "common-value", version: 1 }],
    };
    const stored = await registry.register(p, proto);
    assert.deepEqual(stored.references, proto.references);
  });

  test("subjects are URL-encoded in paths", async () => {
    const s = `weird/subject ${++n}?&`;
    await registry.register(s, { schema: ORDER_V1 });
    assert.equal((await registry.getVersion(s, 1)).subject, s);
    assert.ok(fake.requests.some((r) => r.path === `/subjects/${encodeURIComponent(s)}/versions/1`));
  });

  test("returned contracts are frozen, so cached values cannot be changed by a caller", async () => {
    const s = subject();
    const stored = await registry.register(s, CONTRACT);
    assert.throws(() => {
      (stored.metadata!.properties as Record<string, string>).owner = "mallory";
    }, TypeError);
  });

  test("a base URL with a path prefix and trailing slash is kept", async () => {
    const client = createRestRegistry({ url: `${fake.url}/`, retries: 0 });
    assert.deepEqual(client.urls, [fake.url]);
    const prefixed = createRestRegistry({ url: `${fake.url}/sr/`, retries: 0 });
    await assert.rejects(prefixed.subjects(), (e) => isErrorCode(e, "registry"));
    assert.equal(fake.requests.at(-1)?.path, "/sr/subjects");
  });
});

describe("config and delete", () => {
  test("updateConfig/getConfig round-trip compatibility, compatibilityGroup, default/override metadata and rules", async () => {
    const s = subject();
    const config = {
      compatibility: "BACKWARD_TRANSITIVE" as const,
      compatibilityGroup: "app.major.version",
      defaultMetadata: { properties: { owner: "payments" } },
      overrideMetadata: { properties: { domain: "sales" } },
      defaultRuleSet: { domainRules: [{ name: "r1", kind: "CONDITION" as const, type: "CEL", expr: "true" }] },
      overrideRuleSet: { domainRules: [{ name: "r2", kind: "CONDITION" as const, type: "CEL", expr: "true" }] },
    };
    const answer = await registry.updateConfig(s, config);
    assert.equal(answer.compatibility, "BACKWARD_TRANSITIVE");
    const put = fake.requests.findLast((r) => r.method === "PUT");
    assert.deepEqual(put?.body, config);
    assert.deepEqual(await registry.getConfig(s), config);
  });

  test("getConfig of a subject without its own config is undefined (40408), unless defaultToGlobal", async () => {
    const s = subject();
    assert.equal(await registry.getConfig(s), undefined);
    assert.equal((await registry.getConfig(s, { defaultToGlobal: true }))?.compatibility, "BACKWARD");
    assert.equal((await registry.getConfig())?.compatibility, "BACKWARD");
  });

  test("deleteConfig drops a subject's config", async () => {
    const s = subject();
    await registry.updateConfig(s, { compatibility: "NONE" });
    await registry.deleteConfig(s);
    assert.equal(await registry.getConfig(s), undefined);
  });

  test("deleteSubject permanent removes the subject and forgets its cached versions", async () => {
    const s = subject();
    await registry.register(s, { schema: ORDER_V1 });
    await registry.getVersion(s, 1);
    assert.deepEqual(await registry.deleteSubject(s, { permanent: true }), [1]);
    await assert.rejects(registry.getVersion(s, 1), (e) => isErrorCode(e, "unknown-schema"));
  });

  test("deleteSubject permanent also works on an already soft-deleted subject", async () => {
    const s = subject();
    await registry.register(s, { schema: ORDER_V1 });
    await registry.deleteSubject(s);
    assert.deepEqual(await registry.deleteSubject(s, { permanent: true }), [1]);
  });
});
