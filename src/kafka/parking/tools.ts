/**
 * The park topic's I/O: creating it (compacted), reading it back, and what
 * `kontract park list | release` does, as library functions.
 */
import { KontractError } from "../../errors.js";
import { readTopic, type KafkaAccess, type ReadOptions } from "../dead-letter-tools.js";
import { parseParkEntry, releaseRecord, restoreParks, sameScope, type ParkEntry, type ParkHead, type ParkScope } from "./state.js";

/** The default park topic of a source topic: `<topic>-park`. */
export const defaultParkTopic = (sourceTopic: string): string => `${sourceTopic}-park`;

/** Creates the park topic, compacted, when it does not exist. */
export async function ensureParkTopic(access: KafkaAccess, parkTopic: string): Promise<void> {
  const admin = access.kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(parkTopic)) return;
    await admin.createTopics({ topics: [{ topic: parkTopic, numPartitions: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Every kontract record of the park topic up to its current end, in the order written per partition. A usage error when it does not exist. */
export async function readParkEntries(access: KafkaAccess, parkTopic: string, options: ReadOptions = {}): Promise<ParkEntry[]> {
  const out: ParkEntry[] = [];
  for (const r of await readTopic(access, parkTopic, options)) {
    const e = parseParkEntry(r.message);
    if (e) out.push(e);
  }
  return out;
}

/** A parked key as `kontract park list` shows it: where, since when, and how many records wait. Never the key or the values. */
export interface ParkSummary extends ParkScope {
  /** `<topic>/<partition>@<episode>`: what `releasePark` takes. */
  readonly id: string;
  /** "parked": behind its head; "released": resolved, its followers wait for the consumer to deliver them. */
  readonly state: "parked" | "released";
  /** The head (undefined once released). */
  readonly head: ParkHead | undefined;
  readonly followers: number;
}

export interface ParkFilter {
  readonly group?: string;
  readonly topic?: string;
}

/** The parks in the park topic, per group and source partition. */
export async function listParks(access: KafkaAccess, parkTopic: string, filter: ParkFilter = {}, options: ReadOptions = {}): Promise<ParkSummary[]> {
  return summarize(await readParkEntries(access, parkTopic, options), filter);
}

/** The parks the entries describe. Pure. */
export function summarize(entries: readonly ParkEntry[], filter: ParkFilter = {}): ParkSummary[] {
  const scopes = new Map<string, ParkScope>();
  for (const e of entries) {
    if ((filter.group !== undefined && e.scope.group !== filter.group) || (filter.topic !== undefined && e.scope.topic !== filter.topic)) continue;
    scopes.set(JSON.stringify([e.scope.group, e.scope.topic, e.scope.partition]), e.scope);
  }
  const out: ParkSummary[] = [];
  for (const scope of scopes.values()) {
    const released = new Map<string, string>();
    for (const e of entries) if (e.kind === "release" && sameScope(e.scope, scope)) e.release ? released.set(e.keyHex, e.release.episode) : released.delete(e.keyHex);
    for (const [keyHex, park] of restoreParks(entries, scope)) {
      const episode = park.head?.offset ?? released.get(keyHex) ?? park.followers[0]?.offset ?? "?";
      out.push({ ...scope, id: parkId(scope, episode), state: park.head ? "parked" : "released", head: park.head, followers: park.followers.length });
    }
  }
  return out.sort((a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition || a.id.localeCompare(b.id));
}

const parkId = (s: ParkScope, offset: string): string => `${s.topic}/${s.partition}@${offset}`;

export interface ReleaseResult {
  readonly released: ParkSummary;
}

/**
 * Resolves a park whose head will not be replayed (fixed another way, or
 * dropped): records a release for its episode. The consumer group's owner
 * of the partition delivers the followers, in order, at the partition's next
 * record (a running consumer re-reads the park topic every `refreshMs`; a
 * restarted one at once). A release of an episode that is over does nothing.
 */
export async function releasePark(access: KafkaAccess, parkTopic: string, group: string, id: string, options: ReadOptions = {}): Promise<ReleaseResult> {
  const entries = await readParkEntries(access, parkTopic, options);
  const park = summarize(entries, { group }).find((p) => p.id === id);
  if (park?.head === undefined) throw new KontractError("usage", `no park ${id} of group ${group} in ${parkTopic}${park ? " (already released)" : ""}: see kontract park list`);
  const scope = { group, topic: park.topic, partition: park.partition };
  const keyHex = keyOf(entries, scope, park.head.offset);
  const producer = access.kafka.producer(access.client === "confluent" ? { kafkaJS: { acks: -1 } } : {});
  await producer.connect();
  try {
    await producer.send({ topic: parkTopic, messages: [releaseRecord(scope, keyHex, park.head.offset, new Date())] });
  } finally {
    await producer.disconnect();
  }
  return { released: park };
}

function keyOf(entries: readonly ParkEntry[], scope: ParkScope, episode: string): string {
  let found: string | undefined;
  for (const e of entries) if (e.kind === "head" && sameScope(e.scope, scope) && e.head?.offset === episode) found = e.keyHex;
  if (found === undefined) throw new KontractError("usage", `park ${scope.topic}/${scope.partition}@${episode}: no head record`);
  return found;
}
