/** createMemoryRegistry: users' test registry. Strict by default, lenient like a mock; configs; a push target. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Contract } from "../../src/contract/model.js";
import { yamlToContracts } from "../../src/contract/yaml.js";
import { isErrorCode } from "../../src/errors.js";
import { createMemoryRegistry } from "../../src/registry/memory-registry.js";
import { configuredSubjects, planPush, readRegistryState, readSubjectConfigs } from "../../src/registry/plan.js";
import { applyPushPlan } from "../../src/registry/push.js";

const ORDER: Contract = { schema: JSON.stringify({ type: "record", name: "Order", fields: [{ name: "id", type: "string" }] }) };

describe("createMemoryRegistry", () => {
  it("starts empty, registers idempotently, and shares an id for the same contract across subjects", async () => {
    const registry = createMemoryRegistry();
    assert.deepEqual(await registry.subjects(), []);
    const a = await registry.register("a-value", ORDER);
    assert.deepEqual([a.version, a.id], [1, 1]);
    assert.deepEqual([(await registry.register("a-value", ORDER)).version, (await registry.register("b-value", ORDER)).id], [1, 1]);
    const ruled = await registry.register("a-value", { ...ORDER, ruleSet: { domainRules: [{ name: "r", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "true" }] } });
    assert.deepEqual([ruled.version, ruled.id], [2, 2]);
    assert.equal((await registry.getById(2)).ruleSet?.domainRules?.[0]?.name, "r");
  });

  it("refuses what a real registry refuses; lenient accepts it, as mock registries do", async () => {
    const broken: Contract = { schema: "{not json" };
    const dangling: Contract = { ...ORDER, references: [{ name: "x.avsc", subject: "nowhere", version: 1 }] };
    const badRule: Contract = { ...ORDER, ruleSet: { domainRules: [{ name: "r", kind: "CONDITION", mode: "UPGRADE", type: "CEL", expr: "true" }] } };
    const strict = createMemoryRegistry();
    await assert.rejects(strict.register("s", broken), (e: unknown) => isErrorCode(e, "schema-invalid") && /not valid JSON/.test((e as Error).message));
    await assert.rejects(strict.register("s", dangling), /reference x.avsc points to nowhere version 1, which does not exist/);
    await assert.rejects(strict.register("s", badRule), (e: unknown) => isErrorCode(e, "contract-invalid"));
    const lenient = createMemoryRegistry({ lenient: true });
    for (const c of [broken, dangling, badRule]) assert.ok((await lenient.register("s", c)).id > 0);
    assert.deepEqual(await lenient.versions("s"), [1, 2, 3]);
  });

  it("keeps subject configs: seeded from the documents' config, merged on update", async () => {
    const docs = yamlToContracts(`subject: orders-value\nconfig: {compatibility: BACKWARD}\nschema: {type: record, name: O, fields: [{name: id, type: string}]}\n`);
    const registry = createMemoryRegistry({ documents: docs });
    assert.deepEqual(await registry.getConfig("orders-value"), { compatibility: "BACKWARD" });
    assert.equal(await registry.getConfig("other-value"), undefined);
    assert.deepEqual(await registry.updateConfig("orders-value", { compatibilityGroup: "major" }), { compatibility: "BACKWARD", compatibilityGroup: "major" });
    const read = await registry.getConfig("orders-value");
    read!.compatibility = "NONE";
    assert.equal((await registry.getConfig("orders-value"))?.compatibility, "BACKWARD", "callers get copies");
  });

  it("is a push target: plan, push with config, then nothing to do", async () => {
    const docs = yamlToContracts(`subject: orders-value
config: {compatibility: NONE}
schema: {type: record, name: O, fields: [{name: id, type: string}]}
---
subject: orders-value
schema: {type: record, name: O, fields: [{name: id, type: string}]}
ruleSet:
  domainRules: [{name: r, kind: CONDITION, mode: WRITE, type: CEL, expr: "size(message.id) > 0"}]
`);
    const registry = createMemoryRegistry();
    const plan = async () => planPush(docs, await readRegistryState(registry, ["orders-value"]), await readSubjectConfigs(registry, configuredSubjects(docs)));
    const first = await plan();
    assert.deepEqual(first.subjects[0]!.toRegister.map((v) => v.version), [1, 2]);
    const result = await applyPushPlan(registry, first);
    assert.deepEqual([result.pushed.length, result.configured], [2, ["orders-value"]]);
    assert.equal((await plan()).changes, false);
  });
});
