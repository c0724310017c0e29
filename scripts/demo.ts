/**
 * kontract end to end on a local broker and registry: starts them
 * (scripts/infra.sh up), registers an orders contract, produces a mixed batch
 * through the contract producer (bad orders are dead-lettered), consumes the
 * good ones back (PII masked by a READ rule; one handler failure retried through
 * a retry topic and handled on its second attempt; one that fails on every
 * attempt dead-lettered, then replayed from the DLQ once its cause is fixed),
 * and shows a DLQ record.
 *
 *   node --import tsx scripts/demo.ts        (npm run demo)
 *
 * Leaves the broker and registry running; `scripts/infra.sh down` stops them.
 */
import { Kafka, logLevel, type KafkaMessage } from "kafkajs";
import type { Contract } from "../src/contract/model.js";
import { DLQ_HEADERS, REPLAY_SOURCE_HEADER, RETRY_HEADERS, contractConsumer, contractProducer, replayDeadLetters, retryTopics, trackingPartitioner, type KafkaAccess } from "../src/kafka/index.js";
import { createRestRegistry } from "../src/registry/rest/index.js";
import { localInfra, runDemo, say, until } from "./lib/demo-support.js";

const contract: Contract = {
  schemaType: "AVRO",
  schema: JSON.stringify({
    type: "record",
    name: "Order",
    namespace: "demo",
    fields: [
      { name: "id", type: "string" },
      { name: "amount", type: "double" },
      { name: "currency", type: "string" },
      { name: "email", type: "string", "confluent:tags": ["PII"] },
    ],
  }),
  metadata: { properties: { owner: "demo", "application.major.version": "1" } },
  ruleSet: {
    domainRules: [
      { name: "amountPositive", doc: "amount must be positive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" },
      { name: "isoCurrency", doc: "currency is a 3-letter ISO code", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.currency.matches('^[A-Z]{3}$')", onFailure: "DLQ" },
      { name: "bigOrder", doc: "orders over 1000 get a second look", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount <= 1000.0", onFailure: "NONE" },
      { name: "maskPii", kind: "TRANSFORM", mode: "READ", type: "CEL_FIELD", tags: ["PII"], expr: "'***'" },
    ],
  },
};

const orders = [
  { id: "o-1", amount: 42.5, currency: "EUR", email: "ada@example.com" },
  { id: "o-2", amount: -3, currency: "EUR", email: "bob@example.com" },
  { id: "o-3", amount: 1500, currency: "CHF", email: "cleo@example.com" },
  { id: "o-4", amount: 12, currency: "euro", email: "dan@example.com" },
  { id: "o-5", amount: 7.25, currency: "USD", email: "eve@example.com" },
];

async function main(): Promise<void> {
  const { brokers, registryUrl } = localInfra();

  const run = Date.now().toString(36);
  const topic = `demo-orders-${run}`;
  const dlq = `${topic}-dlq`;
  const registry = createRestRegistry({ url: registryUrl });
  await registry.updateConfig(`${topic}-value`, { compatibility: "NONE" });
  const registered = await registry.register(`${topic}-value`, contract);
  say(`\n== registered ${topic}-value version ${registered.version} (id ${registered.id}) with ${contract.ruleSet!.domainRules!.length} rules`);

  const kafka = new Kafka({ clientId: "kontract-demo", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const retry = { attempts: 2, backoff: { delayMs: 1_000 } }; // one retry topic, 1 s later
  await admin.createTopics({ topics: [{ topic }, { topic: dlq }, ...retryTopics(topic, retry).map((t) => ({ topic: t }))], waitForLeaders: true });
  await admin.disconnect();

  const producer = contractProducer(kafka.producer({ createPartitioner: trackingPartitioner() }), { registry, key: false });
  await producer.connect();
  const result = await producer.send({ topic, messages: orders.map((value) => ({ key: value.id, value })) });
  say(`\n== produced ${orders.length} orders to ${topic}`);
  for (const m of result.messages) {
    const id = orders[m.index]!.id;
    if (m.status === "sent") {
      const warn = m.violations.length ? `  (warning: ${m.violations.map((v) => v.rule).join(", ")})` : "";
      say(`  ${id}  sent           ${m.topic}[${m.partition}]@${m.offset}${warn}`);
    } else {
      say(`  ${id}  dead-lettered  ${m.dlqTopic}[${m.partition}]@${m.offset}  rule ${m.rule}: ${m.violations.at(-1)?.message}`);
    }
  }

  const good = result.messages.filter((m) => m.status === "sent").length;
  // The billing handler's first call for o-3 times out: the order goes to the retry topic and comes back 1 s later.
  // o-5's card is refused until the billing team fixes it: both attempts fail, and it is dead-lettered.
  const retried: string[] = [];
  const deadLettered: string[] = [];
  let billingFixed = false;
  const consumer = contractConsumer(kafka.consumer({ groupId: `demo-${run}`, maxWaitTimeInMs: 200 }), {
    registry,
    key: false,
    dlq: { producer: producer.producer },
    retry,
    onRetry: (r) => retried.push(`  ${r.topic}@${r.offset} failed (${r.error.name}) -> ${r.retryTopic}, attempt ${r.attempt} due ${r.due.toISOString()}`),
    onDeadLetter: (r) => deadLettered.push(`  ${r.topic}@${r.offset} failed again (${r.reason} error) -> ${r.dlqTopic}: out of attempts`),
  });
  const consumed: string[] = [];
  let timedOut = false;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic, ...retryTopics(topic, retry)], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic: from, value, message }) => {
      const order = value as { id: string };
      if (order.id === "o-3" && !timedOut) {
        timedOut = true;
        throw new Error("payment service timed out");
      }
      if (order.id === "o-5" && !billingFixed) throw new Error("card refused");
      const replayedFrom = message.headers?.[REPLAY_SOURCE_HEADER]?.toString();
      const attempt = message.headers?.[RETRY_HEADERS.attempt]?.toString() ?? "1";
      consumed.push(`  ${JSON.stringify({ ...order })}  from ${from}, ${replayedFrom ? `replayed from ${replayedFrom}` : `attempt ${attempt}`}`);
    },
  });
  await until(() => consumed.length >= good - 1 && deadLettered.length >= 1);
  say(`\n== consumed ${consumed.length} orders back (READ rule maskPii applied; o-3 succeeded on its second attempt)`);
  for (const line of retried) say(line);
  for (const line of deadLettered) say(line);
  for (const line of consumed) say(line);

  // The cause is fixed: put o-5 back on its topic, byte for byte. Replay is exactly once: a second run sends nothing.
  billingFixed = true;
  const access: KafkaAccess = { client: "kafkajs", kafka: kafka as never };
  const replayed = await replayDeadLetters(access, dlq);
  const again = await replayDeadLetters(access, dlq);
  const skipped = replayed.entries.filter((e) => e.status === "not-replayable").length;
  say(`\n== billing fixed: replayed ${replayed.sent} record from ${dlq} to ${topic} (${skipped} dead-lettered on produce are not replayable: fix the input and produce again); a second replay sent ${again.sent}`);
  await until(() => consumed.length >= good);
  await consumer.disconnect();
  say(consumed.at(-1)!);

  const reader = kafka.consumer({ groupId: `demo-dlq-${run}`, maxWaitTimeInMs: 200 });
  const dead: KafkaMessage[] = [];
  await reader.connect();
  await reader.subscribe({ topics: [dlq], fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => void dead.push(message) });
  await until(() => dead.length >= orders.length - good);
  await reader.disconnect();
  say(`\n== ${dead.length} records in ${dlq}; the first one:`);
  const first = dead[0]!;
  say(`  key    ${first.key?.toString()}`);
  say(`  value  ${first.value?.toString()}   (JSON form, PII redacted)`);
  for (const [name, value] of Object.entries(first.headers ?? {})) {
    if (Object.values(DLQ_HEADERS).includes(name as never)) say(`  ${name.padEnd(40)} ${String(value)}`);
  }

  await producer.disconnect();
  say("\nbroker and registry keep running; stop them with: scripts/infra.sh down");
}

runDemo(main);
