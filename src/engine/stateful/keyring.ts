/**
 * The uniqueness rule's state: keys in arrival order, each with a time and an offset, found by key
 * through an open-addressing hash table. Columns of typed arrays in a ring, and the table's slots in
 * one Int32Array, where a Map of entry objects and a queue cost several cache misses per record:
 * the Map's bucket, entry and key for the insert, and again for the key a window back that the
 * record evicts (bench/stateful.bench.ts --parts).
 *
 * A slot is one 32-bit word, its entry's arrival number and six bits of its key's hash: a record
 * (a probe that finds its key absent, then the insert into the slot it ended at) touches one cache
 * line of the table, where a slot of two words, the whole hash and the number, took two and, in a
 * table of 16 MB, a miss each (docs/stateful.md, "Speed and memory"). The whole hash is a column of
 * the ring, read only when the six bits match.
 *
 * Eviction in arrival order does not touch the table: a slot holds its entry's arrival number, and
 * one older than the ring's oldest is free, reused by a later insert or dropped by the next rebuild.
 * Only an entry removed out of order (a key seen again after its window, a restored deletion)
 * marks its slot.
 *
 * Exact: a slot holds the key's hash and its entry, and a hit compares the key itself.
 *
 * The keys' text is copied into a ring of UTF-16 code units, not held as the strings the decoder
 * made: a string held for a window survives young collections, which copy it and promote it, and
 * through a consumer client that allocates kilobytes per record (kafkajs) that cost about 0.15 µs
 * per record in scavenges (bench/stateful-kafka.bench.ts). Only a lookup that hits compares text.
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
/** Table slots per ring entry: live entries fill at most a quarter of the table, stale ones another quarter. */
const SLOTS_PER_ENTRY = 4;
/**
 * Arrival numbers restart from the ring's capacity at a rebuild; one is forced before they leave
 * the Smi range, or, while the table indexes the ring, the 25 bits a slot has for them (four times
 * the largest ring it indexes).
 */
const MAX_ARRIVAL = 2 ** 30;
/** The largest ring the table indexes; a larger one (8 million keys in a partition) is indexed by a Map. */
const MAX_TABLE_CAPACITY = 2 ** 23;
/** A slot's word: arrival number × TAGS + tag, the tag 1 to 63 (tagOf); 0 never used (probes end there). */
const TAGS = 64;
/** A slot freed out of order. */
const FREED = -1;
/** slotOf of an entry removed out of order: skipped when it reaches the ring's head. */
const GONE = -1;
const MIN_TEXT = 4096;

export function keyRing(hashOf: (key: string) => number = seededHash(), tableCapacity = MAX_TABLE_CAPACITY): KeyRing {
  const maxSlotArrival = 4 * tableCapacity;
  // The ring: `count` entries from position `head`, live or GONE, in arrival order. The entry at
  // position p has arrival number a with a & mask === p; the head's is `first`.
  let mask = MIN_CAPACITY - 1;
  // Per entry: where its key's code units start in `text`, and how many.
  let starts = new Int32Array(MIN_CAPACITY);
  let lengths = new Int32Array(MIN_CAPACITY);
  let times = new Float64Array(MIN_CAPACITY);
  let offsets = new Float64Array(MIN_CAPACITY);
  let hashes = new Int32Array(MIN_CAPACITY);
  let slotOf = new Int32Array(MIN_CAPACITY);
  let head = 0;
  let first = MIN_CAPACITY;
  let count = 0;
  let live = 0;
  // The keys' code units, a ring like the entries': `spanned` units from the head entry's start end at `end`.
  let text = new Uint16Array(MIN_TEXT);
  let tmaskText = MIN_TEXT - 1;
  let end = 0;
  let spanned = 0;
  // The table: per slot a word (TAGS); an arrival number below `first` is free.
  let tmask = SLOTS_PER_ENTRY * MIN_CAPACITY - 1;
  let table = new Int32Array(SLOTS_PER_ENTRY * MIN_CAPACITY);
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

  /** Whether the entry at position e holds `key`. */
  const holds = (e: Entry, key: string): boolean => {
    const n = lengths[e]!;
    if (n !== key.length) return false;
    const m = tmaskText;
    for (let i = 0, p = starts[e]!; i < n; i++, p = (p + 1) & m) if (text[p] !== key.charCodeAt(i)) return false;
    return true;
  };

  const keyOf = (e: Entry): string => {
    const n = lengths[e]!;
    const p = starts[e]!;
    // Where the ring wraps, a copy in one piece.
    let units = text.subarray(p, p + n);
    if (p + n > text.length) copyText(e, (units = new Uint16Array(n)), 0);
    // In pieces: a spread of a long key would pass too many arguments.
    let out = "";
    for (let i = 0; i < n; i += 4096) out += String.fromCharCode(...units.subarray(i, i + 4096));
    return out;
  };

  /** The head entry leaves the ring: its code units too. */
  const dropHead = (): void => {
    spanned -= lengths[head]!;
    head = (head + 1) & mask;
    first++;
    count--;
  };

  /** Copies `key` in after the newest entry's, into position e; the text ring doubles when full. */
  const write = (e: Entry, key: string): void => {
    const n = key.length;
    if (spanned + n > text.length) {
      let size = text.length * 2;
      while (spanned + n > size) size *= 2;
      regrow(size);
    }
    const m = tmaskText;
    starts[e] = end;
    lengths[e] = n;
    for (let i = 0, p = end; i < n; i++, p = (p + 1) & m) text[p] = key.charCodeAt(i);
    end = (end + n) & m;
    spanned += n;
  };

  /** Copies the code units of the entry at position e to `into` from p; returns where they end. */
  const copyText = (e: Entry, into: Uint16Array, p: number): number => {
    const n = lengths[e]!;
    for (let j = 0, q = starts[e]!; j < n; j++, q = (q + 1) & tmaskText) into[p + j] = text[q]!;
    return p + n;
  };

  /** The text ring in `size` units, from 0, with the ring's entries (live or not) in order. */
  const regrow = (size: number): void => {
    const t2 = new Uint16Array(size);
    // The entries' code units are contiguous in the ring, from the head entry's start.
    const base = (end - spanned) & tmaskText;
    copyRing(text, base, t2, 0, spanned);
    for (let i = 0; i < count; i++) {
      const e = (head + i) & mask;
      starts[e] = (starts[e]! - base) & tmaskText;
    }
    text = t2;
    tmaskText = size - 1;
    end = spanned & tmaskText;
  };

  /** Puts the entry at position e (arrival a, hash h) in the first free slot from h's home; false when that took too long. */
  const insert = (e: Entry, a: number, h: number): boolean => {
    let s = h & tmask;
    for (let probes = 0; ; probes++) {
      const v = table[s]!;
      if (v === 0) used++;
      if (v < first * TAGS) break;
      if (probes === MAX_PROBE) return false;
      s = (s + 1) & tmask;
    }
    table[s] = a * TAGS + tagOf(h);
    slotOf[e] = s;
    return true;
  };

  const flooded = (): void => {
    byKey = new Map();
    for (let i = 0; i < count; i++) {
      const e = (head + i) & mask;
      if (slotOf[e] !== GONE) byKey.set(keyOf(e), e);
    }
  };

  /**
   * Indexes the ring's live entries in an empty table of `size` slots, in arrival order: as fast, in
   * a fill of 300,000 keys, as walking the old table in slot order (whose inserts go through the new
   * table in order, but which reads the entries' hashes at random) or as a counting sort of the
   * entries by home slot.
   */
  const index = (size: number): void => {
    tmask = size - 1;
    table = new Int32Array(size);
    used = 0;
    for (let i = 0; i < count; i++) {
      const e = (head + i) & mask;
      if (slotOf[e] !== GONE && !insert(e, first + i, hashes[e]!)) return flooded();
    }
  };

  /** Copies the live entries, in order, into a ring of `capacity` from position 0, and indexes them anew. */
  const rebuild = (capacity: number): void => {
    const t2 = new Float64Array(capacity);
    const o2 = new Float64Array(capacity);
    const h2 = new Int32Array(capacity);
    const s2 = new Int32Array(capacity);
    const l2 = new Int32Array(capacity);
    const text2 = new Uint16Array(text.length);
    let n = 0;
    let p = 0;
    for (let i = 0; i < count; i++) {
      const e = (head + i) & mask;
      if (slotOf[e] === GONE) continue;
      t2[n] = times[e]!;
      o2[n] = offsets[e]!;
      h2[n] = hashes[e]!;
      s2[n] = p;
      l2[n] = lengths[e]!;
      p = copyText(e, text2, p);
      n++;
    }
    times = t2;
    offsets = o2;
    hashes = h2;
    starts = s2;
    lengths = l2;
    text = text2;
    end = p & tmaskText;
    spanned = p;
    slotOf = new Int32Array(capacity);
    mask = capacity - 1;
    head = 0;
    first = capacity;
    count = n;
    if (byKey !== undefined || capacity > tableCapacity) return flooded();
    index(SLOTS_PER_ENTRY * capacity);
  };

  /**
   * Doubles a full ring with no entry removed out of order (every entry live, as in a window that
   * fills): each column is copied in at most three pieces and every entry keeps its arrival number,
   * so the entry numbered a moves to position a & mask, and its key's code units stay where they
   * are. Only the table is built anew, for twice the slots. Filling a window of 300,000 keys spent
   * about 115 ms growing when rebuild() and regrow() copied entry by entry and the table was filled
   * in its old slots' order, and about 55 ms with this (medians of nine fills).
   */
  const grow = (): void => {
    const capacity = 2 * (mask + 1);
    const oldHead = head;
    mask = capacity - 1;
    head = first & mask;
    const moved = <A extends Int32Array | Float64Array>(from: A, to: A): A => {
      copyRing(from, oldHead, to, head, count);
      return to;
    };
    times = moved(times, new Float64Array(capacity));
    offsets = moved(offsets, new Float64Array(capacity));
    hashes = moved(hashes, new Int32Array(capacity));
    starts = moved(starts, new Int32Array(capacity));
    lengths = moved(lengths, new Int32Array(capacity));
    slotOf = new Int32Array(capacity);
    // The Map, if indexing, holds the old positions.
    if (byKey !== undefined || capacity > tableCapacity) return flooded();
    index(SLOTS_PER_ENTRY * capacity);
  };

  /** Empties the table of its stale and freed slots: the live entries keep their places and numbers. */
  const reindex = (): void => index(table.length);

  return withGetters<KeyRing, "size">({
    find(key) {
      if (byKey !== undefined) return byKey.get(key) ?? -1;
      const h = hash(key);
      const tag = tagOf(h);
      let s = h & tmask;
      for (let probes = 0; probes <= MAX_PROBE; probes++) {
        const v = table[s]!;
        if (v === 0) return -1;
        // A live entry's: its number not below `first` (FREED is below every number).
        if (v % TAGS === tag && v >= first * TAGS) {
          const e = Math.floor(v / TAGS) & mask;
          if (hashes[e] === h && holds(e, key)) return e;
        }
        s = (s + 1) & tmask;
      }
      flooded();
      return byKey!.get(key) ?? -1;
    },

    push(key, t, offset) {
      // Arrival numbers about to grow too large: renumbered. Full: grown, or, with entries removed
      // out of order, rebuilt without them (grown unless that freed half of it). A table with too
      // many slots used is emptied of the freed ones.
      if (first + count >= (byKey === undefined ? maxSlotArrival : MAX_ARRIVAL)) rebuild(count > mask && live * 2 > mask ? 2 * (mask + 1) : mask + 1);
      else if (count > mask) {
        if (live === count) grow();
        else rebuild(live * 2 > mask ? 2 * (mask + 1) : mask + 1);
      } else if (byKey === undefined && used > (tmask + 1) >> 1) reindex();
      const e = (head + count) & mask;
      const a = first + count;
      // Before it counts as an entry: a regrowth of the text copies the entries' text.
      write(e, key);
      count++;
      live++;
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
      if (byKey !== undefined) byKey.delete(keyOf(e));
      live--;
      if (e === head) {
        // The oldest: its slot is free once `first` moves past it.
        dropHead();
        return;
      }
      if (byKey === undefined) table[slotOf[e]!] = FREED;
      slotOf[e] = GONE;
    },

    oldest() {
      while (count > 0 && slotOf[head] === GONE) dropHead();
      return count > 0 ? head : -1;
    },

    key: keyOf,
    t: (e) => times[e]!,
    offset: (e) => offsets[e]!,
  }, {
    size: () => live,
  });
}

/** Copies `n` elements of the ring `from`, from position p, into the ring `to` from position q. */
function copyRing<A extends Int32Array | Float64Array | Uint16Array>(from: A, p: number, to: A, q: number, n: number): void {
  while (n > 0) {
    const run = Math.min(n, from.length - p, to.length - q);
    to.set(from.subarray(p, p + run), q);
    p = (p + run) % from.length;
    q = (q + run) % to.length;
    n -= run;
  }
}

/** A slot's tag: six of the hash's top bits (its low bits chose the slot), from 1 to 63 (a word of 0 is a slot never used). */
function tagOf(h: number): number {
  return (h >>> 26) || 1;
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
