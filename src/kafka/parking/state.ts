/**
 * Order-preserving parking, as data: the records of the park topic and the
 * park state of one source partition rebuilt from them. Pure: no I/O.
 *
 * The park topic is compacted. Each record's key names what it holds:
 *
 * - a head `["h", group, topic, partition, keyHex]`: key K of that partition is
 *   parked behind the record at `episode` (its offset), which is in a retry
 *   topic or in the DLQ;
 * - a follower `["f", group, topic, partition, offset]`: a later record of K,
 *   byte for byte (value; key and headers in `__kontract.park.*` headers);
 * - a release `["r", group, topic, partition, keyHex]`: an operator resolved
 *   the head of `episode`; its followers are to be delivered.
 *
 * A delivered follower, a released head and an applied release are tombstoned.
 */
import { createHash } from "node:crypto";
import type { ConsumedMessage, OutgoingMessage, RecordHeaders } from "../client.js";

/** Where a parked head went: its DLQ record, as far as the write told. */
export interface DlqPosition {
  readonly topic: string;
  readonly partition: number | undefined;
  readonly offset: string | undefined;
}

/** The record a key is parked behind. */
export interface ParkHead {
  /** Its offset in the source partition: the park's episode. */
  readonly offset: string;
  /** Where it is: in a retry topic (retry mode), or in the DLQ. */
  readonly where: "retry" | "dlq";
  /** Its DLQ record (where "dlq"), as far as the write told. */
  readonly dlq: DlqPosition | undefined;
  /** SHA-256 of its value bytes: a replay must carry the same bytes to resolve it. */
  readonly valueHash: string;
  /** When it was parked (ms since the epoch). */
  readonly parkedAt: number;
}

/** A record parked behind a head: the record as consumed, at its origin offset. */
export type Follower = ConsumedMessage;

/** One parked key of a source partition. */
export interface Park {
  /** Undefined once the head is resolved: the followers are to be delivered. */
  head: ParkHead | undefined;
  /** In source offset order. */
  readonly followers: Follower[];
}

/** The parks of one source partition, by key (hex). */
export type PartitionParks = Map<string, Park>;

/** The header names the park topic's records carry. */
export const PARK_HEADERS = {
  /** The follower's original key bytes (absent for a null key: such records are never parked). */
  key: "__kontract.park.key",
  /** The follower's original timestamp. */
  timestamp: "__kontract.park.timestamp",
  /** "1" when the follower's value was null (a park topic tombstone would be deleted). */
  nullValue: "__kontract.park.null",
  /** The episode (head offset) the follower was parked behind. */
  episode: "__kontract.park.episode",
} as const;

const PARK_PREFIX = "__kontract.park.";

/** Where a park lives: the consumer group and the source partition. */
export interface ParkScope {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

export const keyHexOf = (key: Buffer | null): string | undefined => (key === null ? undefined : key.toString("hex"));

export const valueHashOf = (value: Buffer | null): string => createHash("sha256").update(value ?? Buffer.alloc(0)).digest("hex");

const headKey = (s: ParkScope, keyHex: string): string => JSON.stringify(["h", s.group, s.topic, s.partition, keyHex]);
const followerKey = (s: ParkScope, offset: string): string => JSON.stringify(["f", s.group, s.topic, s.partition, offset]);
const releaseKey = (s: ParkScope, keyHex: string): string => JSON.stringify(["r", s.group, s.topic, s.partition, keyHex]);

export function headRecord(s: ParkScope, keyHex: string, head: ParkHead): OutgoingMessage {
  return { key: headKey(s, keyHex), value: JSON.stringify(head) };
}

export const headTombstone = (s: ParkScope, keyHex: string): OutgoingMessage => ({ key: headKey(s, keyHex), value: null });

/** A follower for the park topic: value as is; key, timestamp and episode in headers; the record's own park headers dropped. */
export function followerRecord(s: ParkScope, episode: string, message: ConsumedMessage): OutgoingMessage {
  const headers: RecordHeaders = {};
  for (const [name, v] of Object.entries(message.headers ?? {})) if (v !== undefined && !name.startsWith(PARK_PREFIX)) headers[name] = v;
  if (message.key !== null) headers[PARK_HEADERS.key] = message.key;
  headers[PARK_HEADERS.timestamp] = message.timestamp;
  headers[PARK_HEADERS.episode] = episode;
  if (message.value === null) headers[PARK_HEADERS.nullValue] = "1";
  return { key: followerKey(s, message.offset), value: message.value ?? Buffer.alloc(0), headers };
}

export const followerTombstone = (s: ParkScope, offset: string): OutgoingMessage => ({ key: followerKey(s, offset), value: null });

/**
 * A release of the park of `episode` (the head's offset): an operator's, or
 * the head's successful retry, which names the head's value (SHA-256) so that
 * only a retry of the head's own bytes releases it.
 */
export function releaseRecord(s: ParkScope, keyHex: string, episode: string, at: Date, valueHash?: string): OutgoingMessage {
  return { key: releaseKey(s, keyHex), value: JSON.stringify({ episode, at: at.toISOString(), ...(valueHash === undefined ? {} : { valueHash }) }) };
}

/** A release read back. */
export interface Release {
  readonly episode: string;
  readonly valueHash: string | undefined;
}

/** Whether `release` resolves the park behind `head`. */
export const releases = (release: Release | undefined, head: ParkHead): boolean =>
  release !== undefined && release.episode === head.offset && (release.valueHash === undefined || release.valueHash === head.valueHash);

export const releaseTombstone = (s: ParkScope, keyHex: string): OutgoingMessage => ({ key: releaseKey(s, keyHex), value: null });

/** A park topic record read back. Records that are not kontract's read as undefined. */
export type ParkEntry =
  | { readonly kind: "head"; readonly scope: ParkScope; readonly keyHex: string; readonly head: ParkHead | undefined }
  | { readonly kind: "follower"; readonly scope: ParkScope; readonly offset: string; readonly follower: Follower | undefined }
  | { readonly kind: "release"; readonly scope: ParkScope; readonly keyHex: string; readonly release: Release | undefined };

export function parseParkEntry(message: ConsumedMessage): ParkEntry | undefined {
  const id = parseKey(message.key);
  if (id === undefined) return undefined;
  const [kind, group, topic, partition, last] = id;
  const scope = { group, topic, partition };
  const value = message.value;
  if (kind === "h") return { kind: "head", scope, keyHex: last, head: value === null ? undefined : headOf(value) };
  if (kind === "r") return { kind: "release", scope, keyHex: last, release: value === null ? undefined : releaseOf(value) };
  return { kind: "follower", scope, offset: last, follower: value === null ? undefined : followerOf(last, message) };
}

function parseKey(key: Buffer | null): ["h" | "f" | "r", string, string, number, string] | undefined {
  if (key === null) return undefined;
  let id: unknown;
  try {
    id = JSON.parse(key.toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(id) || id.length !== 5) return undefined;
  const [kind, group, topic, partition, last] = id as unknown[];
  if ((kind !== "h" && kind !== "f" && kind !== "r") || typeof group !== "string" || typeof topic !== "string" || !Number.isInteger(partition) || typeof last !== "string") return undefined;
  return [kind, group, topic, partition as number, last];
}

function headOf(value: Buffer): ParkHead | undefined {
  try {
    const h = JSON.parse(value.toString("utf8")) as Partial<ParkHead>;
    if (typeof h.offset !== "string" || typeof h.valueHash !== "string" || (h.where !== "retry" && h.where !== "dlq")) return undefined;
    const dlq = typeof h.dlq?.topic === "string" ? { topic: h.dlq.topic, partition: h.dlq.partition ?? undefined, offset: h.dlq.offset ?? undefined } : undefined;
    return { offset: h.offset, where: h.where, valueHash: h.valueHash, parkedAt: Number(h.parkedAt) || 0, dlq };
  } catch {
    return undefined;
  }
}

function releaseOf(value: Buffer): Release | undefined {
  try {
    const r = JSON.parse(value.toString("utf8")) as { episode?: unknown; valueHash?: unknown };
    return typeof r.episode === "string" ? { episode: r.episode, valueHash: typeof r.valueHash === "string" ? r.valueHash : undefined } : undefined;
  } catch {
    return undefined;
  }
}

function followerOf(offset: string, message: ConsumedMessage): Follower {
  const headers: RecordHeaders = {};
  let key: Buffer | null = null;
  let timestamp = message.timestamp;
  let isNull = false;
  for (const [name, v] of Object.entries(message.headers ?? {})) {
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[v.length - 1]! : v;
    if (name === PARK_HEADERS.key) key = Buffer.isBuffer(one) ? one : Buffer.from(one);
    else if (name === PARK_HEADERS.timestamp) timestamp = one.toString();
    else if (name === PARK_HEADERS.nullValue) isNull = true;
    else if (!name.startsWith(PARK_PREFIX)) headers[name] = v;
  }
  return { key, value: isNull ? null : message.value, headers, timestamp, attributes: 0, offset };
}

export const sameScope = (a: ParkScope, b: ParkScope): boolean => a.group === b.group && a.topic === b.topic && a.partition === b.partition;

const before = (a: string, b: string): boolean => BigInt(a) < BigInt(b);

/**
 * The parks of one source partition, from the park topic's records in the
 * order read (later records of a key replace earlier ones, as compaction
 * will). A release naming the current episode resolves its head. Followers
 * at or before their head's offset were delivered or became the head
 * (a crash between two writes leaves them): they are dropped. Followers
 * without a head (a crash after the head's tombstone) are delivered.
 */
export function restoreParks(entries: Iterable<ParkEntry>, scope: ParkScope): PartitionParks {
  const heads = new Map<string, ParkHead>();
  const released = new Map<string, Release>();
  const followers = new Map<string, Follower>();
  for (const e of entries) {
    if (!sameScope(e.scope, scope)) continue;
    if (e.kind === "head") e.head ? heads.set(e.keyHex, e.head) : heads.delete(e.keyHex);
    else if (e.kind === "release") e.release ? released.set(e.keyHex, e.release) : released.delete(e.keyHex);
    else e.follower ? followers.set(e.offset, e.follower) : followers.delete(e.offset);
  }
  const parks: PartitionParks = new Map();
  for (const [keyHex, head] of heads) parks.set(keyHex, { head: releases(released.get(keyHex), head) ? undefined : head, followers: [] });
  const ordered = [...followers.values()].sort((a, b) => (before(a.offset, b.offset) ? -1 : 1));
  for (const f of ordered) {
    const keyHex = keyHexOf(f.key);
    if (keyHex === undefined) continue;
    let park = parks.get(keyHex);
    if (park === undefined) parks.set(keyHex, (park = { head: undefined, followers: [] }));
    if (park.head !== undefined && !before(park.head.offset, f.offset)) continue;
    park.followers.push(f);
  }
  return parks;
}

/** What to do with a record of a parked key, or of a key that is not parked. */
export type Placing =
  /** Not parked (or before its park's head): process it. */
  | "process"
  /** The head itself, read again: it is in the DLQ already. */
  | "skip"
  /** Already parked as a follower (read again after a restart): nothing to write. */
  | "parked-already"
  /** Park it behind the head. */
  | "park";

/** Where a record of key `keyHex` at `offset` goes. Keys being released (no head) park too, until drained. */
export function placeOf(parks: PartitionParks, keyHex: string | undefined, offset: string): Placing {
  if (keyHex === undefined) return "process";
  const park = parks.get(keyHex);
  if (park === undefined) return "process";
  if (park.head !== undefined) {
    if (offset === park.head.offset) return "skip";
    if (before(offset, park.head.offset)) return "process";
  }
  return park.followers.some((f) => f.offset === offset) ? "parked-already" : "park";
}

/** Where a replayed record came from, as kontract's replay tooling names it in its headers. */
export interface ReplayNames {
  /** The dead letter: `<dlq topic>/<partition>/<offset>`. */
  readonly source: string | undefined;
  /** The record it was a dead letter of, in the consumed topic: `<topic>/<partition>/<offset>`. */
  readonly origin: string | undefined;
}

/**
 * True when `message` is the replay of `head` (of `scope`'s partition) as kontract's replay tooling
 * writes it: same value bytes, from the head's dead letter, or (exactly-once, where the dead letter's
 * place is known only once its transaction commits) from a dead letter of the head itself.
 */
export function namesHead(head: ParkHead, scope: ParkScope, replay: ReplayNames, value: Buffer | null): boolean {
  if (valueHashOf(value) !== head.valueHash) return false;
  const { dlq } = head;
  if (replay.source !== undefined && dlq?.partition !== undefined && dlq.offset !== undefined && replay.source === `${dlq.topic}/${dlq.partition}/${dlq.offset}`) return true;
  return replay.origin !== undefined && replay.origin === `${scope.topic}/${scope.partition}/${head.offset}`;
}
