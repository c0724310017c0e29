import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { ContractLoadError } from "../../src/contract/load-error.js";
import { parseContractSource } from "../../src/contract/parse.js";
import type { Contract } from "../../src/contract/model.js";
import { RegistryError, isErrorCode } from "../../src/errors.js";
import { createFileRegistry } from "../../src/registry/file-registry.js";

const lines = (...l: string[]) => l.join("\n") + "\n";
const RULES_DIR = fileURLToPath(new URL("../../rules", import.meta.url));

function registryOf(text: string) {
  const { documents, errors } = parseContractSource(text, "rules/t.yaml");
  assert.deepEqual(errors, []);
  return createFileRegistry({ documents });
}

/** Asserts a RegistryError "unknown-schema" whose message names what was asked. */
async function rejectsUnknown(p: Promise<unknown>, message: RegExp, errorCode: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RegistryError, String(e));
    assert.ok(isErrorCode(e, "unknown-schema"));
    assert.equal(e.status, 404);
    assert.equal(e.errorCode, errorCode);
    assert.match(e.message, message);
    return true;
  });
}

const THREE_SUBJECTS = lines(
  "subject: orders-value",
  `schema: '{"type":"record","name":"O","fields":[]}'`,
  "metadata: {properties: {application.major.version: '1', team: a}}",
  "---",
  "subject: orders-value",
  `schema: '{"type":"record","name":"O","fields":[{"name":"x","type":"int","default":0}]}'`,
  "metadata: {properties: {application.major.version: '2', team: a}}",
  "ruleSet: {domainRules: [{name: r, type: CEL, expr: 'true'}]}",
  "---",
  "subject: orders-value",
  `schema: '{"type":"record","name":"O","fields":[{"name":"x","type":"int","default":0}]}'`,
  "metadata: {properties: {application.major.version: '1', team: b}}",
  "---",
  "subject: audit-value",
  `schema: '{"type":"record","name":"O","fields":[]}'`,
  "metadata: {properties: {application.major.version: '1', team: a}}",
  "---",
  "subject: clicks-value",
  `schema: '"string"'`,
);

describe("createFileRegistry", () => {
  it("assigns ids deterministically in (subject, version) order; identical contracts share an id", async () => {
    const r = registryOf(THREE_SUBJECTS);
    assert.deepEqual(
      r.all().map((c) => `${c.subject}@${c.version}#${c.id}`),
      // audit-value@1 and orders-value@1 are the same schema, metadata and ruleSet: one id.
      ["audit-value@1#1", "clicks-value@1#2", "orders-value@1#1", "orders-value@2#3", "orders-value@3#4"],
    );
    // Same schema text as v2 but other rules and metadata: a different id (Java Schema.updateHash covers them).
    assert.notEqual((await r.getVersion("orders-value", 2)).id, (await r.getVersion("orders-value", 3)).id);
    const again = registryOf(THREE_SUBJECTS);
    assert.deepEqual(again.all(), r.all(), "the same files give the same ids and guids");
  });

  it("keeps explicit ids and continues after the highest one", async () => {
    const r = registryOf(lines("subject: b", "id: 50", `schema: '"int"'`, "---", "subject: a", `schema: '"long"'`, "---", "subject: c", `schema: '"int"'`, "---", "subject: a", "id: 7", `schema: '"float"'`));
    assert.deepEqual(r.all().map((c) => `${c.subject}@${c.version}#${c.id}`), ["a@1#51", "a@2#7", "b@1#50", "c@1#50"]);
  });

  it("rejects one explicit id for two different schemas, at the id's line", () => {
    const { documents } = parseContractSource(lines("subject: a", "id: 3", `schema: '"int"'`, "---", "subject: b", "id: 3", `schema: '"long"'`), "rules/t.yaml");
    assert.throws(
      () => createFileRegistry({ documents }),
      (e: unknown) => e instanceof ContractLoadError && /rules\/t\.yaml:6:5: id: id 3 is already used for a different schema \(a version 1 at rules\/t\.yaml:2:5\)/.test(e.message),
    );
  });

  it("getById returns the schema with its metadata and ruleSet", async () => {
    const r = registryOf(THREE_SUBJECTS);
    const v2 = await r.getVersion("orders-value", 2);
    const byId = await r.getById(v2.id);
    assert.deepEqual(byId, {
      id: v2.id,
      guid: v2.guid,
      schema: '{"type":"record","name":"O","fields":[{"name":"x","type":"int","default":0}]}',
      metadata: { properties: { "application.major.version": "2", team: "a" } },
      ruleSet: { domainRules: [{ name: "r", type: "CEL", expr: "true" }] },
    });
    assert.deepEqual(await r.getByGuid(v2.guid!), byId);
    assert.match(v2.guid!, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("getVersion: numbers, latest and -1", async () => {
    const r = registryOf(THREE_SUBJECTS);
    assert.equal((await r.getVersion("orders-value", "latest")).version, 3);
    assert.equal((await r.getVersion("orders-value", -1)).version, 3);
    assert.equal((await r.getVersion("orders-value", 1)).metadata?.properties?.team, "a");
    assert.deepEqual(await r.versions("orders-value"), [1, 2, 3]);
    assert.deepEqual(await r.subjects(), ["audit-value", "clicks-value", "orders-value"]);
  });

  it("getLatestWithMetadata: the latest version whose properties contain all pairs", async () => {
    const r = registryOf(THREE_SUBJECTS);
    assert.equal((await r.getLatestWithMetadata("orders-value", { "application.major.version": "1" })).version, 3);
    assert.equal((await r.getLatestWithMetadata("orders-value", { "application.major.version": "1", team: "a" })).version, 1);
    assert.equal((await r.getLatestWithMetadata("orders-value", { "application.major.version": "2" })).version, 2);
    assert.equal((await r.getLatestWithMetadata("orders-value", {})).version, 3);
    await rejectsUnknown(r.getLatestWithMetadata("orders-value", { "application.major.version": "3" }), /no version of subject orders-value has metadata properties application\.major\.version=3/, 40402);
  });

  it("lookup: finds the version of a schema; metadata and ruleSet count only when given", async () => {
    const r = registryOf(THREE_SUBJECTS);
    const schema = '{"type":"record","name":"O","fields":[{"name":"x","type":"int","default":0}]}';
    assert.equal((await r.lookup("orders-value", { schema })).version, 3, "the latest version with that schema");
    assert.equal((await r.lookup("orders-value", { schema: schema.replace(/,/g, ", ") })).version, 3, "JSON whitespace does not matter");
    const withRules = { schema, ruleSet: { domainRules: [{ name: "r", type: "CEL", expr: "true" }] } } satisfies Contract;
    assert.equal((await r.lookup("orders-value", withRules)).version, 2);
    await rejectsUnknown(r.lookup("orders-value", { schema: '"int"' }), /schema not found under subject orders-value/, 40403);
    await rejectsUnknown(r.lookup("orders-value", { schema, schemaType: "JSON" }), /schema not found/, 40403);
  });

  it("unknown subject, version, id and guid are RegistryError unknown-schema naming what was asked", async () => {
    const r = registryOf(THREE_SUBJECTS);
    await rejectsUnknown(r.getVersion("nope-value", 1), /subject nope-value not found/, 40401);
    await rejectsUnknown(r.getVersion("orders-value", 9), /version 9 of subject orders-value not found \(versions: 1, 2, 3\)/, 40402);
    await rejectsUnknown(r.getById(999), /schema id 999 not found/, 40403);
    await rejectsUnknown(r.getByGuid("00000000-0000-0000-0000-000000000000"), /schema guid 00000000-0000-0000-0000-000000000000 not found/, 40403);
    await rejectsUnknown(r.versions("nope-value"), /subject nope-value not found/, 40401);
    await rejectsUnknown(r.getLatestWithMetadata("nope-value", {}), /subject nope-value not found/, 40401);
  });

  it("register adds in memory: new version, shared id for the same content, idempotent", async () => {
    const r = registryOf(THREE_SUBJECTS);
    const a = await r.register("new-value", { schema: '"string"' });
    assert.deepEqual([a.subject, a.version, a.id], ["new-value", 1, 2], "same content as clicks-value@1, so its id");
    assert.deepEqual(await r.register("new-value", { schema: '"string"' }), a, "registering again returns the existing version");
    const b = await r.register("new-value", { schema: '"bytes"' });
    assert.deepEqual([b.version, b.id], [2, 5]);
    assert.deepEqual(await r.getById(5), { id: 5, guid: b.guid, schema: '"bytes"' });
    assert.equal(r.sourceOf("new-value", 2), undefined);
  });

  it("register inherits metadata and ruleSet from the latest version when omitted, like the registry", async () => {
    const r = registryOf(THREE_SUBJECTS);
    const v4 = await r.register("orders-value", { schema: '{"type":"record","name":"O","fields":[{"name":"y","type":"int","default":1}]}' });
    assert.equal(v4.version, 4);
    assert.deepEqual(v4.metadata, { properties: { "application.major.version": "1", team: "b" } });
    assert.equal(v4.ruleSet, undefined);
  });

  it("register rejects an invalid contract with 422", async () => {
    const r = registryOf(THREE_SUBJECTS);
    await assert.rejects(r.register("x-value", { schema: '"int"', ruleSet: { domainRules: [{ name: "1x", type: "CEL" }] } }), (e: unknown) => {
      assert.ok(e instanceof RegistryError && e.status === 422 && e.errorCode === 42201 && e.code === "contract-invalid");
      assert.match(e.message, /ruleSet\.domainRules\[0\]\.name/);
      return true;
    });
    await assert.rejects(r.register("x-value", { schema: "{" }), (e: unknown) => isErrorCode(e, "schema-invalid"));
    await assert.rejects(r.register("x-value", { schema: '"int"', references: [{ name: "n", subject: "ghost", version: 1 }] }), /reference n points to ghost version 1/);
  });

  it("returns copies: callers cannot change what the registry holds", async () => {
    const r = registryOf(THREE_SUBJECTS);
    const v2 = await r.getVersion("orders-value", 2);
    v2.ruleSet!.domainRules![0]!.expr = "false";
    assert.equal((await r.getVersion("orders-value", 2)).ruleSet!.domainRules![0]!.expr, "true");
  });

  it("resolves references against other subjects of the same files, and reports dangling ones at their line", async () => {
    const ok = registryOf(
      lines(
        "subject: address-value",
        `schema: '{"type":"record","name":"Address","namespace":"com.acme","fields":[]}'`,
        "---",
        "subject: customer-value",
        `schema: '{"type":"record","name":"C","fields":[{"name":"a","type":"com.acme.Address"}]}'`,
        "references: [{name: com.acme.Address, subject: address-value, version: 1}]",
      ),
    );
    const c = await ok.getVersion("customer-value", 1);
    const ref = c.references![0]!;
    assert.equal((await ok.getVersion(ref.subject, ref.version)).schema.includes("Address"), true);

    const { documents } = parseContractSource(lines("subject: c", `schema: '"int"'`, "references:", "  - {name: x, subject: address-value, version: 2}"), "rules/t.yaml");
    assert.throws(
      () => createFileRegistry({ documents }),
      (e: unknown) => e instanceof ContractLoadError && /rules\/t\.yaml:4:5: references\[0\]: reference x points to address-value version 2, but subject address-value is not defined in these files/.test(e.message),
    );
  });

  it("loads a directory: the shipped rules/ examples", async () => {
    const r = createFileRegistry({ dir: RULES_DIR });
    assert.deepEqual(await r.subjects(), ["customers-value", "orders-value", "payments-value"]);
    const v1 = await r.getLatestWithMetadata("orders-value", { "application.major.version": "1" });
    assert.equal(v1.version, 1);
    assert.equal((await r.getVersion("orders-value", "latest")).version, 2);
    const source = r.sourceOf("orders-value", 2)!;
    assert.equal(source.file, join(RULES_DIR, "orders.yaml"));
    const expectedLine = readFileSync(source.file, "utf8").split("\n").findIndex((l) => l.includes("expr: \"$merge")) + 1;
    assert.deepEqual([source.locate("ruleSet.migrationRules[0].expr").line, source.locate("ruleSet.migrationRules[0].expr").column], [expectedLine, 13]);
  });

  it("surfaces load problems of a directory as ContractLoadError", () => {
    assert.throws(() => createFileRegistry({ dir: "/nonexistent/kontract-rules" }), ContractLoadError);
  });
});
