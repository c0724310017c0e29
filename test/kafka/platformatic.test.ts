/**
 * The @platformatic/kafka adapter without a broker: an in-process stand-in
 * for its producer (send with Buffers only, one base offset per partition)
 * and its consumer (consume() opens a stream of messages, each with a
 * commit(); a new stream starts at the committed offsets). The contract
 * wrappers run on them as on the real client: in order per partition,
 * commits only past handled and dead-lettered records, a retriable failure
 * retried in place, a non-retriable one holding its partition until resume().
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { KontractError, RegistryError } from "../../src/errors.js";
import { consumerPort, producerPort } from "../../src/kafka/clients/index.js";
import { platformaticCanRetry } from "../../src/kafka/clients/platformatic.js";
import { DLQ_HEADERS, DeadLetterError, contractConsumer, contractProducer, type ConsumedDeadLetter } from "../../src/kafka/index.js";
import { contract, order } from "../helpers/contracts.js";
import { waitFor } from "../helpers/infra.js";
import { testRegistry, valueBytes } from "./fakes.js";
import type { RecordToProduce } from "../../src/kafka/clients/platformatic.js";

type SentRecord = RecordToProduce;

/** Like its Producer: Buffers only (a string throws, as its default serializers do), offsets per topic and partition. */
function fakeProducer() {
  const log = new Map<string, SentRecord[]>();
  const calls: Record<string, unknown>[] = [];
  let failure: unknown;
  return {
    type: "producer",
    log,
    calls,
    failNext(e: unknown) {
      failure = e;
    },
    asStream() {
      throw new Error("not used");
    },
    async send(options: { messages: SentRecord[] } & Record<string, unknown>) {
      calls.push(options);
      if (failure) {
        const e = failure;
        failure = undefined;
        throw e;
      }
      const first = new Map<string, { topic: string; partition: number; offset: bigint }>();
      for (const m of options.messages) {
        for (const b of [m.key, m.value, ...(m.headers ? [...m.headers].flat() : [])]) if (b !== undefined && !Buffer.isBuffer(b)) throw new TypeError("not a Buffer");
        const partition = m.partition ?? 0;
        const list = log.get(`${m.topic}/${partition}`) ?? [];
        log.set(`${m.topic}/${partition}`, list);
        const k = `${m.topic}/${partition}`;
        if (!first.has(k)) first.set(k, { topic: m.topic, partition, offset: BigInt(list.length) });
        list.push(m);
      }
      return { offsets: [...first.values()] };
    },
  };
}

interface FakeMessage {
  key?: Buffer;
  value?: Buffer;
  headerEntries: [Buffer, Buffer][];
  topic: string;
  partition: number;
  timestamp: bigint;
  offset: bigint;
  commit(callback: (e?: Error | null) => void): void;
}

/**
 * Like its Consumer: consume() opens a stream (object mode) that first yields
 * every record of `topics` from the committed offsets (mode "committed") or
 * the beginning, in fetches of up to `fetchSize` records of one partition;
 * append() adds records to the log and to the open stream.
 */
function fakeConsumer(fetchSize = 100) {
  const logs = new Map<string, { key?: Buffer; value?: Buffer; headers: [Buffer, Buffer][] }[]>();
  const committed = new Map<string, bigint>();
  const consumeCalls: Record<string, unknown>[] = [];
  let stream: (Readable & { close(): Promise<void> }) | undefined;
  const message = (topic: string, partition: number, offset: number): FakeMessage => {
    const r = logs.get(`${topic}/${partition}`)![offset]!;
    return {
      ...(r.key ? { key: r.key } : {}),
      ...(r.value ? { value: r.value } : {}),
      headerEntries: r.headers,
      topic,
      partition,
      timestamp: 1_700_000_000_000n + BigInt(offset),
      offset: BigInt(offset),
      commit: (callback) => {
        // Out of its group, the client queues the commit and drops it when the stream closes.
        if (!self.active) return;
        const k = `${topic}/${partition}`;
        if ((committed.get(k) ?? -1n) < BigInt(offset + 1)) committed.set(k, BigInt(offset + 1));
        callback(null);
      },
    };
  };
  const self = {
    type: "consumer",
    closed: false,
    /** A group member; the client leaves it false for good when a rejoin fails. */
    active: true,
    joins: 0,
    isActive: () => self.active,
    async joinGroup() {
      self.joins++;
      self.active = true;
    },
    committed,
    consumeCalls,
    get stream() {
      return stream;
    },
    async consume(options: Record<string, unknown>) {
      consumeCalls.push({ ...options });
      const s = new Readable({ objectMode: true, read() {} }) as Readable & { close(): Promise<void> };
      s.close = async () => {
        s.push(null);
        s.destroy();
      };
      stream = s;
      for (const [k, log] of logs) {
        const [topic, p] = k.split("/") as [string, string];
        if (!(options.topics as string[]).includes(topic)) continue;
        const from = options.mode === "committed" ? Number(committed.get(k) ?? 0n) : 0;
        for (let i = from; i < log.length; i += fetchSize) for (let j = i; j < Math.min(i + fetchSize, log.length); j++) s.push(message(topic, Number(p), j));
      }
      return s;
    },
    append(topic: string, partition: number, records: { key?: Buffer; value?: Buffer; headers?: [Buffer, Buffer][] }[]) {
      const k = `${topic}/${partition}`;
      const log = logs.get(k) ?? [];
      logs.set(k, log);
      for (const r of records) {
        log.push({ ...r, headers: r.headers ?? [] });
        stream?.push(message(topic, partition, log.length - 1));
      }
    },
    async close(force?: boolean) {
      if (!force && stream && !stream.destroyed) throw new Error("Cannot leave group while consuming messages.");
      await stream?.close();
      self.closed = true;
    },
  };
  return self;
}

const readRule = (name: string, expr: string, onFailure: string): Rule => ({ name, kind: "CONDITION", mode: "READ", type: "CEL", expr, onFailure });

async function setup(rules: Rule[], fetchSize?: number) {
  const registry = testRegistry();
  await registry.register("orders-value", contract({ domainRules: rules }));
  const bytes = valueBytes(registry);
  const client = fakeConsumer(fetchSize);
  const dlq = fakeProducer();
  const dead: ConsumedDeadLetter[] = [];
  const consumer = contractConsumer(client, { registry, key: false, dlq: { producer: dlq }, onDeadLetter: (d) => dead.push(d) });
  return { registry, bytes, client, dlq, consumer, dead };
}

const committedAt = (client: ReturnType<typeof fakeConsumer>, topic: string, partition: number) => client.committed.get(`${topic}/${partition}`);
const ids = (values: unknown[]) => values.map((v) => (v as { id: string }).id);
/** Orders "o-<i>", with amount -1 for the ids in `bad`. */
async function orders(bytes: (v: unknown) => Promise<Buffer>, n: number, bad: number[] = [], from = 0): Promise<{ value: Buffer }[]> {
  const values = await Promise.all(Array.from({ length: n }, (_, i) => bytes(order({ id: `o-${from + i}`, amount: bad.includes(from + i) ? -1 : 10 }))));
  return values.map((value) => ({ value }));
}

describe("@platformatic/kafka adapter: produce", () => {
  it("a producer with type 'producer', send() and asStream() gets the platformatic adapter", () => {
    assert.equal(producerPort(fakeProducer()).client, "platformatic");
    assert.equal(consumerPort(fakeConsumer()).client, "platformatic");
  });

  it("sends Buffers only (keys, values, header names and values), timestamps as bigint; placements from the per-partition offsets", async () => {
    const p = fakeProducer();
    p.log.set("a/1", [{ topic: "a" }, { topic: "a" }]);
    const written = await producerPort(p).write(
      [
        { topic: "a", messages: [{ key: "k", value: "v1", partition: 1, headers: { h: "x", r: ["1", Buffer.from("2")] }, timestamp: "1700000000000" }, { value: null, partition: 1 }] },
        { topic: "b", messages: [{ value: Buffer.from("b1") }] },
      ],
      { acks: -1, timeout: 5_000, compression: 1 },
    );
    const call = p.calls[0]!;
    assert.equal(call.acks, -1);
    assert.equal(call.compression, "gzip");
    assert.equal("timeout" in call, false, "the client's timeout is its own option");
    const [first, tombstone] = p.log.get("a/1")!.slice(2);
    assert.deepEqual([first!.key, first!.value, first!.timestamp], [Buffer.from("k"), Buffer.from("v1"), 1_700_000_000_000n]);
    assert.deepEqual(
      [...first!.headers!].map(([k, v]) => [k.toString(), v.toString()]),
      [
        ["h", "x"],
        ["r", "1"],
        ["r", "2"],
      ],
    );
    assert.equal(tombstone!.value, undefined);
    assert.deepEqual(
      written.placements.map((x) => [x.partition, x.offset]),
      [
        [1, "2"],
        [1, "3"],
        [0, "0"],
      ],
    );
    assert.deepEqual(written.records[0], { topicName: "a", partition: 1, errorCode: 0, baseOffset: "2" });
  });

  it("a write error is retriable as its canRetry flags say: any false wins, none leaves it as is", async () => {
    const nested = (canRetry: boolean[]) => Object.assign(new AggregateError(canRetry.map((c) => Object.assign(new Error("x"), { canRetry: c })), "Producing messages failed."), { code: "PLT_KFK_MULTIPLE" });
    assert.equal(platformaticCanRetry(nested([true, true])), true);
    assert.equal(platformaticCanRetry(nested([true, false])), false);
    assert.equal(platformaticCanRetry(new Error("plain")), undefined);

    const registry = testRegistry();
    await registry.register("orders-value", contract({ domainRules: [{ name: "positive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" }] }));
    const p = fakeProducer();
    const producer = contractProducer(p, { registry, key: false });
    for (const [flags, retriable] of [
      [[true], true],
      [[false], false],
    ] as const) {
      p.failNext(nested([...flags]));
      const err = await producer.send({ topic: "orders", messages: [{ value: order({ amount: -1 }) }] }).catch((e: unknown) => e);
      assert.ok(err instanceof DeadLetterError, String(err));
      assert.equal(err.retriable, retriable);
    }
  });
});

describe("@platformatic/kafka adapter: consume", () => {
  it("eachMessage: decoded in order per partition, kafkajs-shaped records, commits past the handled and the dead-lettered", async () => {
    const { bytes, client, consumer, dlq, dead } = await setup([readRule("positive", "message.amount > 0.0", "DLQ")]);
    client.append("orders", 0, await orders(bytes, 5, [3]));
    client.append("orders", 1, [{ key: Buffer.from("k"), value: await bytes(order({ id: "p1" })), headers: [[Buffer.from("h"), Buffer.from("1")], [Buffer.from("h"), Buffer.from("2")]] }]);
    const seen: { topic: string; partition: number; id: string; offset: string; key: unknown; headers: unknown; timestamp: string }[] = [];
    await consumer.run({
      topics: ["orders"],
      eachMessage: async ({ topic, partition, value, message }) =>
        void seen.push({ topic, partition, id: (value as { id: string }).id, offset: message.offset, key: message.key, headers: message.headers, timestamp: message.timestamp }),
    });
    await waitFor(() => seen.length === 5, { timeoutMs: 5_000, what: "every passing record" });
    assert.deepEqual(
      seen.filter((s) => s.partition === 0).map((s) => [s.id, s.offset]),
      [
        ["o-0", "0"],
        ["o-1", "1"],
        ["o-2", "2"],
        ["o-4", "4"],
      ],
    );
    const p1 = seen.find((s) => s.partition === 1)!;
    assert.deepEqual(p1.key, Buffer.from("k"));
    assert.deepEqual(p1.headers, { h: [Buffer.from("1"), Buffer.from("2")] });
    assert.equal(p1.timestamp, "1700000000000");
    assert.equal(seen[0]!.key, null);
    // No headers: none, as the Confluent client gives (the port allows it), not an object made per record.
    assert.equal(seen[0]!.headers, undefined);
    assert.deepEqual(
      dead.map((d) => [d.offset, d.rule]),
      [["3", "positive"]],
    );
    assert.equal(dlq.log.get("orders-dlq/0")!.length, 1);
    assert.equal(dlq.log.get("orders-dlq/0")![0]!.headers!.size > 0, true);
    assert.equal(committedAt(client, "orders", 0), 5n);
    assert.equal(committedAt(client, "orders", 1), 1n);
    assert.equal(client.consumeCalls[0]!.autocommit, false, "the stream must not commit what it fetched");
    assert.equal(client.consumeCalls[0]!.mode, "committed");
    await consumer.close();
    assert.equal(client.closed, true);
  });

  it("ERROR (onError stop): the partition is held at the record, uncommitted, the others go on; resume() reads it again from the committed offset", async () => {
    const { bytes, client, consumer } = await setup([readRule("positive", "message.amount > 0.0", "ERROR")]);
    client.append("orders", 0, await orders(bytes, 4, [1]));
    client.append("orders", 1, await orders(bytes, 2, [], 10));
    const handled: string[] = [];
    await consumer.run({ topics: ["orders"], eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
    await waitFor(() => consumer.paused().length === 1 && handled.length === 3, { timeoutMs: 5_000, what: "partition 0 held, partition 1 handled" });
    assert.deepEqual(consumer.paused(), [{ topic: "orders", partitions: [0] }]);
    assert.deepEqual(handled, ["o-0", "o-10", "o-11"]);
    assert.equal(committedAt(client, "orders", 0), 1n, "not past the failing record");
    // Later records of a held partition are not handled either.
    client.append("orders", 0, await orders(bytes, 1, [], 4));
    await sleep(50);
    assert.deepEqual(handled, ["o-0", "o-10", "o-11"]);

    // The "fix": the record is read again from the committed offset and now fails as before; a good record replaces it.
    client.append("orders", 1, await orders(bytes, 1, [], 12));
    consumer.resume([{ topic: "orders" }]);
    await waitFor(() => client.consumeCalls.length === 2 && consumer.paused().length === 1 && handled.includes("o-12"), { timeoutMs: 5_000, what: "a new stream, held again" });
    assert.equal(client.consumeCalls[1]!.mode, "committed");
    assert.deepEqual(handled, ["o-0", "o-10", "o-11", "o-12"], "nothing handled twice, nothing past the held record");
    await consumer.close();
  });

  it("a retriable failure (registry down) is retried in place: the partition waits, nothing is skipped or dead-lettered", async () => {
    const { bytes, client, consumer, registry, dead } = await setup([]);
    client.append("orders", 0, await orders(bytes, 3));
    registry.down = true;
    const handled: string[] = [];
    await consumer.run({ topics: ["orders"], retry: { initialRetryTime: 5, maxRetryTime: 20 }, eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
    await waitFor(() => (registry.calls.get("getById") ?? 0) >= 3, { timeoutMs: 5_000, what: "retries" });
    assert.deepEqual(handled, []);
    assert.deepEqual(consumer.paused(), []);
    registry.down = false;
    await waitFor(() => handled.length === 3, { timeoutMs: 5_000, what: "the records once the registry is back" });
    assert.deepEqual(handled, ["o-0", "o-1", "o-2"]);
    assert.deepEqual(dead, []);
    assert.equal(committedAt(client, "orders", 0), 3n);
    await consumer.close();
  });

  it("a handler that throws is retried with the same record; pause() holds the partition after the record", async () => {
    const { bytes, client, consumer } = await setup([]);
    client.append("orders", 0, await orders(bytes, 4));
    const attempts: string[] = [];
    let thrown = false;
    await consumer.run({
      topics: ["orders"],
      retry: { initialRetryTime: 1, maxRetryTime: 1 },
      eachMessage: async ({ value, pause }) => {
        const id = (value as { id: string }).id;
        attempts.push(id);
        if (id === "o-1" && !thrown) {
          thrown = true;
          throw new Error("handler bug");
        }
        if (id === "o-2") pause();
      },
    });
    await waitFor(() => consumer.paused().length === 1, { timeoutMs: 5_000, what: "paused after o-2" });
    assert.deepEqual(attempts, ["o-0", "o-1", "o-1", "o-2"]);
    assert.equal(committedAt(client, "orders", 0), 3n, "o-2 done");
    consumer.resume([{ topic: "orders", partitions: [0] }]);
    await waitFor(() => attempts.includes("o-3"), { timeoutMs: 5_000, what: "o-3 after resume" });
    await consumer.close();
  });

  it("eachBatch: one batch per partition run, dead letters written before the handler, the failing record holds the partition", async () => {
    const { bytes, client, consumer, dead } = await setup([readRule("positive", "message.amount > 0.0", "DLQ"), readRule("small", "message.qty < 100", "ERROR")], 3);
    const records = await orders(bytes, 5, [1]);
    records.push({ value: await bytes(order({ id: "o-5", qty: 500 })) }, { value: await bytes(order({ id: "o-6" })) });
    client.append("orders", 0, records);
    const batches: { ids: string[]; first: string | null; dead: string[] }[] = [];
    await consumer.run({
      topics: ["orders"],
      eachBatch: async ({ batch, messages, deadLettered }) => void batches.push({ ids: ids(messages.map((m) => m.value)), first: batch.firstOffset(), dead: deadLettered.map((d) => d.offset) }),
    });
    await waitFor(() => consumer.paused().length === 1, { timeoutMs: 5_000, what: "held at o-5" });
    // The stream hands over what it holds: all seven records in one run; decoding stops at o-5 (ERROR).
    assert.deepEqual(batches, [{ ids: ["o-0", "o-2", "o-3", "o-4"], first: "0", dead: ["1"] }]);
    assert.deepEqual(
      dead.map((d) => d.offset),
      ["1"],
    );
    assert.equal(committedAt(client, "orders", 0), 5n, "through o-4, not o-5");
    await consumer.close();
  });

  it("eachBatch without auto-resolve: only resolved offsets are committed", async () => {
    const { bytes, client, consumer } = await setup([]);
    client.append("orders", 0, await orders(bytes, 4));
    let calls = 0;
    await consumer.run({
      topics: ["orders"],
      eachBatchAutoResolve: false,
      eachBatch: async ({ resolveOffset }) => {
        calls++;
        resolveOffset("1");
      },
    });
    await waitFor(() => calls === 1 && committedAt(client, "orders", 0) !== undefined, { timeoutMs: 5_000, what: "the batch" });
    assert.equal(committedAt(client, "orders", 0), 2n);
    await consumer.close();
  });

  it("close(): stops the run, closes the stream first (the client refuses to leave its group with one open); run() twice and autocommit are refused", async () => {
    const { client, consumer } = await setup([]);
    await consumer.run({ topics: ["orders"], eachMessage: async () => {} });
    await assert.rejects(consumer.run({ topics: ["orders"], eachMessage: async () => {} }), (e: unknown) => e instanceof KontractError && e.code === "usage");
    await consumer.close();
    assert.equal(client.closed, true);
    assert.equal(client.stream!.destroyed, true);

    const other = await setup([]);
    await assert.rejects(other.consumer.run({ topics: ["orders"], autocommit: true, eachMessage: async () => {} }), /autocommit/);
  });

  it("the client closed through its own close(true) ends the run: the records after the one in hand are not handed over", async () => {
    const { bytes, client, consumer } = await setup([]);
    client.append("orders", 0, await orders(bytes, 3));
    const seen: string[] = [];
    await consumer.run({
      topics: ["orders"],
      eachMessage: async ({ value }) => {
        seen.push((value as { id: string }).id);
        // The application (or a test's disconnect) closes the client itself, not through the wrapper.
        if (seen.length === 1) await client.close(true);
      },
    });
    // The partition run commits past what it handled once it ends.
    await waitFor(() => committedAt(client, "orders", 0) !== undefined, { timeoutMs: 5_000, what: "the partition run's commit" });
    await consumer.close();
    assert.deepEqual(seen, ["o-0"]);
    assert.equal(committedAt(client, "orders", 0), 1n);
  });

  it("a stream that fails is opened again from the committed offsets, after onRestart", async () => {
    const { bytes, client, consumer } = await setup([]);
    client.append("orders", 0, await orders(bytes, 2));
    const handled: string[] = [];
    const restarts: unknown[] = [];
    await consumer.run({
      topics: ["orders"],
      retry: { initialRetryTime: 1, maxRetryTime: 1 },
      onRestart: (e: unknown) => void restarts.push(e),
      eachMessage: async ({ value }) => void handled.push((value as { id: string }).id),
    });
    await waitFor(() => handled.length === 2, { timeoutMs: 5_000, what: "the first records" });
    client.stream!.destroy(new RegistryError("broker gone", { retriable: true }));
    await waitFor(() => client.consumeCalls.length === 2, { timeoutMs: 5_000, what: "a new stream" });
    client.append("orders", 0, await orders(bytes, 1, [], 2));
    await waitFor(() => handled.length === 3, { timeoutMs: 5_000, what: "the record after the restart" });
    assert.deepEqual(handled, ["o-0", "o-1", "o-2"]);
    assert.equal((restarts[0] as Error).message, "broker gone");
    await consumer.close();
  });

  it("a consumer left out of its group (a broker restart, no rejoin) joins again before handling on: no commit dropped, nothing handled twice", async () => {
    const { bytes, client, consumer } = await setup([]);
    client.append("orders", 0, await orders(bytes, 2));
    const handled: string[] = [];
    await consumer.run({ topics: ["orders"], eachMessage: async ({ value }) => void handled.push((value as { id: string }).id) });
    await waitFor(() => committedAt(client, "orders", 0) === 2n, { timeoutMs: 5_000, what: "the first two committed" });
    client.active = false;
    client.append("orders", 0, await orders(bytes, 2, [], 2));
    await waitFor(() => committedAt(client, "orders", 0) === 4n, { timeoutMs: 5_000, what: "the next two committed after a rejoin" });
    assert.equal(client.joins, 1);
    assert.equal(client.consumeCalls.length, 2, "a new stream, from the committed offsets");
    assert.deepEqual(handled, ["o-0", "o-1", "o-2", "o-3"], "each once");
    await consumer.close();
  });

  it("records of a partition a rebalance moved away (fetched before it) are left to its new owner: not handled, not committed, no rejoin", async () => {
    const { bytes, client, consumer } = await setup([]);
    client.append("orders", 0, await orders(bytes, 2));
    client.append("orders", 1, await orders(bytes, 2, [], 10));
    // The group gave this consumer partition 0 only; the stream still holds partition 1's records.
    Object.assign(client, { assignments: [{ topic: "orders", partitions: [0] }] });
    const seen: string[] = [];
    await consumer.run({ topics: ["orders"], eachMessage: async ({ partition, value }) => void seen.push(`${partition}:${(value as { id: string }).id}`) });
    await waitFor(() => committedAt(client, "orders", 0) === 2n, { timeoutMs: 5_000, what: "partition 0 handled" });
    client.append("orders", 0, await orders(bytes, 1, [], 2));
    await waitFor(() => committedAt(client, "orders", 0) === 3n, { timeoutMs: 5_000, what: "a later record of partition 0" });
    await consumer.close();
    assert.deepEqual(seen, ["0:o-0", "0:o-1", "0:o-2"]);
    assert.equal(committedAt(client, "orders", 1), undefined);
    assert.deepEqual([client.consumeCalls.length, client.joins], [1, 0], "the stream is not reopened (which would rejoin the group)");
  });

  it("DLQ headers of a consumed record keep its partition and offset", async () => {
    const { bytes, client, consumer, dlq } = await setup([readRule("positive", "message.amount > 0.0", "DLQ")]);
    client.append("orders", 2, await orders(bytes, 2, [1]));
    await consumer.run({ topics: ["orders"], eachMessage: async () => {} });
    await waitFor(() => dlq.log.has("orders-dlq/0"), { timeoutMs: 5_000, what: "the dead letter" });
    const headers = new Map([...dlq.log.get("orders-dlq/0")![0]!.headers!].map(([k, v]) => [k.toString(), v.toString()]));
    assert.equal(headers.get(DLQ_HEADERS.partition), "2");
    assert.equal(headers.get(DLQ_HEADERS.offset), "1");
    await consumer.close();
  });
});
