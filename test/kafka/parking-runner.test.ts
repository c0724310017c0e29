/**
 * The parking runner on an in-memory park topic (a fake KafkaAccess and
 * producer port; the real broker is in test/integration/kafka-parking): a
 * consumer that crashes while delivering released followers, and is started
 * again from the park topic alone, delivers each follower once and loses
 * none; a failed park write is a typed error and parks nothing; a replay
 * header without proof of origin parks like any record of its key.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConsumedMessage, OutgoingMessage, ProducerPort, RecordHeaders } from "../../src/kafka/client.js";
import { REPLAY_SOURCE_HEADER, type KafkaAccess } from "../../src/kafka/dead-letter-tools.js";
import { ParkError } from "../../src/kafka/errors.js";
import { createParking, type Processed } from "../../src/kafka/parking/runner.js";
import { keyHexOf, parseParkEntry, releaseRecord, restoreParks, type ParkEntry } from "../../src/kafka/parking/state.js";
import type { ParkedRecord } from "../../src/kafka/reports.js";
import { contractConsumer } from "../../src/kafka/index.js";
import { createEngine } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import { createContractStore, createSerializer } from "../../src/serde/index.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeConsumer, fakeProducer, kafkaMessage, testRegistry } from "./fakes.js";

const bytes = (v: Buffer | string | null | undefined): Buffer | null => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v));

/** Topics in memory, one partition each; readTopic reads them through a fake admin and consumer. */
function memoryKafka() {
  const topics = new Map<string, ConsumedMessage[]>();
  const append = (topic: string, m: OutgoingMessage): void => {
    const list = topics.get(topic) ?? [];
    topics.set(topic, list);
    const headers: RecordHeaders = {};
    for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = bytes(v as Buffer | string)!;
    list.push({ key: bytes(m.key), value: bytes(m.value), headers, timestamp: "1700000000000", attributes: 0, offset: String(list.length) });
  };
  const none = async () => {};
  let subscribed = "";
  const access: KafkaAccess = {
    client: "kafkajs",
    kafka: {
      admin: () => ({
        connect: none,
        disconnect: none,
        listTopics: async () => [...topics.keys()],
        createTopics: async ({ topics: list }) => {
          for (const t of list) if (!topics.has(t.topic)) topics.set(t.topic, []);
          return true;
        },
        fetchTopicOffsets: async (t: string) => [{ partition: 0, high: String(topics.get(t)?.length ?? 0), low: "0" }],
      }),
      consumer: () => ({
        connect: none,
        disconnect: none,
        subscribe: async ({ topics: [t] }) => void (subscribed = t!),
        run: async ({ eachBatch }) => {
          const messages = [...(topics.get(subscribed) ?? [])];
          await eachBatch({ batch: { partition: 0, messages, lastOffset: () => String(messages.length - 1) } });
        },
      }),
      producer: () => {
        throw new Error("the runner writes through its producer port");
      },
    },
  };
  let failNext = false;
  const port: ProducerPort = {
    client: "kafkajs",
    async write(topicMessages) {
      if (failNext) {
        failNext = false;
        throw Object.assign(new Error("broker gone"), { retriable: true });
      }
      for (const tm of topicMessages) for (const m of tm.messages) append(tm.topic, m);
      return { placements: [], records: [] };
    },
  };
  return { topics, append, access, port, failWrite: () => void (failNext = true) };
}

/** A source partition's records: `id` is the value; "bad-..." values are dead-lettered. */
const rec = (key: string, offset: number, id: string, headers: RecordHeaders = {}): ConsumedMessage => ({ key: Buffer.from(key), value: Buffer.from(id), headers, timestamp: "1", attributes: 0, offset: String(offset) });

/** A consumer: handler and DLQ, with a handler that can be told to throw once for a value. */
function app() {
  const delivered: string[] = [];
  const dead: string[] = [];
  const throwOnce = new Set<string>();
  const process = async (m: ConsumedMessage): Promise<Processed> => {
    const id = m.value!.toString();
    if (id.startsWith("bad")) {
      dead.push(id);
      return { to: "dlq", dlq: { topic: "t-dlq", partition: 0, offset: String(dead.length - 1) } };
    }
    if (throwOnce.delete(id)) throw new Error(`handler failed on ${id}`);
    delivered.push(id);
    return undefined;
  };
  return { delivered, dead, throwOnce, process };
}

function parkingOn(k: ReturnType<typeof memoryKafka>, parked: ParkedRecord[] = [], verified = false) {
  return createParking({ groupId: "g", access: k.access, refreshMs: 60_000 }, { producer: k.port, verifiedReplay: () => verified, onPark: (r) => void parked.push(r) });
}

const entries = (k: ReturnType<typeof memoryKafka>): ParkEntry[] => (k.topics.get("t-park") ?? []).map(parseParkEntry).filter((e): e is ParkEntry => e !== undefined);

describe("the parking runner", () => {
  it("parks a key behind its dead letter; after a crash mid-delivery a restarted consumer delivers each follower once, none lost", async () => {
    const k = memoryKafka();
    const a = app();
    const parked: ParkedRecord[] = [];
    const first = parkingOn(k, parked);
    const source = [rec("A", 0, "A0"), rec("A", 1, "bad-A1"), rec("A", 2, "A2"), rec("A", 3, "A3"), rec("B", 4, "B4"), rec("A", 5, "A5")];
    for (const m of source) await first.record("t", 0, m, a.process);
    assert.deepEqual(a.delivered, ["A0", "B4"]);
    assert.deepEqual(a.dead, ["bad-A1"]);
    assert.deepEqual(parked.map((p) => [p.offset, p.role, p.episode, p.parkTopic]), [["1", "head", "1", "t-park"], ["2", "follower", "1", "t-park"], ["3", "follower", "1", "t-park"], ["5", "follower", "1", "t-park"]]);

    // An operator releases the park; a consumer started afresh picks it up from the park topic, and its handler fails on A3.
    k.append("t-park", releaseRecord({ group: "g", topic: "t", partition: 0 }, keyHexOf(Buffer.from("A"))!, "1", new Date(0)));
    a.throwOnce.add("A3");
    const second = parkingOn(k);
    await assert.rejects(second.record("t", 0, rec("B", 6, "B6"), a.process), /handler failed on A3/);
    assert.deepEqual(a.delivered, ["A0", "B4", "A2"]);

    // Crashed: a third consumer knows only the park topic. A2 is not delivered again; A3 and A5 are, then B6.
    const third = parkingOn(k);
    await third.record("t", 0, rec("B", 6, "B6"), a.process);
    assert.deepEqual(a.delivered, ["A0", "B4", "A2", "A3", "A5", "B6"]);
    assert.equal(restoreParks(entries(k), { group: "g", topic: "t", partition: 0 }).size, 0, "the park is gone from the park topic");
    // A newer record of A flows.
    await third.record("t", 0, rec("A", 7, "A7"), a.process);
    assert.deepEqual(a.delivered.at(-1), "A7");
  });

  it("a park write that fails is a ParkError: nothing is reported parked, and the record parks once when read again", async () => {
    const k = memoryKafka();
    const a = app();
    const parked: ParkedRecord[] = [];
    const parking = parkingOn(k, parked);
    await parking.record("t", 0, rec("A", 0, "bad-A0"), a.process);
    k.failWrite();
    const e = await parking.record("t", 0, rec("A", 1, "A1"), a.process).catch((x: unknown) => x);
    assert.ok(e instanceof ParkError);
    assert.equal(e.code, "park");
    assert.equal(e.retriable, true, "follows the Kafka error");
    assert.equal(e.parkTopic, "t-park");
    assert.deepEqual(parked.map((p) => p.offset), ["0"]);
    // The client reads the record again (its offset did not move).
    await parking.record("t", 0, rec("A", 1, "A1"), a.process);
    assert.deepEqual(parked.map((p) => p.offset), ["0", "1"]);
    assert.deepEqual(a.delivered, []);
  });

  it("a replay header naming the head, without a verified MAC, parks like any record of its key; with one, it resolves the park", async () => {
    const forged = { [REPLAY_SOURCE_HEADER]: Buffer.from("t-dlq/0/0") };
    for (const verified of [false, true]) {
      const k = memoryKafka();
      const a = app();
      const parking = parkingOn(k, [], verified);
      await parking.record("t", 0, rec("A", 0, "bad-A0"), a.process);
      await parking.record("t", 0, rec("A", 1, "A1"), a.process);
      // The head's bytes, from the head's dead letter (what kontract dlq replay writes), but the replay now passes.
      const replay = { ...rec("A", 2, "bad-A0", forged), value: Buffer.from("bad-A0") };
      await parking.record("t", 0, replay, async (m) => (m === replay ? (a.delivered.push("replayed A0"), undefined) : a.process(m)));
      assert.deepEqual(a.delivered, verified ? ["replayed A0", "A1"] : [], verified ? "resolved: the replay, then its follower" : "parked behind the head");
    }
  });

  it("contractConsumer with park: a record dead-lettered by its rule parks its key, other keys flow; eachBatch is refused", async () => {
    const registry = testRegistry();
    await registry.register("orders-value", contract({ domainRules: [{ name: "smallQty", kind: "CONDITION", mode: "READ", type: "CEL", expr: "message.qty < 10", onFailure: "DLQ" }] }));
    const serializer = createSerializer({ store: createContractStore({ registry, engine: createEngine(), formats: FORMATS }) });
    const bytes = async (qty: number): Promise<Buffer> => {
      const r = await serializer.serialize("orders", order({ id: `q${qty}`, qty }));
      assert.equal(r.kind, "serialized");
      return r.bytes as Buffer;
    };
    const k = memoryKafka();
    const kafka = fakeConsumer();
    const producer = fakeProducer();
    const parked: ParkedRecord[] = [];
    const consumer = contractConsumer(kafka, { registry, key: false, dlq: { producer }, park: { groupId: "g", access: k.access }, onPark: (r) => void parked.push(r) });
    await assert.rejects(consumer.run({ eachBatch: async () => {} }), /parking runs with eachMessage/);
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ value, message }) => void seen.push(`${message.key}:${(value as { id: string }).id}`) });
    const records = [["A", 1], ["A", 50], ["B", 2], ["A", 3]] as const;
    for (const [i, [key, qty]] of records.entries()) await kafka.deliver("orders", 0, [kafkaMessage(i, await bytes(qty), {}, Buffer.from(key))]);
    assert.deepEqual(seen, ["A:q1", "B:q2"]);
    assert.deepEqual(parked.map((p) => [p.offset, p.role]), [["1", "head"], ["3", "follower"]]);
    assert.equal(producer.log.get("orders-dlq")?.length, 1);
    assert.equal(producer.log.get("orders-park")?.length, 2, "the head and its follower, in the park topic");
  });
});
