/**
 * A kafkajs producer whose `send` / `sendBatch` go through the data contracts.
 *
 * Every message of a call is serialized (WRITE rules included) before anything
 * is written, so a call is all-or-nothing for onFailure ERROR. onFailure DLQ
 * messages are written to their DLQ topics first, then the rest is sent: when
 * the DLQ write fails, nothing else is sent.
 */
import type { Message, Producer, ProducerBatch, ProducerRecord, RecordMetadata } from "kafkajs";
import type { FailedOutcome } from "../engine/index.js";
import { SerializationError, isKontractError, type KontractError, type Violation } from "../errors.js";
import type { CompiledSchema } from "../format/types.js";
import { createSerializer, type SerializeResult, type Serializer, type WriterSchema } from "../serde/index.js";
import { then, type MaybePromise } from "../util/maybe.js";
import { createContracts, subjectExists, toBuffer, type Contracts, type ContractsOptions, type SubjectOptions } from "./contracts.js";
import { createDeadLetterSender, deadLetterRecord, resolveDlqTopic, writeForm, type BatchSender, type DlqTopicOption } from "./dlq.js";
import { ProduceRejectedError, SendError, type RejectedMessage } from "./errors.js";
import { placeMessages } from "./placement.js";
import type { ContractSendResult, DeadLetteredReport, MessageReport } from "./reports.js";

/** A message whose key and value are application values, serialized by the wrapper. */
export interface ContractMessage extends Omit<Message, "key" | "value"> {
  /** Serialized when the topic has a key contract (see `key`); otherwise sent as given (Buffer, string, null). */
  key?: unknown;
  /** Serialized with the value contract. `null` is a tombstone, sent as is without rules. */
  value: unknown;
}

export interface ContractProducerRecord extends Omit<ProducerRecord, "messages"> {
  messages: ContractMessage[];
}

export interface ContractTopicMessages {
  topic: string;
  messages: ContractMessage[];
}

export interface ContractProducerBatch extends Omit<ProducerBatch, "topicMessages"> {
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
  /** The producer writing DLQ records. Producer wrapper: default the wrapped producer. Consumer wrapper: required for DLQ. */
  producer?: BatchSender;
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
}

/** The wrapped producer: kafkajs's Producer, with contract-aware send and sendBatch. */
export type ContractProducer = Omit<Producer, "send" | "sendBatch"> & {
  /** Resolves with what went where; rejects with ProduceRejectedError, DeadLetterError, SendError or a RegistryError. */
  send(record: ContractProducerRecord): Promise<ContractSendResult>;
  sendBatch(batch: ContractProducerBatch): Promise<ContractSendResult>;
  /** The producer underneath, for bytes that need no contract. */
  readonly producer: Producer;
};

/** One side of one message after serialization. */
type Side =
  | {
      readonly kind: "ok";
      readonly bytes: Buffer | string | null | undefined;
      readonly header: { readonly name: string; readonly value: Uint8Array } | undefined;
      readonly violations: readonly Violation[];
      /** Set when a contract was used: the message after the WRITE rules, for the DLQ's JSON form. */
      readonly schema: CompiledSchema | undefined;
      readonly native: unknown;
    }
  | { readonly kind: "failed"; readonly outcome: FailedOutcome; readonly schema: CompiledSchema }
  | { readonly kind: "invalid"; readonly error: KontractError };

interface Item {
  readonly index: number;
  readonly topic: string;
  readonly message: ContractMessage;
}

interface Prepared {
  readonly item: Item;
  readonly key: Side;
  readonly value: Side;
}

export function contractProducer(producer: Producer, options: ContractProducerOptions): ContractProducer {
  const contracts = createContracts(options);
  const valueSerializer = sideSerializer(contracts, false, options.value ?? {});
  const keySerializer = sideSerializer(contracts, true, options.keySerde ?? {});
  const keyMode = options.key ?? "auto";
  const keyExists = subjectExists(contracts.registry);
  const dlqSender = createDeadLetterSender({
    producer: options.dlq?.producer ?? producer,
    ...(options.dlq?.timeout === undefined ? {} : { timeout: options.dlq.timeout }),
  });

  const keyContract = (topic: string): MaybePromise<boolean> =>
    keyMode === "auto" ? keyExists(keySerializer.subject(topic)) : keyMode;

  function prepare(item: Item): MaybePromise<Prepared> {
    const { topic, message } = item;
    const value = serializeSide(valueSerializer, topic, message.value);
    const key =
      message.key === undefined || message.key === null
        ? rawKey(message.key)
        : then(keyContract(topic), (has) => (has ? serializeSide(keySerializer, topic, message.key) : rawKey(message.key, topic)));
    if (key instanceof Promise || value instanceof Promise) {
      return Promise.all([key, value]).then(([k, v]) => ({ item, key: k, value: v }));
    }
    return { item, key, value };
  }

  async function sendBatch(batch: ContractProducerBatch): Promise<ContractSendResult> {
    const { topicMessages = [], ...sendOptions } = batch;
    const items: Item[] = [];
    for (const { topic, messages } of topicMessages) for (const message of messages) items.push({ index: items.length, topic, message });

    // A synchronous throw becomes a rejection, so Promise.all observes every pending one.
    const maybe = items.map((item) => {
      try {
        return prepare(item);
      } catch (e) {
        return Promise.reject(e);
      }
    });
    const prepared = maybe.some((p) => p instanceof Promise) ? await Promise.all(maybe) : (maybe as Prepared[]);

    const rejected: RejectedMessage[] = [];
    for (const p of prepared) {
      const r = rejection(p);
      if (r) rejected.push(r);
    }
    if (rejected.length > 0) throw new ProduceRejectedError(rejected);

    // Dead letters first: if they cannot be written, nothing of the call is.
    const dead: { p: Prepared; failing: Side & { kind: "failed" }; isKey: boolean; topic: string }[] = [];
    const valid: Prepared[] = [];
    for (const p of prepared) {
      const failing = p.key.kind === "failed" ? p.key : p.value.kind === "failed" ? p.value : undefined;
      if (failing) dead.push({ p, failing, isKey: failing === p.key, topic: resolveDlqTopic(options.dlq?.topic, p.item.topic, failing.outcome.dlqTopic) });
      else valid.push(p);
    }
    const reports: MessageReport[] = new Array<MessageReport>(items.length);
    let dlqRecords: RecordMetadata[] = [];
    if (dead.length > 0) {
      const sent = await dlqSender.send(
        dead.map(({ p, failing, topic }) => ({
          topic,
          message: deadLetterRecord({
            key: dlqForm(p.key, p.item.message.key, contracts.sensitiveTags),
            value: dlqForm(p.value, p.item.message.value, contracts.sensitiveTags) ?? null,
            headers: p.item.message.headers,
            origin: { topic: p.item.topic, partition: p.item.message.partition },
            cause: { kind: "rule", outcome: failing.outcome, violations: allViolations(p) },
          }),
        })),
      );
      dlqRecords = sent.records;
      dead.forEach(({ p, failing, isKey, topic }, i) => {
        const report: DeadLetteredReport = {
          status: "dead-lettered",
          index: p.item.index,
          topic: p.item.topic,
          dlqTopic: topic,
          partition: sent.placements[i]!.partition,
          offset: sent.placements[i]!.offset,
          rule: failing.outcome.rule.name,
          isKey,
          violations: allViolations(p),
        };
        reports[p.item.index] = report;
      });
    }

    let records: RecordMetadata[] = [];
    if (valid.length > 0) {
      const out = groupByTopic(valid.map((p) => ({ topic: p.item.topic, message: toKafkaMessage(p) })));
      try {
        records = await producer.sendBatch({ ...sendOptions, topicMessages: out.topicMessages });
      } catch (e) {
        throw new SendError(
          valid.map((p) => p.item.index),
          reports.filter((r): r is DeadLetteredReport => r?.status === "dead-lettered"),
          e,
        );
      }
      const placements = placeMessages(out.topicMessages, records);
      out.order.forEach((slot, i) => {
        const p = valid[slot]!;
        reports[p.item.index] = {
          status: "sent",
          index: p.item.index,
          topic: p.item.topic,
          partition: placements[i]!.partition,
          offset: placements[i]!.offset,
          violations: allViolations(p),
        };
      });
    }
    return { messages: reports, records, dlqRecords };
  }

  return {
    ...producer,
    producer,
    sendBatch,
    send: ({ topic, messages, ...rest }) => sendBatch({ ...rest, topicMessages: [{ topic, messages }] }),
  };
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

const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);

function rawKey(key: unknown, topic?: string): Side {
  if (key === undefined || key === null || typeof key === "string" || Buffer.isBuffer(key)) {
    return { kind: "ok", bytes: key as Buffer | string | null | undefined, header: undefined, violations: NO_VIOLATIONS, schema: undefined, native: undefined };
  }
  if (key instanceof Uint8Array) return { kind: "ok", bytes: toBuffer(key), header: undefined, violations: NO_VIOLATIONS, schema: undefined, native: undefined };
  return {
    kind: "invalid",
    error: new SerializationError("message-invalid", `key is ${typeof key === "object" ? "an object" : `a ${typeof key}`}, but topic ${topic} has no key contract (send a string or Buffer, or set options.key)`),
  };
}

/** Serializes one side; per-message failures become values, registry and setup failures reject. */
function serializeSide(serializer: Serializer, topic: string, value: unknown): MaybePromise<Side> {
  if (value === null && !serializer.isKey) return { kind: "ok", bytes: null, header: undefined, violations: NO_VIOLATIONS, schema: undefined, native: undefined };
  if (value === undefined) {
    return { kind: "invalid", error: new SerializationError("message-invalid", `${serializer.isKey ? "key" : "value"} is undefined (a tombstone is null)`) };
  }
  try {
    const r = serializer.serialize(topic, value);
    return r instanceof Promise ? r.then(toSide, perMessage) : toSide(r);
  } catch (e) {
    return perMessage(e);
  }
}

function toSide(r: SerializeResult): Side {
  if (r.kind === "failed") return { kind: "failed", outcome: r.outcome, schema: r.contract.plan.schema };
  return { kind: "ok", bytes: toBuffer(r.bytes), header: r.header, violations: r.outcome.violations, schema: r.contract.plan.schema, native: r.outcome.value };
}

/** A message that does not fit its schema fails the call like ERROR; anything else (registry down) rejects as is. */
function perMessage(e: unknown): Side {
  if (isKontractError(e) && (e.code === "message-invalid" || e.code === "wire-format") && !e.retriable) return { kind: "invalid", error: e };
  throw e;
}

function rejection(p: Prepared): RejectedMessage | undefined {
  const failure = (side: Side): KontractError | undefined =>
    side.kind === "invalid" ? side.error : side.kind === "failed" && side.outcome.action === "ERROR" ? side.outcome.error : undefined;
  const keyError = failure(p.key);
  const error = keyError ?? failure(p.value);
  if (!error) return undefined;
  return { index: p.item.index, topic: p.item.topic, isKey: keyError !== undefined, violations: allViolations(p), error };
}

function sideViolations(side: Side): readonly Violation[] {
  return side.kind === "ok" ? side.violations : side.kind === "failed" ? side.outcome.violations : NO_VIOLATIONS;
}

function allViolations(p: Prepared): readonly Violation[] {
  const k = sideViolations(p.key);
  const v = sideViolations(p.value);
  return k.length === 0 ? v : v.length === 0 ? k : [...k, ...v];
}

/** A side as the DLQ gets it on WRITE: JSON form (redacted) when a contract was used, else the bytes given. */
function dlqForm(side: Side, original: unknown, sensitive: ReadonlySet<string>): Buffer | string | null | undefined {
  if (side.kind === "failed") return writeForm(side.schema, side.outcome.value, sensitive);
  if (side.kind === "ok") return side.schema ? writeForm(side.schema, side.native, sensitive) : side.bytes;
  return original === undefined || original === null ? (original as null | undefined) : Buffer.from(String(original));
}

function toKafkaMessage(p: Prepared): Message {
  const { key: _k, value: _v, ...rest } = p.item.message;
  const k = p.key as Side & { kind: "ok" };
  const v = p.value as Side & { kind: "ok" };
  const out: Message = { ...rest, value: v.bytes ?? null };
  if (k.bytes !== undefined) out.key = k.bytes;
  if (k.header || v.header) {
    const headers = { ...rest.headers };
    if (k.header) headers[k.header.name] = toBuffer(k.header.value);
    if (v.header) headers[v.header.name] = toBuffer(v.header.value);
    out.headers = headers;
  }
  return out;
}

/** Messages grouped per topic in first-seen order; `order[i]` is the input position of the i-th grouped message. */
function groupByTopic(list: readonly { topic: string; message: Message }[]): { topicMessages: { topic: string; messages: Message[] }[]; order: number[] } {
  const byTopic = new Map<string, { messages: Message[]; slots: number[] }>();
  list.forEach(({ topic, message }, i) => {
    let g = byTopic.get(topic);
    if (!g) byTopic.set(topic, (g = { messages: [], slots: [] }));
    g.messages.push(message);
    g.slots.push(i);
  });
  const topicMessages: { topic: string; messages: Message[] }[] = [];
  const order: number[] = [];
  for (const [topic, g] of byTopic) {
    topicMessages.push({ topic, messages: g.messages });
    order.push(...g.slots);
  }
  return { topicMessages, order };
}
