/**
 * STATEFUL_COMPLETE: a parent declares how many parts follow; the parts name
 * their parent. When all have arrived the group completes; when the time is up
 * first, the rule fails for the group, saying what is missing.
 *
 * Time is wall-clock time, from the first message of the group (parent or
 * part), and `expire(now)` runs on a timer, not on the next message: with no
 * more traffic the group still closes (Flink CEP's FLINK-15160 is the flaw not
 * copied). Deadlines grow with arrival order, so a queue of groups in arrival
 * order has the next one due at its front. Closed groups are tombstoned.
 */
import type { CompleteSpec } from "../../contract/stateful.js";
import type { RuleResult } from "../types.js";
import { queue, type Queue } from "./queue.js";
import type { ChangeSink, GroupEvent, Moment, TimedMachine } from "./types.js";
import { capacityFailure, keyText, type Evaluate } from "./values.js";
import { withGetters } from "../../util/getters.js";

const PASS: RuleResult = { ok: true, value: true };

interface Group {
  readonly key: string;
  expected: number | undefined;
  arrived: number;
  readonly due: number;
  /** The offset of the last message counted: one delivered again is not counted twice. */
  last: number;
}

export interface CompleteExprs {
  readonly isParent: Evaluate;
  readonly parentKey: Evaluate;
  readonly parts: Evaluate;
  readonly partOf: Evaluate;
}

export function completeMachine(spec: CompleteSpec, exprs: CompleteExprs, sink: ChangeSink): TimedMachine {
  const groups = new Map<string, Group>();
  // Open groups by deadline; a group closed since is skipped.
  let due: Queue<Group> = queue();
  let done: GroupEvent[] = [];
  // Restore reads groups in changelog order (last update), not deadline order: sort once before the timers look.
  let unsorted = false;
  const settle = (): void => {
    if (!unsorted) return;
    unsorted = false;
    due = queue();
    for (const g of [...groups.values()].sort((a, b) => a.due - b.due)) due.push(g);
  };
  /** The open group due first, dropping closed ones from the front. */
  const front = (): Group | undefined => {
    settle();
    for (let g = due.peek(); g !== undefined; g = due.peek()) {
      if (groups.get(g.key) === g) return g;
      due.shift();
    }
    return undefined;
  };

  const save = (k: string, g: Group): void => sink.put(k, JSON.stringify({ n: g.expected ?? null, a: g.arrived, d: g.due, o: g.last }));
  const close = (k: string, g: Group, complete: boolean): GroupEvent => {
    groups.delete(k);
    sink.put(k, null);
    return { key: k, complete, expected: g.expected, arrived: g.arrived };
  };

  return withGetters<TimedMachine, "size">({
    check(message: unknown, at: Moment): RuleResult {
      const role = exprs.isParent(message);
      if ("ok" in role) return role;
      const isParent = role.value === true;
      const kr = (isParent ? exprs.parentKey : exprs.partOf)(message);
      if ("ok" in kr) return kr;
      const k = keyText(kr.value, isParent ? "the parent key" : "complete.part.of");
      if (typeof k !== "string") return k;
      let expected: number | undefined;
      if (isParent) {
        const nr = exprs.parts(message);
        if ("ok" in nr) return nr;
        const n = nr.value;
        if ((typeof n !== "bigint" && typeof n !== "number") || !Number.isSafeInteger(Number(n)) || Number(n) < 0) {
          return { ok: false, message: `complete.parts must be a count (an int from 0), not ${typeof n === "string" ? JSON.stringify(n) : String(n)}` };
        }
        expected = Number(n);
      }
      let g = groups.get(k);
      if (g === undefined) {
        if (groups.size >= spec.maxKeys) return capacityFailure(spec.maxKeys);
        g = { key: k, expected: undefined, arrived: 0, due: at.now + spec.withinMs, last: -1 };
        groups.set(k, g);
        due.push(g);
      } else if (at.offset <= g.last) {
        return PASS;
      }
      g.last = at.offset;
      if (isParent) {
        if (g.expected !== undefined) return { ok: false, message: `parent ${JSON.stringify(k)} arrived twice` };
        g.expected = expected;
      } else {
        g.arrived++;
      }
      if (g.expected !== undefined && g.arrived >= g.expected) done.push(close(k, g, true));
      else save(k, g);
      return PASS;
    },

    expire(now: number): GroupEvent[] {
      const out: GroupEvent[] = [];
      for (let g = front(); g !== undefined && g.due <= now; g = front()) {
        due.shift();
        out.push(close(g.key, g, false));
      }
      return out;
    },

    completed(): GroupEvent[] {
      const out = done;
      done = [];
      return out;
    },

    nextDue(): number | undefined {
      return front()?.due;
    },

    restore(k: string, value: string | null): void {
      groups.delete(k);
      if (value === null) return;
      try {
        const v = JSON.parse(value) as { n?: unknown; a?: unknown; d?: unknown; o?: unknown };
        // Bounded as the live path is (a group it refused was never written), whoever wrote the changelog.
        if (typeof v.a === "number" && typeof v.d === "number" && typeof v.o === "number" && groups.size < spec.maxKeys) {
          groups.set(k, { key: k, expected: typeof v.n === "number" ? v.n : undefined, arrived: v.a, due: v.d, last: v.o });
          unsorted = true;
        }
      } catch {
        // an entry this version cannot read is dropped, as a corrupt record would be
      }
    },

  }, {
    size: () => groups.size,
  });
}

/** What a group closed by its timer lacks, as the rule's failure message. */
export function incompleteMessage(spec: CompleteSpec, e: GroupEvent): string {
  const within = `within ${spec.withinMs} ms`;
  if (e.expected === undefined) return `parent ${JSON.stringify(e.key)}: ${e.arrived} part(s) arrived but the parent did not, ${within}`;
  return `parent ${JSON.stringify(e.key)}: ${e.arrived} of ${e.expected} part(s) arrived ${within}; ${e.expected - e.arrived} missing`;
}
