/**
 * Stateful rules through the real broker (issue 14, "Speed and scale"): the kontract consumer
 * (contractConsumer, eachBatch) reading 1M Avro orders, with and without a stateful rule, on the
 * same topic: the same consumer, only `stateful` added. The stateful side writes its changelog
 * (acks all, once per batch, before the offsets move) with a producer of the same client, in the
 * same process, so the changelog produce is in both its time and its CPU.
 *
 * - uniqueness of `orderId` over a 10-minute window of record time: the records carry timestamps
 *   2 ms apart (1M records span 33 minutes, the window holds 300k keys), every key new;
 * - referential integrity of `customerId` against a 100,000-key reference topic, read as a table
 *   by the stage (its bootstrap, a read of the 100k records, is inside the timed run).
 *
 * Rounds are paired: in each round, per client, the two consumers run back to back on fresh
 * groups, in an order that flips every round; ratios are taken within a round, then their
 * median shown with the lowest and highest, by wall clock and by this process's CPU time per
 * record (which the load of other processes moves less). The stateful side also pays, inside the
 * clock, the creation of its changelog topic (a fresh application id per run, so no run restores
 * another's state). Each stateful run's changelog is checked to hold one entry per record
 * (uniqueness) before it is deleted. Helpers of bench/kafka.bench.ts (bench/kafka/).
 *
 *   node scripts/bench.mjs bench/stateful-kafka.bench.ts [--messages 1000000] [--rounds 3]
 *     [--clients kafkajs,confluent] [--cases unique,reference] [--batch 1000] [--confluent-max-batch N]
 */
import { parseArgs } from "node:util";
import type { Producer } from "kafkajs";
import type { Contract, Rule } from "../src/contract/model.js";
import { changelogTopic, connectKafka, readTopic, type KafkaAccess } from "../src/kafka/index.js";
import { CHANGELOG_ENTRIES_HEADER } from "../src/kafka/changelog-journal.js";
import { unpackEntries } from "../src/kafka/changelog-packed.js";
import { confluentKafka, confluentProducerFor, kontractConsume, kontractRegistry, producerFor, windowed, type ClientId, type ConsumeResult } from "./kafka/contenders.js";
import { acquireInfra, benchKafka, createTopics, deleteTopics } from "./kafka/infra.js";
import { fmt, median, spread, type Spread } from "./kafka/report.js";
import { benchContract, buildWorkload } from "./kafka/workload.js";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "3" },
    batch: { type: "string", default: "1000" },
    clients: { type: "string", default: "kafkajs,confluent" },
    cases: { type: "string", default: "unique,reference" },
    /** js.consumer.max.batch.size of the Confluent consumers (its default: 32): the changelog is written once per batch. */
    "confluent-max-batch": { type: "string" },
    /** stateful.commits of the stateful side: "wrapper" (the Confluent consumer then made with autoCommit false) or "client". */
    commits: { type: "string", default: "wrapper" },
  },
});

const MESSAGES = Number(args.messages);
const ROUNDS = Number(args.rounds);
const BATCH = Number(args.batch);
for (const [name, n] of [["messages", MESSAGES], ["rounds", ROUNDS], ["batch", BATCH]] as const) if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
const CONFLUENT_MAX_BATCH = args["confluent-max-batch"] === undefined ? undefined : Number(args["confluent-max-batch"]);
const COMMITS = args.commits as "wrapper" | "client";
if (COMMITS !== "wrapper" && COMMITS !== "client") throw new Error(`--commits: wrapper or client, got ${COMMITS}`);
const CLIENTS = args.clients.split(",").map((c) => c.trim()) as ClientId[];
for (const c of CLIENTS) if (c !== "kafkajs" && c !== "confluent") throw new Error(`--clients: kafkajs or confluent, got ${c}`);
/** Record time of order i: 2 ms apart, the last one now (older records would fall to the topic's retention). */
const T0 = Date.now() - 2 * MESSAGES;
const KEYS = 100_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

const stateful = (name: string, type: string, expr: string, params: Record<string, string>): Rule => ({ name, kind: "CONDITION", mode: "READ", type, expr, params, onFailure: "DLQ", disabled: true });

interface Case {
  readonly id: "unique" | "reference";
  readonly label: string;
  readonly rule: (referenceTopic: string) => Rule;
}

const ALL_CASES: Case[] = [
  { id: "unique", label: "uniqueness of orderId, 10-minute window", rule: () => stateful("orderIdUnique", "STATEFUL_UNIQUE", "message.orderId", { "unique.window": "10m", "state.copartitioned": "true" }) },
  { id: "reference", label: `reference of customerId, ${KEYS / 1000}k-key table`, rule: (topic) => stateful("customerKnown", "STATEFUL_REFERENCE", "message.customerId", { "reference.topic": topic }) },
];
const CASES = ALL_CASES.filter((c) => args.cases.split(",").includes(c.id));

interface Pair {
  readonly without: ConsumeResult;
  readonly with: ConsumeResult;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const infra = await acquireInfra();
  const kafka = benchKafka(infra);
  const registry = kontractRegistry(infra.registryUrl);
  const run = `sbench-${Date.now().toString(36)}-${process.pid}`;
  const topics: string[] = [];
  const subjects: string[] = [];
  const producers: { disconnect(): Promise<void> }[] = [];
  try {
    const customers = `${run}-customers`;
    await createTopics(kafka, [customers]);
    topics.push(customers);
    const feeder = producerFor(kafka);
    await feeder.connect();
    producers.push(feeder);
    for (let k = 0; k < KEYS; k += 10_000) {
      const messages = Array.from({ length: Math.min(10_000, KEYS - k) }, (_, j) => ({ key: `c-${k + j}`, value: "{}" }));
      await feeder.send({ topic: customers, acks: -1, messages });
    }

    // The stage's admin calls and restore reads on kafkajs for both clients (as the integration tests do):
    // in this bench, with a connectKafka("confluent") access beside the Confluent changelog producer, the Confluent
    // consumer received nothing in 30 s (twice; a minimal script with such an access consumed normally: not understood).
    const access = await connectKafka("kafkajs", infra.brokers);
    // The changelog producer: the consumer's client, fresh per run (kafkajs keeps refreshing the metadata of
    // every topic it wrote to, and fails once the previous run's changelog is deleted). Connected before the clock starts.
    const changelogProducer = async (client: ClientId): Promise<Producer> => {
      const producer = client === "kafkajs" ? producerFor(kafka) : confluentProducerFor(await confluentKafka(infra.brokers));
      await producer.connect();
      return producer;
    };
    const confluent = CLIENTS.includes("confluent") ? await confluentKafka(infra.brokers) : undefined;
    const ctx = { kafka, ...(confluent ? { confluent } : {}), inFlight: 1, registryUrl: infra.registryUrl, consumeTimeoutMs: 120_000 + MESSAGES * 3, ...(CONFLUENT_MAX_BATCH === undefined ? {} : { confluentConsumerConfig: { "js.consumer.max.batch.size": CONFLUENT_MAX_BATCH } }) };

    console.log(
      `Stateful rules through the broker: ${MESSAGES.toLocaleString("en-US")} Avro orders (bench/order.ts, its 5 CEL conditions on produce only), ` +
        `1 partition; contractConsumer with eachBatch, with and without the stateful rule, fresh group each run; ${ROUNDS} paired round(s); ` +
        `${CONFLUENT_MAX_BATCH === undefined ? "" : `Confluent js.consumer.max.batch.size ${CONFLUENT_MAX_BATCH}; `}stateful.commits ${COMMITS}; node ${process.version}\n`,
    );
    const lines: string[] = ["| case | client | without, msgs/s | with, msgs/s | ratio (wall) | ratio (CPU per record) |", "|---|---|---:|---:|---:|---:|"];
    for (const c of CASES) {
      const topic = `${run}-${c.id}`;
      await createTopics(kafka, [topic]);
      topics.push(topic);
      const rule = c.rule(customers);
      const contract: Contract = (() => {
        const base = benchContract(`${run.replace(/-/g, "_")}_${c.id}`, "WRITE");
        return { ...base, ruleSet: { domainRules: [...base.ruleSet!.domainRules!, rule] } };
      })();
      subjects.push(`${topic}-value`);
      await registry.register(`${topic}-value`, contract);
      log(`${c.id}: producing ${MESSAGES.toLocaleString("en-US")} orders (not timed)...`);
      const amountSum = await produce(feeder, registry, topic);

      const pairs = new Map<ClientId, Pair[]>(CLIENTS.map((client) => [client, []]));
      for (let r = 0; r < ROUNDS; r++) {
        for (const client of r % 2 === 0 ? CLIENTS : [...CLIENTS].reverse()) {
          const results: Partial<Record<"without" | "with", ConsumeResult>> = {};
          for (const side of r % 2 === 0 ? (["without", "with"] as const) : (["with", "without"] as const)) {
            (globalThis as { gc?: () => void }).gc?.();
            const group = `${topic}-${client}-${side}-${r}`;
            const applicationId = `${group}-app`;
            const producer = side === "with" ? await changelogProducer(client) : undefined;
            const options = producer ? { stateful: { applicationId, access, producer, commits: COMMITS }, dlq: { producer } } : {};
            // The wrapper's commits on the Confluent client need its consumer made without its own.
            const sideCtx = side === "with" && COMMITS === "wrapper" ? { ...ctx, confluentKafkaJS: { autoCommit: false } } : ctx;
            const res = await kontractConsume(sideCtx, client, topic, MESSAGES, group, options).finally(() => producer?.disconnect());
            if (res.count !== MESSAGES || res.checksum !== amountSum) throw new Error(`${c.id} ${client} ${side}: consumed ${res.count} records with checksum ${res.checksum}, expected ${MESSAGES} and ${amountSum}`);
            if (side === "with") {
              const changelog = changelogTopic(applicationId, topic, rule.name);
              if (c.id === "unique") {
                const n = await changelogEntries(access, changelog);
                if (n !== MESSAGES) throw new Error(`${c.id} ${client}: ${n} changelog entries, expected ${MESSAGES}`);
              }
              await deleteTopics(kafka, [changelog]).catch((e: unknown) => log(`could not delete ${changelog}: ${String(e)}`));
            }
            results[side] = res;
          }
          const pair = { without: results.without!, with: results.with! };
          pairs.get(client)!.push(pair);
          log(`${c.id} round ${r + 1}/${ROUNDS} ${client}: without ${fmt(rate(pair.without))}, with ${fmt(rate(pair.with))} msgs/s (${(rate(pair.with) / rate(pair.without)).toFixed(2)}; CPU ${(cpuPer(pair.without) / cpuPer(pair.with)).toFixed(2)}: ${(cpuPer(pair.without) * 1000).toFixed(2)} and ${(cpuPer(pair.with) * 1000).toFixed(2)} µs per record)`);
        }
      }
      for (const client of CLIENTS) {
        const ps = pairs.get(client)!;
        const wall = spread(ps.map((p) => rate(p.with) / rate(p.without)));
        const cpu = spread(ps.map((p) => cpuPer(p.without) / cpuPer(p.with)));
        lines.push(`| ${c.label} | ${client} | ${fmt(median(ps.map((p) => rate(p.without))))} | ${fmt(median(ps.map((p) => rate(p.with))))} | ${show(wall)} | ${show(cpu)} |`);
      }
    }
    console.log(lines.join("\n"));
  } finally {
    for (const p of producers) await p.disconnect().catch(() => {});
    for (const s of subjects) await registry.deleteSubject(s, { permanent: true }).catch(() => {});
    await deleteTopics(kafka, topics).catch((e: unknown) => log(`could not delete the bench topics: ${String(e)}`));
    log(await infra.release(false));
    log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
}

const rate = (r: ConsumeResult): number => (r.count / r.elapsedMs) * 1000;
const cpuPer = (r: ConsumeResult): number => r.cpuMs / r.count;
const show = (s: Spread): string => `${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;

/** Entries in a changelog: a packed record holds many (src/kafka/stateful.ts). */
async function changelogEntries(access: KafkaAccess, topic: string): Promise<number> {
  let n = 0;
  for (const { message } of await readTopic(access, topic)) {
    const packed = message.headers?.[CHANGELOG_ENTRIES_HEADER];
    n += packed === undefined ? 1 : unpackEntries(message.value, packed.toString()).length;
  }
  return n;
}

/** Produces the orders in chunks (not all held at once), record time 2 ms apart; returns the checksum a consumer must reach. */
async function produce(producer: Producer, registry: ReturnType<typeof kontractRegistry>, topic: string): Promise<number> {
  let amountSum = 0;
  const chunk = 50_000;
  for (let first = 0; first < MESSAGES; first += chunk) {
    const work = await buildWorkload(Math.min(chunk, MESSAGES - first), BATCH, registry, topic, first);
    amountSum += work.amountSum;
    let i = first;
    const batches = work.bytes.map((batch) => batch.map((m) => ({ value: m.value, timestamp: String(T0 + 2 * i++) })));
    await windowed(batches, 4, async (messages) => void (await producer.send({ topic, acks: -1, messages })));
  }
  return amountSum;
}

await main();
