/**
 * STATEFUL_REFERENCE: a key must exist in a reference topic read as a table.
 *
 * The table is the reference topic itself (compacted; tombstones delete), read
 * from its beginning by the Kafka layer and shared by every partition, as a
 * Kafka Streams GlobalKTable: so no changelog of its own, and no
 * co-partitioning needed. `reference.wait` gives the table time to catch up:
 * `waitUntil` tells the caller how long to hold a message whose key is missing.
 */
import type { ReferenceSpec } from "../../contract/stateful.js";
import type { RuleResult } from "../types.js";
import type { ReferenceTable, StateMachine } from "./types.js";
import { keyText, type Evaluate } from "./values.js";
import { withGetters } from "../../util/getters.js";

const PASS: RuleResult = { ok: true, value: true };

export interface ReferenceMachine extends StateMachine {
  /**
   * For a message first seen at wall-clock `since`: the time until which it
   * should wait for its key to show up, or undefined when it can be judged now
   * (the key is there, the wait is over, or the key does not evaluate).
   */
  waitUntil(message: unknown, since: number, now: number): number | undefined;
}

export function referenceMachine(spec: ReferenceSpec, key: Evaluate, table: ReferenceTable): ReferenceMachine {
  const keyOf = (message: unknown): string | RuleResult => {
    const r = key(message);
    if ("ok" in r) return r;
    return keyText(r.value, "the reference key");
  };
  return withGetters<ReferenceMachine, "size">({
    passes(message: unknown): boolean {
      const r = key(message);
      return !("ok" in r) && typeof r.value === "string" && table.has(r.value);
    },
    check(message: unknown): RuleResult {
      const k = keyOf(message);
      if (typeof k !== "string") return k;
      return table.has(k) ? PASS : { ok: false, message: `key ${JSON.stringify(k)} is not in the reference topic ${spec.topic}` };
    },
    waitUntil(message, since, now) {
      if (spec.waitMs === 0 || now >= since + spec.waitMs) return undefined;
      const k = keyOf(message);
      return typeof k === "string" && !table.has(k) ? since + spec.waitMs : undefined;
    },
    restore() {
      // The table is rebuilt from the reference topic, not from a changelog.
    },
  }, {
    size: () => table.size,
  });
}
