/**
 * The consumer side of retry topics: runs a contract consumer's eachMessage
 * handler on the client's eachBatch, record by record, resolving each offset
 * only once the record is handled, dead-lettered or written to its retry topic
 * (acknowledged), so nothing is skipped.
 *
 * eachBatch rather than eachMessage, because a record that is not yet due
 * must stay unresolved while its partition is paused: kafkajs resolves an
 * eachMessage record as soon as the handler returns, and a throw would halt
 * every partition. With eachBatch, the runner pauses the partition at the
 * record and returns; the client fetches the partition again from that record
 * once the timer resumes it. Other partitions, and the main topic, flow on.
 */
import { RegistryError } from "../errors.js";
import type { MaybePromise } from "../util/maybe.js";
import { partitionKey, type ConsumedMessage, type EachBatchPayload, type OutgoingMessage } from "./client.js";
import { deadLetterRecord, type DeadLetterCause, type DeadLetterSender } from "./dlq.js";
import type { ParkTransaction, Parking, Processed } from "./parking/runner.js";
import type { ConsumedDeadLetter, RetriedRecord } from "./reports.js";
import { nextRoute, releaseTime, retryHistory, retryRecord, type RetryHistory, type RetryPlan, type RetryStage } from "./retry.js";

/** A record the wrapper stops (the consumer's DeadRecord): its DLQ form and report. */
export interface StoppedRecord {
  readonly dlqTopic: string;
  readonly record: OutgoingMessage;
  readonly report: ConsumedDeadLetter;
}

/** Where a record's retry record or dead letter goes: written at once, or (exactly-once) into its partition's open transaction. */
export interface RetryOutlet {
  /** Writes to retry topics (acks=all). */
  readonly sender: DeadLetterSender;
  /** Writes a dead letter and reports it; resolves to where it went. */
  deadLetter(stopped: StoppedRecord): Promise<Processed>;
  readonly onRetry: ((record: RetriedRecord) => void) | undefined;
}

export interface RetryRunnerDeps<D> extends RetryOutlet {
  readonly plan: RetryPlan;
  /** Decodes a record (subject from the main topic of a retry topic); throws what stops the record. */
  decode(topic: string, partition: number, message: ConsumedMessage): MaybePromise<D | StoppedRecord>;
  isStopped(d: D | StoppedRecord): d is StoppedRecord;
  /** Hands a decoded record to the user's handler. */
  deliver(payload: EachBatchPayload, message: ConsumedMessage, decoded: D): Promise<void>;
  /** The DLQ topic of a handler or registry failure (no rule to name one). */
  dlqTopic(sourceTopic: string): string;
  readonly now?: () => number;
  /**
   * Exactly-once: runs one record's work in its partition's open transaction, with the outlet that
   * writes there (its retry record or dead letter goes with the record's offset) and the transaction
   * for its park writes. Without it, the deps are the outlet.
   */
  readonly transact?: (topic: string, partition: number, message: ConsumedMessage, work: (out: RetryOutlet, txn: ParkTransaction) => Promise<unknown>) => Promise<void>;
  /** Order-preserving parking (parking/runner.ts): main-topic records go through it; retry outcomes may resolve a park. */
  readonly parking?: Parking | undefined;
}

/** Retry topic partitions waiting for their head record: the offset waited on and when it is due. */
type Waits = Map<string, { readonly offset: string; readonly release: number }>;

export function retryingEachBatch<D>(deps: RetryRunnerDeps<D>): (payload: EachBatchPayload) => Promise<void> {
  const { plan } = deps;
  const now = deps.now ?? Date.now;
  const waits: Waits = new Map();

  /** Whether the record must wait: then its partition is paused until it is due. */
  function holds(payload: EachBatchPayload, stage: RetryStage, topic: string, partition: number, message: ConsumedMessage): boolean {
    const key = partitionKey(topic, partition);
    const t = now();
    const known = waits.get(key);
    const release = known?.offset === message.offset ? known.release : releaseTime(plan, stage, message, t);
    if (release <= t) {
      waits.delete(key);
      return false;
    }
    waits.set(key, { offset: message.offset, release });
    const resume = payload.pause();
    // The client may be gone by then (disconnected): nothing to resume.
    setTimeout(() => {
      try {
        resume();
      } catch {
        /* not connected */
      }
    }, release - t).unref();
    return true;
  }

  /** Sends a failed record on to its next retry topic, or to the DLQ after its last attempt. */
  async function retryOrDeadLetter(out: RetryOutlet, stopped: StoppedRecord, reason: RetriedRecord["reason"], history: RetryHistory): Promise<Processed> {
    const route = nextRoute(plan, history);
    if (route.to === "dlq") return out.deadLetter(stopped);
    const t = now();
    const due = t + route.delayMs;
    const record = retryRecord(stopped.record, history, route.attempt, due, t);
    await out.sender.send([{ topic: route.topic, message: record }]);
    const r = stopped.report;
    out.onRetry?.({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      retryTopic: route.topic,
      attempt: route.attempt,
      due: new Date(due),
      firstFailure: new Date(history.firstFailure ?? t),
      original: history.original,
      reason,
      rule: r.rule,
      error: r.error,
    });
    return { to: "retry", topic: route.topic };
  }

  /** A handler or registry failure in the shape of a dead letter. */
  function stoppedBy(cause: Extract<DeadLetterCause, { kind: "handler" | "registry" }>, topic: string, partition: number, message: ConsumedMessage): StoppedRecord {
    const where = { topic, partition, offset: message.offset };
    const dlqTopic = deps.dlqTopic(topic);
    return {
      dlqTopic,
      record: deadLetterRecord({ key: message.key, value: message.value, headers: message.headers, origin: where, cause }),
      report: { ...where, dlqTopic, reason: cause.kind, rule: undefined, isKey: false, violations: [], error: asError(cause.error) },
    };
  }

  async function one(payload: EachBatchPayload, stage: RetryStage | undefined, message: ConsumedMessage, out: RetryOutlet): Promise<Processed> {
    const { topic, partition } = payload.batch;
    let d: D | StoppedRecord;
    try {
      const r = deps.decode(topic, partition, message);
      d = r instanceof Promise ? await r : r;
    } catch (e) {
      if (plan.registry && e instanceof RegistryError && e.retriable) {
        return retryOrDeadLetter(out, stoppedBy({ kind: "registry", error: e }, topic, partition, message), "registry", retryHistory(stage, topic, partition, message));
      }
      throw e;
    }
    if (deps.isStopped(d)) {
      const r = d.report;
      if (r.reason === "rule" && plan.retriesRule(r.rule)) return retryOrDeadLetter(out, d, "rule", retryHistory(stage, topic, partition, message));
      return out.deadLetter(d);
    }
    try {
      await deps.deliver(payload, message, d);
      return undefined;
    } catch (e) {
      if (!plan.handler) throw e;
      return retryOrDeadLetter(out, stoppedBy({ kind: "handler", error: e }, topic, partition, message), "handler", retryHistory(stage, topic, partition, message));
    }
  }

  /** One record: through the parks when parking is on; exactly-once, in its transaction (park writes included). */
  async function parked(payload: EachBatchPayload, stage: RetryStage | undefined, message: ConsumedMessage): Promise<void> {
    const { topic, partition } = payload.batch;
    if (deps.transact !== undefined) await deps.transact(topic, partition, message, (out, txn) => throughParks(payload, stage, message, out, txn));
    else await throughParks(payload, stage, message, deps, undefined);
  }

  async function throughParks(payload: EachBatchPayload, stage: RetryStage | undefined, message: ConsumedMessage, out: RetryOutlet, txn: ParkTransaction | undefined): Promise<void> {
    const { parking } = deps;
    const { topic, partition } = payload.batch;
    if (parking === undefined) await one(payload, stage, message, out);
    else if (stage === undefined) await parking.record(topic, partition, message, (m) => one(payload, undefined, m, out), txn);
    else await parking.retried(retryHistory(stage, topic, partition, message).original, message, await one(payload, stage, message, out), txn);
  }

  return async (batchPayload) => {
    const { topic, partition, messages } = batchPayload.batch;
    const stage = plan.stageOf(topic);
    // kafkajs's eachMessage semantics for a handler's pause(): its record is done, the partition waits after it.
    let pausedByHandler = false;
    const payload: EachBatchPayload = {
      ...batchPayload,
      pause: () => {
        pausedByHandler = true;
        return batchPayload.pause();
      },
    };
    for (const message of messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      if (stage && holds(batchPayload, stage, topic, partition, message)) return;
      await parked(payload, stage, message);
      payload.resolveOffset(message.offset);
      if (pausedByHandler) return;
      await payload.heartbeat();
    }
  };
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(`the handler threw a ${typeof e}, not an Error`);
}
