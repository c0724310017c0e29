/**
 * STATEFUL_ORDER: within a key, a sequence must increase; with
 * `order.contiguous`, a jump of more than 1 is reported as a gap.
 *
 * State: key → last sequence and the record time it came at; a queue in order of
 * update says which key the TTL (`order.ttl`) forgets next. Evictions are tombstoned.
 */
import type { OrderSpec } from "../../contract/stateful.js";
import type { RuleResult } from "../types.js";
import { queue } from "./queue.js";
import type { ChangeSink, Moment, StateMachine } from "./types.js";
import { capacityFailure, compareSequences, decodeSequence, encodeSequence, keyText, sequenceValue, type Evaluate, type Sequence } from "./values.js";
import { withGetters } from "../../util/getters.js";

const PASS: RuleResult = { ok: true, value: true };

interface Last {
  readonly key: string;
  readonly seq: Sequence;
  readonly at: number;
  /** The offset of the record that set it: it and earlier records delivered again are not judged again. */
  readonly offset: number;
}

export function orderMachine(spec: OrderSpec, key: Evaluate, sequence: Evaluate, sink: ChangeSink): StateMachine {
  const last = new Map<string, Last>();
  const ttlMs = spec.ttlMs;
  // Entries in order of update, for the TTL only; one replaced since is skipped.
  const updates = queue<Last>();
  let streamTime = -Infinity;

  const evictIdle = (): void => {
    if (ttlMs === undefined) return;
    const horizon = streamTime - ttlMs;
    for (let e = updates.peek(); e !== undefined && e.at <= horizon; e = updates.peek()) {
      updates.shift();
      if (last.get(e.key) !== e) continue;
      last.delete(e.key);
      sink.put(e.key, null);
    }
  };

  const set = (e: Last): void => {
    last.set(e.key, e);
    if (ttlMs !== undefined) updates.push(e);
  };

  const remember = (k: string, seq: Sequence, at: Moment): void => {
    set({ key: k, seq, at: at.record, offset: at.offset });
    sink.put(k, JSON.stringify({ s: encodeSequence(seq), t: at.record, o: at.offset }));
  };

  return withGetters<StateMachine, "size">({
    check(message: unknown, at: Moment): RuleResult {
      const kr = key(message);
      if ("ok" in kr) return kr;
      const k = keyText(kr.value, "the order.key");
      if (typeof k !== "string") return k;
      const sr = sequence(message);
      if ("ok" in sr) return sr;
      const seq = sequenceValue(sr.value);
      if (typeof seq === "object") return seq;
      if (at.record > streamTime) {
        streamTime = at.record;
        evictIdle();
      }
      const prev = last.get(k);
      if (prev === undefined) {
        if (last.size >= spec.maxKeys) return capacityFailure(spec.maxKeys);
        remember(k, seq, at);
        return PASS;
      }
      // Delivered again: judged already, when the key's state was at or before this record. Its first
      // verdict is not kept; judging it against later records would fail every replayed record.
      if (at.offset <= prev.offset) return PASS;
      const order = compareSequences(seq, prev.seq);
      if (order === undefined) return { ok: false, message: `key ${JSON.stringify(k)}: sequence ${show(seq)} cannot be compared with the previous ${show(prev.seq)}` };
      if (order <= 0) return { ok: false, message: `key ${JSON.stringify(k)}: sequence ${show(seq)} does not increase (previous ${show(prev.seq)})` };
      remember(k, seq, at);
      if (spec.contiguous && typeof seq === "bigint" && typeof prev.seq === "bigint" && seq - prev.seq > 1n) {
        const from = prev.seq + 1n;
        const to = seq - 1n;
        return { ok: false, message: `key ${JSON.stringify(k)}: gap in the sequence, missing ${from === to ? `${from}` : `${from} to ${to}`}` };
      }
      return PASS;
    },

    restore(k: string, value: string | null): void {
      last.delete(k);
      if (value === null) return;
      let parsed: { s?: unknown; t?: unknown; o?: unknown };
      try {
        parsed = JSON.parse(value) as { s?: unknown; t?: unknown; o?: unknown };
      } catch {
        return;
      }
      const seq = typeof parsed.s === "string" ? decodeSequence(parsed.s) : undefined;
      if (seq === undefined || typeof parsed.t !== "number" || typeof parsed.o !== "number") return;
      // Bounded as the live path is (a key it refused was never written), whoever wrote the changelog.
      if (last.size >= spec.maxKeys) return;
      set({ key: k, seq, at: parsed.t, offset: parsed.o });
      if (parsed.t > streamTime) streamTime = parsed.t;
    },

  }, {
    size: () => last.size,
  });
}

function show(s: Sequence): string {
  return typeof s === "string" ? JSON.stringify(s) : String(s);
}
