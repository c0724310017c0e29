/**
 * Stateful (cross-message) rules, in the one contract model.
 *
 * A stateful rule is an ordinary Confluent domain rule whose `type` is one of
 * STATEFUL_TYPES and which carries `disabled: true`. `disabled` is what keeps
 * Confluent's clients from running it: both skip a disabled rule before they
 * look up its executor, whereas an unknown type without `disabled` fails
 * (Java runs onFailure, default ERROR; JS runs onFailure and then skips every
 * later rule). kontract's per-message engine drops it for the same reason,
 * and the stateful layer runs it. Its configuration is the rule's own `expr`
 * and string `params`, so it round-trips through any Confluent registry.
 *
 * This module only reads a Rule into a typed spec; nothing here evaluates.
 */
import type { Rule } from "./model.js";
import { RuleCompileError } from "../errors.js";

export const STATEFUL_TYPES = ["STATEFUL_UNIQUE", "STATEFUL_ORDER", "STATEFUL_REFERENCE", "STATEFUL_COMPLETE"] as const;
export type StatefulType = (typeof STATEFUL_TYPES)[number];

/** Per-partition keys a rule may hold unless `state.max.keys` says otherwise. */
export const DEFAULT_MAX_KEYS = 1_000_000;

interface SpecBase {
  readonly rule: Rule;
  /** The CEL expression in `expr`: the key (unique, reference, complete) or the sequence (order). */
  readonly expr: string;
  /** Most keys held per partition; one more fails with code `state-capacity`. */
  readonly maxKeys: number;
  /**
   * `state.copartitioned: "true"`: the author says records with the same state key share a
   * partition (the producer keys records by it, or a repartition topic does). Lint warns without it.
   */
  readonly copartitioned: boolean;
}

/** `expr` must not repeat within `windowMs` of record time, or within the last `lastN` messages. */
export interface UniqueSpec extends SpecBase {
  readonly type: "STATEFUL_UNIQUE";
  readonly windowMs: number | undefined;
  readonly lastN: number | undefined;
}

/** Within the key `keyExpr`, `expr` (an int, a timestamp or a string) must increase. */
export interface OrderSpec extends SpecBase {
  readonly type: "STATEFUL_ORDER";
  readonly keyExpr: string;
  /** Sequences meant to have no holes: a jump of more than 1 is reported as a gap. */
  readonly contiguous: boolean;
  /** A key idle for this long (record time) is forgotten. */
  readonly ttlMs: number | undefined;
}

/** `expr` must be a key of the table read from `topic` (compacted; tombstones delete). */
export interface ReferenceSpec extends SpecBase {
  readonly type: "STATEFUL_REFERENCE";
  readonly topic: string;
  /** How long a message may wait for the reference to catch up before it fails. */
  readonly waitMs: number;
}

/**
 * A parent (the messages where `isParent` holds) declares `partsExpr` parts;
 * parts name their parent with `partOfExpr`. `expr` is the parent's key.
 */
export interface CompleteSpec extends SpecBase {
  readonly type: "STATEFUL_COMPLETE";
  readonly isParentExpr: string;
  readonly partsExpr: string;
  readonly partOfExpr: string;
  /** Wall-clock time the parts have, from the parent's arrival. */
  readonly withinMs: number;
  /** Where completions are written, if anywhere. */
  readonly completionTopic: string | undefined;
}

export type StatefulSpec = UniqueSpec | OrderSpec | ReferenceSpec | CompleteSpec;

export function isStatefulRule(rule: Rule): boolean {
  return (STATEFUL_TYPES as readonly string[]).includes(rule.type.toUpperCase());
}

/** The stateful domain rules of a contract, in written order. */
export function statefulRules(ruleSet: { domainRules?: Rule[] } | undefined): Rule[] {
  return (ruleSet?.domainRules ?? []).filter(isStatefulRule);
}

/** Reads a stateful rule's expr and params. Throws RuleCompileError saying what is wrong. */
export function statefulSpec(rule: Rule): StatefulSpec {
  const fail = (message: string): never => {
    throw new RuleCompileError(rule.name, message);
  };
  const type = rule.type.toUpperCase() as StatefulType;
  if (!(STATEFUL_TYPES as readonly string[]).includes(type)) fail(`${rule.type} is not a stateful rule type`);
  if (rule.disabled !== true) fail(`a ${type} rule needs disabled: true, or Confluent's clients fail on its unknown type (docs/stateful.md)`);
  if (rule.kind !== undefined && rule.kind !== "CONDITION") fail(`a ${type} rule is a CONDITION`);
  const params = rule.params ?? {};
  const known = new Set(["state.max.keys", "state.copartitioned", "dlq.topic", ...PARAMS[type]]);
  for (const name of Object.keys(params)) if (!known.has(name)) fail(`unknown param ${name} (a ${type} rule takes ${[...known].join(", ")})`);
  const text = (name: string): string | undefined => {
    const v = params[name];
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  const required = (name: string): string => text(name) ?? fail(`param ${name} is required`);
  const duration = (name: string): number | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    return ms ?? fail(`param ${name}: "${v}" is not a duration (e.g. 500ms, 30s, 10m, 1h30m, 7d)`);
  };
  const count = (name: string): number | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    const n = /^[1-9][0-9]{0,8}$/.test(v) ? Number(v) : undefined;
    return n ?? fail(`param ${name}: "${v}" is not a count from 1 to 999999999`);
  };
  const expr = rule.expr?.trim() ? rule.expr : fail(`a ${type} rule needs an expr (${EXPR_ROLE[type]})`);
  const flag = (name: string): boolean => {
    const v = text(name) ?? "false";
    return v === "true" || (v === "false" ? false : fail(`param ${name}: "${v}" is not true or false`));
  };
  const base = { rule, expr, maxKeys: count("state.max.keys") ?? DEFAULT_MAX_KEYS, copartitioned: flag("state.copartitioned") };
  switch (type) {
    case "STATEFUL_UNIQUE": {
      const windowMs = duration("unique.window");
      const lastN = count("unique.last");
      if ((windowMs === undefined) === (lastN === undefined)) fail("give exactly one of unique.window (a duration) and unique.last (a count)");
      return { ...base, type, windowMs, lastN };
    }
    case "STATEFUL_ORDER": {
      return { ...base, type, keyExpr: required("order.key"), contiguous: flag("order.contiguous"), ttlMs: duration("order.ttl") };
    }
    case "STATEFUL_REFERENCE":
      return { ...base, type, topic: required("reference.topic"), waitMs: duration("reference.wait") ?? 0 };
    case "STATEFUL_COMPLETE":
      return {
        ...base,
        type,
        isParentExpr: required("complete.parent"),
        partsExpr: required("complete.parts"),
        partOfExpr: required("complete.part.of"),
        withinMs: duration("complete.within") ?? fail("param complete.within is required"),
        completionTopic: text("complete.topic"),
      };
  }
}

const PARAMS: Readonly<Record<StatefulType, readonly string[]>> = {
  STATEFUL_UNIQUE: ["unique.window", "unique.last"],
  STATEFUL_ORDER: ["order.key", "order.contiguous", "order.ttl"],
  STATEFUL_REFERENCE: ["reference.topic", "reference.wait"],
  STATEFUL_COMPLETE: ["complete.parent", "complete.parts", "complete.part.of", "complete.within", "complete.topic"],
};

const EXPR_ROLE: Readonly<Record<StatefulType, string>> = {
  STATEFUL_UNIQUE: "the key that must not repeat",
  STATEFUL_ORDER: "the sequence that must increase",
  STATEFUL_REFERENCE: "the key that must exist in the reference topic",
  STATEFUL_COMPLETE: "the parent's key",
};

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `10m`, `1h30m`, `7d`: milliseconds, or undefined when it does not parse or is 0. */
export function parseDuration(text: string): number | undefined {
  if (!/^(?:[0-9]{1,9}(?:ms|s|m|h|d))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}
