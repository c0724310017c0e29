/**
 * Retry topics with backoff (non-blocking retries, as Spring Kafka's
 * `@RetryableTopic`): a record that fails goes to `<topic>-retry-1`, then
 * `-retry-2` ... with a growing delay per topic, and after its last attempt to
 * the DLQ. This module holds the pure parts: the options and their defaults,
 * the delay per retry topic, topic naming, the retry headers, and which
 * failures retry. The consumer (consumer.ts, retry-runner.ts) does the I/O.
 *
 * A retry topic has one fixed delay, so each of its partitions holds records
 * in due order (they were written in failure order, each due that delay
 * later): only the head of a partition is ever waited on.
 *
 * Headers are not trusted for anything but the wait (bounded): the attempt
 * and the main topic come from the topic name, and a due time further away
 * than the topic's delay is cut to that delay.
 */
import { KontractError } from "../errors.js";
import type { ConsumedMessage, OutgoingMessage } from "./client.js";
import { lastText } from "./replay.js";

export interface RetryBackoff {
  /** Delay before the first retry (`<topic>-retry-1`), ms. Default 1,000. */
  readonly delayMs?: number;
  /** Each later retry topic waits this many times the one before. Default 2; 1 gives a fixed delay. */
  readonly multiplier?: number;
  /** No retry topic waits longer than this, ms. Default 60,000. */
  readonly maxDelayMs?: number;
}

/** Which failures go to the retry topics; the others are handled as without retries. */
export interface RetryOn {
  /**
   * Rules whose failure (onFailure ERROR or DLQ) retries: "all", or a list of
   * rule names. Default none: a rule gives the same answer on the same bytes,
   * so retrying helps only when the contract may change in the meantime.
   */
  readonly rules?: "all" | readonly string[];
  /** A handler that throws (eachMessage). Default true: the record goes to a retry topic instead of holding its partition. */
  readonly handler?: boolean;
  /**
   * The registry cannot be reached while decoding. Default false: an outage
   * affects every record, and retrying them in place (the client's retries)
   * keeps them in order; true moves them through the retry topics (and after
   * the last attempt to the DLQ) so the partition moves on.
   */
  readonly registry?: boolean;
}

export interface RetryOptions {
  /** Deliveries of a record in all, the first included (Spring's `attempts`): `attempts - 1` retry topics. Default 3. */
  readonly attempts?: number;
  readonly backoff?: RetryBackoff;
  /** Retry topic names are `<topic><suffix><n>`, n from 1. Default "-retry-". */
  readonly suffix?: string;
  readonly retryOn?: RetryOn;
}

/** The options checked and completed, compiled once per consumer. */
export interface RetryPlan {
  readonly attempts: number;
  /** Delay of retry topic n at index n - 1, ms. */
  readonly delays: readonly number[];
  readonly suffix: string;
  readonly handler: boolean;
  readonly registry: boolean;
  /** Whether a failure of this rule retries. */
  retriesRule(rule: string | undefined): boolean;
  /** The retry stage of a topic: its main topic and n for `<main><suffix><n>`, n within the plan; undefined for any other topic. */
  stageOf(topic: string): RetryStage | undefined;
}

export interface RetryStage {
  readonly main: string;
  /** 1 for `<main>-retry-1`. Records there are on their attempt n + 1. */
  readonly n: number;
}

export const RETRY_DEFAULTS = { attempts: 3, delayMs: 1_000, multiplier: 2, maxDelayMs: 60_000, suffix: "-retry-" } as const;

/** Retry topics beyond this would be a mistake in the options rather than a plan. */
const MAX_ATTEMPTS = 100;

export function retryPlan(options: RetryOptions): RetryPlan {
  const attempts = options.attempts ?? RETRY_DEFAULTS.attempts;
  const delayMs = options.backoff?.delayMs ?? RETRY_DEFAULTS.delayMs;
  const multiplier = options.backoff?.multiplier ?? RETRY_DEFAULTS.multiplier;
  const maxDelayMs = options.backoff?.maxDelayMs ?? Math.max(delayMs, RETRY_DEFAULTS.maxDelayMs);
  const suffix = options.suffix ?? RETRY_DEFAULTS.suffix;
  if (!Number.isInteger(attempts) || attempts < 2 || attempts > MAX_ATTEMPTS) throw usage(`retry.attempts must be an integer from 2 to ${MAX_ATTEMPTS} (deliveries, the first included)`);
  if (!Number.isFinite(delayMs) || delayMs < 0) throw usage("retry.backoff.delayMs must be a finite number >= 0");
  if (!Number.isFinite(multiplier) || multiplier < 1) throw usage("retry.backoff.multiplier must be a finite number >= 1");
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < delayMs) throw usage("retry.backoff.maxDelayMs must be a finite number >= delayMs");
  if (suffix.length === 0 || /\d$/.test(suffix)) throw usage('retry.suffix must be non-empty and not end in a digit (names are "<topic><suffix><n>")');
  const delays: number[] = [];
  for (let n = 1; n < attempts; n++) delays.push(Math.min(Math.round(delayMs * multiplier ** (n - 1)), maxDelayMs));
  const rules = options.retryOn?.rules ?? [];
  const named = rules === "all" ? undefined : new Set(rules);
  const stages = new Map<string, RetryStage | undefined>();
  return {
    attempts,
    delays,
    suffix,
    handler: options.retryOn?.handler ?? true,
    registry: options.retryOn?.registry ?? false,
    retriesRule: (rule) => rule !== undefined && (named === undefined || named.has(rule)),
    stageOf(topic) {
      // Asked for each record: parsed once per topic.
      if (stages.has(topic)) return stages.get(topic);
      const stage = parseStage(topic, suffix, attempts);
      stages.set(topic, stage);
      return stage;
    },
  };
}

function usage(message: string): KontractError {
  return new KontractError("usage", message);
}

function parseStage(topic: string, suffix: string, attempts: number): RetryStage | undefined {
  const at = topic.lastIndexOf(suffix);
  if (at <= 0) return undefined;
  const digits = topic.slice(at + suffix.length);
  if (!/^[1-9]\d{0,2}$/.test(digits)) return undefined;
  const n = Number(digits);
  return n < attempts ? { main: topic.slice(0, at), n } : undefined;
}

export function retryTopicName(main: string, n: number, suffix: string = RETRY_DEFAULTS.suffix): string {
  return `${main}${suffix}${n}`;
}

/** The retry topics of a main topic, in order: subscribe to them with the main topic, and create them beforehand. */
export function retryTopics(main: string, options: RetryOptions = {}): string[] {
  const plan = retryPlan(options);
  return plan.delays.map((_, i) => retryTopicName(main, i + 1, plan.suffix));
}

/** Header names on a record in a retry topic (and kept on its dead letter). All values are UTF-8 text; times are ms since the epoch. */
export const RETRY_HEADERS = {
  /** The delivery this record is on when consumed from the retry topic: 2 in `-retry-1`. */
  attempt: "__kontract.retry.attempt",
  /** When the record may be handled again. */
  due: "__kontract.retry.due",
  /** When the record first failed (on its main topic). */
  firstFailure: "__kontract.retry.first.failure",
  /** The main-topic coordinates of the record. */
  originalTopic: "__kontract.retry.original.topic",
  originalPartition: "__kontract.retry.original.partition",
  originalOffset: "__kontract.retry.original.offset",
} as const;

/** Where a record stands in its retries: read from the topic name, and (first failure, origin) from its headers. */
export interface RetryHistory {
  /** This delivery: 1 on the main topic, n + 1 on `-retry-n`. */
  readonly attempt: number;
  readonly main: string;
  /** When it first failed, ms; undefined on its first delivery (it has not failed yet) or when the header is unreadable. */
  readonly firstFailure: number | undefined;
  readonly original: { readonly topic: string; readonly partition: number; readonly offset: string };
}

/**
 * A consumed record's history. On a main topic, headers are ignored (a
 * producer may have copied retry headers from elsewhere); on a retry topic
 * the original coordinates and first failure time come from the headers when
 * they read well, else this record stands for its origin.
 */
export function retryHistory(stage: RetryStage | undefined, topic: string, partition: number, message: ConsumedMessage): RetryHistory {
  const here = { topic, partition, offset: message.offset };
  if (!stage) return { attempt: 1, main: topic, firstFailure: undefined, original: here };
  const h = message.headers;
  const first = Number(lastText(h, RETRY_HEADERS.firstFailure));
  const origPartition = lastText(h, RETRY_HEADERS.originalPartition);
  const origOffset = lastText(h, RETRY_HEADERS.originalOffset);
  const readable = origPartition !== undefined && /^\d{1,9}$/.test(origPartition) && origOffset !== undefined && /^\d{1,19}$/.test(origOffset);
  return {
    attempt: stage.n + 1,
    main: stage.main,
    firstFailure: Number.isSafeInteger(first) && first > 0 ? first : undefined,
    // The original topic is the main topic by construction: the header is not needed to know it.
    original: readable ? { topic: stage.main, partition: Number(origPartition), offset: origOffset } : here,
  };
}

/** Where a failed record goes next: the retry topic of its next attempt, or the DLQ after its last. */
export type RetryRoute = { readonly to: "retry"; readonly topic: string; readonly attempt: number; readonly delayMs: number } | { readonly to: "dlq" };

export function nextRoute(plan: RetryPlan, history: RetryHistory): RetryRoute {
  const n = history.attempt;
  if (n >= plan.attempts) return { to: "dlq" };
  return { to: "retry", topic: retryTopicName(history.main, n, plan.suffix), attempt: n + 1, delayMs: plan.delays[n - 1]! };
}

/**
 * The record for a retry topic: `failed` is the record as the DLQ would get it
 * (original key, value and headers byte for byte, plus the failure in the DLQ
 * headers: deadLetterRecord), plus the retry headers. Changes `failed`.
 */
export function retryRecord(failed: OutgoingMessage, history: RetryHistory, attempt: number, due: number, now: number): OutgoingMessage {
  const headers = (failed.headers ??= {});
  const put = (name: string, value: string): void => void (headers[name] = Buffer.from(value, "utf8"));
  put(RETRY_HEADERS.attempt, String(attempt));
  put(RETRY_HEADERS.due, String(due));
  put(RETRY_HEADERS.firstFailure, String(history.firstFailure ?? now));
  put(RETRY_HEADERS.originalTopic, history.original.topic);
  put(RETRY_HEADERS.originalPartition, String(history.original.partition));
  put(RETRY_HEADERS.originalOffset, history.original.offset);
  return failed;
}

/**
 * When a record of retry stage `stage` may be handled, ms: its due header,
 * but never later than `firstSeen` plus the stage's delay (a forged or
 * skewed due time holds a partition for one delay at most). An unreadable
 * due header means now.
 */
export function releaseTime(plan: RetryPlan, stage: RetryStage, message: ConsumedMessage, firstSeen: number): number {
  const due = Number(lastText(message.headers, RETRY_HEADERS.due));
  const latest = firstSeen + plan.delays[stage.n - 1]!;
  return Number.isFinite(due) ? Math.min(due, latest) : firstSeen;
}
