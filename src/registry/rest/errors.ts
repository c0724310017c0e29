/**
 * How registry failures become RegistryErrors: one data table keyed by the
 * Confluent `error_code` and, failing that, the HTTP status.
 */
import { RegistryError } from "../../errors.js";

export interface ErrorRule {
  /** `"unknown-schema"` when the thing asked for does not exist, `"registry"` otherwise. */
  code: "unknown-schema" | "registry";
  retriable: boolean;
  meaning: string;
}

const notFound = (meaning: string): ErrorRule => ({ code: "unknown-schema", retriable: false, meaning });
const client = (meaning: string): ErrorRule => ({ code: "registry", retriable: false, meaning });
const transient = (meaning: string): ErrorRule => ({ code: "registry", retriable: true, meaning });

/** Confluent `error_code`s (io.confluent.kafka.schemaregistry.rest.exceptions.Errors). */
export const ERROR_CODES: ReadonlyMap<number, ErrorRule> = new Map([
  [40101, client("unauthorized")],
  [40301, client("forbidden")],
  [40401, notFound("subject not found")],
  [40402, notFound("version not found")],
  [40403, notFound("schema not found")],
  [40404, client("subject was soft-deleted")],
  [40405, client("subject was not soft-deleted first")],
  [40406, client("schema version was soft-deleted")],
  [40407, client("schema version was not soft-deleted first")],
  [40408, client("subject has no subject-level compatibility config")],
  [40409, client("subject has no subject-level mode")],
  // The DEK registry's (io.confluent.dekregistry.web.rest.exceptions).
  [40470, notFound("key encryption key not found")],
  [40471, notFound("data encryption key not found")],
  [40970, client("key encryption key already exists")],
  [40971, client("data encryption key already exists")],
  [409, client("incompatible schema")],
  [40901, client("incompatible schema")],
  [42201, client("invalid schema")],
  [42202, client("invalid version")],
  [42203, client("invalid compatibility level")],
  [42204, client("invalid mode")],
  [42205, client("operation not permitted")],
  [42206, client("schema is still referenced")],
  [42207, client("id does not match")],
  [42208, client("invalid subject")],
  [42209, client("schema too large")],
  [50001, transient("registry store error")],
  [50002, transient("registry operation timed out")],
  [50003, transient("registry failed to forward the request to its leader")],
  [50004, transient("registry has no known leader")],
]);

/**
 * Statuses without a known `error_code`. 408 and 429 are retriable like 5xx,
 * as in the reference client (@confluentinc/schemaregistry retry-helper isRetriable).
 * A bare 404 is "registry", not "unknown-schema": without a Confluent code it
 * more likely means a wrong URL or an endpoint this registry lacks.
 */
export const STATUSES: ReadonlyMap<number, ErrorRule> = new Map([
  [400, client("bad request")],
  [401, client("unauthorized")],
  [403, client("forbidden")],
  [404, client("not found (no specific Confluent error code: wrong URL, or an endpoint this registry lacks?)")],
  [405, client("method not allowed")],
  [408, transient("request timeout")],
  [409, client("conflict")],
  [415, client("unsupported media type")],
  [422, client("unprocessable entity")],
  [429, transient("too many requests")],
]);

export function errorRule(status: number, errorCode: number | undefined): ErrorRule {
  const byCode = errorCode === undefined ? undefined : ERROR_CODES.get(errorCode);
  if (byCode !== undefined) return byCode;
  const byStatus = STATUSES.get(status);
  if (byStatus !== undefined) return byStatus;
  if (status >= 500) return transient("registry server error");
  return client("unexpected HTTP status");
}

/** What went wrong, phrased for the message: `<registry>: <what>: <meaning> (...)`. */
export interface Failure {
  /** The registry's URL, never with credentials. */
  registry: string;
  /** The request, naming what was asked for: "get version 3 of subject 'orders-value'". */
  what: string;
}

const MAX_SERVER_MESSAGE = 500;

export function httpError(failure: Failure, status: number, body: string): RegistryError {
  const { errorCode, serverMessage } = parseErrorBody(body);
  const rule = errorRule(status, errorCode);
  const codePart = errorCode === undefined ? "" : `, error_code ${errorCode}`;
  const detail = serverMessage ? `: ${truncate(serverMessage)}` : "";
  return new RegistryError(`schema registry ${failure.registry}: ${failure.what}: ${rule.meaning} (HTTP ${status}${codePart})${detail}`, {
    code: rule.code,
    retriable: rule.retriable,
    status,
    errorCode,
  });
}

export function unreachableError(failure: Failure, reason: string, cause: unknown): RegistryError {
  return new RegistryError(`schema registry ${failure.registry}: ${failure.what}: ${reason}`, {
    code: "registry-unreachable",
    retriable: true,
    cause,
  });
}

/** A 2xx answer the client cannot use (not JSON, wrong shape). Retrying will not help. */
export function badResponseError(failure: Failure, problem: string): RegistryError {
  return new RegistryError(`schema registry ${failure.registry}: ${failure.what}: unexpected response: ${problem}`, {
    code: "registry",
    retriable: false,
  });
}

/** The same error, said to have failed after `attempts` tries. */
export function afterAttempts(error: RegistryError, attempts: number): RegistryError {
  if (attempts <= 1) return error;
  return new RegistryError(`${error.message} (gave up after ${attempts} attempts)`, {
    code: error.code,
    retriable: error.retriable,
    status: error.status,
    errorCode: error.errorCode,
    cause: error.cause,
  });
}

function parseErrorBody(body: string): { errorCode: number | undefined; serverMessage: string | undefined } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null) {
      const record = parsed as Record<string, unknown>;
      const errorCode = typeof record.error_code === "number" ? record.error_code : undefined;
      const serverMessage = typeof record.message === "string" ? record.message : undefined;
      return { errorCode, serverMessage };
    }
  } catch {
    // Proxies answer with HTML or plain text; show a bit of it.
  }
  const text = body.trim();
  return { errorCode: undefined, serverMessage: text === "" ? undefined : text };
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > MAX_SERVER_MESSAGE ? `${oneLine.slice(0, MAX_SERVER_MESSAGE)}…` : oneLine;
}
