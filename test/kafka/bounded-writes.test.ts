/**
 * kontract's own writes split into calls a broker takes (src/kafka/bounded-writes.ts): per topic at
 * most the budget in each call, records in order, and placements back in the order given.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WRITE_BUDGET_BYTES, boundedWrites, writeBounded } from "../../src/kafka/bounded-writes.js";
import type { TopicMessages, Written } from "../../src/kafka/client.js";

const records = (topic: string, n: number, size: number): TopicMessages => ({ topic, messages: Array.from({ length: n }, (_, i) => ({ key: `${topic}-${i}`, value: Buffer.alloc(size) })) });

test("what fits goes in one call, as given", () => {
  const given = [records("a", 10, 100), records("b", 3, 100)];
  const { calls } = boundedWrites(given);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0], given);
});

test("more than the budget of one topic goes in consecutive calls, each under it, in order; other topics share the first", () => {
  // 3,000 records of 1 KB: about 3 MB of one topic, and a small second topic.
  const { calls } = boundedWrites([records("a", 3000, 1000), records("b", 2, 10)]);
  assert.ok(calls.length >= 4, `${calls.length} calls`);
  for (const call of calls) {
    for (const { messages } of call) assert.ok(messages.reduce((n, m) => n + (m.value as Buffer).length, 0) <= WRITE_BUDGET_BYTES);
  }
  const keys = calls.flatMap((call) => call.filter((t) => t.topic === "a").flatMap((t) => t.messages.map((m) => m.key)));
  assert.deepEqual(keys, records("a", 3000, 0).messages.map((m) => m.key));
  assert.deepEqual(calls[0]!.map((t) => t.topic), ["a", "b"]);
});

test("strings count at their UTF-8 worst case, a record over the budget goes alone, and a topic listed twice shares its budget", () => {
  const big = "é".repeat(WRITE_BUDGET_BYTES / 2); // 2 bytes each in UTF-8, counted as 3: over the budget alone
  const { calls } = boundedWrites([{ topic: "a", messages: [{ value: "x" }, { value: big }, { value: "y" }] }]);
  assert.deepEqual(calls.map((c) => c.flatMap((t) => t.messages.map((m) => (m.value as string).length))), [[1], [big.length], [1]]);
  const twice = boundedWrites([records("a", 500, 1000), records("a", 500, 1000)]).calls;
  for (const call of twice) assert.ok(call.flatMap((t) => t.messages).length * 1000 <= WRITE_BUDGET_BYTES);
});

test("writeBounded: calls one after the other, placements in the order of the records given; a failed call fails the whole", async () => {
  const given = [records("a", 2000, 1000), records("b", 1500, 1000)];
  const seen: string[][] = [];
  const write = async (calls: TopicMessages[]): Promise<Written> => {
    seen.push(calls.map((t) => t.topic));
    // A placement names its record, as a broker's answer does by position.
    return { placements: calls.flatMap((t) => t.messages.map((m) => ({ partition: 0, offset: String(m.key) }) as never)), records: [] };
  };
  const written = await writeBounded(given, write);
  assert.ok(seen.length > 1);
  assert.deepEqual(
    written.placements.map((p) => (p as unknown as { offset: string }).offset),
    given.flatMap((t) => t.messages.map((m) => m.key)),
  );
  let n = 0;
  await assert.rejects(writeBounded(given, async (calls) => (++n === 2 ? Promise.reject(new Error("broker said no")) : write(calls))), /broker said no/);
  assert.equal(n, 2, "no call after the one that failed");
});
