/**
 * STATEFUL_UNIQUE: a key must not repeat within a window of record time, or
 * among the last N distinct keys.
 *
 * State: key → when (record time, or arrival counter for last N) and at which
 * offset it was first seen, held in arrival order, which says what to evict
 * next (keyring.ts).
 * Window entries are not tombstoned: the changelog's retention drops them (as
 * Kafka Streams' window stores do), and restore evicts what is older than the
 * window. Last-N evictions are tombstoned, since no retention knows about counts.
 */
import type { UniqueSpec } from "../../contract/stateful.js";
import type { RuleResult } from "../types.js";
import { keyRing } from "./keyring.js";
import type { ChangeSink, Moment, StateMachine } from "./types.js";
import { capacityFailure, keyText, type Evaluate } from "./values.js";
import { withGetters } from "../../util/getters.js";

const PASS: RuleResult = { ok: true, value: true };

export function uniqueMachine(spec: UniqueSpec, key: Evaluate, sink: ChangeSink): StateMachine {
  // Each key with when (record time, or arrival counter for last N) and at which offset it was first seen.
  const seen = keyRing();
  const windowMs = spec.windowMs;
  const lastN = spec.lastN;
  /** The highest record time seen: the window ends there. */
  let streamTime = -Infinity;
  let counter = 0;

  const evictWindow = (): void => {
    const horizon = streamTime - windowMs!;
    for (let e = seen.oldest(); e >= 0 && seen.t(e) <= horizon; e = seen.oldest()) seen.remove(e);
  };

  /** Records a key not held (or held past its window); false when it is a duplicate or the state is full. */
  const accept = (k: string, at: Moment): boolean => {
    if (windowMs !== undefined && at.record > streamTime) {
      streamTime = at.record;
      evictWindow();
    }
    const first = seen.find(k);
    if (first >= 0) {
      if (seen.offset(first) === at.offset) return true;
      if (windowMs === undefined || Math.abs(at.record - seen.t(first)) < windowMs) return false;
      seen.remove(first);
    } else if (seen.size >= spec.maxKeys) {
      return false;
    }
    if (windowMs !== undefined) {
      seen.push(k, at.record, at.offset);
      sink.seen(k, at.record, at.offset);
    } else {
      counter++;
      seen.push(k, counter, at.offset);
      sink.seen(k, counter, at.offset);
      while (seen.size > lastN!) {
        const e = seen.oldest();
        sink.put(seen.key(e), null);
        seen.remove(e);
      }
    }
    return true;
  };

  return withGetters<StateMachine, "size">({
    passes(message: unknown, at: Moment): boolean {
      const r = key(message);
      if ("ok" in r || typeof r.value !== "string") return false;
      return accept(r.value, at);
    },

    check(message: unknown, at: Moment): RuleResult {
      const r = key(message);
      if ("ok" in r) return r;
      const k = keyText(r.value, "the key");
      if (typeof k !== "string") return k;
      if (accept(k, at)) return PASS;
      const first = seen.find(k);
      if (first < 0) return capacityFailure(spec.maxKeys);
      if (windowMs === undefined) return { ok: false, message: `duplicate key ${JSON.stringify(k)} among the last ${lastN} keys` };
      return { ok: false, message: `duplicate key ${JSON.stringify(k)}, first seen ${Math.abs(at.record - seen.t(first))} ms earlier in record time (window ${windowMs} ms)` };
    },

    restore(k: string, value: string | null): void {
      const held = seen.find(k);
      if (held >= 0) seen.remove(held);
      if (value === null) return;
      const at = value.indexOf("@");
      const n = Number(value.slice(0, at));
      const offset = Number(value.slice(at + 1));
      if (at < 0 || !Number.isSafeInteger(n) || !Number.isSafeInteger(offset)) return;
      if (windowMs !== undefined) {
        if (n > streamTime) {
          streamTime = n;
          evictWindow();
        }
      } else if (n > counter) {
        counter = n;
      }
      // Replayed in the order it was written, evictions first as accept() does, a changelog this
      // rule wrote never holds more; the cap bounds one written by anyone else.
      if (seen.size >= spec.maxKeys) return;
      seen.push(k, n, offset);
    },

  }, {
    size: () => seen.size,
  });
}
