/**
 * Reading a stateful rule (docs/stateful.md, "The form") into its spec: every param is checked,
 * and a rule that Confluent's clients would trip on (no `disabled: true`) is refused.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { DEFAULT_MAX_KEYS, isStatefulRule, parseDuration, statefulSpec } from "../../src/contract/index.js";
import { isErrorCode } from "../../src/errors.js";

const unique = (params: Record<string, string>, extra: Partial<Rule> = {}): Rule => ({
  name: "idUnique",
  kind: "CONDITION",
  mode: "READ",
  type: "STATEFUL_UNIQUE",
  expr: "message.id",
  params,
  disabled: true,
  ...extra,
});

function refused(rule: Rule, pattern: RegExp): void {
  assert.throws(() => statefulSpec(rule), (e: unknown) => isErrorCode(e, "rule-compile") && pattern.test((e as Error).message));
}

describe("stateful rule specs", () => {
  it("parses durations as Go-style unit runs, and nothing else", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("10m"), 600_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("7d"), 604_800_000);
    for (const bad of ["", "10", "m", "1.5s", "-1s", "0s", "10 m", "1w"]) assert.equal(parseDuration(bad), undefined, bad);
  });

  it("reads each kind with its defaults", () => {
    assert.deepEqual({ ...statefulSpec(unique({ "unique.window": "10m" })), rule: undefined }, {
      rule: undefined, type: "STATEFUL_UNIQUE", expr: "message.id", maxKeys: DEFAULT_MAX_KEYS, copartitioned: false, windowMs: 600_000, lastN: undefined,
    });
    assert.equal(statefulSpec(unique({ "unique.window": "10m", "state.copartitioned": "true" })).copartitioned, true);
    assert.throws(() => statefulSpec(unique({ "unique.window": "10m", "state.copartitioned": "yes" })), /state.copartitioned: "yes" is not true or false/);
    const order = statefulSpec({ ...unique({ "order.key": "message.k", "order.contiguous": "true", "state.max.keys": "10" }), type: "stateful_order" });
    assert.equal(order.type, "STATEFUL_ORDER");
    assert.ok(order.type === "STATEFUL_ORDER" && order.contiguous && order.keyExpr === "message.k" && order.maxKeys === 10);
    const ref = statefulSpec({ ...unique({ "reference.topic": "customers" }), type: "STATEFUL_REFERENCE" });
    assert.ok(ref.type === "STATEFUL_REFERENCE" && ref.topic === "customers" && ref.waitMs === 0);
    const complete = statefulSpec({
      ...unique({ "complete.parent": "has(message.n)", "complete.parts": "message.n", "complete.part.of": "message.parent", "complete.within": "5m" }),
      type: "STATEFUL_COMPLETE",
    });
    assert.ok(complete.type === "STATEFUL_COMPLETE" && complete.withinMs === 300_000 && complete.completionTopic === undefined);
    assert.ok(isStatefulRule(complete.rule) && !isStatefulRule({ name: "x", type: "CEL" }));
  });

  it("refuses what Confluent's clients or the state could not live with", () => {
    refused(unique({ "unique.window": "10m" }, { disabled: false }), /needs disabled: true/);
    refused(unique({ "unique.window": "10m" }, { kind: "TRANSFORM" }), /is a CONDITION/);
    refused(unique({ "unique.window": "10m" }, { expr: " " }), /needs an expr \(the key that must not repeat\)/);
    refused(unique({}), /exactly one of unique.window .* and unique.last/);
    refused(unique({ "unique.window": "10m", "unique.last": "5" }), /exactly one of/);
    refused(unique({ "unique.window": "ten minutes" }), /param unique.window: "ten minutes" is not a duration/);
    refused(unique({ "unique.last": "0" }), /param unique.last: "0" is not a count/);
    refused(unique({ "unique.window": "1m", "reference.topic": "t" }), /unknown param reference.topic/);
    refused({ ...unique({}), type: "STATEFUL_REFERENCE" }, /param reference.topic is required/);
    refused({ ...unique({ "complete.parent": "true", "complete.parts": "1", "complete.part.of": "message.p" }), type: "STATEFUL_COMPLETE" }, /complete.within is required/);
  });
});
