/**
 * The ways of moving order messages through Kafka that the Kafka bench
 * compares, on kafkajs and on the KafkaJS API of @confluentinc/kafka-javascript
 * (the "ck-" contenders; @platformatic/kafka's "pk-" ones are in platformatic.ts). Each produces N messages to a topic in batches, and
 * consumes N messages from a topic with eachBatch; the caller times the produce
 * side, the consume side times itself (kafkajs: from the consumer's first fetch
 * request; the Confluent client, which has no such event: from the first batch).
 */
import avsc from "avsc";
import { CompressionTypes, Partitioners, type Consumer, type Kafka, type Message, type Producer } from "kafkajs";
// Deep imports: the package index also loads the AWS, Azure and GCP KMS SDKs.
import { SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import { AvroDeserializer, AvroSerializer } from "@confluentinc/schemaregistry/dist/serde/avro.js";
import { SerdeType } from "@confluentinc/schemaregistry/dist/serde/serde.js";
import { CelExecutor } from "@confluentinc/schemaregistry/dist/rules/cel/cel-executor.js";
import { contractConsumer, contractProducer, loadKafkaClient, type ContractConsumerOptions, type ContractMessage } from "../../src/kafka/index.js";
import { createRestRegistry, type RestRegistry } from "../../src/registry/rest/index.js";
import { createContractStore, createDeserializer, type ContractStore } from "../../src/serde/index.js";

/** What every contender sends with: same acks, no compression. */
export const SEND_OPTIONS = { acks: -1, compression: CompressionTypes.None } as const;

export interface Order {
  amount: number;
}

/** The order's amount in tenths: an integer, so sums do not depend on how records were batched. */
export function tenths(order: Order): number {
  return Math.round(order.amount * 10);
}

/** The messages of one run, built before anything is timed. */
export interface Workload {
  /** Order values, in batches. */
  readonly values: readonly (readonly Order[])[];
  /** The same values as kontract messages (`{ value }`). */
  readonly contractMessages: readonly ContractMessage[][];
  /** The same values serialized by kontract, as kafkajs messages. */
  readonly bytes: readonly Message[][];
  readonly count: number;
  /** Sum of `tenths(value)` over all values: what a decoding consumer must arrive at. */
  readonly amountSum: number;
  /** Sum of the serialized value lengths: what a raw-bytes consumer must arrive at. */
  readonly byteSum: number;
}

export interface ConsumeResult {
  /** From the consumer's first fetch request to the last record handled. */
  readonly elapsedMs: number;
  /** CPU time of this process (user + system) over the same span, ms. */
  readonly cpuMs: number;
  readonly count: number;
  /** Decoding contenders: sum of `tenths(value)`; raw bytes: sum of value lengths. */
  readonly checksum: number;
}

export type ClientId = "kafkajs" | "confluent" | "platformatic";

export interface Contender {
  readonly id: "plain" | "avsc" | "kontract" | "confluent" | "ck-plain" | "ck-avsc" | "ck-kontract" | "pk-plain" | "pk-avsc" | "pk-kontract";
  /** The Kafka client it runs on (the round gives it a producer of that client). */
  readonly client: ClientId;
  readonly label: string;
  /** `producer`: connected, shared by the contenders of a round (kontract wraps it). */
  produce(producer: Producer, topic: string, work: Workload): Promise<void>;
  /** `group`: a fresh consumer group id, so a topic can be consumed again from its beginning. */
  consume(topic: string, work: Workload, group: string): Promise<ConsumeResult>;
  /** What the checksum of `consume` must be. */
  expectedChecksum(work: Workload): number;
}

export interface ContenderContext {
  readonly kafka: Kafka;
  /** The Confluent client's KafkaJS Kafka, for the "ck-" contenders. */
  readonly confluent?: ConfluentKafka;
  /** sendBatch calls a contender keeps outstanding at once (1: the next batch is built after the previous one was acknowledged). */
  readonly inFlight: number;
  readonly registryUrl: string;
  readonly consumeTimeoutMs: number;
  /** Added to the Confluent consumer's configuration (librdkafka and `js.*` properties), e.g. `js.consumer.max.batch.size`. */
  readonly confluentConsumerConfig?: Readonly<Record<string, string | number>>;
  /** Added to the Confluent consumer's `kafkaJS` options, e.g. `autoCommit: false`. */
  readonly confluentKafkaJS?: Readonly<Record<string, unknown>>;
}

/** A producer per round: kafkajs keeps refreshing metadata of every topic it sent to, and fails once one was deleted. */
export function producerFor(kafka: Kafka): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
}

type ConfluentModule = typeof import("@confluentinc/kafka-javascript");
export type ConfluentKafka = InstanceType<ConfluentModule["KafkaJS"]["Kafka"]>;

export async function confluentKafka(brokers: string[]): Promise<ConfluentKafka> {
  const { KafkaJS } = await loadKafkaClient<ConfluentModule>("confluent");
  return new KafkaJS.Kafka({ kafkaJS: { clientId: "kontract-bench", brokers, logLevel: KafkaJS.logLevel.NOTHING } });
}

/** The Confluent producer of a round: acks and compression are producer settings there (the same as SEND_OPTIONS). */
export function confluentProducerFor(kafka: ConfluentKafka): Producer {
  return kafka.producer({ kafkaJS: { acks: -1, compression: "none" as never, allowAutoTopicCreation: false } }) as unknown as Producer;
}

/** Per-call send options: the Confluent client refuses them (they are set on its producer). */
const sendOptions = (client: ClientId) => (client === "kafkajs" ? SEND_OPTIONS : {});

/** A fresh registry client per contender and round: each pays its own first lookups, as kontract's and Confluent's do. */
export function kontractRegistry(url: string): RestRegistry {
  return createRestRegistry({ url, timeoutMs: 10_000 });
}

/**
 * A fresh contract store (its own registry client) that has already looked up and compiled the
 * workload's contract for `topic`, as a consumer's has once it is running: the yardstick's avsc
 * type is built before the clock starts too. The one-time cost it keeps out of the clock is
 * recorded in `warmups` (ms) and printed.
 */
export async function warmStore(ctx: ContenderContext, topic: string, work: Workload): Promise<ContractStore> {
  const started = performance.now();
  const store = createContractStore({ registry: kontractRegistry(ctx.registryUrl) });
  const result = await createDeserializer({ store }).deserialize(topic, work.bytes[0]![0]!.value as Buffer);
  if (result.kind !== "deserialized") throw new Error("warm-up: the first record was not read");
  warmups.push(performance.now() - started);
  return store;
}

/** The ms each warmStore took: a consumer's first lookups and compile, once per process. */
export const warmups: number[] = [];

/** The plain client: the bytes were serialized (by kontract) before the clock started; consume hands over raw bytes. */
export function plainKafkajs(ctx: ContenderContext, client: ClientId = "kafkajs"): Contender {
  return {
    id: client === "kafkajs" ? "plain" : "ck-plain",
    client,
    label: `plain ${clientLabel(client)} (pre-serialized bytes)`,
    produce: (producer, topic, work) =>
      windowed(work.bytes, ctx.inFlight, async (messages) => {
        // A copy per batch: the Confluent client writes into the message objects it sends.
        await producer.sendBatch({ ...sendOptions(client), topicMessages: [{ topic, messages: client === "kafkajs" ? messages : messages.map((m) => ({ ...m })) }] });
      }),
    consume: (topic, work, group) =>
      timedConsume(ctx, client, topic, group, work.count, async (consumer, handled) => {
        await consumer.run({
          eachBatch: async ({ batch }) => {
            let bytes = 0;
            for (const m of batch.messages) bytes += m.value?.length ?? 0;
            handled(batch.messages.length, bytes);
          },
        });
      }),
    expectedChecksum: (work) => work.byteSum,
  };
}

/**
 * What any Avro application pays without a contract: avsc encodes each value
 * behind the 5-byte wire prefix, and decodes each record, no rules. Not a
 * target, a yardstick: the distance from plain kafkajs to this row is the cost
 * of Avro itself, the distance from this row to kontract the cost of the
 * contract (registry lookups, rules, checks).
 */
export function avscKafkajs(ctx: ContenderContext, schemaJson: string, schemaId: number, client: ClientId = "kafkajs"): Contender {
  const type = avsc.Type.forSchema(JSON.parse(schemaJson) as avsc.Schema);
  const prefix = Buffer.from([0, (schemaId >>> 24) & 0xff, (schemaId >>> 16) & 0xff, (schemaId >>> 8) & 0xff, schemaId & 0xff]);
  return {
    id: client === "kafkajs" ? "avsc" : "ck-avsc",
    client,
    label: `${clientLabel(client)} + avsc, no contract (yardstick)`,
    produce: (producer, topic, work) =>
      windowed(work.values, ctx.inFlight, async (values) => {
        const messages: Message[] = [];
        for (const value of values) messages.push({ value: Buffer.concat([prefix, type.toBuffer(value)]) });
        await producer.sendBatch({ ...sendOptions(client), topicMessages: [{ topic, messages }] });
      }),
    consume: (topic, work, group) =>
      timedConsume(ctx, client, topic, group, work.count, async (consumer, handled) => {
        await consumer.run({
          eachBatch: async ({ batch }) => {
            // Decoded into an array first, as kontract hands over a batch.
            const orders = batch.messages.map((m) => type.fromBuffer(m.value!.subarray(5)) as Order);
            let sum = 0;
            for (const o of orders) sum += tenths(o);
            handled(orders.length, sum);
          },
        });
      }),
    expectedChecksum: (work) => work.amountSum,
  };
}

/** kontract: contractProducer / contractConsumer around the same client's producer and consumer. */
export function kontractKafkajs(ctx: ContenderContext, client: ClientId = "kafkajs"): Contender {
  return {
    id: client === "kafkajs" ? "kontract" : "ck-kontract",
    client,
    label: `kontract on ${clientLabel(client)} (contractProducer / contractConsumer)`,
    async produce(producer, topic, work) {
      const contract = contractProducer(producer, { registry: kontractRegistry(ctx.registryUrl), key: false });
      await windowed(work.contractMessages, ctx.inFlight, async (messages) => {
        const result = await contract.sendBatch({ ...SEND_OPTIONS, topicMessages: [{ topic, messages }] });
        // What a caller has to look at anyway; also proves no message was dead-lettered.
        for (const m of result.messages) if (m.status !== "sent") throw new Error(`kontract dead-lettered message ${m.index} (rule ${m.rule})`);
      });
    },
    consume: async (topic, work, group) => kontractConsume(ctx, client, topic, work.count, group, { store: await warmStore(ctx, topic, work) }),
    expectedChecksum: (work) => work.amountSum,
  };
}

/**
 * contractConsumer around a fresh consumer of `client` (its own registry client), eachBatch, until
 * `count` records were handled; checksum: sum of `tenths(value)`. `options` adds consumer options
 * (the stateful bench's `stateful` and `dlq`).
 */
export function kontractConsume(ctx: ContenderContext, client: ClientId, topic: string, count: number, group: string, options: Partial<ContractConsumerOptions> = {}): Promise<ConsumeResult> {
  return timedConsume(ctx, client, topic, group, count, async (consumer, handled) => {
    const contracts = options.store === undefined ? { registry: kontractRegistry(ctx.registryUrl) } : {};
    const contract = contractConsumer<Order, unknown, Consumer>(consumer, { ...contracts, key: false, poisonPill: "fail", ...options });
    await contract.run({
      eachBatch: async ({ messages }) => {
        let sum = 0;
        for (const m of messages) sum += tenths(m.value!);
        handled(messages.length, sum);
      },
    });
    return () => contract.disconnect();
  });
}

/**
 * The reference JS client: its AvroSerializer / AvroDeserializer (rules run
 * through its CEL executor) turning values into bytes for kafkajs and back.
 * One await per message on both sides, in order. (Promise.all over a batch is
 * slower here: with a cold cache every call of the batch asks the registry for
 * the latest version, as the client does not coalesce lookups; warm, it is
 * still ~10% slower than awaiting one by one.) contractConsumer also awaits
 * its records one by one.
 */
export function confluentKafkajs(ctx: ContenderContext): Contender {
  CelExecutor.register();
  const client = () => SchemaRegistryClient.newClient({ baseURLs: [ctx.registryUrl] });
  return {
    id: "confluent",
    client: "kafkajs",
    label: "@confluentinc/schemaregistry + kafkajs",
    async produce(producer, topic, work) {
      const serializer = new AvroSerializer(client(), SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false });
      await windowed(work.values, ctx.inFlight, async (values) => {
        const messages: Message[] = [];
        for (const value of values) messages.push({ value: await serializer.serialize(topic, value) });
        await producer.sendBatch({ ...SEND_OPTIONS, topicMessages: [{ topic, messages }] });
      });
    },
    consume: (topic, work, group) =>
      timedConsume(ctx, "kafkajs", topic, group, work.count, async (consumer, handled) => {
        const deserializer = new AvroDeserializer(client(), SerdeType.VALUE, {});
        await consumer.run({
          eachBatch: async ({ batch }) => {
            let sum = 0;
            for (const m of batch.messages) sum += tenths((await deserializer.deserialize(batch.topic, m.value!)) as Order);
            handled(batch.messages.length, sum);
          },
        });
      }),
    expectedChecksum: (work) => work.amountSum,
  };
}

/**
 * Runs a fresh consumer group over `topic` from the beginning until `expected`
 * records were handled. The clock starts at the first fetch request, so group
 * join and coordinator lookup (the same fixed cost for everyone) stay out.
 */
async function timedConsume(
  ctx: ContenderContext,
  client: ClientId,
  topic: string,
  group: string,
  expected: number,
  start: Starter,
): Promise<ConsumeResult> {
  if (client === "confluent") return timedConsumeConfluent(ctx, topic, group, expected, start);
  const consumer = ctx.kafka.consumer({
    groupId: group,
    maxWaitTimeInMs: 100,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  const m = meter(ctx.consumeTimeoutMs, topic, expected);
  consumer.on(consumer.events.FETCH_START, () => m.start());
  consumer.on(consumer.events.CRASH, (e) => m.fail(e.payload.error));
  return runMetered(consumer, m, { topics: [topic], fromBeginning: true }, start);
}

/**
 * timedConsume on the Confluent client. It has no fetch event: the clock starts
 * when the first batch arrives (for all three "ck-" contenders alike), and
 * fromBeginning is consumer configuration there.
 */
async function timedConsumeConfluent(
  ctx: ContenderContext,
  topic: string,
  group: string,
  expected: number,
  start: Starter,
): Promise<ConsumeResult> {
  if (!ctx.confluent) throw new Error("no Confluent client in the bench context");
  const consumer = ctx.confluent.consumer({ ...ctx.confluentConsumerConfig, kafkaJS: { ...ctx.confluentKafkaJS, groupId: group, fromBeginning: true, maxWaitTimeInMs: 100 } }) as unknown as Consumer;
  const m = meter(ctx.consumeTimeoutMs, topic, expected);
  // The clock starts with the first batch: run() is wrapped so that the timer starts before any handler runs.
  const run = consumer.run.bind(consumer);
  consumer.run = (config) =>
    run({
      ...config,
      eachBatch: async (payload) => {
        m.start();
        await config!.eachBatch!(payload);
      },
    });
  return runMetered(consumer, m, { topics: [topic] }, start);
}

/**
 * Runs a contender on `consumer`: may return how to disconnect it (a wrapper around the consumer,
 * whose disconnect does its own last work: a stateful contract consumer's last changelog write and commit).
 */
type Starter = (consumer: Consumer, handled: (records: number, checksum: number) => void) => Promise<void | (() => Promise<void>)>;

/** Connects and subscribes `consumer`, runs `start` until the meter has counted every record, then disconnects (as `start` said). */
async function runMetered(
  consumer: Consumer,
  m: ReturnType<typeof meter>,
  subscription: { topics: string[]; fromBeginning?: boolean },
  start: Starter,
): Promise<ConsumeResult> {
  let stop: (() => Promise<void>) | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe(subscription);
    stop = (await start(consumer, m.handled)) ?? undefined;
    await m.done;
  } finally {
    m.stop();
    await (stop ?? (() => consumer.disconnect()))();
  }
  return m.result();
}

/** Counts until `expected` records were handled; the clock runs from start() (the first fetch or chunk) to the last record. */
export function meter(consumeTimeoutMs: number, topic: string, expected: number) {
  let t0: number | undefined;
  let t1: number | undefined;
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpu1: NodeJS.CpuUsage | undefined;
  let count = 0;
  let checksum = 0;
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const timer = setTimeout(() => fail(new Error(`${topic}: only ${count} of ${expected} records consumed after ${consumeTimeoutMs} ms`)), consumeTimeoutMs);
  return {
    done,
    fail,
    /** Call in finally: a run that failed early must not leave the timeout pending. */
    stop: () => clearTimeout(timer),
    start() {
      if (t0 !== undefined) return;
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    },
    handled(records: number, sum: number) {
      count += records;
      checksum += sum;
      if (count >= expected && t1 === undefined) {
        t1 = performance.now();
        cpu1 = process.cpuUsage(cpu0);
        finish();
      }
    },
    result(): ConsumeResult {
      clearTimeout(timer);
      return { elapsedMs: t1! - t0!, cpuMs: cpuMs(cpu1!), count, checksum };
    },
  };
}

const clientLabel = (client: ClientId) => (client === "kafkajs" ? "kafkajs" : "@confluentinc/kafka-javascript");

export function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/** Calls `send` for each item in order, with at most `limit` calls outstanding; rejects with the first failure. */
export async function windowed<T>(items: readonly T[], limit: number, send: (item: T) => Promise<void>): Promise<void> {
  if (limit === 1) {
    for (const item of items) await send(item);
    return;
  }
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for (const item of items) {
    if (failure) break;
    const p: Promise<void> = send(item).then(
      () => void pending.delete(p),
      (error: unknown) => {
        pending.delete(p);
        failure ??= { error };
      },
    );
    pending.add(p);
    if (pending.size >= limit) await Promise.race(pending);
  }
  await Promise.all(pending);
  if (failure) throw failure.error;
}
