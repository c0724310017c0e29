/**
 * The changelog journal (src/kafka/changelog-journal.ts): a window's entries, written as bytes the
 * moment they are made (src/kafka/changelog-packed.ts), must unpack to the same pairs whatever the
 * keys and numbers, restore in order, and never outgrow the broker's default message size;
 * records of the earlier JSON format still unpack; compacted changelogs keep a record per entry.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StatefulSpec } from "../../src/contract/stateful.js";
import { CHANGELOG_ENTRIES_HEADER, PACK_BYTES, changelogJournal } from "../../src/kafka/changelog-journal.js";
import { PACKED_BINARY, PACKED_JSON, unpackEntries } from "../../src/kafka/changelog-packed.js";
import { isKontractError } from "../../src/errors.js";
import type { OutgoingMessage } from "../../src/kafka/client.js";
import { mulberry32 } from "../helpers/random.js";

// Keys are untrusted text: quotes, backslashes, NULs, newlines, non-ASCII (a cut may leave half a surrogate pair).
const KEY_CHARS = 'k"\\\u0000\n\u00e9\u{1F600}';
const WINDOW: StatefulSpec = { type: "STATEFUL_UNIQUE", expr: "message.id", windowMs: 600_000, maxKeys: 1_000_000 } as StatefulSpec;
const LAST_N: StatefulSpec = { type: "STATEFUL_UNIQUE", expr: "message.id", lastN: 10, maxKeys: 1_000_000 } as StatefulSpec;

const journalOf = () => {
  let n = 0;
  return changelogJournal(() => `pack-${n++}`);
};
const valueBytes = (m: OutgoingMessage): Buffer => m.value as Buffer;
const unpacked = (m: OutgoingMessage) => unpackEntries(valueBytes(m), m.headers?.[CHANGELOG_ENTRIES_HEADER] as string);

describe("the changelog journal", () => {
  it("packs a window's entries so that they unpack to the same pairs, whatever the keys and numbers, in records of at most PACK_BYTES", () => {
    const random = mulberry32(14);
    const journal = journalOf();
    const sink = journal.sink("orders", 3, "unique", "app-orders-unique-changelog", WINDOW);
    const pairs: [string, string | null][] = [];
    // Numbers as record times and counters may be: String(n) is what the value holds. Those a
    // difference does not carry exactly (fractions, NaN, infinities, past 2^52) are written as text.
    const numbers = [1_760_000_000_000, 0, -1, -0, 2 ** 53, -(2 ** 53), 2 ** 52, 1e21, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 123_456_789_012];
    for (let i = 0; i < 20_000; i++) {
      // Some long keys, so that a few records split early; one bigger than a whole record.
      const long = i === 7_777 ? "y".repeat(PACK_BYTES + 10) : "x".repeat(random() < 0.01 ? 5_000 : Math.floor(random() * 40));
      const key = `${KEY_CHARS.slice(0, Math.floor(random() * KEY_CHARS.length))}-${i}-${long}`;
      const r = random();
      if (r < 0.05) {
        sink.put(key, null);
        pairs.push([key, null]);
      } else if (r < 0.1) {
        const value = `${KEY_CHARS.slice(0, 4)}@${i}`;
        sink.put(key, value);
        pairs.push([key, value]);
      } else {
        const at = numbers[i % numbers.length]! + (i % 3 === 0 ? i : 0);
        const offset = i % 11 === 0 ? numbers[(i / 11) % numbers.length]! : i;
        sink.seen(key, at, offset);
        pairs.push([key, `${at}@${offset}`]);
      }
    }
    assert.equal(journal.entries, pairs.length);
    const taken = journal.take();
    assert.equal(taken.entries, pairs.length);
    assert.equal(journal.entries, 0);
    assert.deepEqual(taken.topicMessages.map((t) => t.topic), ["app-orders-unique-changelog"]);
    const records = taken.topicMessages[0]!.messages;
    assert.ok(records.length > 1, "20,000 entries take more than one record");
    let at = 0;
    for (const m of records) {
      assert.equal(m.headers?.[CHANGELOG_ENTRIES_HEADER], PACKED_BINARY);
      const entries = unpacked(m);
      assert.ok(entries.length > 0, `the record at entry ${at} unpacks`);
      assert.deepEqual(entries, pairs.slice(at, at + entries.length), `the record at entry ${at}`);
      assert.ok(valueBytes(m).length <= PACK_BYTES || entries.length === 1, `a record of ${valueBytes(m).length} bytes with ${entries.length} entries`);
      assert.equal(m.partition, 3);
      at += entries.length;
    }
    assert.equal(at, pairs.length);
    assert.equal(new Set(records.map((m) => m.key)).size, records.length, "a key per packed record, so compaction drops none");
  });

  it("writes a uniqueness entry of an ASCII key in the key's length plus a few bytes", () => {
    const journal = journalOf();
    const sink = journal.sink("orders", 0, "unique", "cl", WINDOW);
    // Record times 2 ms apart, consecutive offsets, keys of 8 characters: 9 bytes of key and head, 1 for each difference.
    const t0 = 1_765_000_000_000;
    for (let i = 0; i < 1_000; i++) sink.seen(`o-${100_000 + i}`, t0 + 2 * i, 500_000 + i);
    const [m] = journal.take().topicMessages[0]!.messages;
    // The first entry's numbers are whole: 6 bytes for the time, 3 for the offset.
    assert.equal(valueBytes(m!).length, 11 * 1_000 + 5 + 2);
    assert.deepEqual(unpacked(m!).slice(0, 2), [
      ["o-100000", `${t0}@500000`],
      ["o-100001", `${t0 + 2}@500001`],
    ]);
  });

  it("keeps a record per entry for a compacted changelog", () => {
    const journal = journalOf();
    const sink = journal.sink("orders", 0, "lastTen", "app-orders-lastTen-changelog", LAST_N);
    sink.seen("a", 1, 10);
    sink.put("b", null);
    sink.seen("c", 2, 12);
    assert.deepEqual(journal.take().topicMessages, [
      {
        topic: "app-orders-lastTen-changelog",
        messages: [
          { key: "a", value: "1@10", partition: 0 },
          { key: "b", value: null, partition: 0 },
          { key: "c", value: "2@12", partition: 0 },
        ],
      },
    ]);
  });

  it("takes one source partition's entries, puts a failed write back first, and decodes what waits", () => {
    const journal = journalOf();
    const p0 = journal.sink("orders", 0, "unique", "cl", WINDOW);
    const p1 = journal.sink("orders", 1, "unique", "cl", WINDOW);
    // Another contract version's rule of the same name writes on in the same order.
    const p0again = journal.sink("orders", 0, "unique", "cl", WINDOW);
    p0.seen("a", 1, 0);
    p1.seen("b", 2, 0);
    p0again.seen("c", 3, 1);
    assert.deepEqual(journal.waiting("orders", 0), [
      { rule: "unique", key: "a", value: "1@0" },
      { rule: "unique", key: "c", value: "3@1" },
    ]);
    const one = journal.take({ topic: "orders", partition: 1 });
    assert.equal(one.entries, 1);
    assert.deepEqual(unpacked(one.topicMessages[0]!.messages[0]!), [["b", "2@0"]]);
    assert.equal(journal.entries, 2);

    const first = journal.take();
    p0.seen("d", 4, 2);
    journal.putBack(first);
    assert.equal(journal.entries, 3);
    const again = journal.take();
    assert.equal(again.entries, 3);
    assert.deepEqual(
      again.topicMessages.flatMap((t) => t.messages.flatMap(unpacked)),
      [
        ["a", "1@0"],
        ["c", "3@1"],
        ["d", "4@2"],
      ],
    );
    assert.equal(journal.entries, 0);
    assert.deepEqual(journal.take(), { topicMessages: [], entries: 0 });
  });

  it("records of the earlier JSON format still unpack; a malformed one restores nothing, and its valid entries are kept when others are not", () => {
    assert.deepEqual(unpackEntries(Buffer.from('[["a","1760000000000@12"],["b\\u00e9\\ud800",null]]'), PACKED_JSON), [
      ["a", "1760000000000@12"],
      ["b\u00e9\ud800", null],
    ]);
    for (const bad of ["not json", "{}", '"a"', "null"]) assert.deepEqual(unpackEntries(Buffer.from(bad), PACKED_JSON), [], bad);
    assert.deepEqual(unpackEntries(null, PACKED_JSON), []);
    assert.deepEqual(unpackEntries(Buffer.from('[["a","1@0"],["b"],[1,"x"],["c",null],["d",2]]'), PACKED_JSON), [
      ["a", "1@0"],
      ["c", null],
    ]);
  });

  it("a binary record cut short or corrupt restores nothing; a format of a newer kontract is a state-store error", () => {
    const journal = journalOf();
    const sink = journal.sink("orders", 0, "unique", "cl", WINDOW);
    sink.seen("a\u00e9", 1_760_000_000_000, 5);
    sink.put("b", "text");
    sink.put("c", null);
    const whole = valueBytes(journal.take().topicMessages[0]!.messages[0]!);
    assert.deepEqual(unpackEntries(whole, PACKED_BINARY), [
      ["a\u00e9", "1760000000000@5"],
      ["b", "text"],
      ["c", null],
    ]);
    // Every cut but the entries' ends leaves an entry unfinished.
    const ends = new Set([0, whole.length]);
    for (let cut = 1; cut < whole.length; cut++) {
      const got = unpackEntries(whole.subarray(0, cut), PACKED_BINARY);
      if (got.length > 0) ends.add(cut);
    }
    assert.deepEqual([...ends].sort((a, b) => a - b).length, 4, "the record cut only after an entry unpacks");
    // Kind 3 is no kind; a varint of nine bytes is too long; a length past the end.
    for (const bad of [[0x03], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x50, 0x61]]) assert.deepEqual(unpackEntries(Buffer.from(bad), PACKED_BINARY), [], String(bad));
    assert.throws(
      () => unpackEntries(whole, "3"),
      (e: unknown) => isKontractError(e) && e.code === "state-store" && /format "3".*newer/.test(e.message),
    );
  });
});
