/**
 * Every error kontract throws. Each has a fixed `name`, a closed `code`, and an
 * `isX()` guard that checks a Symbol.for brand, so the guards survive duplicate
 * copies of the package.
 */

import type { ExecutionMode, RuleKind } from "./contract/model.js";

const brand = Symbol.for("kontract/error");

export type ErrorCode =
  // contract files and the model
  | "yaml-syntax"
  | "contract-invalid"
  | "schema-invalid"
  | "schema-missing"
  // rules
  | "rule-compile"
  | "rule-unknown-type"
  | "rule-unknown-action"
  | "rule-runtime"
  /** A rule exceeded a cost limit: the CEL cost budget, or JSONata's steps, time, depth or sizes (EngineLimits). */
  | "rule-cost"
  | "rule-violation"
  /** A stateful rule holds `state.max.keys` keys in a partition and was asked to hold one more (docs/stateful.md). */
  | "state-capacity"
  // messages and bytes
  | "message-invalid"
  | "wire-format"
  | "unknown-schema"
  /** A sensitive value could not be located in a message's JSON form (a bug; nothing is written in clear). */
  | "redaction-failed"
  // encryption (docs/encryption.md)
  /** An ENCRYPT / ENCRYPT_PAYLOAD rule or its KMS driver is misconfigured, or a field cannot be encrypted. */
  | "encryption"
  /** A KEK or DEK is missing, or the KMS refused to wrap or unwrap: names the KEK and subject, never a value. */
  | "key-unavailable"
  /** Ciphertext did not decrypt with its DEK (wrong key, or altered bytes). */
  | "decrypt-failed"
  // registry
  | "registry"
  | "registry-unreachable"
  // kafka
  | "dead-letter"
  | "send-failed"
  /** Order-preserving parking: a park topic write or read failed. */
  | "park"
  /** Restoring stateful rules' state from its changelog, or writing the changelog, failed (retriable). */
  | "state-store"
  /** Exactly-once: a transaction (state, dead letters and offsets together) was aborted or fenced; the records are read again (retriable). */
  | "transaction"
  /** A Kafka client package kontract was asked to use is not installed. */
  | "client-missing"
  | "usage";

/** Where in a source file a problem is. Lines and columns are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

export interface KontractErrorOptions {
  cause?: unknown;
  position?: SourcePosition;
  /** Set when retrying the same call may succeed (network, 5xx). */
  retriable?: boolean;
}

export class KontractError extends Error {
  readonly [brand] = true;
  readonly code: ErrorCode;
  readonly position: SourcePosition | undefined;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: KontractErrorOptions = {}) {
    super(options.position ? `${formatPosition(options.position)}: ${message}` : message, { cause: options.cause });
    this.code = code;
    this.position = options.position;
    this.retriable = options.retriable ?? false;
  }
  override get name(): string {
    return "KontractError";
  }
}

export function formatPosition(p: SourcePosition): string {
  return `${p.file}:${p.line}:${p.column}`;
}

export function isKontractError(e: unknown): e is KontractError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}

/** A contract file, the model, or a schema is wrong. */
export class ContractError extends KontractError {
  override get name(): string {
    return "ContractError";
  }
}

/** A rule expression could not be compiled, or names an unknown executor or action. */
export class RuleCompileError extends KontractError {
  readonly rule: string;
  constructor(rule: string, message: string, options: KontractErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? "rule-compile", `rule ${rule}: ${message}`, options);
    this.rule = rule;
  }
  override get name(): string {
    return "RuleCompileError";
  }
}

/** Bytes are not in the Confluent wire format, or do not decode with their schema. */
export class SerializationError extends KontractError {
  override get name(): string {
    return "SerializationError";
  }
}

/** The registry answered with an error, or could not be reached. */
export class RegistryError extends KontractError {
  readonly status: number | undefined;
  readonly errorCode: number | undefined;
  constructor(
    message: string,
    options: KontractErrorOptions & { code?: ErrorCode; status?: number; errorCode?: number } = {},
  ) {
    super(options.code ?? "registry", message, options);
    this.status = options.status;
    this.errorCode = options.errorCode;
  }
  override get name(): string {
    return "RegistryError";
  }
}

export function isErrorCode(e: unknown, code: ErrorCode): boolean {
  return isKontractError(e) && e.code === code;
}

/** One failed rule on one message (or one field of it), as data. */
export interface Violation {
  rule: string;
  kind: RuleKind;
  mode: ExecutionMode;
  type: string;
  /** The rule's expression. */
  expr?: string;
  /** For field rules: the field's full name (Avro/Protobuf) or JSON path. */
  field?: string;
  /** `doc`, else "Expr failed: '<expr>'", else "Condition failed: '<name>'", or the error's message. */
  message: string;
  /** The offending value, rendered as text, or "<REDACTED>" for sensitive fields. */
  value?: string;
  /** The action taken: NONE, ERROR, DLQ or a custom action name. */
  action: string;
  /** Set when the rule did not run to a verdict for a reason callers may tell apart: "rule-cost". */
  code?: ErrorCode;
  subject?: string;
}

/** Rules failed with onFailure ERROR. Carries every violation of the message. */
export class RuleViolationError extends KontractError {
  readonly violations: readonly Violation[];
  constructor(violations: readonly Violation[], options: KontractErrorOptions = {}) {
    const first = violations[0];
    const more = violations.length > 1 ? ` (+${violations.length - 1} more)` : "";
    super("rule-violation", first ? `rule ${first.rule} failed: ${first.message}${more}` : "rule failed", options);
    this.violations = violations;
  }
  override get name(): string {
    return "RuleViolationError";
  }
}
