/** fromJavaConfig: a Java serde config map as kontract options, in Java's precedence, with what it cannot honour listed. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Contract } from "../../src/contract/model.js";
import { createEngine } from "../../src/engine/index.js";
import { createMemoryRegistry } from "../../src/registry/memory-registry.js";
import { createContractStore, createSerializer, fromJavaConfig } from "../../src/serde/index.js";

const ORDER: Contract = {
  schema: JSON.stringify({ type: "record", name: "Order", fields: [{ name: "id", type: "string" }, { name: "amount", type: "double" }] }),
  ruleSet: {
    domainRules: [
      { name: "positive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0" },
      { name: "small", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount < 100.0" },
    ],
  },
};

describe("fromJavaConfig", () => {
  test("a consumer's config: registry, auth, latest with metadata, the cache TTL and rule overrides", () => {
    const c = fromJavaConfig({
      "schema.registry.url": "https://sr-1.example:8081, https://sr-2.example:8081",
      "basic.auth.credentials.source": "USER_INFO",
      "basic.auth.user.info": "svc:s3cr:et",
      "request.header.target-sr-cluster": "lsrc-1",
      "http.read.timeout.ms": 5000,
      "max.retries": "3",
      "use.latest.with.metadata": "application.major.version=2, team=orders",
      "latest.cache.ttl.sec": "300",
      "execution.environment": "CLIENT",
      "rule.executors._default_.onFailure": "DLQ",
      "rule.executors._CEL_.param.strict": "true",
      "rule.executors.positive.disabled": "true",
    });
    assert.deepEqual(c.registry, {
      url: ["https://sr-1.example:8081", "https://sr-2.example:8081"],
      auth: { username: "svc", password: "s3cr:et" },
      headers: { "target-sr-cluster": "lsrc-1" },
      timeoutMs: 5000,
      retries: 3,
    });
    assert.deepEqual(c.store, { latestCacheTtlMs: 300_000 });
    assert.deepEqual(c.deserializer.readerSchema, { use: "latest-with-metadata", metadata: { "application.major.version": "2", team: "orders" } });
    // Most specific first: rule name, then _TYPE_, then _default_.
    assert.deepEqual(c.engine.overrides, [{ rule: "positive", disabled: true }, { type: "CEL", params: { strict: "true" } }, { onFailure: "DLQ" }]);
    assert.equal(c.engine.executionEnvironment, "CLIENT");
    assert.deepEqual(c.ignored, []);
  });

  test("the writer's schema, in Java's order: use.schema.id, auto-registration (Java's default), latest with metadata, latest, lookup", () => {
    assert.deepEqual(fromJavaConfig({ "use.schema.id": 7, "use.latest.version": true }).serializer.writerSchema, { use: "id", id: 7 });
    assert.equal(fromJavaConfig({}).serializer.writerSchema, undefined, "auto-registration needs the writer's schema");
    assert.deepEqual(fromJavaConfig({}, { contract: ORDER }).serializer.writerSchema, { use: "auto-register", contract: ORDER });
    assert.deepEqual(fromJavaConfig({ "auto.register.schemas": "false", "use.latest.version": "true" }).serializer.writerSchema, { use: "latest" });
    assert.deepEqual(fromJavaConfig({ "auto.register.schemas": false, "use.latest.version": true, "use.latest.with.metadata": "v=1" }).serializer.writerSchema, { use: "latest-with-metadata", metadata: { v: "1" } });
    assert.deepEqual(fromJavaConfig({ "auto.register.schemas": false }, { contract: ORDER }).serializer.writerSchema, { use: "lookup", contract: ORDER });
    assert.deepEqual(fromJavaConfig({}).deserializer.readerSchema, { use: "writer" });
    assert.deepEqual(fromJavaConfig({ "value.subject.name.strategy": "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy" }).serializer, { writerSchema: undefined, valueSubjectNameStrategy: "topic-record" });
  });

  test("keys it cannot honour are listed with the reason, never dropped", () => {
    const c = fromJavaConfig({
      "schema.registry.url": "http://sr:8081",
      "value.serializer": "io.confluent.kafka.serializers.KafkaAvroSerializer",
      "rule.executors": "checker",
      "rule.executors.checker.class": "com.acme.Checker",
      "schema.registry.ssl.truststore.location": "/etc/ts.jks",
      "latest.compatibility.strict": "false",
      "some.typo": "x",
      "encrypt.nonshared.kek.passthrough": "true",
    });
    assert.deepEqual(c.ignored.map((i) => i.key), ["encrypt.nonshared.kek.passthrough", "latest.compatibility.strict", "rule.executors", "rule.executors.checker.class", "schema.registry.ssl.truststore.location", "some.typo", "value.serializer"]);
    assert.match(c.ignored.find((i) => i.key === "encrypt.nonshared.kek.passthrough")!.reason, /encryptionExecutors\(\{ passthrough: true \}\)/);
    assert.match(c.ignored.find((i) => i.key === "rule.executors.checker.class")!.reason, /createEngine\(\{ executors \}\)/);
    assert.match(c.ignored.find((i) => i.key === "some.typo")!.reason, /not a setting kontract knows/);
  });

  test("values Java would refuse are usage errors naming the key, and never quote a secret", () => {
    assert.throws(() => fromJavaConfig({ "use.latest.version": "yes" }), /use.latest.version: must be true or false/);
    assert.throws(() => fromJavaConfig({ "latest.cache.ttl.sec": "5m" }), /latest.cache.ttl.sec: must be an integer/);
    assert.throws(() => fromJavaConfig({ "value.subject.name.strategy": "com.acme.Mine" }), /com.acme.Mine is not one of TopicNameStrategy/);
    assert.throws(
      () => fromJavaConfig({ "schema.registry.url": "http://sr", "basic.auth.credentials.source": "USER_INFO", "basic.auth.user.info": "hunter2-no-colon" }),
      (e: unknown) => e instanceof Error && /basic.auth.user.info: must be <user>:<password>/.test(e.message) && !e.message.includes("hunter2"),
    );
  });

  test("the overrides work in the engine as in Java: a rule disabled by name, a type's failures let through", async () => {
    const registry = createMemoryRegistry();
    await registry.register("orders-value", ORDER);
    const run = async (config: Record<string, string>, amount: number) => {
      const java = fromJavaConfig({ "auto.register.schemas": "false", "use.latest.version": "true", ...config });
      const store = createContractStore({ registry, engine: createEngine(java.engine), ...java.store });
      const r = await createSerializer({ store, writerSchema: java.serializer.writerSchema! }).serialize("orders", { id: "o", amount });
      return r.kind === "failed" ? `failed ${r.outcome.rule.name}` : `sent${r.outcome.violations.length > 0 ? ` (${r.outcome.violations.map((v) => v.rule).join(",")})` : ""}`;
    };
    assert.equal(await run({}, -1), "failed positive");
    assert.equal(await run({ "rule.executors.positive.disabled": "true" }, -1), "sent");
    assert.equal(await run({ "rule.executors._CEL_.onFailure": "NONE" }, 500), "sent (small)");
    assert.equal(await run({ "rule.executors._default_.onFailure": "NONE", "rule.executors.small.onFailure": "ERROR" }, 500), "failed small");
  });
});
