/**
 * Throughput through the real broker and registry (issue #3, "Speed"): order
 * messages (Avro, the 5 CEL conditions of bench/order.ts) produced and consumed by
 *
 *   - plain kafkajs with bytes serialized before the clock starts (the ceiling),
 *   - kafkajs + avsc, no contract (a yardstick: what Avro alone costs),
 *   - kontract's contractProducer / contractConsumer around kafkajs,
 *   - @confluentinc/schemaregistry's AvroSerializer / AvroDeserializer + kafkajs,
 *   - and the first three again on @confluentinc/kafka-javascript's KafkaJS API
 *     ("ck-" contenders) and on @platformatic/kafka ("pk-", Node >= 22.22:
 *     scripts/bench.mjs runs them in a second process on Node 22);
 *     --clients kafkajs to leave them out.
 *
 * One kafkajs producer per round for all, sendBatch of --batch messages with
 * --in-flight calls outstanding (default 1), acks -1, no compression, a fresh 1-partition topic per contender and round;
 * consume with a fresh group and eachBatch until every record was handled,
 * --consume-repeats times per round (a fresh group each time; the round keeps the median;
 * the @confluentinc/schemaregistry reference, in no target and 8-10x slower, once).
 *
 * The machine is shared, so ratios are taken between runs close in time: a
 * client's contenders run back to back (its plain, yardstick and kontract runs
 * side by side), in an order that reverses from one round to the next and, on
 * consume, from one repeat to the next (A B C, C B A, ...), so a contender is
 * not always first or last. The table shows medians; the per-client ratios are
 * the median of the per-round ratios, with their lowest and highest, and the
 * same ratio from this process's CPU time per message, which the load of other
 * processes moves less than the wall clock. See docs/kafka.md, "Kafka throughput".
 *
 *   node --expose-gc --import tsx bench/kafka.bench.ts [--messages 100000] [--batch 1000]
 *     [--in-flight 1] [--rounds 5] [--consume-repeats 3] [--warmup 5000] [--rules-on-read] [--keep-infra]
 */
import { parseArgs } from "node:util";
import type { Producer } from "kafkajs";
import type { RuleMode } from "../src/contract/model.js";
import {
  avscKafkajs,
  confluentKafka,
  confluentKafkajs,
  confluentProducerFor,
  cpuMs,
  kontractKafkajs,
  kontractRegistry,
  plainKafkajs,
  producerFor,
  warmups,
  type ClientId,
  type Contender,
  type Workload,
} from "./kafka/contenders.js";
import { acquireInfra, benchKafka, countRecords, createTopics, deleteTopics } from "./kafka/infra.js";
import { loadPlatformatic, platformaticContenders, platformaticProducerFor, type PlatformaticContext } from "./kafka/platformatic.js";
import { emptyRound, median, roundLine, summarize, table, useContenders, type ContenderId, type RoundResult } from "./kafka/report.js";
import { benchContract, buildWorkload } from "./kafka/workload.js";
// Only for the byte-identity check below.
import { SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import { AvroSerializer } from "@confluentinc/schemaregistry/dist/serde/avro.js";
import { SerdeType } from "@confluentinc/schemaregistry/dist/serde/serde.js";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    batch: { type: "string", default: "1000" },
    "in-flight": { type: "string", default: "1" },
    rounds: { type: "string", default: "5" },
    "consume-repeats": { type: "string", default: "3" },
    warmup: { type: "string", default: "5000" },
    "rules-on-read": { type: "boolean", default: false },
    "keep-infra": { type: "boolean", default: false },
    /** Comma-separated: kafkajs, confluent (@confluentinc/kafka-javascript's KafkaJS API), platformatic (@platformatic/kafka). */
    clients: { type: "string", default: "kafkajs,confluent" },
  },
});

function positive(name: string, text: string, allowZero = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${JSON.stringify(text)}`);
  return n;
}

const MESSAGES = positive("messages", args.messages);
const BATCH = positive("batch", args.batch);
const IN_FLIGHT = positive("in-flight", args["in-flight"]);
const ROUNDS = positive("rounds", args.rounds);
const CONSUME_REPEATS = positive("consume-repeats", args["consume-repeats"]);
const WARMUP = Math.min(positive("warmup", args.warmup, true), MESSAGES);
const RULE_MODE: RuleMode = args["rules-on-read"] ? "WRITEREAD" : "WRITE";
const CLIENTS = args.clients.split(",").map((c) => c.trim()) as ClientId[];
for (const c of CLIENTS) if (c !== "kafkajs" && c !== "confluent" && c !== "platformatic") throw new Error(`--clients: unknown client ${c} (kafkajs, confluent, platformatic)`);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
/** Set once loaded, when @platformatic/kafka is among the clients. */
let platformaticCtx: PlatformaticContext | undefined;
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const t0 = performance.now();
  const infra = await acquireInfra();
  const kafka = benchKafka(infra);
  const brokers = infra.brokers;
  const registry = kontractRegistry(infra.registryUrl);
  const run = `kbench-${Date.now().toString(36)}-${process.pid}`;
  const contract = benchContract(run.replace(/-/g, "_"), RULE_MODE);
  const subjects: string[] = [];
  const register = async (topic: string) => {
    subjects.push(`${topic}-value`);
    await registry.register(`${topic}-value`, contract);
  };

  try {
    const prepTopic = `${run}-prep`;
    await register(prepTopic);
    log(`serializing ${MESSAGES.toLocaleString("en-US")} orders with kontract for plain kafkajs (not timed)...`);
    const work = await buildWorkload(MESSAGES, BATCH, registry, prepTopic);
    const warm = WARMUP > 0 ? await buildWorkload(WARMUP, BATCH, registry, prepTopic) : undefined;
    const confluent = CLIENTS.includes("confluent") ? await confluentKafka(infra.brokers) : undefined;
    const ctx = { kafka, ...(confluent ? { confluent } : {}), inFlight: IN_FLIGHT, registryUrl: infra.registryUrl, consumeTimeoutMs: 60_000 + MESSAGES * 3 };
    const pctx: PlatformaticContext | undefined = CLIENTS.includes("platformatic") ? { ...ctx, platformatic: await loadPlatformatic(), brokers } : undefined;
    platformaticCtx = pctx;
    const schemaId = (await registry.getVersion(`${prepTopic}-value`, "latest")).id;
    const contenders: Contender[] = CLIENTS.flatMap((client) =>
      client === "platformatic"
        ? platformaticContenders(pctx!, contract.schema, schemaId)
        : [plainKafkajs(ctx, client), avscKafkajs(ctx, contract.schema, schemaId, client), kontractKafkajs(ctx, client), ...(client === "kafkajs" ? [confluentKafkajs(ctx)] : [])],
    );
    useContenders(contenders.map((c) => c.id));
    // Only with the @confluentinc/schemaregistry contender (kafkajs), which registers the CEL executor it needs.
    const identical = CLIENTS.includes("kafkajs") ? await sameBytesAsConfluent(infra.registryUrl, prepTopic, work) : undefined;
    const labels = Object.fromEntries(contenders.map((c) => [c.id, c.label])) as Record<ContenderId, string>;

    console.log(
      [
        `Kafka throughput: ${MESSAGES.toLocaleString("en-US")} Avro orders (${Math.round(work.byteSum / MESSAGES)} bytes on the wire each), ` +
          `5 CEL conditions (mode ${RULE_MODE}${RULE_MODE === "WRITE" ? ": rules run on produce only" : ": rules run on produce and consume"})`,
        `sendBatch of ${BATCH}, ${IN_FLIGHT === 1 ? "one" : `up to ${IN_FLIGHT}`} in flight, acks -1, no compression; fresh 1-partition topic per contender and round; ` +
          `consume: fresh group, eachBatch, timed from the first fetch request`,
        `${ROUNDS} round(s), each client's contenders back to back in alternating order, consume ${CONSUME_REPEATS} time(s) per round; medians${WARMUP > 0 ? `, after a ${WARMUP.toLocaleString("en-US")}-message warm-up round` : ""}; ` +
          `${identical === undefined ? "" : `kontract and @confluentinc wire bytes ${identical ? "identical" : "DIFFER"}; `}broker ${infra.brokers.join(",")}, registry ${infra.registryUrl}; node ${process.version}`,
        "",
      ].join("\n"),
    );

    const rounds: RoundResult[] = [];
    const total = ROUNDS + (warm ? 1 : 0);
    for (let r = 0; r < total; r++) {
      const isWarmup = warm !== undefined && r === 0;
      const name = isWarmup ? "warm-up" : `round ${rounds.length + 1}/${ROUNDS}`;
      const result = await round(`${run}-r${r}`, roundOrder(contenders, r), isWarmup ? warm : work);
      log(roundLine(name, result));
      if (!isWarmup) rounds.push(result);
    }
    console.log(table(summarize(rounds), labels));
    if (warmups.length > 0) {
      const ms = [...warmups].sort((a, b) => a - b);
      console.log(
        `kontract consumers start with their contract looked up and compiled, as a running consumer's is (the yardstick's avsc type is built before the clock too); ` +
          `that one-time start took ${ms[ms.length >> 1]!.toFixed(1)} ms per consumer (median; ${ms[0]!.toFixed(1)}-${ms[ms.length - 1]!.toFixed(1)})`,
      );
    }
  } finally {
    for (const s of subjects) await registry.deleteSubject(s, { permanent: true }).catch(() => {});
    log(await infra.release(args["keep-infra"]));
    log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }

  /** One round: every contender produces to its own fresh topic, then every contender consumes it back. */
  async function round(prefix: string, order: readonly Contender[], w: Workload): Promise<RoundResult> {
    const topics = new Map(order.map((c) => [c.id, `${prefix}-${c.id}`]));
    await createTopics(kafka, [...topics.values()]);
    for (const t of topics.values()) await register(t);
    const result = emptyRound();
    const producers = new Map<ClientId, Producer>();
    try {
      for (const client of new Set(order.map((c) => c.client))) {
        if (client === "platformatic") {
          // No connect(): it connects on first use. disconnect() is its close().
          const p = platformaticProducerFor(platformaticCtx!);
          producers.set(client, Object.assign(p, { disconnect: () => p.close() }) as unknown as Producer);
          continue;
        }
        const producer = client === "kafkajs" ? producerFor(kafka) : confluentProducerFor(await confluentKafka(brokers));
        producers.set(client, producer);
        await producer.connect();
      }
      for (const c of order) {
        gc();
        const producer = producers.get(c.client)!;
        const start = performance.now();
        const cpu = process.cpuUsage();
        await c.produce(producer, topics.get(c.id)!, w);
        result.rate.produce[c.id] = (w.count / (performance.now() - start)) * 1000;
        result.cpuUs.produce[c.id] = (cpuMs(process.cpuUsage(cpu)) * 1000) / w.count;
        const n = await countRecords(kafka, topics.get(c.id)!);
        if (n !== w.count) throw new Error(`${c.label}: ${n} records on its topic, expected ${w.count}`);
      }
      const rates = new Map<ContenderId, number[]>(order.map((c) => [c.id, []]));
      const cpus = new Map<ContenderId, number[]>(order.map((c) => [c.id, []]));
      for (let rep = 0; rep < CONSUME_REPEATS; rep++) {
        for (const c of rep % 2 === 0 ? order : reversedWithinClients(order)) {
          // The Confluent reference is 8-10x slower and in no target: once per round is enough for its ratio.
          if (c.id === "confluent" && rep > 0) continue;
          gc();
          const topic = topics.get(c.id)!;
          const res = await c.consume(topic, w, `${topic}-group-${rep}`);
          if (res.count !== w.count || res.checksum !== c.expectedChecksum(w)) {
            throw new Error(`${c.label}: consumed ${res.count} records with checksum ${res.checksum}, expected ${w.count} and ${c.expectedChecksum(w)}`);
          }
          rates.get(c.id)!.push((w.count / res.elapsedMs) * 1000);
          cpus.get(c.id)!.push((res.cpuMs * 1000) / w.count);
        }
      }
      for (const c of order) {
        result.rate.consume[c.id] = median(rates.get(c.id)!);
        result.cpuUs.consume[c.id] = median(cpus.get(c.id)!);
      }
    } finally {
      for (const p of producers.values()) await p.disconnect().catch(() => {});
      await deleteTopics(kafka, [...topics.values()]).catch((e: unknown) => log(`could not delete the round's topics: ${String(e)}`));
    }
    return result;
  }
}

/**
 * Round r's order: clients in turn (rotated), each client's contenders back to
 * back, so the ratios within a client compare runs close in time; within a
 * client, reversed every other round, so no contender is always first.
 */
function roundOrder(contenders: readonly Contender[], r: number): Contender[] {
  const clients = [...new Set(contenders.map((c) => c.client))];
  const rotated = clients.map((_, i) => clients[(i + r) % clients.length]!);
  return rotated.flatMap((client) => {
    const mine = contenders.filter((c) => c.client === client);
    return r % 2 === 0 ? mine : mine.reverse();
  });
}

/** The same clients in the same order, each client's contenders in reverse: A B C, then C B A on the next pass. */
function reversedWithinClients(order: readonly Contender[]): Contender[] {
  const clients = [...new Set(order.map((c) => c.client))];
  return clients.flatMap((client) => order.filter((c) => c.client === client).reverse());
}

/** The reference client must write the same bytes, or the consume side would not compare like with like. Needs its CelExecutor registered (confluentKafkajs does). */
async function sameBytesAsConfluent(registryUrl: string, topic: string, work: Workload): Promise<boolean> {
  const serializer = new AvroSerializer(SchemaRegistryClient.newClient({ baseURLs: [registryUrl] }), SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false });
  for (let i = 0; i < Math.min(2, work.values[0]!.length); i++) {
    const theirs = await serializer.serialize(topic, work.values[0]![i]);
    if (!theirs.equals(work.bytes[0]![i]!.value as Buffer)) return false;
  }
  return true;
}

await main();
