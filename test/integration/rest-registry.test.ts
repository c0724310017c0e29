/**
 * The REST registry client against the real registry of scripts/infra.sh (AxonOps, or any
 * Confluent-compatible registry with KONTRACT_INFRA=external): data contracts written and read
 * back through every lookup path, config defaults/overrides, error mapping, deletes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Metadata, Rule, RuleSet } from "../../src/contract/model.js";
import { isErrorCode, isKontractError, type RegistryError } from "../../src/errors.js";
import { createRestRegistry, type RestRegistry } from "../../src/registry/rest/index.js";
import { ensureInfra, uniqueName } from "../helpers/infra.js";

const METADATA: Metadata = {
  properties: { owner: "team-payments", "app.major.version": "1" },
  tags: { "**.email": ["PII"] },
  sensitive: ["owner"],
};

const AMOUNT_RULE: Rule = {
  name: "amountNonNegative",
  doc: "an order never has a negative amount",
  kind: "CONDITION",
  mode: "WRITE",
  type: "CEL",
  params: { "dlq.topic": "orders-dlq" },
  expr: "message.amount >= 0.0",
  onFailure: "DLQ",
};

const RULE_SET: RuleSet = {
  domainRules: [AMOUNT_RULE],
  migrationRules: [{ name: "totalToAmount", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "$" }],
};

/** Registries may add `confluent:version` (AxonOps always does). */
function withoutConfluentVersion(metadata: Metadata | undefined): Metadata | undefined {
  if (metadata === undefined) return undefined;
  const { "confluent:version": _ignored, ...properties } = metadata.properties ?? {};
  return { ...metadata, properties };
}

/** Confluent serialises `disabled: false`; AxonOps omits it. */
function withoutDefaultDisabled(ruleSet: RuleSet | undefined): RuleSet | undefined {
  if (ruleSet === undefined) return undefined;
  const out: RuleSet = {};
  for (const phase of ["migrationRules", "domainRules", "encodingRules"] as const) {
    const rules = ruleSet[phase]?.map(({ disabled, ...rest }) => (disabled ? { ...rest, disabled } : rest));
    if (rules && rules.length > 0) out[phase] = rules;
  }
  return out;
}

function assertContract(got: { metadata?: Metadata; ruleSet?: RuleSet }, metadata: Metadata, ruleSet: RuleSet, where: string): void {
  assert.deepEqual(withoutConfluentVersion(got.metadata), metadata, `${where}: metadata`);
  assert.deepEqual(withoutDefaultDisabled(got.ruleSet), ruleSet, `${where}: ruleSet`);
}

/** A schema text (and so an id) no other test uses: Avro namespaces allow [A-Za-z0-9_]. */
function orderSchema(extraFields: object[] = []): string {
  return JSON.stringify({
    type: "record",
    name: "Order",
    namespace: uniqueName("rest").replace(/[^A-Za-z0-9_]/g, "_"),
    fields: [{ name: "id", type: "string" }, { name: "amount", type: "double" }, ...extraFields],
  });
}

function registryError(e: unknown): RegistryError {
  assert.ok(isKontractError(e) && e.name === "RegistryError", `not a RegistryError: ${String(e)}`);
  return e as RegistryError;
}

let registry: RestRegistry;
const subjects: string[] = [];
function newSubject(prefix: string): string {
  const s = `${uniqueName(prefix)}-value`;
  subjects.push(s);
  return s;
}

before(async () => {
  const infra = await ensureInfra();
  registry = createRestRegistry({ url: infra.registryUrl, retries: 1, retryBackoffMs: 50 });
});

after(async () => {
  for (const s of subjects) {
    await registry?.deleteSubject(s, { permanent: true }).catch(() => undefined);
    await registry?.deleteConfig(s).catch(() => undefined);
  }
});

describe("REST registry client against the real registry", () => {
  it("registers metadata and ruleSet and reads them back by version, latest, id+subject, metadata and lookup", async () => {
    const subject = newSubject("rest-roundtrip");
    const schema = orderSchema();
    const stored = await registry.register(subject, { schema, metadata: METADATA, ruleSet: RULE_SET });
    assert.equal(stored.subject, subject);
    assert.equal(stored.version, 1);
    assertContract(stored, METADATA, RULE_SET, "register");

    const reader = createRestRegistry({ url: registry.urls[0] });
    assertContract(await reader.getVersion(subject, 1), METADATA, RULE_SET, "getVersion");
    assertContract(await reader.getVersion(subject, "latest"), METADATA, RULE_SET, "latest");
    const byId = await reader.getById(stored.id, subject);
    assert.equal(byId.schema, schema);
    assertContract(byId, METADATA, RULE_SET, "getById with subject");
    const byMetadata = await reader.getLatestWithMetadata(subject, { owner: "team-payments" });
    assert.equal(byMetadata.version, 1);
    assertContract(byMetadata, METADATA, RULE_SET, "getLatestWithMetadata");
    const found = await reader.lookup(subject, { schema });
    assert.equal(found.version, 1);
    assert.equal(found.id, stored.id);
    assert.deepEqual(await reader.versions(subject), [1]);
    assert.ok((await reader.subjects()).includes(subject));
  });

  it("new rules on the same schema text give version 2, and register returns version 2's rules", async () => {
    const subject = newSubject("rest-rules-v2");
    const schema = orderSchema();
    await registry.register(subject, { schema, metadata: METADATA, ruleSet: RULE_SET });
    const rules2: RuleSet = { domainRules: [{ ...AMOUNT_RULE, expr: "message.amount > 0.0" }] };
    const v2 = await registry.register(subject, { schema, metadata: METADATA, ruleSet: rules2 });
    assert.equal(v2.version, 2);
    assertContract(v2, METADATA, rules2, "register v2");
    assert.deepEqual(await registry.versions(subject), [1, 2]);
  });

  it("config defaults and overrides are stored, read back, and merged into registrations", async () => {
    const subject = newSubject("rest-config");
    const defaultRule: Rule = { name: "idPresent", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.id != ''" };
    const answer = await registry.updateConfig(subject, {
      compatibility: "BACKWARD",
      compatibilityGroup: "app.major.version",
      defaultRuleSet: { domainRules: [defaultRule] },
      overrideMetadata: { properties: { domain: "sales" } },
    });
    assert.equal(answer.compatibility, "BACKWARD");
    const config = await registry.getConfig(subject);
    assert.equal(config?.compatibilityGroup, "app.major.version");
    assert.deepEqual(withoutDefaultDisabled(config?.defaultRuleSet), { domainRules: [defaultRule] });
    assert.deepEqual(config?.overrideMetadata, { properties: { domain: "sales" } });

    const stored = await registry.register(subject, { schema: orderSchema(), metadata: { properties: { "app.major.version": "1" } } });
    assert.deepEqual(withoutDefaultDisabled(stored.ruleSet), { domainRules: [defaultRule] });
    assert.equal(stored.metadata?.properties?.domain, "sales");

    await registry.deleteConfig(subject);
    assert.equal(await registry.getConfig(subject), undefined);
  });

  it("maps not-found, invalid and incompatible answers to typed errors", async () => {
    const subject = newSubject("rest-errors");
    const schema = orderSchema();
    await registry.register(subject, { schema });

    const noSubject = registryError(await registry.getVersion(`${subject}-missing`, 1).catch((e: unknown) => e));
    assert.equal(noSubject.code, "unknown-schema");
    assert.equal(noSubject.errorCode, 40401);
    assert.match(noSubject.message, /subject '.*-missing'/);

    const noVersion = registryError(await registry.getVersion(subject, 42).catch((e: unknown) => e));
    assert.equal(noVersion.errorCode, 40402);

    const noId = registryError(await registry.getById(2_000_000_000).catch((e: unknown) => e));
    assert.equal(noId.errorCode, 40403);
    assert.equal(noId.code, "unknown-schema");

    const invalid = registryError(await registry.register(subject, { schema: "{not avro" }).catch((e: unknown) => e));
    assert.equal(invalid.errorCode, 42201);
    assert.equal(invalid.retriable, false);

    // Changing a field's type breaks BACKWARD compatibility.
    const breaking = JSON.stringify({ ...JSON.parse(schema), fields: [{ name: "id", type: "int" }] });
    const incompatible = registryError(await registry.register(subject, { schema: breaking }).catch((e: unknown) => e));
    assert.equal(incompatible.status, 409);
    assert.equal(incompatible.code, "registry");
  });

  it("deleteSubject permanent removes the subject", async () => {
    const subject = newSubject("rest-delete");
    await registry.register(subject, { schema: orderSchema() });
    assert.deepEqual(await registry.deleteSubject(subject, { permanent: true }), [1]);
    await assert.rejects(registry.getVersion(subject, "latest"), (e) => isErrorCode(e, "unknown-schema"));
  });
});
