/**
 * The package as a user installs it: `npm pack`, then `npm install` of the
 * tarball into a fresh project with none of kontract's dev dependencies. The
 * README's library example and the CLI run there in plain Node, and so does
 * its Kafka example on @confluentinc/kafka-javascript against the real broker
 * and registry, with kafkajs not installed at all.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { ensureInfra, uniqueName, type Infra } from "../helpers/infra.js";

const ROOT = join(import.meta.dirname, "../..");

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...env } });
  assert.equal(r.status, 0, `${command} ${args.join(" ")}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

const LIBRARY_EXAMPLE = `
import { createFileRegistry, createContractStore, createSerializer, createDeserializer } from "kontract";
const store = createContractStore({ registry: createFileRegistry({ dir: "rules" }) });
const serializer = createSerializer({ store, writerSchema: { use: "latest" } });
const deserializer = createDeserializer({ store });
const customer = { customerId: "C-100001", name: "Ada", email: "Ada@Example.org", tier: "STANDARD", marketingOptIn: false };
const ok = await serializer.serialize("customers", customer);
const back = await deserializer.deserialize("customers", ok.bytes);
const bad = await serializer.serialize("customers", { ...customer, email: "nope" });
console.log(JSON.stringify({ kind: ok.kind, email: back.value.email, failed: bad.kind, rule: bad.outcome.rule?.name }));
`;

/** The README's Kafka example, on the Confluent client's KafkaJS API. */
const KAFKA_EXAMPLE = `
import { KafkaJS } from "@confluentinc/kafka-javascript";
import { createRestRegistry } from "kontract";
import { contractConsumer, contractProducer } from "kontract/kafka";
const [brokers, url, topic] = process.argv.slice(2);
const registry = createRestRegistry({ url });
await registry.updateConfig(topic + "-value", { compatibility: "NONE" });
await registry.register(topic + "-value", {
  schema: JSON.stringify({ type: "record", name: "Order", namespace: "pack." + topic.replace(/[^a-z0-9]/g, ""), fields: [{ name: "id", type: "string" }, { name: "amount", type: "double" }] }),
  ruleSet: { domainRules: [{ name: "amountPositive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" }] },
});
const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: [brokers], logLevel: KafkaJS.logLevel.NOTHING } });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic }, { topic: topic + "-dlq" }] });
await admin.disconnect();
const producer = contractProducer(kafka.producer(), { registry, key: false });
await producer.connect();
const sent = await producer.send({ topic, messages: [{ value: { id: "o-1", amount: 5 } }, { value: { id: "o-2", amount: -1 } }] });
const consumer = contractConsumer(kafka.consumer({ kafkaJS: { groupId: topic, fromBeginning: true } }), { registry, key: false, dlq: { producer: producer.producer } });
await consumer.connect();
await consumer.subscribe({ topics: [topic] });
const seen = [];
await consumer.run({ eachMessage: async ({ value }) => void seen.push(value) });
for (let i = 0; i < 300 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
await consumer.disconnect();
await producer.disconnect();
console.log(JSON.stringify({ sent: sent.messages.map((m) => m.status), seen: seen.map((v) => ({ ...v })) }));
`;

let infra: Infra;
before(async () => {
  infra = await ensureInfra();
});

test("npm pack, installed with @confluentinc/kafka-javascript in a fresh project: the README's examples and the CLI run, without dev dependencies and without kafkajs", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "kontract-pack-"));
  const packed = run("npm", ["pack", "--pack-destination", dir, "--silent"], ROOT).trim().split("\n").at(-1)!;
  const app = join(dir, "app");
  cpSync(join(ROOT, "rules"), join(app, "rules"), { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  const confluent = JSON.parse(readFileSync(join(ROOT, "node_modules/@confluentinc/kafka-javascript/package.json"), "utf8")) as { version: string };
  // Install scripts off: the Confluent client's would download a prebuilt binding from GitHub, which
  // this machine cannot reach; its binding comes from the build scripts/confluent-client.sh cached instead.
  run("npm", ["install", "--prefer-offline", "--no-package-lock", "--ignore-scripts", join(dir, packed), `@confluentinc/kafka-javascript@${confluent.version}`], app);
  const binding = readdirSync(join(ROOT, ".cache/confluent-kafka-javascript")).find((f) => f.startsWith(`${confluent.version}-node-v${process.versions.modules}-`));
  assert.ok(binding, "the Confluent client's cached build (npm ci makes it)");
  run("tar", ["-xzf", join(ROOT, ".cache/confluent-kafka-javascript", binding), "-C", join(app, "node_modules/@confluentinc/kafka-javascript")], app);

  const installed = readdirSync(join(app, "node_modules"));
  for (const absent of ["kafkajs", "@platformatic", "tsx", "esbuild", "typescript"]) assert.ok(!installed.includes(absent), `${absent} was installed with kontract`);
  assert.ok(existsSync(join(app, "node_modules/kontract/dist/src/index.js")));

  writeFileSync(join(app, "library.mjs"), LIBRARY_EXAMPLE);
  assert.deepEqual(JSON.parse(run(process.execPath, ["library.mjs"], app)), { kind: "serialized", email: "ada@example.org", failed: "failed", rule: "validEmail" });

  writeFileSync(join(app, "kafka.mjs"), KAFKA_EXAMPLE);
  const topic = uniqueName("pack-orders");
  assert.deepEqual(JSON.parse(run(process.execPath, ["kafka.mjs", infra.brokers[0]!, infra.registryUrl, topic], app)), {
    sent: ["sent", "dead-lettered"],
    seen: [{ id: "o-1", amount: 5 }],
  });

  const bin = join(app, "node_modules/.bin/kontract");
  const lint = spawnSync(bin, ["lint", "rules", "--no-color"], { cwd: app, encoding: "utf8" });
  assert.equal(lint.status, 0, lint.stderr + lint.stdout);
  assert.match(run(bin, ["--version"], app), /^kontract \d+\.\d+\.\d+/);
});
