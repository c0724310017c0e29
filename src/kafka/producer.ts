/**
 * A kafkajs producer whose `send` / `sendBatch` go through the data contracts.
 *
 * Every message of a call is serialized (WRITE rules included) before anything
 * is written, so a call is all-or-nothing for onFailure ERROR. onFailure DLQ
 * messages are written to their DLQ topics first, then the rest is sent: when
 * the DLQ write fails, nothing else is sent.
 */
import { SerializationError, isKontractError, type KontractError, type Violation } from "../errors.js";
import { createSerializer, type SerializeResult, type Serializer, type WriterSchema } from "../serde/index.js";
import { capText } from "../util/cap.js";
import type { MaybePromise } from "../util/maybe.js";
import type { OutgoingMessage, ProducerPort, RecordMetadata, TopicMessages, WriteOptions, Written } from "./client.js";
import { producerPort, type KafkaProducer } from "./clients/index.js";
import { createContracts, keyContractOf, toBuffer, type Contracts, type ContractsOptions, type SubjectOptions } from "./contracts.js";
import { createDeadLetterSender, deadLetterRecord, resolveDlqTopic, writeForm, type DlqTopicOption } from "./dlq.js";
import { ProduceRejectedError, SendError, type RejectedMessage } from "./errors.js";
import { overlay } from "./overlay.js";
import type { Placement } from "./placement.js";
import type { ContractSendResult, DeadLetteredReport, MessageReport } from "./reports.js";

/** A message whose key and value are application values, serialized by the wrapper. */
export interface ContractMessage extends Omit<OutgoingMessage, "key" | "value"> {
  /** Serialized when the topic has a key contract (see `key`); otherwise sent as given (Buffer, string, null). */
  key?: unknown;
  /** Serialized with the value contract. `null` is a tombstone, sent as is without rules. */
  value: unknown;
}

/** `send`'s argument. `acks`, `timeout` and `compression` go to clients that take them per call (kafkajs). */
export interface ContractProducerRecord extends WriteOptions {
  topic: string;
  messages: ContractMessage[];
}

export interface ContractTopicMessages {
  topic: string;
  messages: ContractMessage[];
}

export interface ContractProducerBatch extends WriteOptions {
  topicMessages?: ContractTopicMessages[];
}

/** How one side (key or value) is serialized. */
export interface ProducerSideOptions extends SubjectOptions {
  /** Which registered version to write with. Default `{ use: "latest" }`. */
  writerSchema?: WriterSchema;
  /** Put the schema GUID in a `__value_schema_id` / `__key_schema_id` header instead of the payload prefix. */
  schemaIdInHeader?: boolean;
}

export interface DlqOptions {
  /** The DLQ topic, or a function of the source topic. Wins over the rule's `dlq.topic`; default `<topic>-dlq`. */
  topic?: DlqTopicOption;
  /** The producer writing DLQ records, of any supported client. Producer wrapper: default the wrapped producer. Consumer wrapper: required for DLQ. */
  producer?: KafkaProducer;
  /** Broker acknowledgement timeout for DLQ writes, ms. */
  timeout?: number;
}

export interface ContractProducerOptions extends ContractsOptions {
  value?: ProducerSideOptions;
  /**
   * Whether keys go through a key contract. "auto" (default): when the key
   * subject exists in the registry (asked once per topic); true: always (a
   * missing subject fails the call; use it with an auto-registered key
   * contract); false: keys are sent as given.
   */
  key?: "auto" | boolean;
  keySerde?: ProducerSideOptions;
  dlq?: DlqOptions;
  /** Called for each message once its dead letter is written (for metrics and logs); the call's result lists them too. */
  onDeadLetter?: (report: DeadLetteredReport) => void;
}

/** The wrapped producer: the client's producer (all its methods), with contract-aware send and sendBatch. */
export type ContractProducer<P extends KafkaProducer = KafkaProducer> = Omit<P, "send" | "sendBatch" | "producer"> & {
  /** Resolves with what went where; rejects with ProduceRejectedError, DeadLetterError, SendError or a RegistryError. */
  send(record: ContractProducerRecord): Promise<ContractSendResult>;
  sendBatch(batch: ContractProducerBatch): Promise<ContractSendResult>;
  /** The producer underneath, for bytes that need no contract. */
  readonly producer: P;
};

/**
 * One side of one message after serialization: the serializer's answer when a
 * contract was used, the bytes as given when not, or why the call must fail.
 */
type Side =
  | SerializeResult
  | { readonly kind: "raw"; readonly bytes: Buffer | string | null | undefined }
  | { readonly kind: "invalid"; readonly error: KontractError };

type FailedSide = Extract<Side, { kind: "failed" }>;

/** A message's dead letter: where it goes, the record, and the side whose rule sent it there. */
interface DeadLetter {
  readonly topic: string;
  readonly message: OutgoingMessage;
  readonly side: FailedSide;
  readonly isKey: boolean;
}

const RAW_NULL: Side = Object.freeze({ kind: "raw", bytes: null });
const RAW_UNDEFINED: Side = Object.freeze({ kind: "raw", bytes: undefined });
const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);

/**
 * One message of a call, in call order (`index`); its sides are filled in once
 * serialized. A class rather than an object literal: entries live across the
 * broker round trip, and V8 would pretenure a literal site, keeping every
 * serialized message alive until the next full GC.
 */
class Entry {
  key: Side = RAW_UNDEFINED;
  value: Side = RAW_NULL;
  /** Its DLQ record, once built: for a rule failing with DLQ. */
  dead: DeadLetter | undefined = undefined;
  constructor(
    readonly index: number,
    readonly topic: string,
    readonly message: ContractMessage,
  ) {}
}

/**
 * A call's messages ready to write, and what their reports need once written:
 * nothing per message but the message itself, unless dead letters shift the
 * indexes or a message has violations.
 */
class Staged {
  constructor(
    readonly out: TopicMessages[],
    /** The call index of each message to write; undefined when it is its slot (no dead letters). */
    private readonly indexes: readonly number[] | undefined,
    /** The violations of each message to write that has any. */
    private readonly violations: readonly (readonly Violation[] | undefined)[] | undefined,
    /** The call's reports, the dead letters' filled in. */
    readonly reports: MessageReport[],
    readonly dlqRecords: RecordMetadata[],
  ) {}

  /** The reports, with each message written at its placement. */
  sent(placements: readonly Placement[]): MessageReport[] {
    let slot = 0;
    for (const { topic, messages } of this.out) {
      for (let j = 0; j < messages.length; j++, slot++) {
        const index = this.indexes === undefined ? slot : this.indexes[slot]!;
        const { partition, offset } = placements[slot]!;
        this.reports[index] = { status: "sent", index, topic, partition, offset, violations: this.violations?.[slot] ?? NO_VIOLATIONS };
      }
    }
    return this.reports;
  }

  /** The call indexes of the messages to write. */
  unsent(): number[] {
    if (this.indexes !== undefined) return [...this.indexes];
    let n = 0;
    for (const t of this.out) n += t.messages.length;
    return Array.from({ length: n }, (_, i) => i);
  }
}

/**
 * Wraps a producer of kafkajs or of the KafkaJS API of
 * @confluentinc/kafka-javascript (told apart by shape; see clients/).
 */
export function contractProducer<P extends KafkaProducer>(producer: P, options: ContractProducerOptions): ContractProducer<P> {
  const port: ProducerPort = producerPort(producer);
  const contracts = createContracts(options);
  const valueSerializer = sideSerializer(contracts, false, options.value ?? {});
  const keySerializer = sideSerializer(contracts, true, options.keySerde ?? {});
  const keyContract = keyContractOf(options.key ?? "auto", contracts.registry, keySerializer.subject);
  const dlqSender = createDeadLetterSender({
    producer: options.dlq?.producer ?? port,
    ...(options.dlq?.timeout === undefined ? {} : { timeout: options.dlq.timeout }),
  });

  function keySide(topic: string, key: unknown): MaybePromise<Side> {
    if (key === undefined) return RAW_UNDEFINED;
    if (key === null) return RAW_NULL;
    const has = keyContract(topic);
    if (has === true) return serializeSide(keySerializer, topic, key);
    if (has === false) return rawKey(key, topic);
    return has.then((h) => (h ? serializeSide(keySerializer, topic, key) : rawKey(key, topic)));
  }

  /**
   * Serializes every message of the call. Synchronous for cached contracts and
   * synchronous rules; otherwise waits for every pending message together.
   */
  async function prepare(topicMessages: readonly ContractTopicMessages[]): Promise<Entry[]> {
    const entries: Entry[] = [];
    let pending: Promise<unknown>[] | undefined;
    for (const { topic, messages } of topicMessages) {
      for (const message of messages) {
        const e = new Entry(entries.length, topic, message);
        entries.push(e);
        try {
          const value = serializeSide(valueSerializer, topic, message.value);
          if (value instanceof Promise) (pending ??= []).push(value.then((v) => void (e.value = v)));
          else e.value = value;
          const key = keySide(topic, message.key);
          if (key instanceof Promise) (pending ??= []).push(key.then((k) => void (e.key = k)));
          else e.key = key;
        } catch (err) {
          // Becomes a rejection, so that Promise.all also observes every other pending one.
          (pending ??= []).push(Promise.reject(err));
        }
      }
    }
    if (pending) await Promise.all(pending);
    return entries;
  }

  async function sendBatch(batch: ContractProducerBatch): Promise<ContractSendResult> {
    const { topicMessages = [], ...sendOptions } = batch;
    // Only what the reports need stays alive across the broker round trip, not the entries: a
    // scavenge during the write copies every young object still alive, per message (docs/kafka.md).
    const staged = await stage(topicMessages);
    if (staged.out.length === 0) return { messages: staged.reports, records: [], dlqRecords: staged.dlqRecords };
    let written: Written;
    try {
      written = await port.write(staged.out, sendOptions);
    } catch (e) {
      throw new SendError(staged.unsent(), staged.reports.filter((r): r is DeadLetteredReport => r?.status === "dead-lettered"), e);
    }
    return { messages: staged.sent(written.placements), records: written.records, dlqRecords: staged.dlqRecords };
  }

  /** Serializes the call's messages, writes its dead letters, and stages the rest to write. */
  async function stage(topicMessages: readonly ContractTopicMessages[]): Promise<Staged> {
    const entries = await prepare(topicMessages);

    let rejected: RejectedMessage[] | undefined;
    let deadCount = 0;
    for (const e of entries) {
      if (passed(e.key) && passed(e.value)) continue;
      // The DLQ records are built before anything is written: one that cannot be built rejects the call.
      const r = rejection(e) ?? buildDeadLetter(e);
      if (r) (rejected ??= []).push(r);
      else if (e.dead) deadCount++;
    }
    if (rejected) throw new ProduceRejectedError(rejected);

    const reports: MessageReport[] = new Array<MessageReport>(entries.length);
    let dlqRecords: RecordMetadata[] = [];
    // Dead letters first: if they cannot be written, nothing of the call is.
    if (deadCount > 0) dlqRecords = await deadLetter(entries, reports);

    // The valid messages, in the call's grouping and order; the port merges entries of the same topic.
    const out: TopicMessages[] = [];
    // Per message to write (its slot): its index in the call, only when dead letters shift them, and
    // its violations, only when some message has any.
    const indexes: number[] | undefined = deadCount > 0 ? [] : undefined;
    let violations: (readonly Violation[])[] | undefined;
    let slot = 0;
    let i = 0;
    for (const { topic, messages } of topicMessages) {
      const kafkaMessages: OutgoingMessage[] = [];
      for (let end = i + messages.length; i < end; i++) {
        const e = entries[i]!;
        if (deadCount > 0 && failing(e)) continue;
        const v = allViolations(e);
        if (v.length > 0) (violations ??= [])[slot] = v;
        indexes?.push(e.index);
        kafkaMessages.push(toKafkaMessage(e));
        slot++;
      }
      if (kafkaMessages.length > 0) out.push({ topic, messages: kafkaMessages });
    }
    return new Staged(out, indexes, violations, reports, dlqRecords);
  }

  /**
   * Builds the DLQ record of a message whose rule failed with DLQ (sets `e.dead`).
   * Returns its rejection when a side has no JSON form to write there (nested
   * deeper than the stack allows): rejected, the message is not lost.
   */
  function buildDeadLetter(e: Entry): RejectedMessage | undefined {
    const side = failing(e);
    if (!side) return undefined;
    let key: Buffer | string | null | undefined;
    let value: Buffer | string | null | undefined;
    let isKey = true;
    try {
      key = dlqForm(e.key, e.message.key, contracts.sensitiveTags);
      isKey = false;
      value = dlqForm(e.value, e.message.value, contracts.sensitiveTags);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      const error = new SerializationError("message-invalid", `the ${isKey ? "key" : "value"} cannot be dead-lettered: it has no JSON form (${capText(why)})`, { cause });
      return { index: e.index, topic: e.topic, isKey, violations: allViolations(e), error };
    }
    const message = deadLetterRecord({
      key,
      value: value ?? null,
      headers: e.message.headers,
      origin: { topic: e.topic, partition: e.message.partition },
      cause: { kind: "rule", outcome: side.outcome, violations: allViolations(e) },
    });
    e.dead = { topic: resolveDlqTopic(options.dlq?.topic, e.topic, side.outcome.dlqTopic), message, side, isKey: side === e.key };
    return undefined;
  }

  /** Writes the call's dead letters (built by buildDeadLetter) and fills in their reports; returns kafkajs's answer. */
  async function deadLetter(entries: readonly Entry[], reports: MessageReport[]): Promise<RecordMetadata[]> {
    const dead: (DeadLetter & { e: Entry })[] = [];
    for (const e of entries) if (e.dead) dead.push({ ...e.dead, e });
    const sent = await dlqSender.send(dead.map(({ topic, message }) => ({ topic, message })));
    dead.forEach(({ e, side, isKey, topic }, i) => {
      reports[e.index] = {
        status: "dead-lettered",
        index: e.index,
        topic: e.topic,
        dlqTopic: topic,
        partition: sent.placements[i]!.partition,
        offset: sent.placements[i]!.offset,
        rule: side.outcome.rule.name,
        isKey,
        violations: allViolations(e),
      };
      options.onDeadLetter?.(reports[e.index] as DeadLetteredReport);
    });
    return sent.records;
  }

  return overlay(producer, {
    producer,
    sendBatch,
    send: ({ topic, messages, ...rest }: ContractProducerRecord) => sendBatch({ ...rest, topicMessages: [{ topic, messages }] }),
  }) as unknown as ContractProducer<P>;
}

function sideSerializer(contracts: Contracts, isKey: boolean, side: ProducerSideOptions): Serializer {
  return createSerializer({
    store: contracts.store(side),
    isKey,
    ...(side.subjectNameStrategy === undefined ? {} : { subjectNameStrategy: side.subjectNameStrategy }),
    ...(side.recordName === undefined ? {} : { recordName: side.recordName }),
    ...(side.writerSchema === undefined ? {} : { writerSchema: side.writerSchema }),
    ...(side.schemaIdInHeader === undefined ? {} : { schemaIdInHeader: side.schemaIdInHeader }),
  });
}

function rawKey(key: unknown, topic: string): Side {
  if (typeof key === "string" || Buffer.isBuffer(key)) return { kind: "raw", bytes: key };
  if (key instanceof Uint8Array) return { kind: "raw", bytes: toBuffer(key) };
  return {
    kind: "invalid",
    error: new SerializationError("message-invalid", `key is ${typeof key === "object" ? "an object" : `a ${typeof key}`}, but topic ${topic} has no key contract (send a string or Buffer, or set options.key)`),
  };
}

/** Serializes one side; per-message failures become values, registry and setup failures reject. */
function serializeSide(serializer: Serializer, topic: string, value: unknown): MaybePromise<Side> {
  if (value === null && !serializer.isKey) return RAW_NULL;
  if (value === undefined) {
    return { kind: "invalid", error: new SerializationError("message-invalid", `${serializer.isKey ? "key" : "value"} is undefined (a tombstone is null)`) };
  }
  try {
    const r = serializer.serialize(topic, value);
    return r instanceof Promise ? r.catch(perMessage) : r;
  } catch (e) {
    return perMessage(e);
  }
}

/** A message that does not fit its schema fails the call like ERROR; anything else (registry down) rejects as is. */
function perMessage(e: unknown): Side {
  if (isKontractError(e) && (e.code === "message-invalid" || e.code === "wire-format") && !e.retriable) return { kind: "invalid", error: e };
  throw e;
}

/** A side that goes to its topic as is: serialized, or bytes without a contract. */
function passed(side: Side): boolean {
  return side.kind === "serialized" || side.kind === "raw";
}

/** The side whose rule failed with DLQ (the key's first), if any. Only meaningful once no side is rejected. */
function failing(e: Entry): FailedSide | undefined {
  return e.key.kind === "failed" ? e.key : e.value.kind === "failed" ? e.value : undefined;
}

/** Why a side fails the whole call: not serializable, or a rule failing with ERROR. */
function sideError(side: Side): KontractError | undefined {
  return side.kind === "invalid" ? side.error : side.kind === "failed" && side.outcome.action === "ERROR" ? side.outcome.error : undefined;
}

function rejection(e: Entry): RejectedMessage | undefined {
  const keyError = sideError(e.key);
  const error = keyError ?? sideError(e.value);
  if (!error) return undefined;
  return { index: e.index, topic: e.topic, isKey: keyError !== undefined, violations: allViolations(e), error };
}

function sideViolations(side: Side): readonly Violation[] {
  return side.kind === "serialized" || side.kind === "failed" ? side.outcome.violations : NO_VIOLATIONS;
}

function allViolations(e: Entry): readonly Violation[] {
  const k = sideViolations(e.key);
  const v = sideViolations(e.value);
  return k.length === 0 ? v : v.length === 0 ? k : [...k, ...v];
}

/** A side as the DLQ gets it on WRITE: JSON form (redacted) when a contract was used, else the bytes given. */
function dlqForm(side: Side, original: unknown, sensitive: ReadonlySet<string>): Buffer | string | null | undefined {
  if (side.kind === "failed" || side.kind === "serialized") return writeForm(side.contract.plan.schema, side.outcome.value, sensitive);
  if (side.kind === "raw") return side.bytes;
  return original === undefined || original === null ? (original as null | undefined) : Buffer.from(String(original));
}

function sideBytes(side: Side): Buffer | string | null | undefined {
  return side.kind === "serialized" ? toBuffer(side.bytes) : (side as Side & { kind: "raw" }).bytes;
}

/** The message to write for a passed entry: its own fields, the serialized key and value, schema id headers. */
function toKafkaMessage(e: Entry): OutgoingMessage {
  const m = e.message;
  const out: OutgoingMessage = { value: sideBytes(e.value) ?? null };
  const key = sideBytes(e.key);
  if (key !== undefined) out.key = key;
  if (m.partition !== undefined) out.partition = m.partition;
  if (m.timestamp !== undefined) out.timestamp = m.timestamp;
  const keyHeader = e.key.kind === "serialized" ? e.key.header : undefined;
  const valueHeader = e.value.kind === "serialized" ? e.value.header : undefined;
  if (keyHeader || valueHeader) {
    const headers = { ...m.headers };
    if (keyHeader) headers[keyHeader.name] = toBuffer(keyHeader.value);
    if (valueHeader) headers[valueHeader.name] = toBuffer(valueHeader.value);
    out.headers = headers;
  } else if (m.headers !== undefined) {
    out.headers = m.headers;
  }
  return out;
}
