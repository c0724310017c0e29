/**
 * Shared pieces of the Kafka integration tests (test/integration/kafka-*.test.ts):
 * the clients under test, quiet and with short retries; topics, exact topic
 * counts from the broker's offsets, reading a topic back (with kafkajs: what
 * is on the broker does not depend on the client that wrote it), and
 * registering contracts over REST.
 */
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { after, before } from "node:test";
import { Kafka, logLevel, type Admin, type Consumer, type ConsumerConfig, type KafkaMessage, type ITopicConfig, type Producer, type ProducerConfig } from "kafkajs";
import type { Contract } from "../../src/contract/model.js";
import { connectKafka, loadKafkaClient, producerPort, trackingPartitioner, type KafkaAccess, type KafkaClientName, type KafkaProducer } from "../../src/kafka/index.js";
import { overlay } from "../../src/kafka/overlay.js";
import { createRestRegistry, type RestRegistry } from "../../src/registry/rest/index.js";
import { ensureInfra, runScript, uniqueName, waitFor, type Infra } from "../helpers/infra.js";

export function kafkaFor(infra: Infra, clientId = "kontract-it"): Kafka {
  return new Kafka({
    clientId,
    brokers: infra.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 4, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
}

/**
 * Consumer settings for tests: a short fetch wait, or disconnect() waits for the
 * pending fetch (kafkajs default 5 s); short retries.
 */
export const QUICK_CONSUMER = { maxWaitTimeInMs: 100, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } } as const;

/** A producer with exact per-message placement in send results. */
export function producerFor(kafka: Kafka, extra: Parameters<Kafka["producer"]>[0] = {}) {
  return kafka.producer({ createPartitioner: trackingPartitioner(), ...extra });
}

/**
 * A test file's kafkajs setup: before its tests, the infra, a client and a
 * connected producer; after them, the producer disconnected. Read the fields
 * inside tests (they are set once `before` has run).
 */
export function kafkajsForFile(): { readonly infra: Infra; readonly kafka: Kafka; readonly producer: Producer } {
  const setup = {} as { infra: Infra; kafka: Kafka; producer: Producer };
  before(async () => {
    setup.infra = await ensureInfra();
    setup.kafka = kafkaFor(setup.infra);
    setup.producer = producerFor(setup.kafka);
    await setup.producer.connect();
  });
  after(async () => {
    await setup.producer?.disconnect();
  });
  return setup;
}

/**
 * A client the suites run on. Its producers and consumers are typed as
 * kafkajs's: the Confluent client's KafkaJS API has the same shapes for what
 * the tests use, and subscribe({ fromBeginning }) is mapped to its config.
 */
export interface ClientUnderTest {
  readonly name: KafkaClientName;
  /** A connected producer; exact per-message placements where the client can give them (kafkajs: trackingPartitioner). */
  producer(extra?: Pick<ProducerConfig, "allowAutoTopicCreation" | "retry">): Promise<Producer>;
  /**
   * A consumer (not connected) with QUICK_CONSUMER settings, reading from the beginning.
   * `sessionTimeout` and `heartbeatInterval` (ms) are mapped to each client's settings. `autoCommit:
   * false` makes the Confluent client's consumer without its own commits (kafkaJS.autoCommit), for
   * `stateful.commits: "wrapper"`; kafkajs takes it per run, and @platformatic/kafka's adapter commits.
   */
  consumer(config: Pick<ConsumerConfig, "groupId" | "retry" | "sessionTimeout" | "heartbeatInterval"> & { autoCommit?: false }): Consumer;
  /** A transactional producer (not connected), the client's own object, for `exactlyOnce.producer`. */
  transactionalProducer(transactionalId: string): KafkaProducer;
}

/**
 * The clients to run the suites on: KONTRACT_TEST_CLIENTS (comma-separated),
 * default kafkajs and confluent (@platformatic/kafka needs Node >= 22.22:
 * scripts/run-tests.mjs runs these suites a second time on Node 22 with
 * KONTRACT_TEST_CLIENTS=platformatic). A client that is not installed fails
 * its suites (KafkaClientMissingError), it is not skipped.
 */
export function clientsUnderTest(infra: () => Infra): ClientUnderTest[] {
  return testClientNames().map((name) => clientUnderTest(name, infra));
}

/** One client by name (the benches' too); its producer() loads it, so the other methods work after that. */
export function clientUnderTest(name: string, infra: () => Infra): ClientUnderTest {
  if (name === "kafkajs") return kafkajsUnderTest(infra);
  if (name === "confluent") return confluentUnderTest(infra);
  if (name === "platformatic") return platformaticUnderTest(infra);
  throw new Error(`unknown Kafka client ${name} (kafkajs, confluent, platformatic)`);
}

/** The names in KONTRACT_TEST_CLIENTS (default kafkajs, confluent). */
export function testClientNames(): string[] {
  return (process.env.KONTRACT_TEST_CLIENTS ?? "kafkajs,confluent").split(",").map((n) => n.trim()).filter(Boolean);
}

function kafkajsUnderTest(infra: () => Infra): ClientUnderTest {
  let kafka: Kafka | undefined;
  const client = () => (kafka ??= kafkaFor(infra()));
  return {
    name: "kafkajs",
    async producer(extra = {}) {
      const p = producerFor(client(), extra);
      await p.connect();
      return p;
    },
    consumer: ({ autoCommit: _, ...config }) => client().consumer({ ...QUICK_CONSUMER, ...config }),
    transactionalProducer: (transactionalId) => client().producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 }) as KafkaProducer,
  };
}

/** The session settings given, by their kafkajs names (the Confluent client's KafkaJS API and @platformatic/kafka use the same). */
function session(config: Pick<ConsumerConfig, "sessionTimeout" | "heartbeatInterval">): { sessionTimeout?: number; heartbeatInterval?: number } {
  return { ...(config.sessionTimeout === undefined ? {} : { sessionTimeout: config.sessionTimeout }), ...(config.heartbeatInterval === undefined ? {} : { heartbeatInterval: config.heartbeatInterval }) };
}

/** A connected producer of `client` for the describe block it is called in: made before its tests, disconnected after; read `producer` inside tests. */
export function producerForSuite(client: ClientUnderTest): { readonly producer: Producer } {
  const setup = {} as { producer: Producer };
  before(async () => {
    setup.producer = await client.producer();
  });
  after(async () => {
    await setup.producer?.disconnect();
  });
  return setup;
}

/** A test file's infra and a kafkajs KafkaAccess (admin calls and committed reads), set before its tests; read the fields inside tests. */
export function accessForFile(): { readonly infra: Infra; readonly access: KafkaAccess } {
  const setup = {} as { infra: Infra; access: KafkaAccess };
  before(async () => {
    setup.infra = await ensureInfra();
    setup.access = await connectKafka("kafkajs", setup.infra.brokers);
  });
  return setup;
}

type ConfluentModule = typeof import("@confluentinc/kafka-javascript");

function confluentUnderTest(infra: () => Infra): ClientUnderTest {
  let module: ConfluentModule | undefined;
  // Loaded on first use (in a before hook): the suites are declared before any infra or client exists.
  const kafka = () => {
    if (!module) throw new Error("confluent client not loaded: call load() in before()");
    return new module.KafkaJS.Kafka({ kafkaJS: { brokers: infra().brokers, clientId: "kontract-it", logLevel: module.KafkaJS.logLevel.NOTHING, connectionTimeout: 3_000, requestTimeout: 10_000 } });
  };
  const load = async () => {
    module ??= await loadKafkaClient<ConfluentModule>("confluent");
  };
  return {
    name: "confluent",
    async producer(extra = {}) {
      await load();
      const p = kafka().producer({
        kafkaJS: { acks: -1, ...(extra.allowAutoTopicCreation === undefined ? {} : { allowAutoTopicCreation: extra.allowAutoTopicCreation }), retry: { retries: extra.retry?.retries ?? 2 } },
        // A missing topic fails a write after this long (librdkafka waits 30 s by default for it to appear).
        "topic.metadata.propagation.max.ms": 2_000,
        "message.timeout.ms": 10_000,
        // How soon a topic created after a failed write is seen (librdkafka refreshes every 5 min by default).
        "topic.metadata.refresh.interval.ms": 1_000,
      });
      await p.connect();
      return p as unknown as Producer;
    },
    consumer(config) {
      if (!module) throw new Error("confluent client not loaded: create a producer first (before())");
      const c = kafka().consumer({ kafkaJS: { groupId: config.groupId, fromBeginning: true, maxWaitTimeInMs: QUICK_CONSUMER.maxWaitTimeInMs, ...session(config), ...(config.autoCommit === false ? { autoCommit: false } : {}) } });
      // kafkajs takes fromBeginning per subscribe, the Confluent client per consumer (set above).
      const subscribe = c.subscribe.bind(c);
      return Object.assign(c, { subscribe: ({ fromBeginning: _, ...rest }: { topics: string[]; fromBeginning?: boolean }) => subscribe(rest) }) as unknown as Consumer;
    },
    transactionalProducer(transactionalId) {
      if (!module) throw new Error("confluent client not loaded: create a producer first (before())");
      return kafka().producer({ kafkaJS: { transactionalId, idempotent: true, acks: -1 } }) as unknown as KafkaProducer;
    },
  };
}

type PlatformaticModule = typeof import("@platformatic/kafka");

/**
 * @platformatic/kafka behind kafkajs's shapes for what the suites do around
 * the wrapped clients: the producer also takes kafkajs's `send({ topic,
 * messages })` (the tests' raw writes; through the adapter, so the bytes are
 * the same), and the consumer has `connect`, `subscribe({ topics, fromBeginning })`
 * (remembered for `consume`: fromBeginning is the fallback mode "earliest") and
 * `disconnect` (close(true): closes the stream too). What the contract wrappers
 * get is still the client's own object: its `send` and `consume` untouched
 * for the adapter's calls, so the adapter is what is under test.
 */
function platformaticUnderTest(infra: () => Infra): ClientUnderTest {
  let module: PlatformaticModule | undefined;
  const loaded = () => {
    if (!module) throw new Error("@platformatic/kafka not loaded: create a producer first (before())");
    return module;
  };
  const base = () => ({ clientId: "kontract-it", bootstrapBrokers: infra().brokers, timeout: 10_000, retries: 2, retryDelay: 200 });
  return {
    name: "platformatic",
    async producer(extra = {}) {
      module ??= await loadKafkaClient<PlatformaticModule>("platformatic");
      const p = new module.Producer({ ...base(), autocreateTopics: extra.allowAutoTopicCreation ?? false, retries: extra.retry?.retries ?? 2, acks: -1 });
      const port = producerPort(p);
      const send = p.send.bind(p);
      return overlay(p, {
        send: (record: { topic?: string; messages: never[] }) =>
          record.topic === undefined ? send(record as never) : port.write([{ topic: record.topic, messages: record.messages }], {}).then((w) => w.records),
        connect: async () => {},
        disconnect: () => p.close(),
      }) as unknown as Producer;
    },
    consumer(config) {
      const { Consumer } = loaded();
      const c = new Consumer({ ...base(), groupId: config.groupId, maxWaitTime: QUICK_CONSUMER.maxWaitTimeInMs, ...session(config) });
      let subscribed: { topics: string[]; fromBeginning?: boolean } | undefined;
      const consume = c.consume.bind(c);
      return overlay(c, {
        connect: async () => {},
        subscribe: async (s: { topics: string[]; fromBeginning?: boolean }) => void (subscribed = s),
        consume: (options: Parameters<typeof c.consume>[0]) =>
          consume({ ...(subscribed ? { topics: subscribed.topics, ...(subscribed.fromBeginning ? { fallbackMode: "earliest" as const } : {}) } : {}), ...options }),
        disconnect: () => c.close(true),
      }) as unknown as Consumer;
    },
    // producerId/producerEpoch -1: InitProducerId's "no producer yet" (the client sends 0 and 0 unless told, which
    // the broker refuses with PRODUCER_FENCED once the transactional id has a producer: a restart could not register it).
    transactionalProducer: (transactionalId) => new (loaded().Producer)({ ...base(), transactionalId, idempotent: true, acks: -1, producerId: -1n, producerEpoch: -1 }) as unknown as KafkaProducer,
  };
}

export function registryFor(infra: Infra): RestRegistry {
  return createRestRegistry({ url: infra.registryUrl, timeoutMs: 3_000, retries: 1, retryBackoffMs: 50 });
}

/** Registers `contract` under `subject` with compatibility NONE (tests evolve schemas freely). */
export async function register(registry: RestRegistry, subject: string, contract: Contract) {
  await registry.updateConfig(subject, { compatibility: "NONE" });
  return registry.register(subject, contract);
}

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopics(kafka: Kafka, topics: readonly (string | ITopicConfig)[]): Promise<void> {
  await withAdmin(kafka, (admin) =>
    admin.createTopics({
      topics: topics.map((t) => (typeof t === "string" ? { topic: t, numPartitions: 1, replicationFactor: 1 } : { numPartitions: 1, replicationFactor: 1, ...t })),
      waitForLeaders: true,
    }),
  );
}

/** How many records a topic holds (high watermark minus low watermark, summed over partitions). */
export async function countRecords(kafka: Kafka, topic: string): Promise<number> {
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
  });
}

/** Every record of the topics, read from the beginning by a fresh group. Waits until all are read. */
export async function readAll(kafka: Kafka, topics: readonly string[], timeoutMs = 30_000): Promise<Map<string, KafkaMessage[]>> {
  const expected = new Map<string, number>();
  for (const t of topics) expected.set(t, await countRecords(kafka, t));
  const out = new Map<string, KafkaMessage[]>(topics.map((t) => [t, []]));
  if ([...expected.values()].every((n) => n === 0)) return out;
  const consumer = kafka.consumer({ groupId: uniqueName("it-reader"), ...QUICK_CONSUMER });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic, message }) => void out.get(topic)!.push(message) });
    await waitFor(() => topics.every((t) => out.get(t)!.length >= expected.get(t)!), { timeoutMs, what: `records of ${topics.join(", ")}` });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

export function text(m: KafkaMessage, header: string): string | undefined {
  const v = m.headers?.[header];
  if (v === undefined) return undefined;
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return last === undefined ? undefined : Buffer.from(last).toString("utf8");
}

/** A name usable as an Avro namespace / Protobuf package / JSON title: fresh schema text, so a fresh id on AxonOps. */
export function uniqueIdent(prefix: string): string {
  return uniqueName(prefix).replace(/[^A-Za-z0-9_]/g, "_");
}

export interface TcpProxy {
  /** http://127.0.0.1:<port>, forwarding to the target. */
  readonly url: string;
  /** While down, every connection (open or new) is reset: the target looks unreachable. */
  down(): void;
  up(): void;
  /** Connections refused while down. */
  readonly refused: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of the shared registry, to take "the registry" down for
 * one client only. Stopping the real registry would lose its in-memory data,
 * which other test files (and the records already written) depend on.
 */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let isDown = false;
  let refused = 0;
  const server = createServer((client) => {
    if (isDown) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    down() {
      isDown = true;
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
    },
    up() {
      isDown = false;
    },
    get refused() {
      return refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `scripts/kafka.sh restart`: stops the shared broker and starts it again with its data (about 5 s), after `downSeconds`. */
export function restartBroker(downSeconds = 0): Promise<void> {
  return runScript("kafka.sh", ["restart", String(downSeconds)], 180_000);
}
