/**
 * Errors of the kafkajs layer. Each says what happened to every message of the
 * call, so a caller can retry without losing or double-sending anything.
 */
import { KontractError, isKontractError, type ErrorCode, type Violation } from "../errors.js";
import type { DeadLetteredReport } from "./reports.js";

/** One message a produce call refused. */
export interface RejectedMessage {
  /** Position in the call; for sendBatch counted across `topicMessages` in order. */
  readonly index: number;
  readonly topic: string;
  /** True when the key failed (the value may have failed too: see `violations`). */
  readonly isKey: boolean;
  /** Every violation of the message, key and value; empty when it failed its schema, not a rule. */
  readonly violations: readonly Violation[];
  /** RuleViolationError (onFailure ERROR) or SerializationError (does not fit the schema). */
  readonly error: KontractError;
}

/**
 * A produce call refused: at least one message failed a rule with onFailure
 * ERROR or does not fit its schema. Nothing of the call was written, neither to
 * the topics nor to a DLQ. `code` is the first rejected message's code.
 */
export class ProduceRejectedError extends KontractError {
  readonly rejected: readonly RejectedMessage[];
  constructor(rejected: readonly RejectedMessage[]) {
    const first = rejected[0]!;
    const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more message${rejected.length > 2 ? "s" : ""})` : "";
    super(
      first.error.code,
      `nothing sent: message ${first.index} to ${first.topic} ${first.isKey ? "(key) " : ""}was rejected: ${first.error.message}${more}`,
      { cause: first.error },
    );
    this.rejected = rejected;
  }
  /** Every violation of every rejected message. */
  get violations(): readonly Violation[] {
    return this.rejected.flatMap((r) => r.violations);
  }
  override get name(): string {
    return "ProduceRejectedError";
  }
}

/**
 * Writing to a dead-letter topic failed. On produce, nothing of the call was
 * sent to its topics (some DLQ records may have been written: retrying may
 * duplicate them in the DLQ). On consume, the offset was not committed, so the
 * record is read again. `retriable` follows the Kafka error underneath (see
 * causeRetriable); never when no DLQ producer is configured.
 */
export class DeadLetterError extends KontractError {
  /** The DLQ topics the call tried to write to. */
  readonly topics: readonly string[];
  constructor(topics: readonly string[], message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super("dead-letter", message, { cause: options.cause, retriable: options.retriable ?? causeRetriable(options.cause) });
    this.topics = topics;
  }
  override get name(): string {
    return "DeadLetterError";
  }
}

/**
 * Order-preserving parking could not write or read its park topic. On
 * consume the record's offset was not committed, so it is read again;
 * `retriable` follows the Kafka error underneath.
 */
export class ParkError extends KontractError {
  readonly parkTopic: string;
  constructor(parkTopic: string, message: string, cause: unknown) {
    super("park", message, { cause, retriable: causeRetriable(cause) });
    this.parkTopic = parkTopic;
  }
  override get name(): string {
    return "ParkError";
  }
}

/**
 * Exactly-once: the transaction of a partition's records failed and was aborted: nothing it
 * wrote (changelog entries, dead letters, completions) is seen by a read_committed reader and the
 * offsets did not move, so the records are delivered again and judged on the state as committed.
 * Always retriable. `fenced`: another producer took over the partition's transactional id (a
 * newer owner after a rebalance); this consumer's transaction could not commit.
 */
export class TransactionError extends KontractError {
  readonly topic: string;
  readonly partition: number;
  readonly fenced: boolean;
  constructor(topic: string, partition: number, fenced: boolean, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super("transaction", `${fenced ? "fenced: " : ""}the transaction of ${topic}[${partition}] was aborted: ${why}`, { cause, retriable: true });
    this.topic = topic;
    this.partition = partition;
    this.fenced = fenced;
  }
  override get name(): string {
    return "TransactionError";
  }
}

/**
 * Error shapes of a fenced producer: kafkajs's `type`, @platformatic/kafka's `apiId` (and its
 * `producerFenced` flag), librdkafka's codes (-144 fenced, 47, 90), the protocol's names in messages.
 */
const FENCED_TYPES = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"]);
const FENCED_CODES = new Set([-144, 47, 90]);

export function isFenced(e: unknown, depth = 0): boolean {
  if (typeof e !== "object" || e === null || depth > 6) return false;
  const x = e as { type?: unknown; apiId?: unknown; producerFenced?: unknown; code?: unknown; message?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };
  if (x.producerFenced === true) return true;
  for (const name of [x.type, x.apiId]) if (typeof name === "string" && FENCED_TYPES.has(name)) return true;
  if (typeof x.code === "number" && FENCED_CODES.has(x.code)) return true;
  if (typeof x.message === "string" && /fenced|producer.?epoch/i.test(x.message)) return true;
  const inner = [x.cause, x.originalError, ...(Array.isArray(x.errors) ? x.errors : [])];
  return inner.some((i) => isFenced(i, depth + 1));
}

/**
 * A Kafka client kontract needs is not installed. Every client is an optional
 * peer dependency: install the one you use (`npm install <packageName>`).
 */
export class KafkaClientMissingError extends KontractError {
  readonly packageName: string;
  constructor(packageName: string, why: string, cause?: unknown) {
    super("client-missing", `${why} needs the Kafka client ${packageName}, which is not installed: npm install ${packageName}`, { cause });
    this.packageName = packageName;
  }
  override get name(): string {
    return "KafkaClientMissingError";
  }
}

/**
 * Sending the valid messages failed after the failing ones went to the DLQ.
 * `deadLettered` are in the DLQ; the messages at `unsent` may or may not have
 * been written (a lost acknowledgement looks the same as a lost write), so
 * retrying them is at-least-once. `retriable` follows the kafkajs error.
 */
export class SendError extends KontractError {
  readonly deadLettered: readonly DeadLetteredReport[];
  readonly unsent: readonly number[];
  constructor(unsent: readonly number[], deadLettered: readonly DeadLetteredReport[], cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const dl = deadLettered.length > 0 ? `; ${deadLettered.length} already dead-lettered` : "";
    super("send-failed", `sending ${unsent.length} message(s) failed${dl}: ${why}`, {
      cause,
      retriable: causeRetriable(cause),
    });
    this.unsent = unsent;
    this.deadLettered = deadLettered;
  }
  override get name(): string {
    return "SendError";
  }
}

/**
 * A consumed record failed a rule with onFailure ERROR, or could not be read
 * (poison pill with policy "fail"). `retriable` follows the consumer's
 * `onError` option: kafkajs stops on a non-retriable error and retries (then
 * restarts) on a retriable one.
 */
export class ConsumeError extends KontractError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly isKey: boolean;
  readonly violations: readonly Violation[];
  constructor(
    where: { topic: string; partition: number; offset: string; isKey: boolean },
    cause: KontractError,
    violations: readonly Violation[],
    retriable: boolean,
  ) {
    super(cause.code as ErrorCode, `${where.topic}[${where.partition}]@${where.offset} ${where.isKey ? "key" : "value"}: ${cause.message}`, {
      cause,
      retriable,
    });
    this.topic = where.topic;
    this.partition = where.partition;
    this.offset = where.offset;
    this.isKey = where.isKey;
    this.violations = violations;
  }
  override get name(): string {
    return "ConsumeError";
  }
}

/**
 * Whether retrying may help, judged by the innermost error that says so:
 * kafkajs wraps a retriable cause (broker unreachable) in a non-retriable
 * KafkaJSNumberOfRetriesExceeded once its own retries are used up, and a
 * later retry can still succeed. No flag anywhere: not retriable.
 */
export function causeRetriable(e: unknown): boolean {
  let flag: boolean | undefined;
  for (let cur = e, depth = 0; typeof cur === "object" && cur !== null && depth < 10; depth++) {
    const r = (cur as { retriable?: unknown }).retriable;
    if (typeof r === "boolean") flag = r;
    cur = (cur as { cause?: unknown }).cause;
  }
  return flag ?? false;
}

/**
 * kafkajs re-wraps a handler's error as `new KafkaJS…Error(e, { cause: e.cause || e })`,
 * so the kontract error itself drops out of the chain when it has a cause.
 * The consumer wrapper remembers each error it throws by its cause.
 */
const thrownFor = new WeakMap<object, KontractError>();

/** Lets kontractCause find `e` again behind kafkajs's wrapping. Returns `e`. */
export function rememberThrown<E>(e: E): E {
  const cause = isKontractError(e) ? (e as { cause?: unknown }).cause : undefined;
  if (typeof cause === "object" && cause !== null) thrownFor.set(cause, e as KontractError);
  return e;
}

/**
 * The kontract error behind `e`: `e` itself, or what a kafkajs error wraps
 * (e.g. the error given to `consumer.crash` listeners or `retry.restartOnFailure`).
 */
export function kontractCause(e: unknown): KontractError | undefined {
  for (let cur = e, depth = 0; typeof cur === "object" && cur !== null && depth < 10; depth++) {
    const thrown = thrownFor.get(cur);
    if (thrown) return thrown;
    if (isKontractError(cur)) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
