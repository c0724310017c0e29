/**
 * Options of the REST registry client, and their defaults in one place.
 */
import { KontractError } from "../../errors.js";

export interface BasicAuth {
  username: string;
  password: string;
}

export interface BearerAuth {
  bearerToken: string;
}

export interface RestRegistryOptions {
  /**
   * Base URL(s) of the registry, e.g. `http://localhost:8081`. With several, a
   * request that cannot reach one (or gets a 5xx) moves on to the next.
   * Credentials in a URL (`http://user:pass@host`) are used as basic auth when
   * `auth` is not given, and are removed from the URL.
   */
  url: string | readonly string[];
  auth?: BasicAuth | BearerAuth;
  /** Extra request headers (e.g. `target-sr-cluster`). Never shown in errors. */
  headers?: Readonly<Record<string, string>>;
  /** Time allowed for one HTTP request, response body included. Default 10 000 ms. */
  timeoutMs?: number;
  /** Further tries after a retriable failure (unreachable, timeout, 5xx, 408, 429). Default 2. */
  retries?: number;
  /** First backoff before a retry; doubles per retry, with full jitter. Default 100 ms. */
  retryBackoffMs?: number;
  /** Upper bound of one backoff. Default 2 000 ms. */
  retryMaxBackoffMs?: number;
  /** Entries per cache. Default 1000, as Java's `schema.registry.cache.capacity`/`latest.cache.size`. */
  cacheCapacity?: number;
  /** The fetch implementation. Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
}

export interface ResolvedOptions {
  /** Base URLs without credentials, query or trailing slash. */
  urls: readonly string[];
  /** The `Authorization` header value, if any. Kept out of every message. */
  authorization: string | undefined;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  retryMaxBackoffMs: number;
  cacheCapacity: number;
  fetch: typeof globalThis.fetch;
}

export const DEFAULTS = {
  timeoutMs: 10_000,
  retries: 2,
  retryBackoffMs: 100,
  retryMaxBackoffMs: 2_000,
  cacheCapacity: 1_000,
} as const;

export function resolveOptions(options: RestRegistryOptions): ResolvedOptions {
  const raw = typeof options.url === "string" ? [options.url] : [...options.url];
  if (raw.length === 0) throw usage("at least one registry url is required");
  let urlCredentials: BasicAuth | undefined;
  const urls = raw.map((text) => {
    const { base, credentials } = parseBaseUrl(text);
    urlCredentials ??= credentials;
    return base;
  });
  // "latest" answers are cached once, by the contract store, as Java caches them in the serde (latest.cache.ttl.sec).
  if ((options as { latestTtlMs?: unknown }).latestTtlMs !== undefined) {
    throw usage("latestTtlMs is gone: the REST client no longer caches latest versions; set latestCacheTtlMs on the contract store (or the producer and consumer) instead");
  }
  return {
    urls,
    authorization: authorizationHeader(options.auth ?? urlCredentials),
    headers: { ...options.headers },
    timeoutMs: positive("timeoutMs", options.timeoutMs ?? DEFAULTS.timeoutMs),
    retries: nonNegativeInteger("retries", options.retries ?? DEFAULTS.retries),
    retryBackoffMs: nonNegative("retryBackoffMs", options.retryBackoffMs ?? DEFAULTS.retryBackoffMs),
    retryMaxBackoffMs: nonNegative("retryMaxBackoffMs", options.retryMaxBackoffMs ?? DEFAULTS.retryMaxBackoffMs),
    cacheCapacity: nonNegativeInteger("cacheCapacity", options.cacheCapacity ?? DEFAULTS.cacheCapacity),
    fetch: options.fetch ?? globalThis.fetch,
  };
}

function parseBaseUrl(text: string): { base: string; credentials: BasicAuth | undefined } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The text may hold credentials: do not echo it.
    throw usage("registry url is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usage(`registry url must be http(s), got ${url.protocol}`);
  }
  const credentials =
    url.username !== "" || url.password !== ""
      ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined;
  return { base: `${url.origin}${url.pathname.replace(/\/+$/, "")}`, credentials };
}

function authorizationHeader(auth: BasicAuth | BearerAuth | undefined): string | undefined {
  if (auth === undefined) return undefined;
  if ("bearerToken" in auth) return `Bearer ${auth.bearerToken}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64")}`;
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw usage(`${name} must be > 0, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0)) throw usage(`${name} must be >= 0, got ${value}`);
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw usage(`${name} must be an integer >= 0, got ${value}`);
  return value;
}

function usage(message: string): KontractError {
  return new KontractError("usage", `rest registry: ${message}`);
}
