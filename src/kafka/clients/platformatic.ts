/**
 * @platformatic/kafka on the client port (`new Producer({ clientId,
 * bootstrapBrokers })`, `new Consumer({ groupId, clientId, bootstrapBrokers })`,
 * both with their default Buffer serdes). It needs Node >= 22.22 (its engines);
 * nothing here loads it. Its API is not kafkajs's, so this adapter does more
 * than translate options:
 *
 * - Produce: `send({ messages: [{ topic, key, value, headers, partition, timestamp }] })`
 *   takes Buffers only (header names too: headers go as a Map of Buffers,
 *   timestamps as bigint) and answers one base offset per topic and partition
 *   (`{ offsets: [{ topic, partition, offset }] }`), like kafkajs's per-partition
 *   answer. `acks` and `compression` are per call there too (compression by
 *   name); `timeout` is the client's (its `timeout` option), so it is dropped.
 *   No partitioner tracking: a placement is exact when the message named its
 *   partition or the topic answered for one partition. Its errors say
 *   `canRetry`; the adapter turns that into the `retriable` kontract reads.
 * - Consume: no `run`/`eachMessage`/`eachBatch`/`resolveOffset`/`pause`, but
 *   `consume({ topics, mode, ... })`, a stream of messages each with a
 *   `commit()`. The adapter's `run` opens that stream (`autocommit` off: the
 *   stream would commit what it fetched, not what was handled; `mode`
 *   "committed" unless given, so a restart resumes where the group stands) and
 *   runs the handlers over it, in order per partition, one partition run at a
 *   time; it commits a partition past its last handled (or dead-lettered)
 *   record after each run. A handler error is retried in place with a backoff
 *   (`retry: { initialRetryTime, maxRetryTime }`, kafkajs's names), except a
 *   non-retriable kontract error (an ERROR rule with onError "stop", a poison
 *   pill with "fail", a DLQ write that cannot succeed): its partition is held
 *   at the record, uncommitted, while the others go on, as with the Confluent
 *   client's pause. `consumer.paused()` lists the held partitions and
 *   `consumer.resume([{ topic }])` reads them again from their committed
 *   offsets (the stream is opened anew). A stream that fails is opened anew
 *   the same way (after `onRestart(error)`), and so is one whose client fell
 *   out of its group (after a broker restart it may never rejoin, and only
 *   queues commits): the adapter joins it again first. `consumer.close()`
 *   stops after the record being handled, commits, and closes the stream and
 *   the client.
 */
import { KontractError, isKontractError } from "../../errors.js";
import { isFenced } from "../errors.js";
import type {
  Batch,
  ConsumedMessage,
  ConsumerPort,
  EachBatchPayload,
  EachMessagePayload,
  OutgoingMessage,
  ProducerPort,
  RecordHeaders,
  RecordMetadata,
  RunConfig,
  TopicMessages,
  TransactionalProducerPort,
  WriteOptions,
} from "../client.js";
import { partitionKey } from "../client.js";
import { placeMessages } from "../placement.js";
import { groupJoins } from "./kafkajs.js";

/**
 * A producer of @platformatic/kafka, as far as kontract relies on it. Loose on
 * purpose (the client's own types are generic over its serdes and overloaded
 * with callbacks); the adapter checks the shape at run time (isPlatformaticProducer).
 */
export interface PlatformaticProducer {
  readonly type: string;
  send(options: never): Promise<unknown>;
  asStream(...args: never[]): unknown;
}

/** A consumer of @platformatic/kafka, as far as kontract relies on it (see PlatformaticProducer). */
export interface PlatformaticConsumer {
  readonly type: string;
  consume(options: never): Promise<unknown>;
  close(force?: boolean): Promise<void>;
}

/** What the wrapped consumer adds for @platformatic/kafka, whose consumers have no partition pause of their own. */
export interface PlatformaticConsumerControls {
  /** The partitions a non-retriable error (or a handler's `pause()`) holds, kafkajs's shape. */
  paused(): { topic: string; partitions: number[] }[];
  /** Releases held partitions (all of a topic's without `partitions`); they are read again from their committed offsets. */
  resume(topics: readonly { topic: string; partitions?: readonly number[] }[]): void;
  /** Stops after the record being handled, commits what was handled, closes the stream, then the client (`force` as for its close). */
  close(force?: boolean): Promise<void>;
}

/** The run options kontract adds for @platformatic/kafka; its own consume options (`topics`, `mode`, `maxWaitTime`, ...) pass through. */
export interface PlatformaticRunOptions {
  /** Backoff between attempts at a record whose handler failed retriably, and between stream restarts. Defaults 300 and 30,000 ms, as kafkajs's. */
  retry?: { initialRetryTime?: number; maxRetryTime?: number };
  /** Called with the error when the message stream failed and is opened again. */
  onRestart?: (error: unknown) => void;
}

/** `run`'s options for a consumer whose `consume` takes `O`: those minus `autocommit` (the wrapper commits), plus kontract's. */
export type PlatformaticRunConfig<O> = Omit<O, "autocommit"> & PlatformaticRunOptions & RunConfig;

export function isPlatformaticProducer(p: object): p is PlatformaticProducer {
  const x = p as Partial<Record<"type" | "send" | "asStream", unknown>>;
  return x.type === "producer" && typeof x.send === "function" && typeof x.asStream === "function";
}

export function isPlatformaticConsumer(c: object): c is PlatformaticConsumer {
  const x = c as Partial<Record<"type" | "consume", unknown>>;
  return x.type === "consumer" && typeof x.consume === "function";
}

// ---- produce ----

/** A record as @platformatic/kafka's default (Buffer) serializers take it. */
export interface RecordToProduce {
  topic: string;
  key?: Buffer;
  value?: Buffer;
  partition?: number;
  timestamp?: bigint;
  headers?: Map<Buffer, Buffer>;
}

interface SendOptions {
  messages: RecordToProduce[];
  acks?: number;
  compression?: string;
}

interface ProduceResult {
  offsets?: { topic: string; partition: number; offset: bigint }[];
}

/** kafkajs's CompressionTypes by number, as @platformatic/kafka names them. */
const COMPRESSION = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

export function platformaticProducer(producer: PlatformaticProducer): ProducerPort {
  const send = (options: SendOptions) => (producer as unknown as { send(o: SendOptions): Promise<ProduceResult> }).send(options);
  return {
    client: "platformatic",
    async write(topicMessages, options) {
      const out: SendOptions = { messages: toRecords(topicMessages) };
      if (options.acks !== undefined) out.acks = options.acks;
      if (options.compression !== undefined) out.compression = compressionName(options.compression);
      let result: ProduceResult;
      try {
        result = await send(out);
      } catch (e) {
        throw writeFailure(e);
      }
      const records: RecordMetadata[] = (result.offsets ?? []).map((o) => ({ topicName: o.topic, partition: o.partition, errorCode: 0, baseOffset: o.offset.toString() }));
      return { placements: placeMessages(topicMessages, records), records };
    },
  };
}

function compressionName(n: NonNullable<WriteOptions["compression"]>): string {
  const name = COMPRESSION[n];
  if (name === undefined) throw new KontractError("usage", `compression ${n} is not one of kafkajs's CompressionTypes (0 to 4)`);
  return name;
}

const bytes = (v: Buffer | string): Buffer => (typeof v === "string" ? Buffer.from(v) : v);

function toRecords(topicMessages: readonly TopicMessages[]): RecordToProduce[] {
  const out: RecordToProduce[] = [];
  for (const { topic, messages } of topicMessages) {
    for (const m of messages) out.push(toRecord(topic, m));
  }
  return out;
}

function toRecord(topic: string, m: OutgoingMessage): RecordToProduce {
  const r: RecordToProduce = { topic };
  if (m.key !== undefined && m.key !== null) r.key = bytes(m.key);
  if (m.value !== null) r.value = bytes(m.value);
  if (m.partition !== undefined) r.partition = m.partition;
  if (m.timestamp !== undefined) r.timestamp = BigInt(m.timestamp);
  if (m.headers !== undefined) r.headers = toHeaderMap(m.headers);
  return r;
}

/** Header names and values as Buffers (its default serializers take nothing else); a repeated header once per value. */
function toHeaderMap(headers: RecordHeaders): Map<Buffer, Buffer> {
  const out = new Map<Buffer, Buffer>();
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    // Map keys are the Buffer objects: a fresh one per value keeps every value of a repeated name.
    if (Array.isArray(v)) for (const x of v) out.set(Buffer.from(name), bytes(x));
    else out.set(Buffer.from(name), bytes(v));
  }
  return out;
}

/**
 * Whether retrying may help, from @platformatic/kafka's `canRetry` flags
 * (its errors nest: a MultipleErrors per attempt and destination). Any
 * `false` wins: a record the broker refuses stays refused.
 */
export function platformaticCanRetry(e: unknown, depth = 0): boolean | undefined {
  if (typeof e !== "object" || e === null || depth > 8) return undefined;
  const own = (e as { canRetry?: unknown }).canRetry;
  let inner: boolean | undefined;
  const nested = (e as { errors?: unknown }).errors;
  for (const x of [...(Array.isArray(nested) ? nested : []), (e as { cause?: unknown }).cause]) {
    const r = platformaticCanRetry(x, depth + 1);
    if (r === false) return false;
    if (r === true) inner = true;
  }
  if (own === false) return false;
  return own === true || inner === true ? true : undefined;
}

/** The client's error, with `retriable` (what causeRetriable reads) from its `canRetry` flags. */
function writeFailure(e: unknown): unknown {
  const retriable = platformaticCanRetry(e);
  if (retriable === undefined) return e;
  return Object.assign(new Error(e instanceof Error ? e.message : String(e), { cause: e }), { retriable });
}

/** A producer of @platformatic/kafka made with `idempotent: true` and `transactionalId`. */
interface TransactionalProducer {
  beginTransaction(): Promise<PlatformaticTransaction>;
  close(): Promise<void>;
}

interface PlatformaticTransaction {
  send(options: SendOptions): Promise<unknown>;
  addConsumer(consumer: object): Promise<void>;
  addOffset(message: StreamMessage): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * @platformatic/kafka's transactions: beginning its first registers the transactional id
 * (InitProducerId; connect() begins it), and addOffset commits a consumed message's offset with the group generation
 * and member id the message was fetched under, so a member that lost the partition is refused
 * (KIP-447). The offset is the client's own message's, kept on the record the adapter made.
 */
export function platformaticTransactional(producer: PlatformaticProducer): TransactionalProducerPort {
  const p = producer as unknown as TransactionalProducer;
  let registered = false;
  // A transaction begun and not used yet: beginning one registers the id (InitProducerId), and
  // nothing reaches the broker's transaction until its first write or offset.
  let ready: Promise<PlatformaticTransaction> | undefined;
  const beginTransaction = async (): Promise<PlatformaticTransaction> => {
    try {
      const t = await p.beginTransaction();
      registered = true;
      return t;
    } catch (e) {
      // Its InitProducerId sends producer id 0 and epoch 0 unless told otherwise, which the broker
      // refuses as fenced once the transactional id has had a producer: no restart could register it.
      if (!registered && isFenced(e)) {
        throw new KontractError("usage", "@platformatic/kafka: make the transactional producer with producerId: -1n and producerEpoch: -1 (its default 0 and 0 is refused as fenced once the transactional id has had a producer)", { cause: e });
      }
      throw writeFailure(e);
    }
  };
  return {
    client: "platformatic",
    // Registers the id now (a former owner's commit fails from then on): the first begin() takes that transaction.
    async connect() {
      ready = beginTransaction();
      await ready;
    },
    disconnect: () => p.close(),
    async begin() {
      const t = await (ready ?? beginTransaction());
      ready = undefined;
      return {
        write: async (topicMessages) => void (await t.send({ messages: toRecords(topicMessages), acks: -1 }).catch((e: unknown) => Promise.reject(writeFailure(e)))),
        async sendOffset(group, _topic, _partition, message) {
          const source = (message as Partial<StreamRecord>)[SOURCE];
          if (source === undefined) throw new KontractError("usage", "exactlyOnce on @platformatic/kafka: the record was not consumed through the contract consumer's adapter");
          await t.addConsumer(group.consumer);
          await t.addOffset(source);
        },
        commit: () => t.commit(),
        abort: () => t.abort(),
      };
    },
  };
}

// ---- consume ----

/** A consumed message of @platformatic/kafka with its default (Buffer) deserializers. */
export interface StreamMessage {
  readonly key?: Buffer;
  readonly value?: Buffer;
  readonly headerEntries: readonly (readonly [Buffer, Buffer])[];
  readonly topic: string;
  readonly partition: number;
  readonly timestamp: bigint;
  readonly offset: bigint;
  commit(callback: (error?: Error | null) => void): void;
}

/** Its MessagesStream, as the adapter reads it. */
interface MessageStream {
  read(): StreamMessage | null;
  on(event: "readable" | "end" | "close", listener: () => void): unknown;
  on(event: "error", listener: (e: unknown) => void): unknown;
  close(): Promise<void>;
}

interface StreamConsumer {
  readonly closed: boolean;
  consume(options: Record<string, unknown>): Promise<MessageStream>;
  close(force?: boolean): Promise<void>;
  /** A live member of its group: false while it rejoins, and for good when a rejoin failed (after a broker restart it does not try again). */
  isActive(): boolean;
  /** Joins the group again (a JoinGroup already under way is shared). */
  joinGroup(options: Record<string, unknown>): Promise<unknown>;
  /** Its diagnostic events; `consumer:group:join` follows every join, rebalances included. */
  on(event: "consumer:group:join", listener: (payload: unknown) => void): unknown;
  /** The partitions its group gave it at the last join (null before the first). */
  readonly assignments?: readonly { readonly topic: string; readonly partitions: readonly number[] }[] | null;
}

const SOURCE = Symbol("platformatic message");

/**
 * A consumed record in the port's (kafkajs's) shape. A class: a chunk's
 * records live until it is handled, and V8 pretenures object-literal sites
 * whose objects survive a scavenge (see consumer.ts). Offset and timestamp
 * become strings only when read (the contract consumer reads neither per
 * record), and a record without headers has none (`undefined`, as the
 * Confluent client's): every object made here per record lives through the
 * chunk, and each scavenge meanwhile copies it.
 */
class StreamRecord implements ConsumedMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly attributes = 0;
  readonly headers: RecordHeaders | undefined;
  /** The client's message: a transaction commits its offset with the group generation it was fetched in. */
  readonly [SOURCE]: StreamMessage;
  #offset: string | undefined;
  constructor(m: StreamMessage) {
    this[SOURCE] = m;
    this.key = m.key ?? null;
    this.value = m.value ?? null;
    this.headers = m.headerEntries.length === 0 ? undefined : toRecordHeaders(m.headerEntries);
  }
  get offset(): string {
    return (this.#offset ??= this[SOURCE].offset.toString());
  }
  get timestamp(): string {
    return this[SOURCE].timestamp.toString();
  }
}

/** kafkajs's form: a value per name, an array for a repeated name. */
function toRecordHeaders(entries: readonly (readonly [Buffer, Buffer])[]): RecordHeaders {
  const out: RecordHeaders = {};
  for (const [k, v] of entries) {
    const name = k.toString();
    const seen = out[name];
    out[name] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
  }
  return out;
}

class MessagePayload implements EachMessagePayload {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly message: ConsumedMessage,
    readonly pause: () => () => void,
  ) {}
  heartbeat = heartbeat;
}

/** Its consumer heartbeats on a timer of its own, whatever the handlers do. */
function heartbeat(): Promise<void> {
  return Promise.resolve();
}

class ChunkBatch implements Batch {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly messages: ConsumedMessage[],
  ) {}
  /** The end of what was fetched: the stream does not tell the partition's high watermark. */
  get highWatermark(): string {
    return (BigInt(this.lastOffset()) + 1n).toString();
  }
  isEmpty(): boolean {
    return this.messages.length === 0;
  }
  firstOffset(): string | null {
    return this.messages[0]?.offset ?? null;
  }
  lastOffset(): string {
    return this.messages[this.messages.length - 1]?.offset ?? "-1";
  }
  offsetLag(): string {
    return "0";
  }
  offsetLagLow(): string {
    return "0";
  }
}

const ignore = (): void => {};

/** The run option (set by CommitControl.runConfig) that leaves commits to the wrapper. */
const WRAPPER_COMMITS = "kontract.wrapperCommits";

/** Commits the group's position past a record the adapter made. */
function commitRecord(record: ConsumedMessage): Promise<void> {
  const source = (record as Partial<StreamRecord>)[SOURCE];
  if (source === undefined) return Promise.reject(new KontractError("usage", "@platformatic/kafka: the record was not consumed through the contract consumer's adapter"));
  return new Promise((resolve, reject) => source.commit((e) => (e ? reject(e) : resolve())));
}

/** Returned by an attempt that ended because the run is stopping or restarting, not by the handler. */
const INTERRUPTED = Symbol("interrupted");

/**
 * Reads a MessagesStream chunk by chunk: everything it holds at the time, at
 * least one record. Its 'readable' listener stays attached for the stream's
 * life: without one the stream does not fetch (readableFlowing back to null).
 */
class ChunkReader {
  #wake: (() => void) | undefined;
  #interrupted = false;
  #ended = false;
  #failure: { error: unknown } | undefined;

  constructor(readonly stream: MessageStream) {
    stream.on("readable", this.#signal);
    stream.on("end", this.#end);
    stream.on("close", this.#end);
    stream.on("error", (error) => {
      this.#failure ??= { error };
      this.#signal();
    });
  }

  readonly #signal = (): void => {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  };

  readonly #end = (): void => {
    this.#ended = true;
    this.#signal();
  };

  /** Makes a pending or the next `next()` return null. */
  interrupt(): void {
    this.#interrupted = true;
    this.#signal();
  }

  /** The next chunk; null when interrupted or the stream ended; throws what the stream failed with. */
  async next(): Promise<StreamMessage[] | null> {
    for (;;) {
      if (this.#failure) throw this.#failure.error;
      if (this.#interrupted) return null;
      const chunk: StreamMessage[] = [];
      for (let m = this.stream.read(); m !== null; m = this.stream.read()) chunk.push(m);
      if (chunk.length > 0) return chunk;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

export function platformaticConsumer(consumer: PlatformaticConsumer): ConsumerPort & { readonly methods: PlatformaticConsumerControls } {
  const client = consumer as unknown as StreamConsumer;
  let run: StreamRun | undefined;
  return {
    client: "platformatic",
    // Its assignments are set before the event: the whole assignment, per topic.
    ...groupJoins(
      (listener) => client.on("consumer:group:join", listener),
      () => (client.assignments ?? []).flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition }))),
    ),
    // The stream cannot move one partition back: it is opened again from the committed offsets.
    seek: () => run?.rewind(),
    seekRewindsAll: true,
    commits: {
      byDefault: true,
      runConfig: (config) => ({ ...config, [WRAPPER_COMMITS]: true }),
      commit: (records) => Promise.all(records.map((r) => commitRecord(r.message))).then(ignore),
    },
    async run(config) {
      if (run) throw new KontractError("usage", "run() was called already: one run per consumer (close() ends it)");
      run = new StreamRun(client, config);
      try {
        await run.start();
      } catch (e) {
        run = undefined;
        throw e;
      }
    },
    methods: {
      paused: () => run?.paused() ?? [],
      resume: (topics) => run?.resume(topics),
      async close(force) {
        const stopping = run;
        run = undefined;
        await stopping?.stop();
        await client.close(force);
      },
    },
  };
}

/** One `run`: the stream it reads (opened again after a failure or a resume), the held partitions. */
class StreamRun {
  readonly #consumer: StreamConsumer;
  readonly #eachMessage: RunConfig["eachMessage"];
  readonly #eachBatch: RunConfig["eachBatch"];
  readonly #autoResolve: boolean;
  readonly #initialRetry: number;
  readonly #maxRetry: number;
  readonly #onRestart: ((error: unknown) => void) | undefined;
  /** Whether the run commits past handled records itself (not when the wrapper does: stateful consumers). */
  readonly #commits: boolean;
  /** The consume options as given, without kontract's; copied per consume() (the client writes into them). */
  readonly #options: Record<string, unknown>;
  #stream: MessageStream | undefined;
  #reader: ChunkReader | undefined;
  #stopping = false;
  #restart = false;
  #wakeBackoff: (() => void) | undefined;
  #done: Promise<void> | undefined;
  /** Held partitions: the offset they wait at. */
  readonly #held = new Map<string, { topic: string; partition: number; offset: bigint }>();

  constructor(consumer: StreamConsumer, config: RunConfig) {
    const { eachMessage, eachBatch, eachBatchAutoResolve, retry, onRestart, autocommit, [WRAPPER_COMMITS]: wrapperCommits, ...options } = config as RunConfig & PlatformaticRunOptions & { autocommit?: unknown };
    if (!eachMessage && !eachBatch) throw new KontractError("usage", "run() needs eachMessage or eachBatch");
    if (autocommit !== undefined && autocommit !== false) {
      throw new KontractError("usage", "autocommit: the contract consumer commits past handled and dead-lettered records itself; leave autocommit unset");
    }
    this.#consumer = consumer;
    this.#eachMessage = eachMessage;
    this.#eachBatch = eachBatch;
    this.#autoResolve = eachBatchAutoResolve ?? true;
    this.#initialRetry = retry?.initialRetryTime ?? 300;
    this.#maxRetry = retry?.maxRetryTime ?? 30_000;
    this.#onRestart = onRestart;
    this.#commits = wrapperCommits !== true;
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#open(await this.#consumer.consume({ mode: "committed", ...this.#options, autocommit: false }));
    this.#done = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#interrupt();
    await this.#done;
  }

  paused(): { topic: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of this.#held.values()) {
      const list = byTopic.get(topic);
      if (list) list.push(partition);
      else byTopic.set(topic, [partition]);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  resume(topics: readonly { topic: string; partitions?: readonly number[] }[]): void {
    let released = false;
    for (const [key, h] of this.#held) {
      if (topics.some((t) => t.topic === h.topic && (t.partitions === undefined || t.partitions.includes(h.partition)))) {
        this.#held.delete(key);
        released = true;
      }
    }
    // Records of a held partition after its record were dropped, not committed: a new stream reads them again.
    if (released) {
      this.#restart = true;
      this.#interrupt();
    }
  }

  /** Reads every partition again from its committed offset: no record more of this stream is handed over. */
  rewind(): void {
    this.#restart = true;
    this.#interrupt();
  }

  #open(stream: MessageStream): void {
    this.#stream = stream;
    this.#reader = new ChunkReader(stream);
  }

  #interrupt(): void {
    this.#reader?.interrupt();
    const wake = this.#wakeBackoff;
    this.#wakeBackoff = undefined;
    wake?.();
  }

  /**
   * Whether the run ends: stopped by the wrapper's close(), or its client closed by any other way
   * (its own close()): then no record more is handed over and no failure is tried again, so no
   * handler, backoff timer or write of kontract's outlives the client.
   */
  #over(): boolean {
    return this.#stopping || this.#consumer.closed;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    try {
      while (!this.#over()) {
        try {
          if (this.#restart || !this.#reader) await this.#reopen();
          const chunk = await this.#reader!.next();
          if (chunk === null) {
            if (this.#over() || this.#restart) continue;
            throw new Error("the message stream ended");
          }
          failures = 0;
          await this.#handle(chunk);
        } catch (e) {
          if (this.#over()) break;
          // The stream failed (or could not be opened): open it again from the committed offsets.
          this.#restart = true;
          this.#onRestart?.(e);
          await this.#backoff(failures++);
        }
      }
    } finally {
      const stream = this.#stream;
      this.#stream = this.#reader = undefined;
      // Closing flushes the commits queued on it.
      await stream?.close().catch(ignore);
    }
  }

  async #reopen(): Promise<void> {
    // Out of its group, the client only queues a stream's commits, and drops them when the stream
    // closes: rejoin first, so closing the old stream commits what was handled on it.
    // Closed meanwhile: a join now would leave the client's heartbeats running after its close.
    if (this.#over()) return;
    if (!this.#consumer.isActive()) await this.#consumer.joinGroup({ ...this.#options });
    this.#restart = false;
    const old = this.#stream;
    this.#stream = this.#reader = undefined;
    await old?.close().catch(ignore);
    if (this.#over()) return;
    this.#open(await this.#consumer.consume({ ...this.#options, mode: "committed", autocommit: false }));
  }

  #backoff(attempt: number): Promise<void> {
    const ms = Math.min(this.#maxRetry, this.#initialRetry * 2 ** Math.min(attempt, 30));
    return new Promise((resolve) => {
      // Unref'd: while the client runs its connections keep the process up; once it is closed, a
      // backoff must not (a closed client's run ends at the next check).
      const timer = setTimeout(done, ms).unref();
      this.#wakeBackoff = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** A chunk run by run of one partition, in order. The stream yields a fetch answer partition after partition. */
  async #handle(chunk: readonly StreamMessage[]): Promise<void> {
    for (let start = 0; start < chunk.length; ) {
      const { topic, partition } = chunk[start]!;
      let end = start + 1;
      while (end < chunk.length && chunk[end]!.partition === partition && chunk[end]!.topic === topic) end++;
      if (this.#over() || this.#restart) return;
      // Its commits would be queued, not made (see #reopen), and every later reopen would start over
      // from the offsets committed before: stop here and reopen once the consumer is a member again.
      if (!this.#consumer.isActive()) {
        this.#restart = true;
        return;
      }
      // Records fetched before a rebalance moved their partition away are left to its new owner (handled
      // here too, they would also rebuild stateful rules' state, and its timers, on a consumer that no
      // longer owns the partition). Nothing is lost: every join makes the stream fetch its assigned
      // partitions again from their committed offsets. (Not a reopen: that would rejoin the group.)
      if (this.#owns(topic, partition) && !this.#held.has(partitionKey(topic, partition))) {
        if (this.#eachBatch) await this.#runBatch(topic, partition, chunk.slice(start, end));
        else await this.#runMessages(topic, partition, chunk, start, end);
      }
      start = end;
    }
  }

  /** Whether the partition is in the consumer's assignment (unknown before the first join: yes). */
  #owns(topic: string, partition: number): boolean {
    const assigned = this.#consumer.assignments;
    return assigned == null || assigned.some((a) => a.topic === topic && a.partitions.includes(partition));
  }

  #hold(topic: string, partition: number, offset: bigint): void {
    this.#held.set(partitionKey(topic, partition), { topic, partition, offset });
  }

  /**
   * Calls `attempt` until it resolves. Returns undefined when it did, the
   * error when it is a non-retriable kontract error (the record must wait),
   * INTERRUPTED when the run stops or restarts meanwhile.
   */
  async #attempt(attempt: () => Promise<void>): Promise<unknown> {
    for (let n = 0; ; n++) {
      try {
        await attempt();
        return undefined;
      } catch (e) {
        if (isKontractError(e) && !e.retriable) return e;
        if (this.#over() || this.#restart) return INTERRUPTED;
        await this.#backoff(n);
        if (this.#over() || this.#restart) return INTERRUPTED;
      }
    }
  }

  async #runMessages(topic: string, partition: number, chunk: readonly StreamMessage[], start: number, end: number): Promise<void> {
    const eachMessage = this.#eachMessage!;
    let handled: StreamMessage | undefined;
    let pauseAsked = false;
    const pause = () => {
      pauseAsked = true;
      return () => this.resume([{ topic, partitions: [partition] }]);
    };
    try {
      for (let i = start; i < end; i++) {
        if (this.#over() || this.#restart) return;
        const m = chunk[i]!;
        const payload = new MessagePayload(topic, partition, new StreamRecord(m), pause);
        const outcome = await this.#attempt(() => eachMessage(payload));
        if (outcome === INTERRUPTED) return;
        if (outcome !== undefined) return this.#hold(topic, partition, m.offset);
        handled = m;
        // kafkajs's pause() inside eachMessage: this record is done, the partition waits after it.
        if (pauseAsked) return this.#hold(topic, partition, m.offset + 1n);
      }
    } finally {
      if (this.#commits) handled?.commit(ignore);
    }
  }

  async #runBatch(topic: string, partition: number, run: readonly StreamMessage[]): Promise<void> {
    const eachBatch = this.#eachBatch!;
    const records = run.map((m) => new StreamRecord(m));
    /** Index of the last record resolved, in `run`. */
    let resolved = -1;
    let committed = -1;
    const commit = () => {
      if (resolved > committed && this.#commits) run[(committed = resolved)]!.commit(ignore);
    };
    /** Where the partition stands: the first record not resolved, or past the run. */
    const next = () => run[resolved + 1]?.offset ?? run[run.length - 1]!.offset + 1n;
    let pauseAsked = false;
    for (let n = 0; !this.#over() && !this.#restart; n++) {
      const from = resolved + 1;
      const batch = new ChunkBatch(topic, partition, from === 0 ? records : records.slice(from));
      const payload: EachBatchPayload = {
        batch,
        resolveOffset: (offset) => {
          const o = BigInt(offset);
          while (resolved + 1 < run.length && run[resolved + 1]!.offset <= o) resolved++;
        },
        heartbeat,
        pause: () => {
          pauseAsked = true;
          return () => this.resume([{ topic, partitions: [partition] }]);
        },
        commitOffsetsIfNecessary: async () => commit(),
        uncommittedOffsets: () => ({ topics: [{ topic, partitions: [{ partition, offset: next().toString() }] }] }),
        isRunning: () => !this.#over(),
        isStale: () => this.#restart || this.#over(),
      };
      let failed = false;
      let failure: unknown;
      try {
        await eachBatch(payload);
        if (this.#autoResolve) resolved = run.length - 1;
      } catch (e) {
        failed = true;
        failure = e;
      }
      commit();
      if (pauseAsked) return this.#hold(topic, partition, next());
      // Done, or nothing left to try again.
      if (!failed || resolved === run.length - 1) return;
      if (isKontractError(failure) && !failure.retriable) return this.#hold(topic, partition, next());
      if (this.#over() || this.#restart) return;
      // Retried in place, from the first record not resolved.
      await this.#backoff(n);
    }
  }
}
