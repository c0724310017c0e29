/**
 * Order-preserving parking as data: park topic records written and read back,
 * the state of a partition rebuilt from them (as after a restart or a
 * rebalance), where a record of a parked key goes, and what counts as the
 * replay of a head.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConsumedMessage, OutgoingMessage } from "../../src/kafka/client.js";
import {
  PARK_HEADERS,
  followerRecord,
  followerTombstone,
  headRecord,
  headTombstone,
  keyHexOf,
  namesHead,
  parseParkEntry,
  placeOf,
  releaseRecord,
  releases,
  restoreParks,
  valueHashOf,
  type ParkEntry,
  type ParkHead,
} from "../../src/kafka/parking/state.js";
import { summarize } from "../../src/kafka/parking/tools.js";

const scope = { group: "g", topic: "orders", partition: 0 };
const A = keyHexOf(Buffer.from("A"))!;
const B = keyHexOf(Buffer.from("B"))!;

/** A park topic record as a consumer reads it back. */
function consumed(m: OutgoingMessage, offset = "0"): ConsumedMessage {
  const bytes = (v: Buffer | string | null | undefined) => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v));
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = bytes(v as Buffer | string)!;
  return { key: bytes(m.key), value: bytes(m.value), headers, timestamp: "1", attributes: 0, offset };
}

const entry = (m: OutgoingMessage): ParkEntry => parseParkEntry(consumed(m))!;

function record(key: string, offset: string, value: string | null = `v${offset}`, headers: Record<string, Buffer> = {}): ConsumedMessage {
  return { key: Buffer.from(key), value: value === null ? null : Buffer.from(value), headers, timestamp: "1700000000000", attributes: 0, offset };
}

const head = (offset: string, dlqOffset: string | undefined = "7"): ParkHead => ({ offset, where: "dlq", dlq: { topic: "orders-dlq", partition: 0, offset: dlqOffset }, valueHash: valueHashOf(Buffer.from(`v${offset}`)), parkedAt: 1 });

describe("park topic records", () => {
  it("a follower reads back byte for byte: key, value, headers, timestamp and origin offset", () => {
    const original = record("A", "12", "payload", { trace: Buffer.from("t-1") });
    const e = entry(followerRecord(scope, "10", original));
    assert.equal(e.kind, "follower");
    assert.ok(e.kind === "follower" && e.follower);
    assert.deepEqual(e.scope, scope);
    assert.equal(e.follower.offset, "12");
    assert.deepEqual(e.follower.key, Buffer.from("A"));
    assert.deepEqual(e.follower.value, Buffer.from("payload"));
    assert.equal(e.follower.timestamp, "1700000000000");
    assert.deepEqual(e.follower.headers, { trace: Buffer.from("t-1") });
  });

  it("a follower whose value is null stays null (not a park topic tombstone)", () => {
    const m = followerRecord(scope, "10", record("A", "12", null));
    assert.notEqual(m.value, null);
    const e = entry(m);
    assert.ok(e.kind === "follower" && e.follower);
    assert.equal(e.follower.value, null);
  });

  it("park headers a producer put on a record are dropped, not taken as the park's", () => {
    const forged = record("A", "12", "x", { [PARK_HEADERS.key]: Buffer.from("B"), [PARK_HEADERS.nullValue]: Buffer.from("1") });
    const e = entry(followerRecord(scope, "10", forged));
    assert.ok(e.kind === "follower" && e.follower);
    assert.deepEqual(e.follower.key, Buffer.from("A"));
    assert.deepEqual(e.follower.value, Buffer.from("x"));
  });

  it("records that are not kontract's read as undefined", () => {
    for (const key of ["not json", "[1,2]", '["x","g","t",0,"a"]', '["h","g","t","0","a"]']) assert.equal(parseParkEntry(consumed({ key, value: "{}" })), undefined, key);
    assert.equal(parseParkEntry(consumed({ key: null, value: "{}" })), undefined);
  });
});

describe("restoreParks", () => {
  it("rebuilds heads and their followers in offset order, whatever the order read", () => {
    const parks = restoreParks(
      [entry(headRecord(scope, A, head("10"))), entry(followerRecord(scope, "10", record("A", "14"))), entry(followerRecord(scope, "10", record("A", "12"))), entry(headRecord(scope, B, head("11")))],
      scope,
    );
    assert.deepEqual([...parks.keys()].sort(), [A, B].sort());
    assert.equal(parks.get(A)!.head!.offset, "10");
    assert.deepEqual(parks.get(A)!.followers.map((f) => f.offset), ["12", "14"]);
    assert.deepEqual(parks.get(B)!.followers, []);
  });

  it("ignores other groups, topics and partitions", () => {
    const parks = restoreParks([entry(headRecord({ ...scope, group: "other" }, A, head("10"))), entry(headRecord({ ...scope, partition: 1 }, A, head("10")))], scope);
    assert.equal(parks.size, 0);
  });

  it("tombstones end a park and a follower's stay; a follower at or before its head's offset is dropped", () => {
    const parks = restoreParks(
      [
        entry(headRecord(scope, A, head("10"))),
        entry(followerRecord(scope, "10", record("A", "12"))),
        entry(followerRecord(scope, "10", record("A", "13"))),
        entry(followerTombstone(scope, "12")),
        // 13 failed on release and became the head; its follower record was not yet tombstoned.
        entry(headRecord(scope, A, head("13"))),
        entry(headRecord(scope, B, head("11"))),
        entry(headTombstone(scope, B)),
      ],
      scope,
    );
    assert.deepEqual([...parks.keys()], [A]);
    assert.equal(parks.get(A)!.head!.offset, "13");
    assert.deepEqual(parks.get(A)!.followers, []);
  });

  it("a release of the current episode resolves the head; one of an earlier episode does nothing", () => {
    const at = new Date(0);
    const resolved = restoreParks([entry(headRecord(scope, A, head("10"))), entry(followerRecord(scope, "10", record("A", "12"))), entry(releaseRecord(scope, A, "10", at))], scope);
    assert.equal(resolved.get(A)!.head, undefined);
    assert.deepEqual(resolved.get(A)!.followers.map((f) => f.offset), ["12"]);
    const stale = restoreParks([entry(releaseRecord(scope, A, "4", at)), entry(headRecord(scope, A, head("10")))], scope);
    assert.equal(stale.get(A)!.head!.offset, "10");
  });

  it("a retry's release names the head's bytes: a retried record with other bytes releases nothing", () => {
    const at = new Date(0);
    const same = restoreParks([entry(headRecord(scope, A, head("10"))), entry(releaseRecord(scope, A, "10", at, valueHashOf(Buffer.from("v10"))))], scope);
    assert.equal(same.get(A)!.head, undefined);
    const other = restoreParks([entry(headRecord(scope, A, head("10"))), entry(releaseRecord(scope, A, "10", at, valueHashOf(Buffer.from("forged"))))], scope);
    assert.equal(other.get(A)!.head!.offset, "10");
    assert.equal(releases(undefined, head("10")), false);
  });

  it("followers left without a head (a crash after the head's tombstone) are kept, to be delivered", () => {
    const parks = restoreParks([entry(followerRecord(scope, "10", record("A", "12")))], scope);
    assert.equal(parks.get(A)!.head, undefined);
    assert.deepEqual(parks.get(A)!.followers.map((f) => f.offset), ["12"]);
  });
});

describe("placeOf", () => {
  const parks = restoreParks([entry(headRecord(scope, A, head("10"))), entry(followerRecord(scope, "10", record("A", "12")))], scope);
  it("other keys, keyless records and records before the head are processed", () => {
    assert.equal(placeOf(parks, B, "11"), "process");
    assert.equal(placeOf(parks, undefined, "11"), "process");
    assert.equal(placeOf(parks, A, "9"), "process");
  });
  it("the head read again is skipped (it is in the DLQ), a parked follower is not parked twice, a later record parks", () => {
    assert.equal(placeOf(parks, A, "10"), "skip");
    assert.equal(placeOf(parks, A, "12"), "parked-already");
    assert.equal(placeOf(parks, A, "13"), "park");
  });
});

describe("namesHead", () => {
  const h = head("10");
  it("a record from the head's dead letter with the head's bytes is its replay", () => {
    assert.equal(namesHead(h, scope, { source: "orders-dlq/0/7", origin: undefined }, Buffer.from("v10")), true);
  });
  it("another dead letter, other bytes, or no source header is not", () => {
    assert.equal(namesHead(h, scope, { source: "orders-dlq/0/8", origin: undefined }, Buffer.from("v10")), false);
    assert.equal(namesHead(h, scope, { source: "orders-dlq/0/7", origin: undefined }, Buffer.from("v11")), false);
    assert.equal(namesHead(h, scope, { source: undefined, origin: undefined }, Buffer.from("v10")), false);
    assert.equal(namesHead(head("10", undefined), scope, { source: "orders-dlq/0/undefined", origin: undefined }, Buffer.from("v10")), false);
  });
  it("a head whose dead letter's place is not known (written in a transaction): a dead letter of the head itself, by its origin, with its bytes", () => {
    const unplaced: ParkHead = { ...head("10"), dlq: { topic: "orders-dlq", partition: undefined, offset: undefined } };
    assert.equal(namesHead(unplaced, scope, { source: "orders-dlq/0/7", origin: "orders/0/10" }, Buffer.from("v10")), true);
    assert.equal(namesHead(unplaced, scope, { source: "orders-dlq/0/7", origin: "orders/0/11" }, Buffer.from("v10")), false, "another record's dead letter");
    assert.equal(namesHead(unplaced, scope, { source: "orders-dlq/0/7", origin: "orders/1/10" }, Buffer.from("v10")), false, "another partition's");
    assert.equal(namesHead(unplaced, scope, { source: "orders-dlq/0/7", origin: "orders/0/10" }, Buffer.from("v11")), false, "other bytes");
    assert.equal(namesHead(unplaced, scope, { source: "orders-dlq/0/7", origin: undefined }, Buffer.from("v10")), false);
  });
});

describe("summarize", () => {
  it("lists parks by episode with their follower counts, released ones apart, never keys or values", () => {
    const secret = keyHexOf(Buffer.from("customer-4711@example.com"))!;
    const p1 = { ...scope, partition: 1 };
    const entries = [
      entry(headRecord(scope, secret, head("10"))),
      entry(followerRecord(scope, "10", record("customer-4711@example.com", "12", "secret value"))),
      entry(headRecord(p1, B, head("3"))),
      entry(followerRecord(p1, "3", record("B", "5"))),
      entry(releaseRecord(p1, B, "3", new Date(0))),
    ];
    const list = summarize(entries, { group: "g" });
    assert.deepEqual(
      list.map((p) => [p.id, p.state, p.followers, p.head?.offset]),
      [
        ["orders/0@10", "parked", 1, "10"],
        ["orders/1@3", "released", 1, undefined],
      ],
    );
    const text = JSON.stringify(list);
    assert.ok(!text.includes(secret) && !text.includes("customer-4711") && !text.includes("secret value"));
    assert.deepEqual(summarize(entries, { group: "other" }), []);
  });
});
