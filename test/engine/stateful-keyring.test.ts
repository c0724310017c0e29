/**
 * The uniqueness rule's store (src/engine/stateful/keyring.ts) against a plain model (a Map and an
 * array in arrival order), on seeded random operations: pushes of new and re-used keys, finds,
 * evictions of the oldest, removals out of order, through its rebuilds and, with hashes made to
 * collide, after it moved to its Map; keys of any length and code units, whose text it copies.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyRing, type KeyRing } from "../../src/engine/stateful/keyring.js";
import { mulberry32 } from "../helpers/random.js";

interface Held {
  key: string;
  t: number;
  offset: number;
}

/**
 * Runs `steps` seeded operations on `ring` and on the model, comparing every answer. `inOrder`: no
 * removal out of order (a key held is not pushed again), as in a window that fills.
 */
function agree(ring: KeyRing, seed: number, steps: number, keySpace: number, keyOf: (n: number) => string = (n) => `k${n}`, inOrder = false): void {
  const random = mulberry32(seed);
  const model = new Map<string, Held>();
  const arrival: Held[] = [];
  // The first live entry in arrival order: one removed never comes back (a key pushed again is a new entry).
  let first = 0;
  const oldest = (): Held | undefined => {
    while (first < arrival.length && model.get(arrival[first]!.key) !== arrival[first]) first++;
    return arrival[first];
  };
  for (let i = 0; i < steps; i++) {
    const key = keyOf(Math.floor(random() * keySpace));
    const op = random();
    const e = ring.find(key);
    const want = model.get(key);
    assert.equal(e >= 0, want !== undefined, `step ${i}: find ${key}`);
    if (want !== undefined) assert.deepEqual({ key: ring.key(e), t: ring.t(e), offset: ring.offset(e) }, want, `step ${i}: the entry of ${key}`);
    // In order, pushes outnumber evictions, so the ring grows.
    const pushes = op < (inOrder ? 0.7 : 0.5);
    if (inOrder && want !== undefined && pushes) continue;
    if (pushes) {
      if (want !== undefined) {
        // A key re-seen: removed out of order, then pushed again (as after its window).
        ring.remove(e);
        model.delete(key);
      }
      const held = { key, t: i, offset: i * 3 };
      ring.push(key, held.t, held.offset);
      model.set(key, held);
      arrival.push(held);
    } else if (op < 0.8 || inOrder) {
      const o = ring.oldest();
      const w = oldest();
      assert.equal(o >= 0 ? ring.key(o) : undefined, w?.key, `step ${i}: the oldest`);
      if (o >= 0) {
        ring.remove(o);
        model.delete(w!.key);
      }
    } else if (want !== undefined) {
      ring.remove(e);
      model.delete(key);
    }
    assert.equal(ring.size, model.size, `step ${i}: size`);
  }
  // Drained oldest first, in arrival order.
  for (let o = ring.oldest(); o >= 0; o = ring.oldest()) {
    const w = oldest()!;
    assert.equal(ring.key(o), w.key);
    ring.remove(o);
    model.delete(w.key);
  }
  assert.equal(model.size, 0);
  assert.equal(ring.size, 0);
}

describe("keyring", () => {
  it("agrees with a model on 200,000 seeded operations, through its rebuilds", () => {
    agree(keyRing(), 14, 200_000, 5_000);
  });

  it("agrees with a model when entries leave only oldest first, through its growths", () => {
    // Pushes outnumber evictions: the ring grows, every entry live, from wherever its head is.
    agree(keyRing(), 21, 200_000, 1_000_000, undefined, true);
    agree(keyRing(undefined, 1_024), 22, 100_000, 1_000_000, undefined, true);
  });

  it("holds a window of 300,000 keys evicted in arrival order, growing and reusing its slots", () => {
    const ring = keyRing();
    for (let i = 0; i < 1_000_000; i++) {
      for (let o = ring.oldest(); o >= 0 && ring.t(o) <= i - 300_000; o = ring.oldest()) ring.remove(o);
      assert.ok(ring.find(`o-${i}`) < 0);
      ring.push(`o-${i}`, i, i);
    }
    assert.equal(ring.size, 300_000);
    assert.equal(ring.t(ring.find("o-700000")), 700_000);
    assert.ok(ring.find("o-699999") < 0);
  });

  it("keys of any length and code units (empty, lone surrogates, astral, longer than its text ring) keep their exact text", () => {
    // Key n: text of a length and code units drawn from n, so the same n is the same key.
    const text = (n: number): string => {
      const r = mulberry32(n + 1);
      const length = n % 97 === 0 ? 5_000 + (n % 7) : Math.floor(r() * 40);
      let s = "";
      for (let i = 0; i < length; i++) {
        const pick = r();
        s += pick < 0.6 ? String.fromCharCode(97 + Math.floor(r() * 26)) : pick < 0.8 ? String.fromCharCode(Math.floor(r() * 0x10000)) : "\u{1F600}";
      }
      return s;
    };
    agree(keyRing(), 17, 30_000, 3_000, text);
    // Equal hashes: the text decides, and the Map holds the same texts.
    agree(keyRing((k) => k.length), 18, 10_000, 1_000, text);
  });

  it("a ring larger than its table indexes moves to its Map; arrival numbers restart before they outgrow a slot", () => {
    // A table for 1,024 entries: 5,000 keys outgrow it; 500 keep it, and their numbers pass 4 × 1,024 many times.
    agree(keyRing(undefined, 1_024), 19, 100_000, 5_000);
    agree(keyRing(undefined, 1_024), 20, 100_000, 500);
  });

  it("keys made to collide (every hash the same) are still judged exactly, by its Map", () => {
    agree(keyRing(() => 7), 15, 20_000, 400);
  });

  it("a ring that moved to its Map keeps finding its keys as it grows", () => {
    // Keys of "x" collide and move the ring to its Map; the others hash apart, and are evicted only in
    // arrival order, so the ring grows keeping every entry (as a window that fills does).
    const ring = keyRing((k) => (k.startsWith("x") ? 7 : k.length * 31 + k.charCodeAt(k.length - 1) * 1_009 + k.charCodeAt(k.length - 2) * 65_537));
    for (let i = 0; i < 200; i++) ring.push(`x${i}`, i, i);
    for (let o = ring.oldest(); o >= 0; o = ring.oldest()) ring.remove(o);
    for (let i = 0; i < 5_000; i++) ring.push(`k${i}`, i, i);
    assert.equal(ring.size, 5_000);
    for (let i = 0; i < 5_000; i++) assert.equal(ring.t(ring.find(`k${i}`)), i, `k${i}`);
    assert.equal(ring.find("x0"), -1);
  });

  it("a few hash values for many keys (long clusters): exact as well", () => {
    agree(keyRing((k) => k.length * 1_000_003), 16, 20_000, 2_000);
  });

  it("keys are compared exactly: equal hashes of different keys are not a duplicate", () => {
    const ring = keyRing(() => 42);
    ring.push("a", 1, 1);
    assert.equal(ring.find("b"), -1);
    ring.push("b", 2, 2);
    assert.equal(ring.t(ring.find("a")), 1);
    assert.equal(ring.t(ring.find("b")), 2);
  });
});
