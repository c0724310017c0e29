/**
 * The contract workflow end to end on the local broker and registry: a
 * contract authored in YAML is planned and pushed, a running producer writes
 * through it, a new rule is diffed, planned and pushed, and the same producer
 * (no restart) enforces it once its cached "latest" version expires.
 *
 *   node --import tsx scripts/demo-workflow.ts        (npm run demo:workflow)
 *
 * Works in a temporary folder; leaves the broker and registry running
 * (`scripts/infra.sh down` stops them).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { diffCommand } from "../src/cli/diff.js";
import { planCommand, pushCommand } from "../src/cli/registry-commands.js";
import { contractConsumer, contractProducer, trackingPartitioner } from "../src/kafka/index.js";
import { createRestRegistry } from "../src/registry/rest/index.js";
import { localInfra, runDemo, say, until } from "./lib/demo-support.js";

/** How long producers and consumers trust their cached "latest" version: the delay before a pushed rule is enforced. */
const LATEST_TTL_MS = 1_000;

const run = Date.now().toString(36);
const topic = `workflow-orders-${run}`;
const subject = `${topic}-value`;

const SCHEMA = `schema:
  type: record
  name: Order
  namespace: demo.workflow
  fields:
    - {name: id, type: string}
    - {name: amount, type: double}
    - {name: currency, type: string}
    - {name: email, type: string, "confluent:tags": [PII]}`;

const RULES_V1 = `    - name: amountPositive
      kind: CONDITION
      mode: WRITE
      type: CEL
      expr: message.amount > 0.0
      onFailure: DLQ
    - name: maskPii
      kind: TRANSFORM
      mode: READ
      type: CEL_FIELD
      tags: [PII]
      expr: "'***'"`;

const V1 = `subject: ${subject}
version: 1
${SCHEMA}
ruleSet:
  domainRules:
${RULES_V1}
`;

/** v2: the same schema, one rule more. Confluent registers it as a new version with the same schema. */
const V2 = `${V1}---
subject: ${subject}
version: 2
${SCHEMA}
ruleSet:
  domainRules:
${RULES_V1}
    - name: maxAmount
      doc: orders over 1000 need manual approval
      kind: CONDITION
      mode: WRITE
      type: CEL
      expr: message.amount <= 1000.0
      onFailure: DLQ
`;

async function main(): Promise<void> {
  const { brokers, registryUrl } = localInfra();

  const dir = mkdtempSync(join(tmpdir(), "kontract-workflow-"));
  try {
    mkdirSync(join(dir, "rules"));
    const io = { stdout: process.stdout, cwd: dir, env: { KONTRACT_REGISTRY_URL: registryUrl } };
    const kontract = async (command: typeof planCommand, args: string[]): Promise<number> => {
      say(`\n$ kontract ${command === planCommand ? "plan" : command === pushCommand ? "push" : "diff"} ${args.join(" ")}`);
      return command(args, io);
    };

    say(`\n== 1. author rules/orders.yaml: ${subject} v1 (amountPositive, maskPii), then plan and push`);
    writeFileSync(join(dir, "rules", "orders.yaml"), V1);
    await kontract(planCommand, ["rules"]);
    await kontract(pushCommand, ["rules"]);

    const kafka = new Kafka({ clientId: "kontract-workflow", brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic }, { topic: `${topic}-dlq` }], waitForLeaders: true });
    await admin.disconnect();

    // One producer for the whole run: it picks up v2 by itself.
    const registry = createRestRegistry({ url: registryUrl });
    const producer = contractProducer(kafka.producer({ createPartitioner: trackingPartitioner() }), { registry, key: false, latestCacheTtlMs: LATEST_TTL_MS });
    await producer.connect();
    const send = async (orders: { id: string; amount: number; currency: string; email: string }[]) => {
      const result = await producer.send({ topic, messages: orders.map((value) => ({ key: value.id, value })) });
      for (const m of result.messages) {
        const id = orders[m.index]!.id;
        if (m.status === "sent") say(`  ${id}  sent           ${m.topic}@${m.offset}`);
        else say(`  ${id}  dead-lettered  ${m.dlqTopic}@${m.offset}  by rule ${m.rule}`);
      }
      return result.messages.filter((m) => m.status === "sent").length;
    };

    say(`\n== 2. a producer writes with the latest version (v1)`);
    let sent = await send([
      { id: "o-1", amount: 42.5, currency: "EUR", email: "ada@example.com" },
      { id: "o-2", amount: 2500, currency: "CHF", email: "bob@example.com" },
      { id: "o-3", amount: -3, currency: "EUR", email: "cleo@example.com" },
    ]);

    say(`\n== 3. a rule change: v2 adds maxAmount (amount <= 1000, onFailure DLQ); diff against the registry, plan, push`);
    writeFileSync(join(dir, "rules", "orders.yaml"), V2);
    await kontract(diffCommand, ["registry", "rules", "--no-fixtures"]);
    await kontract(planCommand, ["rules"]);
    await kontract(pushCommand, ["rules"]);

    say(`\n== 4. the same producer, no restart: once its cached latest version is ${LATEST_TTL_MS} ms old it writes with v2`);
    await new Promise((r) => setTimeout(r, LATEST_TTL_MS + 100));
    sent += await send([
      { id: "o-4", amount: 2500, currency: "CHF", email: "dan@example.com" },
      { id: "o-5", amount: 12, currency: "USD", email: "eve@example.com" },
    ]);

    say(`\n== 5. a consumer reads what was sent (PII masked by the READ rule)`);
    const consumer = contractConsumer(kafka.consumer({ groupId: `workflow-${run}`, maxWaitTimeInMs: 200 }), { registry, key: false });
    const consumed: unknown[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ value }) => void consumed.push(value) });
    await until(() => consumed.length >= sent);
    await consumer.disconnect();
    for (const v of consumed) say(`  ${JSON.stringify(v)}`);
    await producer.disconnect();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  say("\nbroker and registry keep running; stop them with: scripts/infra.sh down");
}

runDemo(main);
