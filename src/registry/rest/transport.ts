/**
 * One JSON request to the registry: per-request timeout, failover across
 * URLs, bounded retries with jittered backoff for retriable failures only.
 */
import { type RegistryError, isKontractError } from "../../errors.js";
import { afterAttempts, badResponseError, type Failure, httpError, unreachableError } from "./errors.js";
import type { ResolvedOptions } from "./options.js";
import { WireError } from "./wire.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  /** Path with already-encoded segments, e.g. `/subjects/a%2Fb/versions`. */
  path: string;
  query?: ReadonlyArray<readonly [string, string]>;
  body?: unknown;
  /** What is asked for, for error messages: "get version 3 of subject 'orders-value'". */
  what: string;
}

export interface Transport {
  /**
   * Sends the request and hands the parsed JSON answer (`undefined` for an
   * empty body) to `read`; a WireError from `read` becomes a RegistryError.
   */
  send<T>(request: HttpRequest, read: (json: unknown) => T): Promise<T>;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
// The Accept header Confluent's own clients send.
const ACCEPT = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";

export function createTransport(options: ResolvedOptions): Transport {
  const { urls, timeoutMs, retries, retryBackoffMs, retryMaxBackoffMs } = options;
  const headers: Record<string, string> = { ...options.headers, Accept: ACCEPT };
  if (options.authorization !== undefined) headers.Authorization = options.authorization;
  // The URL that answered last; later requests start there.
  let current = 0;

  async function once<T>(base: string, request: HttpRequest, read: (json: unknown) => T): Promise<T> {
    const failure: Failure = { registry: base, what: request.what };
    const url = base + request.path + queryString(request.query);
    const init: RequestInit = { method: request.method, headers, signal: AbortSignal.timeout(timeoutMs) };
    if (request.body !== undefined) {
      init.headers = { ...headers, "Content-Type": CONTENT_TYPE };
      init.body = JSON.stringify(request.body);
    }
    let status: number;
    let text: string;
    try {
      const response = await options.fetch(url, init);
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw unreachableError(failure, describeNetworkError(error, timeoutMs), error);
    }
    if (status < 200 || status > 299) throw httpError(failure, status, text);
    let json: unknown;
    if (text.trim() !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        throw badResponseError(failure, `HTTP ${status} body is not JSON`);
      }
    }
    try {
      return read(json);
    } catch (error) {
      if (error instanceof WireError) throw badResponseError(failure, error.message);
      throw error;
    }
  }

  async function send<T>(request: HttpRequest, read: (json: unknown) => T): Promise<T> {
    let last: RegistryError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoff(attempt - 1, retryBackoffMs, retryMaxBackoffMs));
      for (let step = 0; step < urls.length; step++) {
        const index = (current + step) % urls.length;
        try {
          const result = await once(urls[index], request, read);
          current = index;
          return result;
        } catch (error) {
          if (!isRegistryError(error) || !error.retriable) throw error;
          last = error;
        }
      }
      current = (current + 1) % urls.length;
    }
    throw afterAttempts(last as RegistryError, (retries + 1) * urls.length);
  }

  return { send };
}

function isRegistryError(error: unknown): error is RegistryError {
  return isKontractError(error) && error.name === "RegistryError";
}

function queryString(query: HttpRequest["query"]): string {
  if (query === undefined || query.length === 0) return "";
  return `?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`;
}

/** Full jitter: uniform in [0, min(max, base * 2^retry)]. */
export function backoff(retry: number, baseMs: number, maxMs: number): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** retry);
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no response within ${timeoutMs} ms`;
  }
  const code = networkCode(error);
  return code === undefined ? "cannot reach the registry" : `cannot reach the registry (${code})`;
}

/** undici wraps the socket error: TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }). */
function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}
