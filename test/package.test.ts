/**
 * The package as users get it: `kontract` and `kontract/kafka` resolve, through
 * package.json "exports", to the compiled build in dist/ (npm run build; npm
 * test builds first), and work in plain Node, with no TypeScript loader.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const SCRIPT = `
import { createFileRegistry, createEngine, createContractStore, createSerializer, createDeserializer, FORMATS } from "kontract";
import { contractProducer, contractConsumer } from "kontract/kafka";
const schema = JSON.stringify({ type: "record", name: "Order", fields: [{ name: "email", type: "string" }, { name: "amount", type: "double" }] });
const registry = createFileRegistry({ documents: [] });
await registry.register("orders-value", {
  schemaType: "AVRO",
  schema,
  ruleSet: { domainRules: [
    { name: "emailShape", kind: "CONDITION", mode: "WRITEREAD", type: "CEL", expr: "message.email.matches('^[^@]+@[^@]+$')", onFailure: "ERROR" },
    { name: "amountPositive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", onFailure: "ERROR" },
  ] },
});
const store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
const serializer = createSerializer({ store, writerSchema: { use: "latest" } });
const deserializer = createDeserializer({ store });
const ok = await serializer.serialize("orders", { email: "a@example.com", amount: 5 });
const back = await deserializer.deserialize("orders", ok.bytes);
const bad = await serializer.serialize("orders", { email: "nope", amount: -1 });
console.log(JSON.stringify({
  kind: ok.kind,
  value: { ...back.value },
  failed: bad.kind,
  rule: bad.outcome.rule.name,
  kafka: [typeof contractProducer, typeof contractConsumer],
}));
`;

test("kontract and kontract/kafka load from the compiled build in plain Node and run a contract", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, string | { types: string; default: string }> };
  for (const [entry, target] of Object.entries(pkg.exports)) {
    for (const file of typeof target === "string" ? [target] : [target.types, target.default]) {
      assert.ok(existsSync(join(ROOT, file)), `${entry}: ${file} is missing; run npm run build`);
    }
  }
  // A build older than the sources would test yesterday's code.
  const built = statSync(join(ROOT, (pkg.exports["."] as { default: string }).default)).mtimeMs;
  const newest = newestSource(join(ROOT, "src"));
  assert.ok(built >= newest.mtimeMs, `dist/ is older than ${newest.path}; run npm run build`);

  const r = spawnSync(process.execPath, ["--input-type=module", "--eval", SCRIPT], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    kind: "serialized",
    value: { email: "a@example.com", amount: 5 },
    failed: "failed",
    rule: "emailShape",
    kafka: ["function", "function"],
  });
});

test("importing any entry point loads no Kafka client, no TypeScript loader and no KMS SDK", () => {
  const loaded = (entry: string) => {
    const script = `await import(${JSON.stringify(entry)});
const { createRequire } = await import("node:module");
const files = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify(["kafkajs", "@confluentinc/kafka-javascript", "@platformatic/kafka", "tsx", "esbuild", "prom-client", "@opentelemetry/api", "@aws-sdk/client-kms", "@google-cloud/kms", "@azure/keyvault-keys", "@azure/identity"].filter((p) => files.some((f) => f.includes("/node_modules/" + p + "/")))));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "--eval", script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as string[];
  };
  for (const entry of ["kontract", "kontract/registry", "kontract/testing", "kontract/kafka", "kontract/metrics"]) assert.deepEqual(loaded(entry), [], entry);
  // The check above can see a client being loaded.
  assert.deepEqual(loaded("kafkajs"), ["kafkajs"]);
});

test("the root entry point exports what an application needs, and no internals", async () => {
  const root = await import("../src/index.js");
  assert.deepEqual(Object.keys(root).sort(), [
    "CONTRACT_JSON_SCHEMA", "ContractError", "ContractFileError", "ContractLoadError", "DEFAULT_SENSITIVE_TAGS", "FORMATS", "KontractError", "REDACTED",
    "RegistryError", "RuleCompileError", "RuleViolationError", "SerializationError", "awsKms", "azureKms", "contractToYaml", "contractsToYaml", "createContractStore",
    "createDeserializer", "createEngine", "createFileRegistry", "createMemoryRegistry", "createRestDekRegistry", "createRestRegistry", "createSerializer", "decodeFrame",
    "encodeFrame", "encryptionExecutors", "formatContractErrors", "formatPosition", "fromJavaConfig", "gcpKms", "hcvaultKms", "isErrorCode", "isKontractError", "loadContractFiles", "localKms", "readSchemaIdHeader",
    "schemaIdHeader", "schemaIdHeaderName", "subjectName", "validateContract", "yamlToContract", "yamlToContracts",
  ]);
});

test("importing kontract and kontract/kafka loads no Kafka client; loadKafkaClient loads one on demand", () => {
  // The clients are optional peer dependencies: kafkajs and @confluentinc/kafka-javascript are CommonJS,
  // so anything that loaded them shows in the require cache (an ESM import of CommonJS fills it too).
  const script = `
import { createRequire } from "node:module";
await import("kontract");
const kafka = await import("kontract/kafka");
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => /node_modules\\/(kafkajs|@confluentinc\\/kafka-javascript|@platformatic\\/kafka)\\//.test(f));
const kafkajs = await kafka.loadKafkaClient("kafkajs");
console.log(JSON.stringify({ loaded, kafkajs: typeof kafkajs.Kafka, after: Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes("/kafkajs/")) }));
`;
  const r = spawnSync(process.execPath, ["--input-type=module", "--eval", script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { loaded: [], kafkajs: "function", after: true });
});

function newestSource(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestSource(p) : { path: p, mtimeMs: statSync(p).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}
