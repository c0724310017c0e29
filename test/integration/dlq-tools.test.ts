/**
 * `kontract dlq` as a library against the real broker and registry: dead
 * letters read back with their rule, subject, origin and redacted violations,
 * filtered and counted; replayed byte for byte to their origin, signed, and
 * exactly once: a second run sends nothing, and a run interrupted inside its
 * transaction leaves no copy behind. Once per client.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Producer } from "kafkajs";
import { dlqCommand } from "../../src/cli/dlq.js";
import { contractConsumer, contractProducer } from "../../src/kafka/index.js";
import { connectKafka, readDeadLetters, readTopic, replayDeadLetters, replayLedgerTopic, REPLAY_SOURCE_HEADER, type KafkaAccess } from "../../src/kafka/dead-letter-tools.js";
import { deadLetterStats } from "../../src/kafka/dead-letters.js";
import { deadLetterMetrics, prometheusSink } from "../../src/metrics/index.js";
import promClient from "prom-client";
import { ensureInfra, uniqueName, waitFor, type Infra } from "../helpers/infra.js";
import { clientsUnderTest, countRecords, createTopics, kafkaFor, register, registryFor, uniqueIdent } from "./kafka-support.js";

const REPLAY_KEY = "a replay key of at least thirty-two bytes!";

let infra: Infra;
before(async () => {
  infra = await ensureInfra();
});


const contract = (ns: string) => ({
  schema: JSON.stringify({ type: "record", name: "Order", namespace: ns, fields: [{ name: "id", type: "string" }, { name: "amount", type: "double" }, { name: "email", type: "string" }] }),
  metadata: { tags: { "**.email": ["PII"] } },
  ruleSet: {
    domainRules: [
      // READ rules: consumers dead-letter the records byte for byte, with their origin; those can be replayed.
      { name: "amountPositive", kind: "CONDITION" as const, mode: "READ" as const, type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" },
      { name: "emailShape", kind: "CONDITION" as const, mode: "READ" as const, type: "CEL", expr: "message.email.contains('@')", onFailure: "DLQ" },
      { name: "notTest", kind: "CONDITION" as const, mode: "WRITE" as const, type: "CEL", expr: "message.id != 'test'", onFailure: "DLQ" },
    ],
  },
});

// The tools take kafkajs-shaped clients (admin, transactions): kafkajs and the Confluent client's KafkaJS API.
for (const client of clientsUnderTest(() => infra).filter((c) => c.name !== "platformatic")) {
  describe(`kontract dlq on ${client.name}`, () => {
    let topic: string;
    let dlq: string;
    let producer: Producer;
    let access: KafkaAccess;
    const metricsRegistry = new promClient.Registry();
    const counted = deadLetterMetrics(prometheusSink(promClient, { registry: metricsRegistry }));

    after(async () => {
      await producer?.disconnect().catch(() => {});
    });

    before(async () => {
      access = await connectKafka(client.name as KafkaAccess["client"], infra.brokers);
      topic = uniqueName("dlqt");
      dlq = `${topic}-dlq`;
      await createTopics(kafkaFor(infra), [topic, { topic: dlq, numPartitions: 2 }]);
      const registry = registryFor(infra);
      await register(registry, `${topic}-value`, contract(uniqueIdent("dlqt")));
      producer = await client.producer();
      const sent = await contractProducer(producer, { registry, key: false, onDeadLetter: counted.produced }).send({
        topic,
        messages: [
          { value: { id: "ok-1", amount: 5, email: "a@example.com" } },
          { value: { id: "neg-1", amount: -1, email: "secret.person@example.com" } },
          { value: { id: "neg-2", amount: -2, email: "b@example.com" } },
          { value: { id: "mail-1", amount: 3, email: "no-at-sign" } },
          { value: { id: "test", amount: 1, email: "t@example.com" } },
        ],
      });
      assert.deepEqual(sent.messages.map((m) => m.status), ["sent", "sent", "sent", "sent", "dead-lettered"]);
      const consumed: string[] = [];
      const consumer = contractConsumer(client.consumer({ groupId: uniqueName("dlqt-first") }), { registry, key: false, dlq: { producer }, onDeadLetter: counted.consumed });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ value }) => void consumed.push((value as { id: string }).id) });
        await waitFor(async () => consumed.length === 1 && (await countRecords(kafkaFor(infra), dlq)) === 4, { timeoutMs: 30_000, what: "one order through, four dead letters" });
      } finally {
        await consumer.disconnect();
      }
    });

    it("inspect: the dead letters with rule, subject, origin and violations, sensitive values redacted; filters; stats", async () => {
      const all = await readDeadLetters(access, dlq);
      assert.deepEqual(all.map((d) => d.rule).sort(), ["amountPositive", "amountPositive", "emailShape", "notTest"]);
      const mail = all.find((d) => d.rule === "emailShape")!;
      assert.deepEqual([mail.subject, mail.mode, mail.origin.topic, mail.origin.partition, mail.origin.offset], [`${topic}-value`, "READ", topic, 0, "3"]);
      assert.equal(mail.violations.at(-1)?.rule, "emailShape");
      assert.ok(!JSON.stringify(all.map((d) => [d.violations, d.exception])).includes("secret.person"));
      // A produce-side dead letter is the message's JSON form, sensitive fields redacted; it has no origin offset.
      const written = all.find((d) => d.rule === "notTest")!;
      assert.equal(written.origin.partition, undefined);
      assert.equal(JSON.parse(written.value!.toString()).email, "<REDACTED>");
      assert.equal((await readDeadLetters(access, dlq, { rule: "amountPositive" })).length, 2);
      assert.equal((await readDeadLetters(access, dlq, { originPartition: 0 })).length, 3);
      assert.equal((await readDeadLetters(access, dlq, { since: new Date(Date.now() + 3_600_000) })).length, 0);
      // Every dead letter counted once, on the side that wrote it.
      const text = await metricsRegistry.metrics();
      assert.match(text, new RegExp(`kontract_dead_letters_total\\{topic="${topic}",dlq_topic="${dlq}",rule_name="amountPositive",reason="rule",side="consume"\\} 2\n`));
      assert.match(text, new RegExp(`kontract_dead_letters_total\\{topic="${topic}",dlq_topic="${dlq}",rule_name="notTest",reason="rule",side="produce"\\} 1\n`));
      const stats = deadLetterStats(all);
      assert.deepEqual(stats.byRule, [["amountPositive", 2], ["emailShape", 1], ["notTest", 1]]);
      assert.equal(stats.byHour.reduce((n, [, c]) => n + c, 0), 4);
    });

    it("replay: a dry run sends nothing; a run sends each dead letter once, byte for byte and signed; a rerun sends none", async () => {
      const dry = await replayDeadLetters(access, dlq, { filter: { rule: "amountPositive" }, dryRun: true });
      assert.deepEqual([dry.sent, dry.entries.map((e) => [e.status, e.target])], [0, [["to-send", topic], ["to-send", topic]]]);
      assert.equal((await readTopic(access, topic)).length, 4, "the dry run sent nothing");

      const run = await replayDeadLetters(access, dlq, { filter: { rule: "amountPositive" }, replayKey: REPLAY_KEY });
      assert.equal(run.sent, 2);
      const again = await replayDeadLetters(access, dlq, { replayKey: REPLAY_KEY });
      assert.deepEqual(again.entries.map((e) => e.status).sort(), ["already-replayed", "already-replayed", "not-replayable", "to-send"]);
      assert.equal(again.sent, 1);
      assert.equal((await replayDeadLetters(access, dlq, { replayKey: REPLAY_KEY })).sent, 0);

      const records = await readTopic(access, topic);
      assert.equal(records.length, 7, "the four originals and three replays, each once");
      const letters = await readDeadLetters(access, dlq, { originPartition: 0 });
      for (const d of letters) {
        const copy = records.find((r) => r.message.headers?.[REPLAY_SOURCE_HEADER]?.toString() === `${dlq}/${d.partition}/${d.offset}`);
        assert.ok(copy, `replay of ${d.partition}/${d.offset}`);
        assert.deepEqual(copy.message.value, d.value, "byte for byte");
      }
    });

    it("replayed records signed with the consumer's key skip the rule that dead-lettered them", async () => {
      const seen: string[] = [];
      const consumer = contractConsumer(client.consumer({ groupId: uniqueName("dlqt-replayed") }), {
        registry: registryFor(infra),
        key: false,
        replay: { keys: [REPLAY_KEY] },
        dlq: { producer, topic: `${topic}-dlq-again` },
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ value }) => void seen.push((value as { id: string }).id) });
        await waitFor(() => seen.length >= 4, { timeoutMs: 30_000, what: "the original and the replays" });
      } finally {
        await consumer.disconnect();
      }
      // The originals that failed are dead-lettered again (to -dlq-again); their signed replays pass.
      assert.deepEqual(seen.sort(), ["mail-1", "neg-1", "neg-2", "ok-1"]);
    });

    it("a replay interrupted inside its transaction leaves no copy: the next run aborts it and sends each record once", async (t) => {
      const t2 = uniqueName("dlqt-crash");
      const dlq2 = `${t2}-dlq`;
      await createTopics(kafkaFor(infra), [t2, dlq2]);
      const raw = await client.producer();
      t.after(() => raw.disconnect().catch(() => {}));
      const origin = (offset: string) => ({ "__rule.name": "r", "__connect.errors.topic": t2, "__connect.errors.partition": "0", "__connect.errors.offset": offset });
      await raw.send({ topic: dlq2, messages: [{ value: "v1", headers: origin("0") }, { value: "v2", headers: origin("1") }] });
      // A run that dies after sending inside its transaction: same transactional id, never committed.
      const crashed = access.kafka.producer(
        access.client === "confluent" ? { kafkaJS: { transactionalId: `kontract-replay-${dlq2}`, idempotent: true, maxInFlightRequests: 1 } } : { transactionalId: `kontract-replay-${dlq2}`, idempotent: true, maxInFlightRequests: 1 },
      );
      await crashed.connect();
      try {
        const txn = await crashed.transaction();
        await txn.send({ topic: t2, messages: [{ value: "v1", headers: { [REPLAY_SOURCE_HEADER]: `${dlq2}/0/0` } }] });
        await txn.send({ topic: replayLedgerTopic(dlq2), messages: [{ key: "0/0", value: "{}" }] }).catch(() => {});

        const run = await replayDeadLetters(access, dlq2);
        assert.equal(run.sent, 2);
      } finally {
        // Fenced by the replay: its disconnect may fail, and must not keep the process alive.
        await crashed.disconnect().catch(() => {});
      }
      const values = (await readTopic(access, t2)).map((r) => r.message.value?.toString()).sort();
      assert.deepEqual(values, ["v1", "v2"], "read committed: the crashed run's copy was aborted");
      assert.equal((await replayDeadLetters(access, dlq2)).sent, 0);
    });
  });
}

describe("the kontract dlq command", () => {
  it("inspect, stats and replay --dry-run then replay, on the brokers from KONTRACT_BROKERS; usage errors name what is wrong", async () => {
    const topic = uniqueName("dlqcli");
    const dlq = `${topic}-dlq`;
    await createTopics(kafkaFor(infra), [topic, dlq]);
    const raw = kafkaFor(infra).producer();
    await raw.connect();
    const dead = (offset: string, rule: string) => ({
      value: `bytes-${offset}`,
      headers: { "__rule.name": rule, "__rule.subject": `${topic}-value`, "__rule.exception": `${rule} failed`, "__connect.errors.topic": topic, "__connect.errors.partition": "0", "__connect.errors.offset": offset },
    });
    await raw.send({ topic: dlq, messages: [dead("0", "amountPositive"), dead("1", "amountPositive"), dead("2", "emailShape")] });
    await raw.disconnect();
    const run = async (...args: string[]) => {
      let out = "";
      const stdout = { write: (s: string) => void (out += s) };
      const code = await dlqCommand(args, { stdout, cwd: process.cwd(), env: { KONTRACT_BROKERS: infra.brokers.join(",") } });
      return { code, out };
    };
    const inspect = await run("inspect", dlq);
    assert.equal(inspect.code, 0);
    assert.match(inspect.out, /^at\s+time \(UTC\)\s+rule\s+subject\s+origin\s+failure/);
    assert.match(inspect.out, new RegExp(`0@2 .* emailShape .* ${topic}\\[0\\]@2 +emailShape failed`));
    assert.match(inspect.out, /3 dead letters in/);
    assert.equal(JSON.parse((await run("inspect", dlq, "--rule", "amountPositive", "--json")).out).length, 2);
    const stats = await run("stats", dlq);
    assert.match(stats.out, /amountPositive +2 +█+\n +emailShape +1 +█+/);
    const dry = await run("replay", dlq, "--dry-run", "--rule", "emailShape");
    assert.match(dry.out, /0@2 +emailShape +would send to dlqcli/);
    assert.match(dry.out, /Would send 1 of 1; 0 already replayed\./);
    assert.match((await run("replay", dlq)).out, /Sent 3 of 3; 0 already replayed\.\nUnsigned/);
    assert.match((await run("replay", dlq)).out, /Sent 0 of 3; 3 already replayed\./);
    await assert.rejects(run("replay", dlq, "--since", "yesterday"), /--since: "yesterday" is neither an ISO time nor an age/);
    await assert.rejects(run("explode", dlq), /give inspect, stats or replay/);
    await assert.rejects(dlqCommand(["inspect", dlq], { stdout: { write: () => true }, cwd: process.cwd(), env: {} }), /no brokers: give --brokers/);
  });
});
