/**
 * STATEFUL_UNIQUE: a key must not repeat within a window of record time, or
 * among the last N distinct keys.
 *
 * State: key → record time (window) or arrival counter (last N), in a Map kept
 * in arrival order, so eviction only looks at its front. Window entries are not
 * tombstoned: the changelog's retention drops them (as Kafka Streams' window
 * stores do), and restore evicts what is older than the window. Last-N evictions
 * are tombstoned, since no retention knows about counts.
 */
import type { UniqueSpec } from "../../contract/stateful.js";
import type { RuleResult } from "../types.js";
import type { ChangeSink, Moment, StateMachine } from "./types.js";
import { capacityFailure, keyText, type Evaluate } from "./values.js";

const PASS: RuleResult = { ok: true, value: true };

/** When (record time, or arrival counter for last N) and at which offset a key was first seen. */
interface Seen {
  readonly t: number;
  readonly offset: number;
}

export function uniqueMachine(spec: UniqueSpec, key: Evaluate, sink: ChangeSink): StateMachine {
  const seen = new Map<string, Seen>();
  const windowMs = spec.windowMs;
  const lastN = spec.lastN;
  /** The highest record time seen: the window ends there. */
  let streamTime = -Infinity;
  let counter = 0;

  const evictWindow = (): void => {
    if (windowMs === undefined) return;
    const horizon = streamTime - windowMs;
    for (const [k, { t }] of seen) {
      if (t > horizon) break;
      seen.delete(k);
    }
  };

  return {
    check(message: unknown, at: Moment): RuleResult {
      const r = key(message);
      if ("ok" in r) return r;
      const k = keyText(r.value, "the key");
      if (typeof k !== "string") return k;
      if (at.record > streamTime) {
        streamTime = at.record;
        evictWindow();
      }
      const first = seen.get(k);
      if (first !== undefined) {
        if (first.offset === at.offset) return PASS;
        if (windowMs === undefined) return { ok: false, message: `duplicate key ${JSON.stringify(k)} among the last ${lastN} keys` };
        // An out-of-order record may meet an entry the front eviction has not reached yet.
        const apart = Math.abs(at.record - first.t);
        if (apart < windowMs) {
          return { ok: false, message: `duplicate key ${JSON.stringify(k)}, first seen ${apart} ms earlier in record time (window ${windowMs} ms)` };
        }
        seen.delete(k);
      } else if (seen.size >= spec.maxKeys) {
        return capacityFailure(spec.maxKeys);
      }
      if (windowMs !== undefined) {
        seen.set(k, { t: at.record, offset: at.offset });
        sink(k, `${at.record}@${at.offset}`);
      } else {
        counter++;
        seen.set(k, { t: counter, offset: at.offset });
        sink(k, `${counter}@${at.offset}`);
        if (seen.size > lastN!) {
          const oldest = seen.keys().next().value!;
          seen.delete(oldest);
          sink(oldest, null);
        }
      }
      return PASS;
    },

    restore(k: string, value: string | null): void {
      seen.delete(k);
      if (value === null) return;
      const at = value.indexOf("@");
      const n = Number(value.slice(0, at));
      const offset = Number(value.slice(at + 1));
      if (at < 0 || !Number.isSafeInteger(n) || !Number.isSafeInteger(offset)) return;
      seen.set(k, { t: n, offset });
      if (windowMs !== undefined) {
        if (n > streamTime) {
          streamTime = n;
          evictWindow();
        }
      } else {
        if (n > counter) counter = n;
      }
    },

    get size() {
      return seen.size;
    },
  };
}
