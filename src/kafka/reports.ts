/**
 * What the wrappers report about each message: where it went, and why.
 */
import type { RecordMetadata } from "./client.js";
import type { Violation } from "../errors.js";

/** A produced message that reached its topic. */
export interface SentReport {
  readonly status: "sent";
  /** Position in the call; for sendBatch counted across `topicMessages` in order. */
  readonly index: number;
  readonly topic: string;
  /** Known when the message named its partition, the topic has one partition, or the producer uses trackingPartitioner(). */
  readonly partition: number | undefined;
  /** Known when the partition is known for every message of the topic in this call (and acks ≠ 0). */
  readonly offset: string | undefined;
  /** Rule failures that let the message through (onFailure NONE or a custom action), key and value. */
  readonly violations: readonly Violation[];
}

/** A produced message that failed a rule with onFailure DLQ and went to the dead-letter topic instead. */
export interface DeadLetteredReport {
  readonly status: "dead-lettered";
  readonly index: number;
  /** The topic the message was meant for. */
  readonly topic: string;
  readonly dlqTopic: string;
  /** Placement in the DLQ topic, as for SentReport. */
  readonly partition: number | undefined;
  readonly offset: string | undefined;
  /** The rule that sent it there. */
  readonly rule: string;
  readonly isKey: boolean;
  /** Every violation of the message, key and value; the DLQ rule's last. */
  readonly violations: readonly Violation[];
}

export type MessageReport = SentReport | DeadLetteredReport;

/** What a wrapped `send` / `sendBatch` resolves to. */
export interface ContractSendResult {
  /** One report per message of the call, in call order. */
  readonly messages: readonly MessageReport[];
  /** The client's answer for the messages sent to their topics (one entry per partition). */
  readonly records: readonly RecordMetadata[];
  /** The client's answer for the DLQ writes. */
  readonly dlqRecords: readonly RecordMetadata[];
}

/** A consumed record that went to the dead-letter topic (its offset is committed with the next commit). */
export interface ConsumedDeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly dlqTopic: string;
  /**
   * "rule": a rule with onFailure DLQ (or a retried rule, after its last attempt);
   * "poison-pill": the bytes could not be read; "handler" / "registry": a handler
   * error or a registry outage after the last retry attempt (retry topics).
   */
  readonly reason: "rule" | "poison-pill" | "handler" | "registry";
  /** The failing rule (reason "rule"). */
  readonly rule: string | undefined;
  readonly isKey: boolean;
  readonly violations: readonly Violation[];
  /** RuleViolationError for a rule, the SerializationError / RegistryError for a poison pill, the handler's error. */
  readonly error: Error;
}

/** A consumed record written to a retry topic (acknowledged); its offset is committed with the next commit. */
export interface RetriedRecord {
  /** Where it failed this time: the main topic or a retry topic. */
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly retryTopic: string;
  /** The delivery it will be on when consumed from `retryTopic`: 2 for the first retry. */
  readonly attempt: number;
  /** When it may be handled again. */
  readonly due: Date;
  readonly firstFailure: Date;
  /** Its main-topic coordinates. */
  readonly original: { readonly topic: string; readonly partition: number; readonly offset: string };
  readonly reason: "rule" | "handler" | "registry";
  /** The failing rule (reason "rule"). */
  readonly rule: string | undefined;
  readonly error: Error;
}

/** A consumed record parked by order-preserving parking (reported once its park topic write is acknowledged). */
export interface ParkedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly parkTopic: string;
  /** "head": dead-lettered, its key is now parked behind it; "follower": parked behind its key's head. */
  readonly role: "head" | "follower";
  /** The head's offset in the source partition: the park's episode. */
  readonly episode: string;
}
