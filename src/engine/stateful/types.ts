/**
 * The vocabulary of stateful rules' pure core: what a state machine sees per
 * message, and what it hands back for the changelog. Nothing here does I/O.
 */
import type { RuleResult } from "../types.js";
import { withGetters } from "../../util/getters.js";

/** When a message is judged: its record timestamp, and the wall clock (both epoch ms). */
export interface Moment {
  /** Record time: windows and TTLs count in it, so a replay judges as the first run did. */
  readonly record: number;
  /** Wall-clock time (an injected clock): completeness timers and reference waits count in it. */
  readonly now: number;
  /**
   * The record's offset in its partition. State remembers the offset each entry came from, so the
   * same record delivered again (at-least-once, after a crash or a retried handler) is judged as
   * it was the first time instead of as its own duplicate.
   */
  readonly offset: number;
}

/** Where a machine writes each state change, for its rule's changelog. */
export interface ChangeSink {
  /** The key's new value; null deletes the key (a tombstone). */
  put(key: string, value: string | null): void;
  /**
   * The key's new value `${n}@${offset}`: when (record time, or an arrival count) and at which offset
   * it was seen, uniqueness's entry for most records. A host writing bytes writes the numbers' digits
   * straight away: that string would cost more to make than the rest of the entry.
   */
  seen(key: string, n: number, offset: number): void;
}

/** One rule's state in one partition. */
export interface StateMachine {
  /** Judges a message and updates the state (recording every change in the sink). */
  check(message: unknown, at: Moment): RuleResult;
  /**
   * The fast path: when the message passes, records it as `check` would and returns true; otherwise
   * changes nothing and returns false (then `check` says why). Spares the engine its run state.
   */
  passes?(message: unknown, at: Moment): boolean;
  /** Applies one changelog entry, as read back on restore. Never writes to the sink. */
  restore(key: string, value: string | null): void;
  /** Keys held now. */
  readonly size: number;
}

/** A completeness group closed by its timer, or completed. */
export interface GroupEvent {
  readonly key: string;
  readonly complete: boolean;
  /** Parts declared by the parent; undefined when no parent arrived. */
  readonly expected: number | undefined;
  readonly arrived: number;
}

/** A machine with wall-clock timers. */
export interface TimedMachine extends StateMachine {
  /** Closes every group whose time is up at `now`, and returns them. */
  expire(now: number): GroupEvent[];
  /** Groups completed since the last call. */
  completed(): GroupEvent[];
  /** The earliest time a timer is due, if any: the caller schedules a wall-clock wake-up for it. */
  nextDue(): number | undefined;
}

/** A reference topic read as a table: keys present now. Shared by every partition that refers to it. */
export interface ReferenceTable {
  has(key: string): boolean;
  /** A record of the reference topic: a value sets the key, a tombstone (null) deletes it. */
  apply(key: string, present: boolean): void;
  readonly size: number;
}

export function referenceTable(): ReferenceTable {
  const keys = new Set<string>();
  return withGetters<ReferenceTable, "size">({
    has: (key) => keys.has(key),
    apply(key, present) {
      if (present) keys.add(key);
      else keys.delete(key);
    },
  }, {
    size: () => keys.size,
  });
}
