/**
 * The uniqueness rule's state: keys in arrival order, each with a time and an offset, found by key
 * through an open-addressing hash table. Columns of typed arrays in a ring, and the table's slots in
 * one Int32Array, so a record costs about one cache miss (its key's probe), where a Map of entry
 * objects and a queue cost several: the Map's bucket, entry and key for the insert, and again for
 * the key a window back that the record evicts (bench/stateful.bench.ts --parts).
 *
 * Eviction in arrival order does not touch the table: a slot holds its entry's arrival number, and
 * one older than the ring's oldest is free, reused by a later insert or dropped by the next rebuild.
 * Only an entry removed out of order (a key seen again after its window, a restored deletion)
 * marks its slot.
 *
 * Exact: a slot holds the key's hash and its entry, and a hit compares the key itself.
 * Hash flooding: the hash is seeded per ring from a random number, and a probe that walks past
 * MAX_PROBE slots (the table is at most half used, so chance makes that vanishingly rare) moves the
 * ring to a Map for good, whose hashing V8 seeds itself: keys made to collide cost what a Map costs.
 */
import { randomBytes } from "node:crypto";
import { withGetters } from "../../util/getters.js";

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
/** Table slots per ring entry: live entries fill at most a quarter of the table, freed ones another quarter. */
const SLOTS_PER_ENTRY = 4;
/** Arrival numbers restart from the ring's capacity at a rebuild; one is forced before they leave the Smi range. */
const MAX_ARRIVAL = 2 ** 30;
/** A slot marked free out of order (an arrival number no entry has). */
const FREED = -1;
/** slotOf of an entry removed out of order: skipped when it reaches the ring's head. */
const GONE = -1;

export function keyRing(hashOf: (key: string) => number = seededHash()): KeyRing {
  // The ring: `count` entries from position `head`, live or GONE, in arrival order. The entry at
  // position p has arrival number a with a & mask === p; the head's is `first`.
  let mask = MIN_CAPACITY - 1;
  let keys: (string | undefined)[] = new Array<string | undefined>(MIN_CAPACITY).fill(undefined);
  let times = new Float64Array(MIN_CAPACITY);
  let offsets = new Float64Array(MIN_CAPACITY);
  let hashes = new Int32Array(MIN_CAPACITY);
  let slotOf = new Int32Array(MIN_CAPACITY);
  let head = 0;
  let first = MIN_CAPACITY;
  let count = 0;
  let live = 0;
  // The table: per slot its key's hash, then its entry's arrival number (0: never used; below `first`: free).
  let tmask = SLOTS_PER_ENTRY * MIN_CAPACITY - 1;
  let table = new Int32Array(2 * SLOTS_PER_ENTRY * MIN_CAPACITY);
  /** Slots ever used since the last rebuild: probes end at an unused one, so a rebuild keeps them few. */
  let used = 0;
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

  /** Puts the entry at position e (arrival a, hash h) in the first free slot from h's home; false when that took too long. */
  const insert = (e: Entry, a: number, h: number): boolean => {
    let s = h & tmask;
    for (let probes = 0; ; probes++) {
      const v = table[2 * s + 1]!;
      if (v === 0) used++;
      if (v < first) break;
      if (probes === MAX_PROBE) return false;
      s = (s + 1) & tmask;
    }
    table[2 * s] = h;
    table[2 * s + 1] = a;
    slotOf[e] = s;
    return true;
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
    first = capacity;
    count = n;
    tmask = SLOTS_PER_ENTRY * capacity - 1;
    table = new Int32Array(2 * SLOTS_PER_ENTRY * capacity);
    used = 0;
    if (byKey !== undefined) return flooded();
    for (let e = 0; e < n; e++) {
      if (!insert(e, first + e, h2[e]!)) return flooded();
    }
  };

  /** Empties the table of its freed slots, in place: the live entries keep their places and numbers. */
  const reindex = (): void => {
    table.fill(0);
    used = 0;
    for (let i = 0; i < count; i++) {
      const e = (head + i) & mask;
      if (slotOf[e] !== GONE && !insert(e, first + i, hashes[e]!)) return flooded();
    }
  };

  return withGetters<KeyRing, "size">({
    find(key) {
      if (byKey !== undefined) return byKey.get(key) ?? -1;
      const h = hash(key);
      let s = h & tmask;
      for (let probes = 0; probes <= MAX_PROBE; probes++) {
        const a = table[2 * s + 1]!;
        if (a === 0) return -1;
        if (table[2 * s] === h && a >= first && keys[a & mask] === key) return a & mask;
        s = (s + 1) & tmask;
      }
      flooded();
      return byKey!.get(key) ?? -1;
    },

    push(key, t, offset) {
      // Full: drop the entries removed out of order, growing the ring unless that freed half of it.
      // So before arrival numbers grow too large. A table with too many slots used is emptied of the freed ones.
      if (count > mask || first + count >= MAX_ARRIVAL) rebuild(count > mask && live * 2 > mask ? 2 * (mask + 1) : mask + 1);
      else if (byKey === undefined && used > (tmask + 1) >> 1) reindex();
      const e = (head + count) & mask;
      const a = first + count;
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
      if (!insert(e, a, h)) flooded();
    },

    remove(e) {
      if (byKey !== undefined) byKey.delete(keys[e]!);
      keys[e] = undefined;
      live--;
      if (e === head) {
        // The oldest: its slot is free once `first` moves past it.
        head = (head + 1) & mask;
        first++;
        count--;
        return;
      }
      if (byKey === undefined) table[2 * slotOf[e]! + 1] = FREED;
      slotOf[e] = GONE;
    },

    oldest() {
      while (count > 0 && slotOf[head] === GONE) {
        head = (head + 1) & mask;
        first++;
        count--;
      }
      return count > 0 ? head : -1;
    },

    key: (e) => keys[e]!,
    t: (e) => times[e]!,
    offset: (e) => offsets[e]!,
  }, {
    size: () => live,
  });
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
