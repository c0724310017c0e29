/**
 * A bounded LRU cache with an optional time-to-live, fronted by in-flight
 * request coalescing: concurrent `get`s of one key share one load.
 */

export interface MemoOptions {
  /** Entries kept; the least recently used one is evicted first. */
  capacity: number;
  /** Milliseconds an entry stays fresh; `Infinity` never expires, 0 disables storing. */
  ttlMs: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class Memo<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Promise<V>>();
  readonly #capacity: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  // Bumped by every invalidation, so a load that started before it cannot
  // store a result the invalidation meant to drop.
  #epoch = 0;

  constructor(options: MemoOptions) {
    this.#capacity = Math.max(0, Math.floor(options.capacity));
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? (() => Date.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  peek(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Re-insert to mark it most recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.#capacity === 0 || this.#ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** The cached value, else the one in-flight load for `key`, else a new load. Failures are not cached. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending;
    const epoch = this.#epoch;
    const promise = load().then(
      (value) => {
        if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
        if (epoch === this.#epoch) this.set(key, value);
        return value;
      },
      (error: unknown) => {
        if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
        throw error;
      },
    );
    this.#inflight.set(key, promise);
    return promise;
  }

  /** Drops cached entries and forgets in-flight loads whose key matches. */
  invalidate(matches: (key: string) => boolean): void {
    this.#epoch++;
    for (const key of [...this.#entries.keys()]) if (matches(key)) this.#entries.delete(key);
    for (const key of [...this.#inflight.keys()]) if (matches(key)) this.#inflight.delete(key);
  }

  clear(): void {
    this.invalidate(() => true);
  }
}
