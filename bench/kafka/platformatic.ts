/**
 * The Kafka bench's contenders on @platformatic/kafka ("pk-"; Node >= 22.22):
 * the plain client moving pre-serialized bytes, the client with a bare avsc
 * decode, and kontract on it. It has no eachBatch: the plain and avsc
 * contenders read its message stream chunk by chunk (everything it holds at
 * the time), as kontract's adapter does, and decode a chunk into an array
 * before summing, as kontract hands a batch over. Its consumer has no fetch
 * event before the answer: the clock starts at the first chunk, as for the
 * Confluent client's first batch.
 */
import avsc from "avsc";
import { contractConsumer, contractProducer, loadKafkaClient } from "../../src/kafka/index.js";
import { kontractRegistry, meter, tenths, warmStore, windowed, type ConsumeResult, type Contender, type ContenderContext, type Order, type Workload } from "./contenders.js";

type PlatformaticModule = typeof import("@platformatic/kafka");
type PlatformaticProducer = InstanceType<PlatformaticModule["Producer"]>;
type PlatformaticConsumer = InstanceType<PlatformaticModule["Consumer"]>;
/** A consumed message, with its default (Buffer) deserializers. */
interface Message {
  readonly value?: Buffer;
}

export interface PlatformaticContext extends ContenderContext {
  readonly platformatic: PlatformaticModule;
  readonly brokers: string[];
}

export const loadPlatformatic = () => loadKafkaClient<PlatformaticModule>("platformatic");

/** The producer of a round: acks -1 and no compression per send, as for the others. */
export function platformaticProducerFor(ctx: PlatformaticContext): PlatformaticProducer {
  return new ctx.platformatic.Producer({ clientId: "kontract-bench", bootstrapBrokers: ctx.brokers, autocreateTopics: false });
}

const SEND = { acks: -1, compression: "none" } as const;

export function platformaticContenders(ctx: PlatformaticContext, schemaJson: string, schemaId: number): Contender[] {
  const type = avsc.Type.forSchema(JSON.parse(schemaJson) as avsc.Schema);
  const prefix = Buffer.from([0, (schemaId >>> 24) & 0xff, (schemaId >>> 16) & 0xff, (schemaId >>> 8) & 0xff, schemaId & 0xff]);
  const asProducer = (p: unknown) => p as PlatformaticProducer;
  return [
    {
      id: "pk-plain",
      client: "platformatic",
      label: "plain @platformatic/kafka (pre-serialized bytes)",
      produce: (producer, topic, work) =>
        windowed(work.bytes, ctx.inFlight, async (messages) => {
          await asProducer(producer).send({ ...SEND, messages: messages.map((m) => ({ topic, value: m.value as Buffer })) });
        }),
      consume: (topic, work, group) =>
        timedChunks(ctx, topic, group, work.count, (chunk) => {
          let bytes = 0;
          for (const m of chunk) bytes += m.value?.length ?? 0;
          return bytes;
        }),
      expectedChecksum: (work) => work.byteSum,
    },
    {
      id: "pk-avsc",
      client: "platformatic",
      label: "@platformatic/kafka + avsc, no contract (yardstick)",
      produce: (producer, topic, work) =>
        windowed(work.values, ctx.inFlight, async (values) => {
          const messages = values.map((value) => ({ topic, value: Buffer.concat([prefix, type.toBuffer(value)]) }));
          await asProducer(producer).send({ ...SEND, messages });
        }),
      consume: (topic, work, group) =>
        timedChunks(ctx, topic, group, work.count, (chunk) => {
          const orders = chunk.map((m) => type.fromBuffer(m.value!.subarray(5)) as Order);
          let sum = 0;
          for (const o of orders) sum += tenths(o);
          return sum;
        }),
      expectedChecksum: (work) => work.amountSum,
    },
    {
      id: "pk-kontract",
      client: "platformatic",
      label: "kontract on @platformatic/kafka (contractProducer / contractConsumer)",
      async produce(producer, topic, work) {
        const contract = contractProducer(asProducer(producer), { registry: kontractRegistry(ctx.registryUrl), key: false });
        await windowed(work.contractMessages, ctx.inFlight, async (messages) => {
          const result = await contract.sendBatch({ acks: -1, compression: 0, topicMessages: [{ topic, messages }] });
          for (const m of result.messages) if (m.status !== "sent") throw new Error(`kontract dead-lettered message ${m.index} (rule ${m.rule})`);
        });
      },
      consume: (topic, work, group) => timedKontract(ctx, topic, group, work),
      expectedChecksum: (work) => work.amountSum,
    },
  ];
}

function newConsumer(ctx: PlatformaticContext, group: string): PlatformaticConsumer {
  return new ctx.platformatic.Consumer({ clientId: "kontract-bench", groupId: group, bootstrapBrokers: ctx.brokers, maxWaitTime: 100 });
}

/** The plain client: its stream from the beginning (autocommit, its default), chunk by chunk. */
async function timedChunks(ctx: PlatformaticContext, topic: string, group: string, expected: number, handle: (chunk: Message[]) => number): Promise<ConsumeResult> {
  const consumer = newConsumer(ctx, group);
  const m = meter(ctx.consumeTimeoutMs, topic, expected);
  try {
    const stream = await consumer.consume({ topics: [topic], mode: "earliest" });
    stream.on("error", m.fail);
    stream.on("readable", () => {
      const chunk: Message[] = [];
      for (let x = stream.read() as Message | null; x !== null; x = stream.read() as Message | null) chunk.push(x);
      if (chunk.length === 0) return;
      m.start();
      m.handled(chunk.length, handle(chunk));
    });
    await m.done;
  } finally {
    m.stop();
    await consumer.close(true);
  }
  return m.result();
}

async function timedKontract(ctx: PlatformaticContext, topic: string, group: string, work: Workload): Promise<ConsumeResult> {
  const consumer = newConsumer(ctx, group);
  const m = meter(ctx.consumeTimeoutMs, topic, work.count);
  // The clock starts when the first chunk is there, before kontract decodes it (as for the plain client).
  const consume = consumer.consume.bind(consumer) as (options: object) => Promise<NodeJS.ReadableStream>;
  Object.assign(consumer, {
    consume: async (options: object) => {
      const stream = await consume(options);
      stream.once("readable", m.start);
      return stream;
    },
  });
  const store = await warmStore(ctx, topic, work);
  const contract = contractConsumer<Order, unknown, PlatformaticConsumer>(consumer, { store, key: false, poisonPill: "fail" });
  try {
    await contract.run({
      topics: [topic],
      fallbackMode: "earliest",
      onRestart: m.fail,
      eachBatch: async ({ messages }) => {
        let sum = 0;
        for (const x of messages) sum += tenths(x.value!);
        m.handled(messages.length, sum);
      },
    });
    await m.done;
  } finally {
    m.stop();
    await contract.close(true);
  }
  return m.result();
}
