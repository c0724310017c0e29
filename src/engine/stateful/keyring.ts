/**
 * The uniqueness rule's state: keys in arrival order, each with a time and an offset, found by key
 * through an open-addressing hash table. Columns of typed arrays in a ring, and the table's slots
 * in one Int32Array, so a record costs a probe or two of memory already in cache, not the Map's
 * bucket, entry and key lookups (for the insert, and again to evict the key a window back), nor an
 * object per held key. With the window's 300k keys live this took the rule from about 0.9 to about
 * 0.3 µs per record (bench/stateful.bench.ts --parts).
 *
 * Exact: a slot holds the key's hash and its entry, and a hit compares the key itself.
 * Hash flooding: the hash is seeded per ring from a random number, and a probe that walks past
 * MAX_PROBE slots (a table at most half full makes that vanishingly rare by chance) moves the ring
 * to a Map for good, whose hashing V8 seeds itself: keys chosen to collide cost what a Map costs.
 */
import { randomBytes } from "node:crypto";

/** A held entry's handle: valid until the next push or remove. */
export type Entry = number;

export interface KeyRing {
  /** Live keys. */
  readonly size: number;
  /** The entry holding `key`, or -1. */
  find(key: string): Entry;
  /** Appends `key`, which must not be held, as the newest entry. */
  push(key: string, t: number, offset: number): void;
  /** Forgets a live entry. */
  remove(e: Entry): void;
  /** The oldest live entry, or -1. */
  oldest(): Entry;
  key(e: Entry): string;
  t(e: Entry): number;
  offset(e: Entry): number;
}

/** A table probe longer than this is taken for keys made to collide (see above). */
const MAX_PROBE = 128;
const MIN_CAPACITY = 256;
/** slotOf of an entry removed out of order, still in the ring until it reaches the head. */
const GONE = -1;

export function keyRing(hashOf: (key: string) => number = seededHash()): KeyRing {
  // The ring: `count` entries from `head`, live or GONE, in arrival order; capacity a power of two.
  let mask = MIN_CAPACITY - 1;
  let keys: (string | undefined)[] = new Array<string | undefined>(MIN_CAPACITY).fill(undefined);
  let times = new Float64Array(MIN_CAPACITY);
  let offsets = new Float64Array(MIN_CAPACITY);
  let hashes = new Int32Array(MIN_CAPACITY);
  let slotOf = new Int32Array(MIN_CAPACITY);
  let head = 0;
  let count = 0;
  let live = 0;
  // The table, twice the ring's capacity (so at most half full): per slot its key's hash, then its entry + 1 (0: empty).
  let tmask = 2 * MIN_CAPACITY - 1;
  let table = new Int32Array(4 * MIN_CAPACITY);
  /** Set once a probe ran too long: the index from then on (key → entry). */
  let byKey: Map<string, Entry> | undefined;
  // find's hash, reused by the push that usually follows it for the same key.
  let lastKey: string | undefined;
  let lastHash = 0;

  const hash = (key: string): number => {
    if (key !== lastKey) {
      lastKey = key;
      lastHash = hashOf(key);
    }
    return lastHash;
  };

  /** Puts entry e (hash h) in the table's first free slot from h's home; false when that took too long. */
  const insert = (e: Entry, h: number): boolean => {
    let s = h & tmask;
    for (let probes = 0; table[2 * s + 1] !== 0; probes++) {
      if (probes > MAX_PROBE) return false;
      s = (s + 1) & tmask;
    }
    table[2 * s] = h;
    table[2 * s + 1] = e + 1;
    slotOf[e] = s;
    return true;
  };

  /** Empties slot s, moving later entries of its cluster back (linear probing without tombstones). */
  const vacate = (s: number): void => {
    table[2 * s + 1] = 0;
    for (let j = (s + 1) & tmask; table[2 * j + 1] !== 0; j = (j + 1) & tmask) {
      const home = table[2 * j]! & tmask;
      // The entry at j may move to s only if s lies on its probe path (from its home to j).
      if (((j - home) & tmask) < ((j - s) & tmask)) continue;
      const e = table[2 * j + 1]! - 1;
      table[2 * s] = table[2 * j]!;
      table[2 * s + 1] = e + 1;
      slotOf[e] = s;
      table[2 * j + 1] = 0;
      s = j;
    }
  };

  const flooded = (): void => {
    byKey = new Map();
    for (let i = 0; i < count; i++) {
      const e = (head + i) & mask;
      if (slotOf[e] !== GONE) byKey.set(keys[e]!, e);
    }
  };

  /** Copies the live entries, in order, into a ring of `capacity` from position 0, and indexes them anew. */
  const rebuild = (capacity: number): void => {
    const k2 = new Array<string | undefined>(capacity).fill(undefined);
    const t2 = new Float64Array(capacity);
    const o2 = new Float64Array(capacity);
    const h2 = new Int32Array(capacity);
    let n = 0;
    for (let i = 0; i < count; i++) {
      const e = (head + i) & mask;
      if (slotOf[e] === GONE) continue;
      k2[n] = keys[e];
      t2[n] = times[e]!;
      o2[n] = offsets[e]!;
      h2[n] = hashes[e]!;
      n++;
    }
    keys = k2;
    times = t2;
    offsets = o2;
    hashes = h2;
    slotOf = new Int32Array(capacity);
    mask = capacity - 1;
    head = 0;
    count = n;
    tmask = 2 * capacity - 1;
    table = new Int32Array(4 * capacity);
    if (byKey !== undefined) return flooded();
    for (let e = 0; e < n; e++) {
      if (!insert(e, h2[e]!)) return flooded();
    }
  };

  return {
    get size() {
      return live;
    },

    find(key) {
      if (byKey !== undefined) return byKey.get(key) ?? -1;
      const h = hash(key);
      let s = h & tmask;
      for (let probes = 0; probes <= MAX_PROBE; probes++) {
        const e = table[2 * s + 1]! - 1;
        if (e < 0) return -1;
        if (table[2 * s] === h && keys[e] === key) return e;
        s = (s + 1) & tmask;
      }
      flooded();
      return byKey!.get(key) ?? -1;
    },

    push(key, t, offset) {
      // Full: drop the entries removed out of order, and grow unless that freed half the ring.
      if (count > mask) rebuild(live * 2 > mask ? 2 * (mask + 1) : mask + 1);
      const e = (head + count) & mask;
      count++;
      live++;
      keys[e] = key;
      times[e] = t;
      offsets[e] = offset;
      // Live (not GONE) until insert says where: a flood moves every live entry to the Map.
      slotOf[e] = 0;
      if (byKey !== undefined) {
        byKey.set(key, e);
        return;
      }
      const h = hash(key);
      hashes[e] = h;
      if (!insert(e, h)) flooded();
    },

    remove(e) {
      if (byKey !== undefined) byKey.delete(keys[e]!);
      else vacate(slotOf[e]!);
      slotOf[e] = GONE;
      keys[e] = undefined;
      live--;
    },

    oldest() {
      while (count > 0 && slotOf[head] === GONE) {
        head = (head + 1) & mask;
        count--;
      }
      return count > 0 ? head : -1;
    },

    key: (e) => keys[e]!,
    t: (e) => times[e]!,
    offset: (e) => offsets[e]!,
  };
}

/**
 * FNV-1a over the UTF-16 code units from a random start, then murmur3's finalizer: fast on short
 * keys; keys made to collide anyway end in the Map (see the module comment).
 */
function seededHash(): (key: string) => number {
  const seed = randomBytes(4).readInt32LE(0);
  return (key) => {
    let h = seed ^ key.length;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  };
}
