/**
 * In-process stand-ins for unit tests of the kafkajs layer: a registry that can
 * be taken down, a producer that keeps what it was sent (and can be told to
 * fail), and a consumer that drives eachMessage / eachBatch the way kafkajs
 * does (stop at the first error; the offset moves only past handled records).
 */
import type { Consumer, ConsumerRunConfig, KafkaMessage, Message, Producer, ProducerBatch, RecordMetadata } from "kafkajs";
import { RegistryError } from "../../src/errors.js";
import { createEngine } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import { createFileRegistry } from "../../src/registry/file-registry.js";
import { createContractStore, createSerializer } from "../../src/serde/index.js";
import type { SchemaRegistry } from "../../src/registry/types.js";
import type { KafkaAccess } from "../../src/kafka/index.js";

export interface TestRegistry extends SchemaRegistry {
  /** While true every call fails as an unreachable registry (retriable). */
  down: boolean;
  /** Calls per method name. */
  readonly calls: Map<string, number>;
}

export function testRegistry(): TestRegistry {
  const inner = createFileRegistry({ documents: [] });
  const calls = new Map<string, number>();
  const state = { down: false };
  const wrap =
    <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      if (state.down) throw new RegistryError(`schema registry test: ${name}: connection refused`, { code: "registry-unreachable", retriable: true });
      return fn(...a);
    };
  return {
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    calls,
    getById: wrap("getById", (id: number, subject?: string) => inner.getById(id, subject)),
    getByGuid: wrap("getByGuid", (g: string) => inner.getByGuid(g)),
    getVersion: wrap("getVersion", (s: string, v: number | "latest") => inner.getVersion(s, v)),
    getLatestWithMetadata: wrap("getLatestWithMetadata", (s: string, p: Readonly<Record<string, string>>) => inner.getLatestWithMetadata(s, p)),
    lookup: wrap("lookup", (s: string, c: Parameters<SchemaRegistry["lookup"]>[1]) => inner.lookup(s, c)),
    versions: wrap("versions", (s: string) => inner.versions(s)),
    register: wrap("register", (s: string, c: Parameters<SchemaRegistry["register"]>[1]) => inner.register(s, c)),
    subjects: wrap("subjects", () => inner.subjects()),
  };
}

/** Values serialized for `topic` with the registry's contract: the bytes consumer tests feed in. */
export function valueBytes(registry: SchemaRegistry, topic = "orders"): (value: unknown) => Promise<Buffer> {
  const serializer = createSerializer({ store: createContractStore({ registry, engine: createEngine(), formats: FORMATS }) });
  return async (value) => {
    const r = await serializer.serialize(topic, value);
    if (r.kind !== "serialized") throw new Error(`test value not serialized: ${r.kind}`);
    return r.bytes as Buffer;
  };
}

export interface FakeProducer extends Producer {
  /** Every sendBatch call, in order, with what it was given (failed calls too). */
  readonly batches: ProducerBatch[];
  /** What was written, per topic (partition ignored: offsets are per topic and partition 0 unless given). */
  readonly log: Map<string, Message[]>;
  /** The next sendBatch touching a topic for which `match` is true rejects with `error`. */
  failWhen(match: (topic: string) => boolean, error?: Error): void;
}

export function fakeProducer(): FakeProducer {
  const batches: ProducerBatch[] = [];
  const log = new Map<string, Message[]>();
  const failures: { match: (t: string) => boolean; error: Error }[] = [];
  const sendBatch = async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
    batches.push(batch);
    const topics = (batch.topicMessages ?? []).map((t) => t.topic);
    const f = failures.findIndex((x) => topics.some(x.match));
    if (f >= 0) throw failures.splice(f, 1)[0]!.error;
    const out = new Map<string, RecordMetadata>();
    for (const { topic, messages } of batch.topicMessages ?? []) {
      let l = log.get(topic);
      if (!l) log.set(topic, (l = []));
      for (const m of messages) {
        const partition = m.partition ?? 0;
        const id = `${topic}/${partition}`;
        const offset = l.filter((x) => (x.partition ?? 0) === partition).length;
        if (!out.has(id)) out.set(id, { topicName: topic, partition, errorCode: 0, baseOffset: String(offset) });
        l.push(m);
      }
    }
    return [...out.values()];
  };
  const producer = {
    batches,
    log,
    failWhen(match: (topic: string) => boolean, error = Object.assign(new Error("broker said no"), { retriable: true })) {
      failures.push({ match, error });
    },
    sendBatch,
    send: (r: { topic: string; messages: Message[] }) => sendBatch({ topicMessages: [{ topic: r.topic, messages: r.messages }] }),
    connect: async () => {},
    disconnect: async () => {},
  };
  return producer as unknown as FakeProducer;
}

export interface Delivery {
  /** The highest offset resolved, as kafkajs would commit it (next offset = resolved + 1). */
  resolved: string | undefined;
  /** What the handler threw (kafkajs would retry or crash), if anything. */
  error: unknown;
  /** Whether the handler paused the partition. */
  paused: boolean;
}

export interface FakeConsumer extends Consumer {
  /** Every seek asked for, in order. */
  readonly seeks: { topic: string; partition: number; offset: string }[];
  /** What the payload's heartbeat does (kafkajs: rejects with REBALANCE_IN_PROGRESS once the group rebalances). Default: resolves. */
  heartbeat: () => Promise<void>;
  /** Runs one fetched batch through the wrapped run config, as kafkajs's runner does. */
  deliver(topic: string, partition: number, messages: KafkaMessage[]): Promise<Delivery>;
}

export function fakeConsumer(): FakeConsumer {
  let config: ConsumerRunConfig | undefined;
  const seeks: { topic: string; partition: number; offset: string }[] = [];
  const consumer = {
    seeks,
    seek: (to: { topic: string; partition: number; offset: string }) => void seeks.push(to),
    run: async (c: ConsumerRunConfig) => {
      config = c;
    },
    connect: async () => {},
    disconnect: async () => {},
    subscribe: async () => {},
    heartbeat: async () => {},
    async deliver(topic: string, partition: number, messages: KafkaMessage[]): Promise<Delivery> {
      if (!config) throw new Error("run() first");
      const d: Delivery = { resolved: undefined, error: undefined, paused: false };
      const pause = () => {
        d.paused = true;
        return () => {};
      };
      const resolve = (offset: string) => {
        if (d.resolved === undefined || BigInt(offset) > BigInt(d.resolved)) d.resolved = offset;
      };
      const noop = async () => {};
      const heartbeat = () => consumer.heartbeat();
      if (config.eachMessage) {
        for (const message of messages) {
          try {
            await config.eachMessage({ topic, partition, message, heartbeat, pause });
          } catch (e) {
            d.error = e;
            return d;
          }
          resolve(message.offset);
        }
        return d;
      }
      const batch = {
        topic,
        partition,
        highWatermark: String(messages.length),
        messages,
        isEmpty: () => messages.length === 0,
        firstOffset: () => messages[0]?.offset ?? null,
        lastOffset: () => messages[messages.length - 1]!.offset,
        offsetLag: () => "0",
        offsetLagLow: () => "0",
      };
      try {
        await config.eachBatch!({
          batch,
          resolveOffset: resolve,
          heartbeat,
          pause,
          commitOffsetsIfNecessary: noop,
          uncommittedOffsets: () => ({ topics: [] }),
          isRunning: () => true,
          isStale: () => false,
        });
      } catch (e) {
        d.error = e;
        return d;
      }
      if (config.eachBatchAutoResolve ?? true) resolve(batch.lastOffset());
      return d;
    },
  };
  return consumer as unknown as FakeConsumer;
}

/** A consumed record as kafkajs hands it over. */
export function kafkaMessage(offset: number, value: Buffer | null, headers: KafkaMessage["headers"] = {}, key: Buffer | null = null): KafkaMessage {
  return { key, value, headers: headers ?? {}, offset: String(offset), timestamp: "0", attributes: 0, size: undefined } as unknown as KafkaMessage;
}

/** kafkajs Message → the KafkaMessage a consumer would read back (headers as Buffers). */
export function readBack(m: Message, offset: number): KafkaMessage {
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    headers[k] = Array.isArray(v) ? v.map((x) => Buffer.from(x)) : Buffer.from(v);
  }
  const asBuf = (x: Buffer | string | null | undefined) => (x === undefined || x === null ? null : Buffer.from(x));
  return kafkaMessage(offset, asBuf(m.value), headers, asBuf(m.key));
}

export function headerText(m: Message | KafkaMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  if (v === undefined) return undefined;
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return last === undefined ? undefined : Buffer.from(last).toString("utf8");
}

/** An admin, or a reading consumer, of `memoryAccess`: counted per topic read. */
export interface MemoryAccess extends KafkaAccess {
  /** Topics created (createTopics) or written (the producer's log). */
  readonly topics: Set<string>;
  /** How many reads (consumers run) each topic had. */
  readonly reads: Map<string, number>;
  /** While set, a read of a topic it accepts waits for it. */
  gate: ((topic: string) => Promise<void> | undefined) | undefined;
}

/**
 * A KafkaAccess on what `producer` wrote (its log, per topic and partition): topics created are
 * listed, and a reader gets each partition's records in one batch, as readTopic's consumers do.
 */
export function memoryAccess(producer: FakeProducer): MemoryAccess {
  const topics = new Set<string>();
  const reads = new Map<string, number>();
  const partitionsOf = (topic: string): Map<number, Message[]> => {
    const out = new Map<number, Message[]>();
    for (const m of producer.log.get(topic) ?? []) {
      const p = m.partition ?? 0;
      let l = out.get(p);
      if (!l) out.set(p, (l = []));
      l.push(m);
    }
    return out;
  };
  const access: MemoryAccess = {
    client: "kafkajs",
    topics,
    reads,
    gate: undefined,
    kafka: {
      admin: () => ({
        connect: async () => {},
        disconnect: async () => {},
        listTopics: async () => [...new Set([...topics, ...producer.log.keys()])],
        fetchTopicOffsets: async (topic: string) => [...partitionsOf(topic)].map(([partition, l]) => ({ partition, offset: String(l.length), high: String(l.length), low: "0" })),
        createTopics: async ({ topics: made }: { topics: { topic: string }[] }) => {
          for (const t of made) topics.add(t.topic);
          return true;
        },
      }),
      consumer: () => {
        let topic = "";
        return {
          connect: async () => {},
          disconnect: async () => {},
          subscribe: async ({ topics: [t] }: { topics: string[] }) => void (topic = t!),
          run: async ({ eachBatch }: { eachBatch(p: { batch: { partition: number; messages: KafkaMessage[]; lastOffset(): string } }): Promise<void> }) => {
            reads.set(topic, (reads.get(topic) ?? 0) + 1);
            const wait = access.gate?.(topic);
            const partitions = partitionsOf(topic);
            void (async () => {
              if (wait) await wait;
              for (const [partition, l] of partitions) {
                await eachBatch({ batch: { partition, messages: l.map((m, i) => readBack(m, i)), lastOffset: () => String(l.length - 1) } });
              }
            })();
          },
        };
      },
      producer: () => {
        throw new Error("memoryAccess: not a producer");
      },
    } as unknown as KafkaAccess["kafka"],
  };
  return access;
}
