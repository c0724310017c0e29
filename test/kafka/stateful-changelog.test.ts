/**
 * The changelog journal (src/kafka/changelog-journal.ts): a window's entries, written as bytes the
 * moment they are made, must be byte for byte the JSON.stringify of their pairs (what restore and
 * older kontract versions read), restore in order, and never outgrow the broker's default message
 * size, whatever the keys; compacted changelogs keep a record per entry.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StatefulSpec } from "../../src/contract/stateful.js";
import { CHANGELOG_ENTRIES_HEADER, PACK_BYTES, changelogJournal, unpackEntries } from "../../src/kafka/changelog-journal.js";
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

describe("the changelog journal", () => {
  it("packs a window's entries as the JSON.stringify of their pairs, byte for byte, in records of at most PACK_BYTES", () => {
    const random = mulberry32(14);
    const journal = journalOf();
    const sink = journal.sink("orders", 3, "unique", "app-orders-unique-changelog", WINDOW);
    const pairs: [string, string | null][] = [];
    // Numbers as record times and counters may be: String(n) is what the value holds.
    const numbers = [1_760_000_000_000, 0, -1, -0, 2 ** 53, 1e21, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 123_456_789_012];
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
        sink.seen(key, at, i);
        pairs.push([key, `${at}@${i}`]);
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
      const entries = unpackEntries(valueBytes(m));
      assert.deepEqual(valueBytes(m), Buffer.from(JSON.stringify(pairs.slice(at, at + entries.length))), `the record at entry ${at}`);
      assert.ok(valueBytes(m).length <= PACK_BYTES || entries.length === 1, `a record of ${valueBytes(m).length} bytes with ${entries.length} entries`);
      assert.equal(m.partition, 3);
      assert.equal(m.headers?.[CHANGELOG_ENTRIES_HEADER], "1");
      at += entries.length;
    }
    assert.equal(at, pairs.length);
    assert.equal(new Set(records.map((m) => m.key)).size, records.length, "a key per packed record, so compaction drops none");
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
    assert.deepEqual(unpackEntries(valueBytes(one.topicMessages[0]!.messages[0]!)), [["b", "2@0"]]);
    assert.equal(journal.entries, 2);

    const first = journal.take();
    p0.seen("d", 4, 2);
    journal.putBack(first);
    assert.equal(journal.entries, 3);
    const again = journal.take();
    assert.equal(again.entries, 3);
    assert.deepEqual(
      again.topicMessages.flatMap((t) => t.messages.flatMap((m) => unpackEntries(valueBytes(m)))),
      [
        ["a", "1@0"],
        ["c", "3@1"],
        ["d", "4@2"],
      ],
    );
    assert.equal(journal.entries, 0);
    assert.deepEqual(journal.take(), { topicMessages: [], entries: 0 });
  });

  it("a malformed record restores nothing, and a record's valid entries are kept when others are not", () => {
    for (const bad of ["not json", "{}", '"a"', "null"]) assert.deepEqual(unpackEntries(Buffer.from(bad)), [], bad);
    assert.deepEqual(unpackEntries(null), []);
    assert.deepEqual(unpackEntries(Buffer.from('[["a","1@0"],["b"],[1,"x"],["c",null],["d",2]]')), [
      ["a", "1@0"],
      ["c", null],
    ]);
  });
});
