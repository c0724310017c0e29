/**
 * Dead-letter records: what goes to the DLQ topic when a rule with onFailure
 * DLQ fails or a consumed record cannot be read, and a sender that writes them.
 *
 * The record keeps the original key, value and headers, and adds the Confluent
 * rule headers (`__rule.*`, as the Java DlqAction writes them), the Kafka
 * Connect origin headers (`__connect.errors.*`), and the violations as JSON.
 * Headers of an earlier dead-lettering are dropped first, so a record that is
 * replayed and fails again does not pile them up (spring-kafka #1994).
 */
import type { CompiledSchema } from "../format/types.js";
import { writeBounded } from "./bounded-writes.js";
import type { FailedOutcome } from "../engine/index.js";
import { redactedJson } from "../engine/index.js";
import type { Violation } from "../errors.js";
import { MAX_INPUT_FRAGMENT, capText } from "../util/cap.js";
import type { OutgoingMessage, ProducerPort, RecordHeaders, RecordMetadata } from "./client.js";
import { producerPort, type KafkaProducer } from "./clients/index.js";
import { DeadLetterError } from "./errors.js";
import type { Placement } from "./placement.js";

/** Header names written on every dead-letter record. All values are UTF-8 text. */
export const DLQ_HEADERS = {
  /** The failing rule's name. A consumer with replay keys skips this rule when the record is replayed signed (kafka/replay). */
  ruleName: "__rule.name",
  /** WRITE, READ, UPGRADE or DOWNGRADE: where the rule ran. */
  ruleMode: "__rule.mode",
  ruleSubject: "__rule.subject",
  /** The source topic. */
  ruleTopic: "__rule.topic",
  /** The failing rule's message (doc, or "Expr failed: ..."). */
  ruleException: "__rule.exception",
  /**
   * kontract: JSON array of the violations (Violation objects), sensitive values redacted,
   * texts capped; the failing one is last. Leading ones that do not fit are left out.
   */
  violations: "__rule.violations",
  /** kontract: how many violations `__rule.violations` left out, when it had to. */
  violationsOmitted: "__rule.violations.omitted",
  /** Kafka Connect (KIP-298) origin headers. Partition and offset only on consume. */
  topic: "__connect.errors.topic",
  partition: "__connect.errors.partition",
  offset: "__connect.errors.offset",
  exceptionClass: "__connect.errors.exception.class.name",
  exceptionMessage: "__connect.errors.exception.message",
} as const;

/** Headers of an earlier dead-lettering or replay (its MAC proves nothing once the record is dead-lettered again). */
const STRIPPED_PREFIXES = ["__rule.", "__connect.errors.", "__kontract.replay."] as const;

/** A record's headers without those of an earlier dead-lettering or replay: a copy, ready for new ones. */
export function ownHeaders(headers: RecordHeaders | undefined): RecordHeaders {
  const out: RecordHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || STRIPPED_PREFIXES.some((p) => name.startsWith(p))) continue;
    out[name] = value;
  }
  return out;
}

/** Chooses the DLQ topic: a name, or a function of the source topic (return undefined to fall through). */
export type DlqTopicOption = string | ((sourceTopic: string) => string | undefined);

/** The default DLQ topic of a source topic: `<topic>-dlq`. */
export const defaultDlqTopic = (sourceTopic: string): string => `${sourceTopic}-dlq`;

/**
 * The DLQ topic for a record: the option first, then the rule's `dlq.topic`
 * (a rule param, else a metadata property), then `<topic>-dlq`.
 */
export function resolveDlqTopic(option: DlqTopicOption | undefined, sourceTopic: string, ruleTopic: string | undefined): string {
  const fromOption = typeof option === "function" ? option(sourceTopic) : option;
  return fromOption || ruleTopic || defaultDlqTopic(sourceTopic);
}

/** Why a record is dead-lettered. */
export type DeadLetterCause =
  /** A rule with onFailure DLQ failed. `violations` may add key and value violations to the outcome's. */
  | { readonly kind: "rule"; readonly outcome: FailedOutcome; readonly violations?: readonly Violation[] }
  /** The bytes could not be read: not the wire format, unknown schema id, or not decodable. */
  | { readonly kind: "poison-pill"; readonly error: Error }
  /**
   * The handler threw (retry topics). Only the error's class is written: its
   * message is the application's and may quote the value, sensitive fields included.
   */
  | { readonly kind: "handler"; readonly error: unknown }
  /** The registry could not be reached (retry topics with `retryOn.registry`). */
  | { readonly kind: "registry"; readonly error: Error };

export interface DeadLetterInput {
  /** Byte for byte on consume; on produce the key as given, or its JSON form (see writeForm). */
  readonly key: Buffer | string | null | undefined;
  readonly value: Buffer | string | null;
  readonly headers: RecordHeaders | undefined;
  /** Where the record came from. Partition and offset are known on consume only. */
  readonly origin: { readonly topic: string; readonly partition?: number | undefined; readonly offset?: string | undefined };
  readonly cause: DeadLetterCause;
}

/** The record to write to the DLQ topic. Pure: no I/O. */
export function deadLetterRecord(input: DeadLetterInput): OutgoingMessage {
  const headers = ownHeaders(input.headers);
  const put = (name: string, value: string | undefined): void => {
    if (value !== undefined) headers[name] = Buffer.from(value, "utf8");
  };
  const { cause, origin } = input;
  let violations: readonly Violation[] = [];
  let error: Error | undefined;
  if (cause.kind === "rule") {
    const failing = cause.outcome.violations[cause.outcome.violations.length - 1];
    violations = cause.violations ?? cause.outcome.violations;
    error = cause.outcome.error;
    put(DLQ_HEADERS.ruleName, cause.outcome.rule.name);
    put(DLQ_HEADERS.ruleMode, failing?.mode ?? cause.outcome.rule.mode);
    put(DLQ_HEADERS.ruleSubject, failing?.subject);
    put(DLQ_HEADERS.ruleTopic, origin.topic);
    put(DLQ_HEADERS.ruleException, failing && capText(failing.message));
  } else if (cause.kind !== "handler") {
    error = cause.error;
  }
  const listed = violationsJson(violations);
  put(DLQ_HEADERS.violations, listed.json);
  put(DLQ_HEADERS.violationsOmitted, listed.omitted > 0 ? String(listed.omitted) : undefined);
  put(DLQ_HEADERS.topic, origin.topic);
  put(DLQ_HEADERS.partition, origin.partition === undefined ? undefined : String(origin.partition));
  put(DLQ_HEADERS.offset, origin.offset);
  put(DLQ_HEADERS.exceptionClass, error ? error.name : cause.kind === "handler" ? errorClass(cause.error) : undefined);
  put(DLQ_HEADERS.exceptionMessage, error && capText(error.message));
  const record: OutgoingMessage = { value: input.value, headers };
  if (input.key !== undefined) record.key = input.key;
  return record;
}

/** The class of a thrown value, capped (a class name is code, but an object's constructor can be anything). */
function errorClass(e: unknown): string {
  return capText(e instanceof Error ? e.name : typeof e, MAX_INPUT_FRAGMENT);
}

/** Characters of `__rule.violations` as a whole. */
const MAX_VIOLATIONS_JSON = 16_384;

/**
 * `__rule.violations`: texts capped (they may quote the input), and when the
 * list is still too long, the first violations that fit plus the failing
 * (last) one, so the header stays a JSON array of Violation objects.
 */
function violationsJson(violations: readonly Violation[]): { json: string; omitted: number } {
  const texts = violations.map((v) => JSON.stringify(cappedViolation(v)));
  let size = 2 + texts.length - 1;
  for (const t of texts) size += t.length;
  if (size <= MAX_VIOLATIONS_JSON) return { json: `[${texts.join(",")}]`, omitted: 0 };
  const last = texts[texts.length - 1]!;
  const kept: string[] = [];
  let used = 2 + last.length;
  for (let i = 0; i < texts.length - 1 && used + texts[i]!.length + 1 <= MAX_VIOLATIONS_JSON; i++) {
    kept.push(texts[i]!);
    used += texts[i]!.length + 1;
  }
  kept.push(last);
  return { json: `[${kept.join(",")}]`, omitted: texts.length - kept.length };
}

function cappedViolation(v: Violation): Violation {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === "string" ? capText(x, MAX_INPUT_FRAGMENT) : x;
  return out as unknown as Violation;
}

/**
 * A message as the Java DlqAction writes a non-byte value on WRITE: its JSON
 * form as UTF-8 text, with every field tagged sensitive replaced by "<REDACTED>".
 */
export function writeForm(schema: CompiledSchema, message: unknown, sensitiveTags: ReadonlySet<string>): Buffer {
  return Buffer.from(JSON.stringify(redactedJson(schema, message, sensitiveTags), jsonSafe), "utf8");
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value).toString("base64");
  return value;
}

/** Anything that can send a batch: a producer of a supported client, or a test double. */
export type BatchSender = KafkaProducer;

export interface DeadLetterSender {
  /**
   * Writes the records (acks=all) and resolves to where each landed, in order.
   * Rejects with DeadLetterError when any write fails or no producer is set.
   */
  send(records: readonly { topic: string; message: OutgoingMessage }[]): Promise<{ placements: Placement[]; records: RecordMetadata[] }>;
}

export interface DeadLetterSenderOptions {
  /** The producer writing DLQ records: a client's producer, or one already on the client port. */
  producer: BatchSender | ProducerPort | undefined;
  /** Time the broker may take to acknowledge, ms (kafkajs `timeout`; other clients set it on the producer). */
  timeout?: number;
  /** What the records are, for error messages: dead letters (default) or retry records (options.retry.producer). */
  purpose?: "dead-letter" | "retry";
}

function isPort(p: BatchSender | ProducerPort): p is ProducerPort {
  return typeof (p as Partial<ProducerPort>).write === "function" && typeof (p as Partial<ProducerPort>).client === "string";
}

/** A producer on the client port: as given when it already is one. */
export function portOf(producer: BatchSender | ProducerPort): ProducerPort;
export function portOf(producer: BatchSender | ProducerPort | undefined): ProducerPort | undefined;
export function portOf(producer: BatchSender | ProducerPort | undefined): ProducerPort | undefined {
  return producer === undefined ? undefined : isPort(producer) ? producer : producerPort(producer);
}

export function createDeadLetterSender(options: DeadLetterSenderOptions): DeadLetterSender {
  const port = portOf(options.producer);
  const retry = options.purpose === "retry";
  const where = retry ? "retry topic" : "DLQ topic";
  return {
    async send(records) {
      if (records.length === 0) return { placements: [], records: [] };
      const topics = [...new Set(records.map((r) => r.topic))];
      if (!port) {
        const option = retry ? "options.retry.producer or options.dlq.producer" : "options.dlq.producer";
        throw new DeadLetterError(topics, `cannot write ${records.length} record(s) to ${where} ${topics.join(", ")}: no producer configured (${option})`, { retriable: false });
      }
      const topicMessages = topics.map((topic) => ({ topic, messages: records.filter((r) => r.topic === topic).map((r) => r.message) }));
      let written: { placements: readonly Placement[]; records: RecordMetadata[] };
      try {
        written = await writeBounded(topicMessages, (calls) => port.write(calls, { acks: -1, ...(options.timeout === undefined ? {} : { timeout: options.timeout }) }));
      } catch (e) {
        throw new DeadLetterError(topics, `writing ${records.length} record(s) to ${where} ${topics.join(", ")} failed: ${e instanceof Error ? e.message : String(e)}`, {
          cause: e,
        });
      }
      // Back to the callers' order: placements follow topicMessages order.
      const grouped = written.placements;
      const placements: Placement[] = new Array<Placement>(records.length);
      let g = 0;
      for (const topic of topics) records.forEach((r, i) => r.topic === topic && (placements[i] = grouped[g++]!));
      return { placements, records: written.records };
    },
  };
}
