/** diffContracts: each kind of change and its class (breaking, tightening, loosening, neutral). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ContractDocument } from "../../src/contract/document.js";
import type { Contract, Rule, SubjectConfig } from "../../src/contract/model.js";
import { diffContracts, mostSevere, type ContractChange } from "../../src/diff/index.js";

const ORDER = {
  type: "record",
  name: "Order",
  fields: [
    { name: "id", type: "string" },
    { name: "amount", type: "double" },
    { name: "email", type: "string" },
  ],
};
const SCHEMA = JSON.stringify(ORDER);

const doc = (version: number, contract: Partial<Contract>, config?: SubjectConfig, subject = "orders-value"): ContractDocument => ({
  subject,
  version,
  contract: { schema: SCHEMA, ...contract },
  ...(config ? { config } : {}),
  source: { file: "x.yaml", index: 0 } as never,
});

const condition = (name: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", ...extra });
const transform = (name: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "TRANSFORM", mode: "WRITE", type: "CEL_FIELD", tags: ["PII"], expr: "'***'", ...extra });

/** The changes from a subject with `before` rules to one with `after` rules. */
function ruleDiff(before: Rule[], after: Rule[]): ContractChange[] {
  const d = diffContracts([doc(1, { ruleSet: { domainRules: before } })], [doc(1, { ruleSet: { domainRules: after } })]);
  return [...d.subjects[0]!.changes];
}

const classes = (changes: readonly ContractChange[]) => changes.map((c) => c.class);

describe("conditions", () => {
  test("a condition added is tightening; with onFailure NONE, or disabled, neutral", () => {
    assert.deepEqual(classes(ruleDiff([], [condition("positive")])), ["tightening"]);
    assert.match(ruleDiff([], [condition("positive")])[0]!.why, /pass today may fail on WRITE/);
    assert.deepEqual(classes(ruleDiff([], [condition("positive", { onFailure: "NONE" })])), ["neutral"]);
    assert.deepEqual(classes(ruleDiff([], [condition("positive", { disabled: true })])), ["neutral"]);
  });

  test("a condition removed or disabled is loosening; enabled again, tightening", () => {
    assert.deepEqual(classes(ruleDiff([condition("positive")], [])), ["loosening"]);
    assert.deepEqual(classes(ruleDiff([condition("positive")], [condition("positive", { disabled: true })])), ["loosening"]);
    const enabled = ruleDiff([condition("positive", { disabled: true })], [condition("positive")]);
    assert.deepEqual(classes(enabled), ["tightening"]);
    assert.match(enabled[0]!.what, /positive in domainRules enabled/);
  });

  test("an edited expression may tighten: it is classed tightening", () => {
    const c = ruleDiff([condition("positive")], [condition("positive", { expr: "message.amount > 100.0" })]);
    assert.deepEqual(classes(c), ["tightening"]);
    assert.deepEqual(c[0]!.rule, { phase: "domainRules", name: "positive", change: "changed", fields: ["expr"] });
  });

  test("onFailure: NONE -> ERROR tightens, DLQ -> NONE loosens, ERROR -> DLQ is neutral (the message still stops)", () => {
    assert.deepEqual(classes(ruleDiff([condition("p", { onFailure: "NONE" })], [condition("p", { onFailure: "ERROR" })])), ["tightening"]);
    assert.deepEqual(classes(ruleDiff([condition("p", { onFailure: "DLQ" })], [condition("p", { onFailure: "NONE" })])), ["loosening"]);
    assert.deepEqual(classes(ruleDiff([condition("p", { onFailure: "ERROR" })], [condition("p", { onFailure: "DLQ" })])), ["neutral"]);
    // Absent onFailure is ERROR, as in Java.
    assert.deepEqual(classes(ruleDiff([condition("p")], [condition("p", { onFailure: "ERROR" })])), ["neutral"]);
  });

  test("mode: WRITE -> WRITEREAD tightens (reads now stop); the pair form of onFailure counts per mode", () => {
    assert.deepEqual(classes(ruleDiff([condition("p")], [condition("p", { mode: "WRITEREAD" })])), ["tightening"]);
    assert.deepEqual(classes(ruleDiff([condition("p", { mode: "WRITEREAD" })], [condition("p", { mode: "WRITEREAD", onFailure: "ERROR,NONE" })])), ["loosening"]);
    const c = ruleDiff([condition("p", { mode: "WRITEREAD" })], [condition("p", { mode: "WRITEREAD", onFailure: "ERROR,NONE" })]);
    assert.match(c[0]!.why, /no longer stops the message on READ/);
  });

  test("tags of a field condition: more tags tighten, fewer loosen", () => {
    const field = (tags: string[]) => condition("p", { type: "CEL_FIELD", tags, expr: "value != ''" });
    assert.deepEqual(classes(ruleDiff([field(["PII"])], [field(["PII", "SECRET"])])), ["tightening"]);
    assert.deepEqual(classes(ruleDiff([field(["PII", "SECRET"])], [field(["PII"])])), ["loosening"]);
  });

  test("doc and onSuccess alone are neutral", () => {
    assert.deepEqual(classes(ruleDiff([condition("p")], [condition("p", { doc: "why", onSuccess: "NONE" })])), ["neutral"]);
  });
});

describe("transforms and migrations", () => {
  test("a READ transform added, changed or removed is breaking for consumers; a WRITE transform is neutral", () => {
    assert.deepEqual(classes(ruleDiff([], [transform("mask", { mode: "READ" })])), ["breaking"]);
    assert.deepEqual(classes(ruleDiff([transform("mask", { mode: "WRITEREAD" })], [transform("mask", { mode: "WRITEREAD", expr: "'###'" })])), ["breaking"]);
    assert.deepEqual(classes(ruleDiff([transform("mask", { mode: "READ" })], [])), ["breaking"]);
    assert.deepEqual(classes(ruleDiff([transform("mask")], [transform("mask", { expr: "'###'" })])), ["neutral"]);
    assert.deepEqual(classes(ruleDiff([], [transform("mask")])), ["neutral"]);
  });

  test("a migration rule added is neutral; removed or changed, breaking", () => {
    const up: Rule = { name: "up", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "$" };
    const diff = (a: Rule[], b: Rule[]) => classes(diffContracts([doc(1, { ruleSet: { migrationRules: a } })], [doc(1, { ruleSet: { migrationRules: b } })]).subjects[0]!.changes);
    assert.deepEqual(diff([], [up]), ["neutral"]);
    assert.deepEqual(diff([up], []), ["breaking"]);
    assert.deepEqual(diff([up], [{ ...up, expr: "$merge([$, {'x': 1}])" }]), ["breaking"]);
  });
});

describe("schemas, major versions and metadata", () => {
  const withField = (field: object) => JSON.stringify({ ...ORDER, fields: [...ORDER.fields, field] });
  const renamed = JSON.stringify({ ...ORDER, fields: [{ name: "id", type: "string" }, { name: "total", type: "double" }, { name: "email", type: "string" }] });
  const migrations: Rule[] = [
    { name: "up", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "$" },
    { name: "down", kind: "TRANSFORM", mode: "DOWNGRADE", type: "JSONATA", expr: "$" },
  ];

  test("a compatible schema change is neutral; the new version is listed as added", () => {
    const d = diffContracts([doc(1, {})], [doc(1, {}), doc(2, { schema: withField({ name: "note", type: ["null", "string"], default: null }) })]).subjects[0]!;
    assert.deepEqual([d.from, d.to, d.versionsAdded], [1, 2, [2]]);
    assert.deepEqual(classes(d.changes), ["neutral"]);
    assert.match(d.changes[0]!.why, /compatible both ways/);
  });

  test("an incompatible schema without migration rules is breaking; with rules for both directions, neutral", () => {
    const bare = diffContracts([doc(1, {})], [doc(1, {}), doc(2, { schema: renamed })]).subjects[0]!;
    assert.deepEqual(classes(bare.changes), ["breaking"]);
    assert.match(bare.changes[0]!.why, /v2 cannot read messages written with v1 .* no UPGRADE migration rule/);
    const bridged = diffContracts([doc(1, {})], [doc(1, {}), doc(2, { schema: renamed, ruleSet: { migrationRules: migrations } })]).subjects[0]!;
    assert.deepEqual(
      bridged.changes.map((c) => [c.part, c.class]),
      [["schema", "neutral"], ["rule", "neutral"], ["rule", "neutral"]],
    );
  });

  test("a new value of the compatibility group's property is a new major version: breaking without a migration rule", () => {
    const config: SubjectConfig = { compatibilityGroup: "major" };
    const v = (version: number, major: string, rules?: Rule[]) => doc(version, { metadata: { properties: { major } }, ...(rules ? { ruleSet: { migrationRules: rules } } : {}) }, version === 1 ? config : undefined);
    const bare = diffContracts([v(1, "1")], [v(1, "1"), v(2, "2")]).subjects[0]!;
    assert.deepEqual(bare.changes.map((c) => [c.part, c.class, c.what]), [["metadata", "breaking", "major 1 -> 2: a new major version"]]);
    const bridged = diffContracts([v(1, "1")], [v(1, "1"), v(2, "2", migrations)]).subjects[0]!;
    assert.equal(bridged.changes.find((c) => /major version/.test(c.what))?.class, "neutral");
  });

  test("a field gaining a tag comes under the rules of the tag: a condition tightens, a READ transform breaks", () => {
    const tagged = (tags: Record<string, string[]>, rules: Rule[]) => doc(1, { metadata: { tags }, ruleSet: { domainRules: rules } });
    const check = condition("emailShape", { type: "CEL_FIELD", tags: ["PII"], expr: "value != ''" });
    const gained = diffContracts([tagged({}, [check])], [tagged({ "Order.email": ["PII"] }, [check])]).subjects[0]!;
    assert.deepEqual(gained.changes.map((c) => [c.what, c.class]), [["tags of Order.email: +PII", "tightening"]]);
    const lost = diffContracts([tagged({ "Order.email": ["PII"] }, [check])], [tagged({}, [check])]).subjects[0]!;
    assert.deepEqual(classes(lost.changes), ["loosening"]);
    const mask = transform("mask", { mode: "READ" });
    assert.deepEqual(classes(diffContracts([tagged({}, [mask])], [tagged({ "Order.email": ["PII"] }, [mask])]).subjects[0]!.changes), ["breaking"]);
    assert.deepEqual(classes(diffContracts([tagged({}, [])], [tagged({ "Order.email": ["PII"] }, [])]).subjects[0]!.changes), ["neutral"]);
  });

  test("properties and config keys are neutral; rules of an overrideRuleSet are classed as rules", () => {
    const d = diffContracts([doc(1, { metadata: { properties: { owner: "a" } } }, { compatibility: "BACKWARD" })], [doc(1, { metadata: { properties: { owner: "b" } } }, { compatibility: "NONE", overrideRuleSet: { domainRules: [condition("always")] } })]).subjects[0]!;
    assert.deepEqual(d.changes.map((c) => [c.part, c.class, c.what]), [
      ["metadata", "neutral", "properties changed: owner"],
      ["config", "neutral", "config compatibility: BACKWARD -> NONE"],
      ["config", "tightening", "rule always added to config.overrideRuleSet.domainRules (CONDITION, CEL, WRITE)"],
    ]);
  });

  test("enableAt: rules that stop running in clients loosen", () => {
    const d = diffContracts([doc(1, { ruleSet: { domainRules: [condition("p")] } })], [doc(1, { ruleSet: { domainRules: [condition("p")], enableAt: "SERVER" } })]).subjects[0]!;
    assert.deepEqual(d.changes.map((c) => [c.part, c.class]), [["enableAt", "loosening"]]);
  });
});

describe("subjects and versions", () => {
  test("a new subject is neutral, a subject gone is breaking, the same contracts are no change", () => {
    const d = diffContracts([doc(1, {}, undefined, "gone-value"), doc(1, {})], [doc(1, {}), doc(1, {}, undefined, "new-value")]);
    assert.deepEqual(d.subjects.map((s) => [s.subject, classes(s.changes)]), [
      ["gone-value", ["breaking"]],
      ["new-value", ["neutral"]],
      ["orders-value", []],
    ]);
  });

  test("spacing and key order of a schema are no change; an older version that differs is listed", () => {
    const respaced = JSON.stringify(ORDER, null, 4);
    const d = diffContracts([doc(1, { metadata: { properties: { a: "1" } } }), doc(2, {})], [doc(1, {}), doc(2, { schema: respaced })]).subjects[0]!;
    assert.deepEqual(d.changes, []);
    assert.deepEqual(d.versionsDiffering, [1]);
    // The newest version of one side, changed on the other side where it is no longer the newest.
    const moved = diffContracts([doc(1, {}), doc(2, { metadata: { properties: { a: "1" } } })], [doc(1, {}), doc(2, {}), doc(3, {})]).subjects[0]!;
    assert.deepEqual([moved.versionsDiffering, moved.versionsAdded], [[2], [3]]);
  });

  test("mostSevere orders breaking, tightening, loosening, neutral", () => {
    assert.equal(mostSevere(["neutral", "loosening", "tightening"]), "tightening");
    assert.equal(mostSevere(["loosening", "breaking"]), "breaking");
    assert.equal(mostSevere([]), "neutral");
  });
});
