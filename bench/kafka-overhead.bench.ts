/**
 * What kontract costs per record without any Kafka client: the Kafka bench's
 * order contract (bench/order.ts, five CEL conditions, WRITE as in
 * `bench:kafka`) in a memory registry, with fake clients that hand over or
 * take records at once.
 *
 * Consume: contractConsumer's eachBatch over a fake kafkajs consumer and over
 * @platformatic/kafka's adapter with a fake message stream, each against the
 * bench's yardstick on the same records (a bare avsc decode of each batch into
 * an array) and against the records merely summed (what the fakes themselves
 * cost); on the fake kafkajs consumer also a fresh contractConsumer per run (its
 * first record fetching and compiling the contract, as in the Kafka bench) and
 * eachMessage. `--async-hooks` turns on Node's promise hooks, as the Confluent
 * client's AsyncLocalStorage does in its process. Produce: contractProducer over a fake @platformatic/kafka producer,
 * against the same fake fed by avsc (encode and the 5-byte prefix) and by
 * nothing (the adapter's record conversion alone).
 *
 * CPU time of this process per record; the rows of a section run interleaved,
 * RUNS times each, and print their median and range. No broker: it tells how
 * much of a client's per-record budget the contract layer takes (docs/kafka.md).
 *
 *   node scripts/bench.mjs bench/kafka-overhead.bench.ts [--only consume|produce] [--batch N] [--async-hooks]
 */
import avsc from "avsc";
import { AsyncLocalStorage } from "node:async_hooks";
import { parseArgs } from "node:util";
import { contractConsumer, contractProducer } from "../src/kafka/index.js";
import { platformaticProducer, type StreamMessage } from "../src/kafka/clients/platformatic.js";
import type { ConsumedMessage, EachBatchPayload, RunConfig } from "../src/kafka/client.js";
import { createMemoryRegistry } from "../src/registry/index.js";
import { createContractStore, createSerializer } from "../src/serde/index.js";
import { FIVE_CONDITIONS, ORDER_AVSC, orderValue } from "./order.js";

const { values: args } = parseArgs({ options: { only: { type: "string" }, batch: { type: "string" }, runs: { type: "string" }, rows: { type: "string" }, "async-hooks": { type: "boolean" } } });
// As in a process with the Confluent client, whose AsyncLocalStorage turns on Node's promise hooks:
// every Promise then costs a hook call (node:async_hooks).
if (args["async-hooks"]) new AsyncLocalStorage<object>().enterWith({});
const RECORDS = 100_000;
const N = Number(args.batch ?? 1000);
const BATCHES = Math.ceil(RECORDS / N);
const RUNS = Number(args.runs ?? 9);

const registry = createMemoryRegistry();
await registry.register("t-value", { schemaType: "AVRO", schema: ORDER_AVSC, ruleSet: { domainRules: FIVE_CONDITIONS.map((r) => ({ ...r, mode: "WRITE" as const })) } });
const type = avsc.Type.forSchema(JSON.parse(ORDER_AVSC) as avsc.Schema);
const prefix = Buffer.from([0, 0, 0, 0, 1]);
const values = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: N }, (_, i) => orderValue(b * N + i)));
const encoded = values.map((b) => b.map((v) => ({ value: Buffer.concat([prefix, type.toBuffer(v)]) })));
const tenths = (o: { amount: number }) => Math.round(o.amount * 10);

/** Runs every row RUNS times, interleaved; CPU µs per record, sorted. */
async function measure(all: readonly (readonly [string, () => Promise<number>])[]): Promise<void> {
  const rows = args.rows === undefined ? all : all.filter(([label]) => label.includes(args.rows!));
  const times = rows.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) {
    for (const [i, [, run]] of rows.entries()) {
      const t = process.cpuUsage();
      const count = await run();
      const u = process.cpuUsage(t);
      if (count !== BATCHES * N) throw new Error(`${rows[i]![0]}: ${count} records handled, not ${BATCHES * N}`);
      times[i]!.push((u.user + u.system) / count);
    }
  }
  for (const [i, [label]] of rows.entries()) {
    const xs = times[i]!.sort((a, b) => a - b);
    console.log(`  ${label.padEnd(66)} ${xs[RUNS >> 1]!.toFixed(2)}  (${xs[0]!.toFixed(2)}-${xs[RUNS - 1]!.toFixed(2)})`);
  }
}

// ---- consume ----

/** kafkajs's consumed records (its KafkaMessage): values cut from one fetch buffer per batch, as kafkajs's are. */
function kafkajsRecords(): ConsumedMessage[][] {
  let offset = 0;
  return encoded.map((batch) => {
    const whole = Buffer.concat(batch.map((m) => m.value));
    let at = 0;
    return batch.map((m) => {
      const value = whole.subarray(at, (at += m.value.length));
      return { magicByte: 2, attributes: 0, timestamp: "1700000000000", offset: String(offset++), key: null, value, headers: {}, isControlRecord: false, batchContext: {} } as ConsumedMessage;
    });
  });
}
const kafkajsBatches = kafkajsRecords();

/** A kafkajs consumer whose run hands every batch over at once. */
function fakeKafkajs() {
  return {
    async run(config: RunConfig): Promise<void> {
      for (const messages of kafkajsBatches) {
        const batch = { topic: "t", partition: 0, highWatermark: "0", messages, isEmpty: () => false, firstOffset: () => "0", lastOffset: () => "0", offsetLag: () => "0", offsetLagLow: () => "0" };
        const payload: EachBatchPayload = {
          batch,
          resolveOffset() {},
          heartbeat: async () => {},
          pause: () => () => {},
          commitOffsetsIfNecessary: async () => {},
          uncommittedOffsets: () => ({}),
          isRunning: () => true,
          isStale: () => false,
        };
        if (config.eachBatch) await config.eachBatch(payload);
        else for (const message of messages) await config.eachMessage!({ topic: "t", partition: 0, message, heartbeat: payload.heartbeat, pause: payload.pause });
      }
    },
  };
}

function platformaticChunks(): StreamMessage[][] {
  let offset = 0n;
  const commit = (cb: (e?: Error | null) => void) => cb();
  return kafkajsBatches.map((b) => b.map((m) => ({ value: m.value!, headerEntries: [], topic: "t", partition: 0, timestamp: 1700000000000n, offset: offset++, commit })));
}
const chunks = platformaticChunks();

/** A @platformatic/kafka consumer whose stream, opened per consume(), holds one chunk at a time. */
function fakePlatformatic() {
  const stream = () => {
    let listener: (() => void) | undefined;
    let c = 0;
    let current: StreamMessage[] = [];
    let i = 0;
    const s = {
      read(): StreamMessage | null {
        if (i < current.length) return current[i++]!;
        if (c < chunks.length) {
          current = chunks[c++]!;
          i = 0;
          setImmediate(() => listener?.());
        }
        return null;
      },
      on(event: string, l: () => void) {
        if (event === "readable") listener = l;
        return s;
      },
      close: async () => {},
    };
    return s;
  };
  return {
    type: "consumer",
    closed: false,
    // The adapter reads at once; the first read() finds the stream empty and brings the first chunk.
    consume: async () => stream(),
    close: async () => {},
    isActive: () => true,
    joinGroup: async () => {},
  };
}

/** Feeds every chunk of `chunks` to `handle` as the bench's plain and avsc contenders read a stream. */
function platformaticChunked(handle: (chunk: StreamMessage[]) => number): Promise<number> {
  return new Promise((resolve) => {
    let count = 0;
    for (const chunk of chunks) count += handle(chunk);
    setImmediate(() => resolve(count));
  });
}

const CONSUMER_OPTIONS = { registry, key: false, poisonPill: "fail" } as const;

/**
 * contractConsumer over `consumer`, made once: each call runs it over every
 * record (steady state: the contract is cached, as after a consumer's first
 * record). `stop` ends a run whose client does not end by itself.
 */
function kontractOn(consumer: object, stop?: (c: { close(): Promise<void> }) => Promise<void>): () => Promise<number> {
  const made = contractConsumer<{ amount: number }>(consumer as never, CONSUMER_OPTIONS);
  return kontractRun(() => made, stop);
}

/**
 * As the Kafka bench's runs do: a fresh contractConsumer (and so a fresh contract store) per run,
 * whose first record resolves and compiles the contract inside the measured 100k records.
 */
function kontractFresh(consumer: () => object, stop?: (c: { close(): Promise<void> }) => Promise<void>): () => Promise<number> {
  return kontractRun(() => contractConsumer<{ amount: number }>(consumer() as never, CONSUMER_OPTIONS), stop);
}

function kontractRun(make: () => ReturnType<typeof contractConsumer<{ amount: number }>>, stop?: (c: { close(): Promise<void> }) => Promise<void>): () => Promise<number> {
  return async () => {
    const contract = make();
    let count = 0;
    let check = 0;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const running = contract.run({
      topics: ["t"],
      eachBatch: async ({ messages }: { messages: readonly { value: { amount: number } | null }[] }) => {
        for (const m of messages) check += tenths(m.value!);
        count += messages.length;
        if (count === BATCHES * N) finish();
      },
    } as never);
    await Promise.race([running, done]);
    await done;
    if (stop) await stop(contract as unknown as { close(): Promise<void> });
    if (check === 0) throw new Error("nothing decoded");
    return count;
  };
}

/** contractConsumer over a fake kafkajs consumer, made once, eachMessage: the wrapper's cost per record when records come one by one. */
function kontractEachMessage(): () => Promise<number> {
  const contract = contractConsumer<{ amount: number }>(fakeKafkajs() as never, CONSUMER_OPTIONS);
  return async () => {
    let count = 0;
    let check = 0;
    await contract.run({
      eachMessage: async ({ value }: { value: { amount: number } | null }) => {
        check += tenths(value!);
        count++;
      },
    } as never);
    if (check === 0) throw new Error("nothing decoded");
    return count;
  };
}

const avscBatch = (messages: readonly { value?: Buffer | null }[]): number => {
  const orders = messages.map((m) => type.fromBuffer(m.value!.subarray(5)) as { amount: number });
  let sum = 0;
  for (const o of orders) sum += tenths(o);
  return sum === 0 ? 0 : orders.length;
};

const writer = await createContractStore({ registry }).byId("t-value", 1);
/** What kontract's decoding costs without the contract consumer around it. */
const ownDecode = (messages: readonly { value?: Buffer | null }[]): number => {
  const orders = messages.map((m) => writer.plan.schema.decode(m.value!, 5) as { amount: number });
  let sum = 0;
  for (const o of orders) sum += tenths(o);
  return sum === 0 ? 0 : orders.length;
};

if (args.only !== "produce") {
  console.log(`Consume: CPU µs per record, ${BATCHES * N} orders in batches of ${N}, no Kafka client (median of ${RUNS} runs, range)`);
  await measure([
    ["kafkajs-shaped: the records summed (the fake itself)", () => fakeKafkajsSum((ms) => ms.length)],
    ["kafkajs-shaped: yardstick, a bare avsc decode of each batch", () => fakeKafkajsSum(avscBatch)],
    ["kafkajs-shaped: kontract's Avro decoder alone, each batch", () => fakeKafkajsSum(ownDecode)],
    ["kafkajs-shaped: kontract (contractConsumer, eachBatch)", kontractOn(fakeKafkajs())],
    ["kafkajs-shaped: kontract, a fresh contractConsumer per run", kontractFresh(fakeKafkajs)],
    ["kafkajs-shaped: kontract, eachMessage", kontractEachMessage()],
    ["@platformatic/kafka: the chunks summed", () => platformaticChunked((c) => c.length)],
    ["@platformatic/kafka: yardstick, a bare avsc decode of each chunk", () => platformaticChunked(avscBatch)],
    ["@platformatic/kafka: kontract (adapter + contractConsumer)", kontractOn(fakePlatformatic(), (c) => c.close())],
  ]);
}

async function fakeKafkajsSum(handle: (messages: ConsumedMessage[]) => number): Promise<number> {
  let count = 0;
  await fakeKafkajs().run({ eachBatch: async ({ batch }) => void (count += handle(batch.messages)) });
  return count;
}

// ---- produce ----

if (args.only !== "consume") {
  /** @platformatic/kafka's producer as the adapter sees it, answering at once. */
  const fake = {
    type: "producer",
    asStream() {},
    send: async (_o: unknown) => ({ offsets: [{ topic: "t", partition: 0, offset: 0n }] }),
  };
  const producer = contractProducer(fake as never, { registry, key: false });
  const messages = values.map((b) => b.map((value) => ({ value })));
  const port = platformaticProducer(fake as never);
  const serializer = createSerializer({ store: createContractStore({ registry }) });
  await serializer.serialize("t", values[0]![0]);
  console.log(`Produce: CPU µs per record, ${BATCHES * N} orders in batches of ${N}, no Kafka client (median of ${RUNS} runs, range)`);
  await measure([
    ["kontract: contractProducer + adapter (rules, encode, frame)", async () => {
      for (const batch of messages) await producer.sendBatch({ acks: -1, compression: 0, topicMessages: [{ topic: "t", messages: batch }] });
      return BATCHES * N;
    }],
    ["kontract's serializer alone (rules, encode, frame), no producer", async () => {
      for (const b of values) for (const v of b) if (serializer.serialize("t", v) instanceof Promise) throw new Error("not cached");
      return BATCHES * N;
    }],
    ["yardstick's own work: avsc encode + prefix", async () => {
      for (const b of values) await fake.send({ messages: b.map((value) => ({ topic: "t", value: Buffer.concat([prefix, type.toBuffer(value)]) })) });
      return BATCHES * N;
    }],
    ["the adapter alone: bytes to @platformatic/kafka records", async () => {
      for (const batch of encoded) await port.write([{ topic: "t", messages: batch }], { acks: -1, compression: 0 });
      return BATCHES * N;
    }],
  ]);
}
