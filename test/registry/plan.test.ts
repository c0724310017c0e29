/** planPush (pure planning of a push) and applyPushPlan's checks of what a registry stored. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContractDocument } from "../../src/contract/document.js";
import type { Contract, RegisteredContract } from "../../src/contract/model.js";
import { isErrorCode } from "../../src/errors.js";
import { ruleChangeLabel, ruleChanges } from "../../src/contract/compare.js";
import { differences, planPush } from "../../src/registry/plan.js";
import { applyPushPlan, lostParts } from "../../src/registry/push.js";
import type { SchemaRegistry } from "../../src/registry/types.js";

const AVRO = '{"type":"record","name":"A","fields":[{"name":"id","type":"string"}]}';
const doc = (subject: string, version: number, contract: Contract): ContractDocument => ({ subject, version, contract, source: { file: "x.yaml", text: "", index: 0 } as never });
const stored = (subject: string, version: number, contract: Contract): RegisteredContract => ({ subject, version, id: version, ...contract });
const rule = (name: string, expr: string) => ({ name, kind: "CONDITION" as const, mode: "WRITE" as const, type: "CEL", expr });

test("the registry's own spacing, key order and confluent:version do not count as changes", () => {
  const local: Contract = { schema: AVRO, metadata: { properties: { owner: "x" } }, ruleSet: { domainRules: [rule("r", "true")] } };
  const respaced: Contract = {
    schema: '{ "fields": [ {"type":"string", "name":"id"} ], "name": "A", "type": "record" }',
    metadata: { properties: { owner: "x", "confluent:version": "1" } },
    ruleSet: { domainRules: [rule("r", "true")], migrationRules: [] },
  };
  assert.deepEqual(differences(local, respaced), []);
  assert.deepEqual(differences({ schema: "syntax = \"proto3\";\nmessage M {\n  string a = 1;\n}", schemaType: "PROTOBUF" }, { schema: "syntax = \"proto3\"; message M { string a = 1; }", schemaType: "PROTOBUF" }), []);
  assert.deepEqual(differences(local, { ...local, schemaType: "JSON" }), ["schema"]);
});

test("versions pair in order: past the registry's they are to register, a differing pair is a conflict, extra registered ones are reported", () => {
  const v1: Contract = { schema: AVRO, ruleSet: { domainRules: [rule("a", "true")] } };
  const v2: Contract = { schema: AVRO, ruleSet: { domainRules: [rule("a", "false"), rule("b", "true")] } };
  const plan = planPush([doc("s", 2, v2), doc("s", 1, v1), doc("new", 1, v1)], new Map([["s", [stored("s", 1, v1)]]]));
  assert.equal(plan.changes, true);
  assert.equal(plan.conflicts, false);
  assert.deepEqual(plan.subjects.map((s) => [s.subject, s.registered, s.toRegister.map((v) => [v.version, v.changed, v.rules])]), [
    ["new", [], [[1, [], []]]],
    ["s", [1], [[2, ["ruleSet"], ["~a", "+b"]]]],
  ]);
  const conflict = planPush([doc("s", 1, v2)], new Map([["s", [stored("s", 1, v1), stored("s", 2, v2)]]]));
  assert.deepEqual(conflict.subjects[0]!.conflicts, [{ version: 1, registeredVersion: 1, changed: ["ruleSet"] }]);
  assert.deepEqual(conflict.subjects[0]!.notInFiles, [2]);
  assert.equal(conflict.conflicts, true);
  assert.deepEqual(ruleChanges(v2.ruleSet, v1.ruleSet).map(ruleChangeLabel), ["~a", "-b"]);
});

test("push: a registry that accepts a ruleSet without storing it is an error naming what it lost (a fake: real ccompat APIs such as Apicurio's and Karapace's do this)", async () => {
  const v1: Contract = { schema: AVRO, metadata: { properties: { owner: "x" } }, ruleSet: { domainRules: [rule("a", "true")] } };
  const dropping: Pick<SchemaRegistry, "register"> = {
    register: async (subject, contract) => stored(subject, 1, { schema: contract.schema }),
  };
  const plan = planPush([doc("s", 1, v1)], new Map());
  await assert.rejects(applyPushPlan(dropping as SchemaRegistry, plan), (e: unknown) => {
    assert.ok(isErrorCode(e, "registry"));
    assert.match((e as Error).message, /did not store metadata\.properties\.owner, ruleSet\.domainRules a/);
    return true;
  });
  // What a registry adds (confluent:version, default rules) is no loss.
  const adding: Pick<SchemaRegistry, "register"> = {
    register: async (subject, contract) =>
      stored(subject, 1, { ...contract, metadata: { properties: { owner: "x", "confluent:version": "1" } }, ruleSet: { domainRules: [rule("a", "true"), rule("default", "true")] } }),
  };
  const result = await applyPushPlan(adding as SchemaRegistry, plan);
  assert.deepEqual(result.pushed.map((p) => [p.subject, p.version]), [["s", 1]]);
  assert.deepEqual(lostParts(v1, v1), []);
});
