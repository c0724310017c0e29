/**
 * kontract vs the reference (@confluentinc/schemaregistry 1.10.1), same process,
 * same messages, same contracts, both on in-process registries.
 *
 *   npm run bench            the table (about a minute)
 *   npm run bench -- --soak  also 1M messages through kontract, heap sampled (memory must stay flat)
 *   npm run bench -- --only ENCRYPT   only the cases whose name contains the text
 *   npm run bench -- --cpu            rates per CPU-second of this process instead of per wall second:
 *                                     on a loaded shared machine, time spent descheduled then counts for neither side
 */
import {
  AvroSerializer,
  CelExecutor,
  CelFieldExecutor,
  FieldEncryptionExecutor,
  LocalKmsDriver,
  JsonSerializer,
  ProtobufSerializer,
  SchemaRegistryClient,
  SerdeType,
} from "@confluentinc/schemaregistry";
import { create, createMutableRegistry } from "@bufbuild/protobuf";
import { execFileSync } from "node:child_process";
import type { Contract, Rule } from "../src/contract/model.js";
import promClient from "prom-client";
import { createEngine, encryptionExecutors, type EngineObserver } from "../src/engine/index.js";
import { createMemoryDekRegistry } from "../src/registry/memory-dek-registry.js";
import { prometheusSink, ruleMetrics } from "../src/metrics/index.js";
import { FORMATS } from "../src/format/index.js";
import { protobufFormat } from "../src/format/protobuf/index.js";
import { createFileRegistry } from "../src/registry/file-registry.js";
import { createContractStore, createSerializer, type Serializer } from "../src/serde/index.js";
import { measure, median, table, trackPeakRss, type CaseResult } from "./harness.js";
import {
  FIVE_CONDITIONS,
  ONE_CONDITION,
  ONE_CONDITION_PROTO,
  ORDER_AVSC,
  ORDER_JSON_SCHEMA,
  ORDER_PROTO,
  PII_FIELD_RULE,
  orderProtoInit,
  orderValue,
} from "./order.js";

CelExecutor.register();
CelFieldExecutor.register();
FieldEncryptionExecutor.register();
LocalKmsDriver.register();

const REFERENCE = "@confluentinc/schemaregistry";
const OURS = "kontract";

interface Case {
  name: string;
  schemaType: "AVRO" | "JSON" | "PROTOBUF";
  schema: string;
  rules: Rule[];
  metadata?: Contract["metadata"];
}

/** The local KMS secret both clients get as executor config (never in the contract). */
const KMS_CONFIG = { secret: "bench-secret" };
/** ENCRYPT on one field: email, tagged by a metadata wildcard (street keeps only its PII tag). */
const ENCRYPT_EMAIL: Pick<Case, "rules" | "metadata"> = {
  metadata: { tags: { "**.email": ["ENCRYPTED"] } },
  rules: [
    {
      name: "encryptEmail",
      kind: "TRANSFORM",
      mode: "WRITEREAD",
      type: "ENCRYPT",
      tags: ["ENCRYPTED"],
      params: { "encrypt.kek.name": "bench-kek", "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "bench-key" },
      onFailure: "ERROR,ERROR",
    },
  ],
};

const CASES: Case[] = [
  { name: "Avro, no rules", schemaType: "AVRO", schema: ORDER_AVSC, rules: [] },
  { name: "Avro, 1 CEL condition", schemaType: "AVRO", schema: ORDER_AVSC, rules: ONE_CONDITION },
  { name: "Avro, 5 CEL conditions", schemaType: "AVRO", schema: ORDER_AVSC, rules: FIVE_CONDITIONS },
  { name: "Avro, CEL_FIELD on PII fields", schemaType: "AVRO", schema: ORDER_AVSC, rules: PII_FIELD_RULE },
  { name: "JSON Schema, 1 CEL condition", schemaType: "JSON", schema: ORDER_JSON_SCHEMA, rules: ONE_CONDITION },
  { name: "Protobuf, 1 CEL condition", schemaType: "PROTOBUF", schema: ORDER_PROTO, rules: ONE_CONDITION_PROTO },
  { name: "Avro, ENCRYPT 1 PII field (AES256_GCM)", schemaType: "AVRO", schema: ORDER_AVSC, ...ENCRYPT_EMAIL },
];

async function referenceSerializer(c: Case, topic: string) {
  const client = SchemaRegistryClient.newClient({ baseURLs: ["mock://"], cacheCapacity: 1000 } as never);
  const ruleSet = c.rules.length ? { domainRules: c.rules } : undefined;
  const conf = { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig: KMS_CONFIG } as never;
  switch (c.schemaType) {
    case "AVRO":
      await client.register(`${topic}-value`, { schemaType: "AVRO", schema: c.schema, ...(ruleSet ? { ruleSet } : {}), ...(c.metadata ? { metadata: c.metadata } : {}) } as never, false);
      return new AvroSerializer(client, SerdeType.VALUE, conf);
    case "JSON":
      await client.register(`${topic}-value`, { schemaType: "JSON", schema: c.schema, ...(ruleSet ? { ruleSet } : {}) } as never, false);
      return new JsonSerializer(client, SerdeType.VALUE, conf);
    case "PROTOBUF": {
      // The reference registers Protobuf schemas as serialized descriptors: let it auto-register, then add the rules.
      const desc = protobufDesc();
      const registry = createMutableRegistry(desc.message as never) as never;
      const auto = new ProtobufSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true, registry } as never);
      await auto.serialize(topic, create(desc.message as never, orderProtoInit(0) as never));
      const registered = await client.getLatestSchemaMetadata(`${topic}-value`);
      await client.register(`${topic}-value`, { schemaType: "PROTOBUF", schema: registered.schema, ...(ruleSet ? { ruleSet } : {}) } as never, false);
      return new ProtobufSerializer(client, SerdeType.VALUE, { ...(conf as object), registry } as never);
    }
  }
}

let protoCache: { file: unknown; message: unknown } | undefined;
function protobufDesc() {
  if (!protoCache) {
    const compiled = protobufFormat.compile({ schema: ORDER_PROTO, schemaType: "PROTOBUF" }) as unknown as { registry: { getFile(n: string): unknown; getMessage(n: string): unknown } };
    const message = compiled.registry.getMessage("com.acme.orders.Order") as { file: unknown };
    protoCache = { file: message.file, message };
  }
  return protoCache;
}

async function kontractSerializer(c: Case, topic: string, observer?: EngineObserver): Promise<Serializer> {
  const registry = createFileRegistry({ documents: [] });
  const contract: Contract = { schema: c.schema, schemaType: c.schemaType, ...(c.rules.length ? { ruleSet: { domainRules: c.rules } } : {}), ...(c.metadata ? { metadata: c.metadata } : {}) };
  await registry.register(`${topic}-value`, contract);
  // The DEK registry in memory, as the reference's mock://: the first message creates the DEK, the rest reuse it.
  const executors = encryptionExecutors({ dekRegistry: createMemoryDekRegistry(), config: KMS_CONFIG });
  const store = createContractStore({ registry, engine: createEngine(observer ? { observer, executors } : { executors }), formats: FORMATS });
  return createSerializer({ store, writerSchema: { use: "latest" } });
}

function messages(c: Case, forReference: boolean): (i: number) => unknown {
  // Pre-build a pool so message construction is not what we measure.
  const pool: unknown[] = [];
  for (let i = 0; i < 1024; i++) {
    if (c.schemaType === "PROTOBUF") pool.push(create(protobufDesc().message as never, orderProtoInit(i) as never));
    else if (c.schemaType === "AVRO" && forReference) pool.push({ ...orderValue(i), note: orderValue(i).note });
    else pool.push(orderValue(i));
  }
  return (i) => pool[i & 1023];
}

async function main(): Promise<void> {
  const soak = process.argv.includes("--soak");
  const peak = trackPeakRss();
  const results: CaseResult[] = [];
  const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
  const clock = process.argv.includes("--cpu") ? "cpu" : "wall";
  for (const [n, c] of CASES.entries()) {
    if (only !== undefined && !c.name.includes(only)) continue;
    const topic = `bench-${n}`;
    const ref = await referenceSerializer(c, topic);
    const ours = await kontractSerializer(c, topic);
    const refMsg = messages(c, true);
    const ourMsg = messages(c, false);
    // Both must accept the message before we time anything.
    await ref.serialize(topic, refMsg(0));
    const check = await ours.serialize(topic, ourMsg(0));
    if (check.kind !== "serialized") throw new Error(`${c.name}: kontract rejected the bench message: ${JSON.stringify(check.outcome.violations)}`);
    const r = await measure(
      c.name,
      [
        { name: REFERENCE, run: (i) => ref.serialize(topic, refMsg(i)) },
        { name: OURS, run: (i) => ours.serialize(topic, ourMsg(i)) },
      ],
      { clock },
    );
    results.push(r);
    process.stderr.write(`${c.name}: ${(r.rates[OURS]! / r.rates[REFERENCE]!).toFixed(1)}x\n`);
  }
  console.log(table(results, REFERENCE, OURS, peak()));
  if (clock === "cpu") console.log("(rates per CPU-second of this process: --cpu)");
  // --only limits these too: they take most of a full run's time.
  const shares = CASES.flatMap((c, n) => (only === undefined || c.name.includes(only) ? [`${c.name} ${metricsShare(n).toFixed(2)}`] : []));
  console.log(`\nrule metrics on (kontract/metrics into prom-client, default timeEvery), as a share of kontract without them: ${shares.join(", ")}`);
  if (soak) await soakTest();
}

/**
 * Metrics on vs off, each in its own process as an application runs one of
 * them: in one process the two share the engine's compiled code, and each
 * slows the other's (measured 0.74-0.85 there against 0.95 apart). Rates are
 * CPU time, so the other tenants of a shared machine weigh less; pairs
 * alternate which goes first, and the medians are compared.
 */
function metricsShare(n: number): number {
  const rate = (variant: "on" | "off"): number =>
    Number(execFileSync(process.execPath, [...process.execArgv, process.argv[1]!], { env: { ...process.env, [SOLO]: `${n}:${variant}` }, encoding: "utf8" }));
  const on: number[] = [];
  const off: number[] = [];
  for (let k = 0; k < 3; k++) {
    if (k % 2 === 0) off.push(rate("off"));
    on.push(rate("on"));
    if (k % 2 === 1) off.push(rate("off"));
  }
  process.stderr.write(`${CASES[n]!.name}: metrics on ${on.map(Math.round).join(" ")}, off ${off.map(Math.round).join(" ")} msgs per CPU-second\n`);
  return median(on) / median(off);
}

/** One contender alone in this process (see metricsShare): prints its rate. */
async function solo(spec: string): Promise<void> {
  const [n, variant] = spec.split(":");
  const c = CASES[Number(n)]!;
  const topic = `solo-${n}`;
  const observer = variant === "on" ? ruleMetrics(prometheusSink(promClient, { registry: new promClient.Registry() })) : undefined;
  const s = await kontractSerializer(c, topic, observer);
  const msg = messages(c, false);
  const check = await s.serialize(topic, msg(0));
  if (check.kind !== "serialized") throw new Error(`${c.name}: kontract rejected the bench message`);
  const r = await measure(c.name, [{ name: variant!, run: (i) => s.serialize(topic, msg(i)) }], { clock: "cpu" });
  process.stdout.write(String(r.rates[variant!]));
}

/** 1M messages through kontract: heap after GC must not grow with the message count. */
async function soakTest(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const c = CASES[2]!;
  const ours = await kontractSerializer(c, "soak");
  const msg = messages(c, false);
  const samples: number[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const r = ours.serialize("soak", msg(i));
    if (r instanceof Promise) await r;
    if (i % 100_000 === 0) {
      gc?.();
      samples.push(process.memoryUsage().heapUsed / 1024 / 1024);
    }
  }
  gc?.();
  samples.push(process.memoryUsage().heapUsed / 1024 / 1024);
  console.log(`\nsoak: 1,000,000 messages (${c.name}), heap after GC every 100k (MB): ${samples.map((s) => s.toFixed(1)).join(" ")}${gc ? "" : " (run with node --expose-gc for exact numbers)"}`);
}

const SOLO = "KONTRACT_BENCH_SOLO";
if (process.env[SOLO] !== undefined) await solo(process.env[SOLO]);
else await main();
