/**
 * Dead letters as data: a DLQ record's headers read back into the failure they
 * describe, filters, and counts per rule and per hour. Pure; reading topics
 * and replaying are in dead-letter-tools.ts.
 */
import type { Violation } from "../errors.js";
import type { ConsumedMessage, RecordHeaders } from "./client.js";
import { DLQ_HEADERS } from "./dlq.js";
import { lastText } from "./replay.js";
import { RETRY_HEADERS } from "./retry.js";

export interface DeadLetter {
  /** Where the dead letter is: the DLQ topic, partition and offset. */
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** When it was dead-lettered (the DLQ record's timestamp). */
  readonly time: Date;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
  /** The rule that sent it there (`__rule.name`); undefined for a poison pill. */
  readonly rule: string | undefined;
  readonly mode: string | undefined;
  readonly subject: string | undefined;
  /** The failing rule's message, or the error's (`__connect.errors.exception.message`). */
  readonly exception: string | undefined;
  /** `RuleViolationError`, `SerializationError`, ... */
  readonly errorClass: string | undefined;
  /**
   * The record's origin. Partition and offset are known for records dead-lettered on consume.
   * For a record that went through retry topics: its main-topic coordinates (`__kontract.retry.original.*`).
   */
  readonly origin: { readonly topic: string | undefined; readonly partition: number | undefined; readonly offset: string | undefined };
  /** The violations, as the DLQ writer recorded them (sensitive values already redacted). */
  readonly violations: readonly Violation[];
}

export interface DeadLetterFilter {
  readonly rule?: string;
  readonly subject?: string;
  /** Dead-lettered at or after. */
  readonly since?: Date;
  /** Dead-lettered before. */
  readonly until?: Date;
  /** The origin partition. */
  readonly originPartition?: number;
}

/** Reads a DLQ record. Headers it does not know stay in `headers`; malformed kontract headers read as absent. */
export function parseDeadLetter(topic: string, partition: number, message: ConsumedMessage): DeadLetter {
  const headers = message.headers ?? {};
  const text = (name: string): string | undefined => lastText(headers, name);
  // A dead letter that went through retry topics comes from its main topic, not the retry topic it failed in last.
  const retried = text(RETRY_HEADERS.originalTopic) !== undefined;
  const originPartition = text(retried ? RETRY_HEADERS.originalPartition : DLQ_HEADERS.partition);
  return {
    topic,
    partition,
    offset: message.offset,
    time: new Date(Number(message.timestamp)),
    key: message.key,
    value: message.value,
    headers,
    rule: text(DLQ_HEADERS.ruleName),
    mode: text(DLQ_HEADERS.ruleMode),
    subject: text(DLQ_HEADERS.ruleSubject),
    exception: text(DLQ_HEADERS.ruleException) ?? text(DLQ_HEADERS.exceptionMessage),
    errorClass: text(DLQ_HEADERS.exceptionClass),
    origin: {
      topic: retried ? text(RETRY_HEADERS.originalTopic) : (text(DLQ_HEADERS.topic) ?? text(DLQ_HEADERS.ruleTopic)),
      partition: originPartition !== undefined && /^\d+$/.test(originPartition) ? Number(originPartition) : undefined,
      offset: text(retried ? RETRY_HEADERS.originalOffset : DLQ_HEADERS.offset),
    },
    violations: violationsOf(text(DLQ_HEADERS.violations)),
  };
}

export function deadLetterMatches(d: DeadLetter, f: DeadLetterFilter): boolean {
  if (f.rule !== undefined && d.rule !== f.rule) return false;
  if (f.subject !== undefined && d.subject !== f.subject) return false;
  if (f.since !== undefined && d.time < f.since) return false;
  if (f.until !== undefined && d.time >= f.until) return false;
  if (f.originPartition !== undefined && d.origin.partition !== f.originPartition) return false;
  return true;
}

export interface DeadLetterStats {
  readonly total: number;
  /** Most frequent first; poison pills (no rule) count under "(no rule)". */
  readonly byRule: readonly (readonly [string, number])[];
  /** Per hour (UTC, ISO `YYYY-MM-DDTHH`), oldest first; hours without dead letters between the first and last are 0. */
  readonly byHour: readonly (readonly [string, number])[];
}

export const NO_RULE = "(no rule)";

export function deadLetterStats(letters: Iterable<DeadLetter>): DeadLetterStats {
  const rules = new Map<string, number>();
  const hours = new Map<number, number>();
  let total = 0;
  for (const d of letters) {
    total++;
    const rule = d.rule ?? NO_RULE;
    rules.set(rule, (rules.get(rule) ?? 0) + 1);
    const hour = Math.floor(d.time.getTime() / 3_600_000);
    if (Number.isFinite(hour)) hours.set(hour, (hours.get(hour) ?? 0) + 1);
  }
  const byHour: [string, number][] = [];
  if (hours.size > 0) {
    const first = Math.min(...hours.keys());
    const last = Math.max(...hours.keys());
    for (let h = first; h <= last; h++) byHour.push([new Date(h * 3_600_000).toISOString().slice(0, 13), hours.get(h) ?? 0]);
  }
  return { total, byRule: [...rules].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)), byHour };
}

/** The `__rule.violations` JSON: an array of objects with a rule name, else nothing (a malformed header proves nothing). */
function violationsOf(json: string | undefined): Violation[] {
  if (json === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((v): v is Violation => typeof v === "object" && v !== null && typeof (v as { rule?: unknown }).rule === "string") : [];
  } catch {
    return [];
  }
}
