/**
 * Order-preserving parking on consume: once a record of key K is
 * dead-lettered, later records of K in its partition are parked behind it
 * (written to the park topic, acknowledged, before their offsets move) until
 * it is resolved; other keys flow on. Resolved, by its replay from the DLQ
 * being handled or by an operator's release, K's followers are delivered to
 * the handler in order, before any newer record of K.
 *
 * The state lives in the park topic (see state.ts). A partition's state is
 * rebuilt from it before its first record, and again whenever the records
 * do not follow on from the last one handled here (a rebalance moved the
 * partition away and back, or the client rewound to the committed offset):
 * whoever owns the partition then sees what its previous owner parked.
 */
import { partitionKey, type ConsumedMessage, type OutgoingMessage, type ProducerPort, type TopicMessages } from "../client.js";
import { writeBounded } from "../bounded-writes.js";
import { REPLAY_ORIGIN_HEADER, REPLAY_SOURCE_HEADER, type KafkaAccess } from "../dead-letter-tools.js";
import { ParkError } from "../errors.js";
import { lastText } from "../replay.js";
import type { ParkedRecord } from "../reports.js";
import {
  followerRecord,
  followerTombstone,
  headRecord,
  headTombstone,
  keyHexOf,
  namesHead,
  placeOf,
  releaseRecord,
  releases,
  releaseTombstone,
  restoreParks,
  sameScope,
  valueHashOf,
  type DlqPosition,
  type Park,
  type ParkEntry,
  type ParkHead,
  type ParkScope,
  type PartitionParks,
} from "./state.js";
import { defaultParkTopic, ensureParkTopic, readParkEntries } from "./tools.js";

export interface ParkOptions {
  /** The consumer group: parks belong to a group and a source partition. */
  groupId: string;
  /** Where a Kafka client reads the park topic from (kafkajs or the Confluent client; any client's consumer may be wrapped). */
  access: KafkaAccess;
  /** The park topic: a name, or a function of the source topic. Default `<topic>-park`; created compacted when missing. */
  topic?: string | ((sourceTopic: string) => string);
  /** How often a consumer holding parks re-reads the park topic for operator releases, ms. Default 10 000. */
  refreshMs?: number;
}

/** What processing one record did: undefined when the handler took it, else where it went (a retry topic, or the DLQ). */
export type Processed = undefined | { readonly to: "dlq"; readonly dlq: DlqPosition } | { readonly to: "retry"; readonly topic: string };

/** Where a retry topic's record was first consumed: its source topic, partition and offset. */
export interface RetriedOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface ParkingDeps {
  readonly producer: ProducerPort | undefined;
  /** Whether a record carries a valid replay MAC (the consumer's replay keys); always false without keys. */
  readonly verifiedReplay: (topic: string, partition: number, message: ConsumedMessage) => boolean;
  readonly onPark: ((record: ParkedRecord) => void) | undefined;
}

/**
 * Exactly-once: the open transaction of the partition whose record is being processed. Park writes
 * go in it, and what follows from them (reports, a park resolved by a retry) once it commits.
 */
export interface ParkTransaction {
  add(topicMessages: TopicMessages[], committed?: () => void): void;
}

export interface Parking {
  /**
   * Runs one record of a source partition through the parks: `process` decodes it and hands it to
   * the handler, a retry topic or the DLQ. With `txn`, every park write of the record goes in it;
   * when the record fails, the partition's parks are read again from the park topic before its next
   * record (the transaction is aborted: what the park topic holds is what was committed).
   */
  record(topic: string, partition: number, message: ConsumedMessage, process: (message: ConsumedMessage) => Promise<Processed>, txn?: ParkTransaction): Promise<void>;
  /**
   * Retry mode: a retry topic's record of `origin` was processed. Handled, it
   * resolves the park it heads (its followers are delivered at the source
   * partition's next record); dead-lettered, its park stays, now behind the DLQ record.
   * With `txn`, the park write goes in it, and the park is resolved here once it commits.
   */
  retried(origin: RetriedOrigin, message: ConsumedMessage, outcome: Processed, txn?: ParkTransaction): Promise<void>;
}

/** Where one record's park writes go, and when what follows from them happens. */
interface ParkIo {
  write(parkTopic: string, messages: OutgoingMessage[]): Promise<void>;
  /** Runs `fn` now, or (exactly-once) once the transaction commits. */
  afterward(fn: () => void): void;
}

interface PartitionState {
  readonly scope: ParkScope;
  readonly parkTopic: string;
  readonly parks: PartitionParks;
  /** Keys whose head is resolved: their followers are delivered before the partition's next record. */
  readonly releasing: Set<string>;
  /** The offset expected next; another one means the state may be stale. */
  next: bigint;
}

export function createParking(options: ParkOptions, deps: ParkingDeps): Parking {
  const topicOf = (source: string): string => (typeof options.topic === "function" ? options.topic(source) : options.topic ?? defaultParkTopic(source));
  const refreshMs = options.refreshMs ?? 10_000;
  const states = new Map<string, PartitionState>();
  const refreshes = new Map<string, { at: number; running: boolean }>();

  /** Park topics known to exist: created (compacted) when missing, checked once per topic. */
  const ensured = new Set<string>();

  async function read(parkTopic: string): Promise<ParkEntry[]> {
    try {
      if (!ensured.has(parkTopic)) {
        await ensureParkTopic(options.access, parkTopic);
        ensured.add(parkTopic);
      }
      return await readParkEntries(options.access, parkTopic);
    } catch (e) {
      throw new ParkError(parkTopic, `reading park topic ${parkTopic} failed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  async function write(parkTopic: string, messages: OutgoingMessage[]): Promise<void> {
    if (!deps.producer) throw new ParkError(parkTopic, `cannot park to ${parkTopic}: no producer configured (options.dlq.producer)`, undefined);
    try {
      await writeBounded([{ topic: parkTopic, messages }], (calls) => deps.producer!.write(calls, { acks: -1 }));
    } catch (e) {
      throw new ParkError(parkTopic, `writing ${messages.length} record(s) to park topic ${parkTopic} failed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  /** Written and acknowledged before the record's offset moves (at-least-once). */
  const acknowledged: ParkIo = { write, afterward: (fn) => fn() };
  const ioOf = (txn: ParkTransaction | undefined): ParkIo =>
    txn === undefined
      ? acknowledged
      : {
          write: async (parkTopic, messages) => txn.add([{ topic: parkTopic, messages }]),
          afterward: (fn) => txn.add([], fn),
        };

  async function restore(id: string, scope: ParkScope, parkTopic: string, offset: bigint): Promise<PartitionState> {
    const parks = restoreParks(await read(parkTopic), scope);
    const state: PartitionState = { scope, parkTopic, parks, releasing: releasingOf(parks), next: offset };
    states.set(id, state);
    refreshes.set(parkTopic, { at: Date.now(), running: false });
    return state;
  }

  /** Re-reads the park topic in the background for operator releases; applied at each partition's next record. */
  function refresh(parkTopic: string): void {
    const r = refreshes.get(parkTopic);
    if (r === undefined || r.running || Date.now() - r.at < refreshMs) return;
    r.running = true;
    read(parkTopic).then(
      (entries) => {
        for (const state of states.values()) if (state.parkTopic === parkTopic) applyReleases(state, entries);
        r.at = Date.now();
        r.running = false;
      },
      // Nothing is lost: the releases stay in the park topic and the next refresh reads them.
      () => {
        r.at = Date.now();
        r.running = false;
      },
    );
  }

  function report(io: ParkIo, state: PartitionState, offset: string, role: ParkedRecord["role"], episode: string): void {
    const onPark = deps.onPark;
    if (onPark !== undefined) io.afterward(() => onPark({ topic: state.scope.topic, partition: state.scope.partition, offset, parkTopic: state.parkTopic, role, episode }));
  }

  async function parkHead(io: ParkIo, state: PartitionState, keyHex: string, park: Park, message: ConsumedMessage, went: NonNullable<Processed>): Promise<void> {
    const head: ParkHead = { offset: message.offset, where: went.to, dlq: went.to === "dlq" ? went.dlq : undefined, valueHash: valueHashOf(message.value), parkedAt: Date.now() };
    await io.write(state.parkTopic, [headRecord(state.scope, keyHex, head)]);
    park.head = head;
    state.releasing.delete(keyHex);
    report(io, state, message.offset, "head", head.offset);
  }

  /** Delivers a resolved park's followers in order; one that is dead-lettered becomes the new head, and the rest stay parked. */
  async function drain(io: ParkIo, state: PartitionState, keyHex: string, process: (message: ConsumedMessage) => Promise<Processed>): Promise<void> {
    const park = state.parks.get(keyHex);
    if (park === undefined) return;
    while (park.followers.length > 0) {
      const f = park.followers[0]!;
      const went = await process(f);
      if (went !== undefined) {
        // The new head first: a crash before the follower's tombstone leaves a follower at the head's offset, which restore drops.
        await parkHead(io, state, keyHex, park, f, went);
        park.followers.shift();
        await io.write(state.parkTopic, [followerTombstone(state.scope, f.offset)]);
        return;
      }
      await io.write(state.parkTopic, [followerTombstone(state.scope, f.offset)]);
      park.followers.shift();
    }
    await io.write(state.parkTopic, [headTombstone(state.scope, keyHex), releaseTombstone(state.scope, keyHex)]);
    state.parks.delete(keyHex);
    state.releasing.delete(keyHex);
  }

  /** One record through the parks, its writes and reports through `io`. */
  async function processed(io: ParkIo, state: PartitionState, topic: string, partition: number, message: ConsumedMessage, offset: bigint, process: (message: ConsumedMessage) => Promise<Processed>): Promise<void> {
    if (state.parks.size > 0) refresh(state.parkTopic);
    for (const keyHex of state.releasing) await drain(io, state, keyHex, process);

    const keyHex = keyHexOf(message.key);
    const place = placeOf(state.parks, keyHex, message.offset);
    if (place === "process") {
      const went = await process(message);
      // A key with a park already (a record before its head, read again) keeps that park.
      if (went !== undefined && keyHex !== undefined && !state.parks.has(keyHex)) {
        const park: Park = { head: undefined, followers: [] };
        await parkHead(io, state, keyHex, park, message, went);
        state.parks.set(keyHex, park);
      }
    } else if (place === "park") {
      const park = state.parks.get(keyHex!)!;
      const head = park.head;
      const replay = { source: lastText(message.headers, REPLAY_SOURCE_HEADER), origin: lastText(message.headers, REPLAY_ORIGIN_HEADER) };
      if (head !== undefined && namesHead(head, state.scope, replay, message.value) && deps.verifiedReplay(topic, partition, message)) {
        // The head's replay: handled, it resolves the park; dead-lettered again, it is the new head.
        const went = await process(message);
        if (went !== undefined) await parkHead(io, state, keyHex!, park, message, went);
        else await drain(io, state, keyHex!, process);
      } else {
        const episode = head?.offset ?? park.followers[0]?.offset ?? message.offset;
        await io.write(state.parkTopic, [followerRecord(state.scope, episode, message)]);
        park.followers.push(message);
        report(io, state, message.offset, "follower", episode);
      }
    }
    state.next = offset + 1n;
  }

  return {
    async retried(origin, message, outcome, txn) {
      const keyHex = keyHexOf(message.key);
      if (keyHex === undefined || outcome?.to === "retry") return;
      const io = ioOf(txn);
      const parkTopic = topicOf(origin.topic);
      const scope = { group: options.groupId, topic: origin.topic, partition: origin.partition };
      const id = partitionKey(origin.topic, origin.partition);
      const valueHash = valueHashOf(message.value);
      // The source partition's state as it is when the write takes effect (exactly-once: at the commit, after other records).
      const heads = (): { state: PartitionState; head: ParkHead } | undefined => {
        const state = states.get(id);
        const head = state?.parks.get(keyHex)?.head;
        return state !== undefined && head?.offset === origin.offset && head.valueHash === valueHash ? { state, head } : undefined;
      };
      if (outcome === undefined) {
        // Recorded in the park topic, so that whoever owns the source partition (this consumer or another) releases it.
        await io.write(parkTopic, [releaseRecord(scope, keyHex, origin.offset, new Date(), valueHash)]);
        io.afterward(() => {
          const mine = heads();
          if (mine === undefined) return;
          mine.state.parks.get(keyHex)!.head = undefined;
          mine.state.releasing.add(keyHex);
        });
        return;
      }
      const held = heads();
      if (held !== undefined) {
        // Into the DLQ after its last attempt: the park stays, and the head's replay can now resolve it.
        const moved: ParkHead = { ...held.head, where: "dlq", dlq: outcome.dlq };
        await io.write(parkTopic, [headRecord(scope, keyHex, moved)]);
        io.afterward(() => {
          const mine = heads();
          if (mine !== undefined) mine.state.parks.get(keyHex)!.head = moved;
        });
      }
    },

    async record(topic, partition, message, process, txn) {
      const parkTopic = topicOf(topic);
      const id = partitionKey(topic, partition);
      const offset = BigInt(message.offset);
      let state = states.get(id);
      if (state === undefined || state.next !== offset || state.parkTopic !== parkTopic) state = await restore(id, { group: options.groupId, topic, partition }, parkTopic, offset);
      if (txn === undefined) return processed(acknowledged, state, topic, partition, message, offset, process);
      try {
        await processed(ioOf(txn), state, topic, partition, message, offset, process);
      } catch (e) {
        // Its writes are rolled back with its transaction: the parks as the park topic holds them are read again.
        if (states.get(id) === state) states.delete(id);
        throw e;
      }
    },
  };
}

function releasingOf(parks: PartitionParks): Set<string> {
  const out = new Set<string>();
  for (const [keyHex, park] of parks) if (park.head === undefined) out.add(keyHex);
  return out;
}

/** Releases naming a current episode resolve its head. */
function applyReleases(state: PartitionState, entries: readonly ParkEntry[]): void {
  for (const e of entries) {
    if (e.kind !== "release" || !sameScope(e.scope, state.scope)) continue;
    const park = state.parks.get(e.keyHex);
    if (park?.head === undefined || !releases(e.release, park.head)) continue;
    park.head = undefined;
    state.releasing.add(e.keyHex);
  }
}
