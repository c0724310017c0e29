/**
 * The state changes a stateful stage has yet to write, per changelog partition, in the order they
 * were made (docs/stateful.md, "Changelog").
 *
 * A window's changelog (uniqueness over a time window, dropped by retention rather than compacted)
 * is packed: a record holds many entries, in the format of changelog-packed.ts. Those entries are
 * written as bytes the moment they are made, so nothing of them stays in the JS heap until the flush. Held as strings
 * and objects until the broker acknowledged them, they outlived young collections and were copied
 * and promoted, which then made old-space collections frequent: through kafkajs that cost more
 * than everything else a uniqueness rule adds (docs/stateful.md, "Speed and memory"). Other
 * changelogs are compacted, one record per key: their entries are kept as records.
 */
import type { StatefulSpec, UniqueSpec } from "../contract/stateful.js";
import type { ChangeSink, StatefulChange } from "../engine/index.js";
import { PACKED_BINARY, textBytes, unpackEntries, writeSeen, writeValue } from "./changelog-packed.js";
import type { OutgoingMessage, TopicMessages } from "./client.js";
import { withGetters } from "../util/getters.js";

/**
 * The header of a changelog record that holds entries of one partition instead of one entry; its
 * value names the record's format (changelog-packed.ts). Only changelogs dropped by retention, not compaction
 * (uniqueness over a window) are written so: a compacted changelog needs one record per key.
 * Only kontract writes changelog topics; give them the source topic's ACLs (docs/stateful.md).
 */
export const CHANGELOG_ENTRIES_HEADER = "kontract.changelog.entries";

/**
 * How many bytes a packed record holds at most, unless one entry alone is bigger (it then has a
 * record of its own): well under the broker's default max.message.bytes (1 MiB).
 */
export const PACK_BYTES = 256 * 1024;

/** Whether a rule's changelog is packed: a window's, whose entries retention drops (engine/stateful/unique.ts). */
export const isPacked = (spec: StatefulSpec): spec is UniqueSpec & { readonly windowMs: number } => spec.type === "STATEFUL_UNIQUE" && spec.windowMs !== undefined;

/** Records taken from the journal, to write; `entries`: how many state changes they hold. */
export interface TakenChanges {
  readonly topicMessages: TopicMessages[];
  readonly entries: number;
}

export interface ChangelogJournal {
  /** Where the changes of one rule in one source partition go, to its changelog `changelog`. */
  sink(source: string, partition: number, rule: string, changelog: string, spec: StatefulSpec): ChangeSink;
  /** State changes waiting. */
  readonly entries: number;
  /** Takes the changes waiting, all or one source partition's, as records grouped by changelog topic, in order. */
  take(source?: { readonly topic: string; readonly partition: number }): TakenChanges;
  /** Puts records taken back, before everything waiting (their write failed): the next `take` of all returns them first. */
  putBack(taken: TakenChanges): void;
  /** The changes waiting for one source partition, decoded (a state restored meanwhile applies them). */
  waiting(source: string, partition: number): StatefulChange[];
}

/** One rule's changes in one source partition: its changelog partition's records to come. */
interface RuleJournal {
  readonly source: string;
  readonly partition: number;
  readonly rule: string;
  readonly changelog: string;
  /** Packed: the finished records' values; `open` is the one being written. Compacted: a record per entry. */
  readonly packed: boolean;
  records: OutgoingMessage[];
  /** The packed record being written: its bytes so far, and how many entries it holds (none: no buffer). */
  open: Buffer;
  length: number;
  count: number;
  /** The record's last uniqueness entry's numbers, which the next one's are written relative to. */
  lastN: number;
  lastOffset: number;
  /** The size of the next record's first buffer: twice the last record's, at most a full record's. */
  nextSize: number;
  /** Entries in `records` and `open`. */
  entries: number;
}

/** A partition's first record's first buffer: most flushes of a quiet partition hold a few entries. */
const FIRST_BYTES = 1024;
/** Room for a uniqueness entry's numbers, or their text (`${n}@${offset}`, at most 2 × 24 + 1 code units) when they are not integers. */
const SEEN_BYTES = textBytes(49);
/** A journal's buffer while no record is open: the first entry makes one. */
const NO_RECORD = Buffer.alloc(0);

/**
 * `packKey`: a new key per packed record, unique, so that compaction never drops one. The records
 * of one changelog partition keep their order; records of several go in one write.
 */
export function changelogJournal(packKey: () => string): ChangelogJournal {
  const journals = new Map<string, RuleJournal>();
  let entries = 0;
  let retry: TakenChanges | undefined;

  /**
   * Room for `bytes` more in `j`'s open record: the record closed once it would pass PACK_BYTES, its
   * buffer grown (or made, for a new record: sized by the last, so a busy partition's does not grow
   * from scratch each time, and a quiet one's shrinks back).
   */
  const room = (j: RuleJournal, bytes: number): void => {
    if (j.count > 0 && j.length + bytes > PACK_BYTES) close(j);
    if (j.length + bytes > j.open.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * j.open.length, j.nextSize, j.length + bytes));
      j.open.copy(grown, 0, 0, j.length);
      j.open = grown;
    }
  };

  /** Finishes the open record and lets its buffer go with it, to the producer: a partition with nothing to write holds none. */
  function close(j: RuleJournal): void {
    j.records.push({ key: packKey(), value: j.open.subarray(0, j.length), partition: j.partition, headers: { [CHANGELOG_ENTRIES_HEADER]: PACKED_BINARY } });
    j.nextSize = Math.min(PACK_BYTES + FIRST_BYTES, Math.max(FIRST_BYTES, 2 * j.length));
    j.open = NO_RECORD;
    j.length = 0;
    j.count = 0;
    j.lastN = 0;
    j.lastOffset = 0;
  }

  const end = (j: RuleJournal, p: number): void => {
    j.length = p;
    j.count++;
    j.entries++;
    entries++;
  };

  const packedSink = (j: RuleJournal): ChangeSink => ({
    put(key, value) {
      room(j, textBytes(key.length) + (value === null ? 0 : textBytes(value.length)));
      end(j, writeValue(j.open, j.length, key, value));
    },
    seen(key, n, offset) {
      // Room first: it may close the record, whose numbers the entry's are relative to.
      room(j, textBytes(key.length) + SEEN_BYTES);
      const p = writeSeen(j.open, j.length, key, n, offset, j.lastN, j.lastOffset);
      if (p === undefined) return end(j, writeValue(j.open, j.length, key, `${n}@${offset}`));
      j.lastN = n;
      j.lastOffset = offset;
      end(j, p);
    },
  });

  const compactedSink = (j: RuleJournal): ChangeSink => {
    const add = (key: string, value: string | null): void => {
      j.records.push({ key, value, partition: j.partition });
      j.entries++;
      entries++;
    };
    return { put: add, seen: (key, n, offset) => add(key, `${n}@${offset}`) };
  };

  /** Takes `j`'s records (the open one finished first), leaving it empty. */
  function drain(j: RuleJournal): OutgoingMessage[] {
    if (j.packed && j.count > 0) close(j);
    const out = j.records;
    j.records = [];
    entries -= j.entries;
    j.entries = 0;
    return out;
  }

  return withGetters<ChangelogJournal, "entries">({
    sink(source, partition, rule, changelog, spec) {
      const packed = isPacked(spec);
      const id = `${changelog}\u0000${partition}\u0000${packed ? "packed" : "compacted"}`;
      let j = journals.get(id);
      if (j === undefined) {
        j = { source, partition, rule, changelog, packed, records: [], open: NO_RECORD, length: 0, count: 0, lastN: 0, lastOffset: 0, nextSize: FIRST_BYTES, entries: 0 };
        journals.set(id, j);
      }
      return j.packed ? packedSink(j) : compactedSink(j);
    },
    take(source) {
      const byTopic = new Map<string, OutgoingMessage[]>();
      const topicMessages: TopicMessages[] = [];
      let taken = 0;
      const add = (topic: string, messages: readonly OutgoingMessage[]): void => {
        if (messages.length === 0) return;
        let list = byTopic.get(topic);
        if (list === undefined) {
          byTopic.set(topic, (list = []));
          topicMessages.push({ topic, messages: list });
        }
        for (const m of messages) list.push(m);
      };
      if (source === undefined && retry !== undefined) {
        for (const t of retry.topicMessages) add(t.topic, t.messages);
        taken += retry.entries;
        retry = undefined;
      }
      for (const j of journals.values()) {
        if (j.entries === 0 || (source !== undefined && (j.partition !== source.partition || j.source !== source.topic))) continue;
        taken += j.entries;
        add(j.changelog, drain(j));
      }
      return { topicMessages, entries: taken };
    },
    putBack(taken) {
      if (taken.entries === 0 && taken.topicMessages.length === 0) return;
      // Anything put back before stays first: it is older.
      retry = retry === undefined ? taken : { topicMessages: [...retry.topicMessages, ...taken.topicMessages], entries: retry.entries + taken.entries };
    },
    waiting(source, partition) {
      const out: StatefulChange[] = [];
      for (const j of journals.values()) {
        if (j.source !== source || j.partition !== partition || j.entries === 0) continue;
        if (!j.packed) {
          for (const r of j.records) out.push({ rule: j.rule, key: r.key as string, value: r.value as string | null });
          continue;
        }
        const values = j.records.map((r) => r.value as Buffer);
        if (j.count > 0) values.push(j.open.subarray(0, j.length));
        for (const value of values) for (const [key, v] of unpackEntries(value, PACKED_BINARY)) out.push({ rule: j.rule, key, value: v });
      }
      return out;
    },
  }, {
    entries: () => entries + (retry?.entries ?? 0),
  });
}
