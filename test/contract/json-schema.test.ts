import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { CONTRACT_JSON_SCHEMA, checkContractShape } from "../../src/contract/json-schema.js";
import { COMPATIBILITY_LEVELS, ENABLE_AT, MODES_BY_PHASE, RULE_KINDS, RULE_PHASES, SCHEMA_TYPES, type Contract, type Metadata, type Rule, type RuleSet, type SchemaReference, type SubjectConfig } from "../../src/contract/model.js";
import { RULE_NAME_PATTERN, isValidRuleName } from "../../src/contract/validate.js";

type Json = Record<string, any>;
const schema = CONTRACT_JSON_SCHEMA as Json;
const defs = schema.definitions as Json;

// Every field of the model, as a compile-time-complete object: adding a field to
// the model breaks this file until the JSON Schema (and the test) know it.
const FULL_RULE: Required<Rule> = { name: "", doc: "", kind: "CONDITION", mode: "WRITE", type: "", tags: [], params: {}, expr: "", onSuccess: "", onFailure: "", disabled: false };
const FULL_RULE_SET: Required<RuleSet> = { migrationRules: [], domainRules: [], encodingRules: [], enableAt: "ALL" };
const FULL_METADATA: Required<Metadata> = { tags: {}, properties: {}, sensitive: [] };
const FULL_REFERENCE: Required<SchemaReference> = { name: "", subject: "", version: 1 };
const FULL_CONTRACT: Required<Contract> = { schema: "", schemaType: "AVRO", references: [], metadata: {}, ruleSet: {} };

describe("schema/contract.schema.json", () => {
  it("is a valid draft-07 schema", () => {
    const ajv = new Ajv({ strict: false });
    assert.equal(ajv.validateSchema(schema), true, JSON.stringify(ajv.errors));
    assert.equal(schema.$schema, "http://json-schema.org/draft-07/schema#");
  });

  it("describes every field of the model, and no more", () => {
    const keys = (o: object) => Object.keys(o).sort();
    assert.deepEqual(keys(defs.rule.properties), keys(FULL_RULE));
    assert.deepEqual(keys(defs.ruleSet.properties), keys(FULL_RULE_SET));
    assert.deepEqual(keys(defs.metadata.properties), keys(FULL_METADATA));
    assert.deepEqual(keys(defs.reference.properties), keys(FULL_REFERENCE));
    const fileOnly = ["$schema", "subject", "version", "id", "guid", "schemaFile", "config"];
    assert.deepEqual(keys(schema.properties), [...keys(FULL_CONTRACT), ...fileOnly].sort());
    // The subject config keys a file may set are the model's.
    const config: Required<Pick<SubjectConfig, "compatibility" | "compatibilityGroup" | "normalize" | "defaultMetadata" | "overrideMetadata" | "defaultRuleSet" | "overrideRuleSet">> = {
      compatibility: "BACKWARD",
      compatibilityGroup: "g",
      normalize: true,
      defaultMetadata: {},
      overrideMetadata: {},
      defaultRuleSet: {},
      overrideRuleSet: {},
    };
    assert.deepEqual(keys(schema.properties.config.properties), keys(config));
    assert.deepEqual(schema.properties.config.properties.compatibility.enum, [...COMPATIBILITY_LEVELS]);
  });

  it("uses the model's enums: schemaType, kind, enableAt, and the modes of each rule list", () => {
    assert.deepEqual(schema.properties.schemaType.enum, [...SCHEMA_TYPES]);
    assert.deepEqual(defs.rule.properties.kind.enum, [...RULE_KINDS].sort());
    assert.deepEqual(defs.ruleSet.properties.enableAt.enum, [...ENABLE_AT]);
    const itemDef: Record<(typeof RULE_PHASES)[number], string> = { domainRules: "domainRule", migrationRules: "migrationRule", encodingRules: "encodingRule" };
    for (const phase of RULE_PHASES) {
      assert.equal(defs.ruleSet.properties[phase].items.$ref, `#/definitions/${itemDef[phase]}`);
      assert.deepEqual(defs[itemDef[phase]].properties.mode.enum, [...MODES_BY_PHASE[phase]], phase);
    }
  });

  it("checks rule names with the same pattern as validateContract", () => {
    assert.equal(defs.rule.properties.name.pattern, RULE_NAME_PATTERN.source);
    for (const name of ["amountPositive", "_x", "mask-pii_2", "Ünïcode", "9lives", "a b", "a.b", "-x", "x".repeat(256), "x".repeat(257), "__proto__", "constructor", "toString", "__proto__x"]) {
      const ruleSet = { domainRules: [{ name, type: "CEL" }] };
      const ok = checkContractShape({ subject: "s", schema: "{}", ruleSet }).length === 0;
      assert.equal(ok, isValidRuleName(name), name);
    }
  });

  it("accepts one action or an \"A,B\" pair, and rejects more", () => {
    const check = (onFailure: string) => checkContractShape({ subject: "s", schema: "{}", ruleSet: { domainRules: [{ name: "r", type: "CEL", onFailure }] } });
    for (const ok of ["ERROR", "NONE", "DLQ", "myAction", "ERROR,NONE", ",NONE", "DLQ,"]) assert.deepEqual(check(ok), [], ok);
    const bad = check("ERROR,NONE,DLQ");
    assert.equal(bad.length, 1, "the anyOf branches collapse into one message");
    assert.deepEqual(bad[0]!.path, ["ruleSet", "domainRules", 0, "onFailure"]);
    assert.match(bad[0]!.message, /an action is NONE, ERROR, DLQ, a custom action name, or an "A,B" pair/);
  });

  it("offers editor completions: enums for actions and rule types, snippets for rules", () => {
    assert.ok(defs.action.anyOf[0].enum.includes("ERROR,NONE"));
    assert.deepEqual(defs.rule.properties.type.anyOf[0].enum, ["CEL", "CEL_FIELD", "JSONATA", "ENCRYPT", "ENCRYPT_PAYLOAD"]);
    assert.ok(defs.domainRule.defaultSnippets.length > 0 && defs.migrationRule.defaultSnippets.length > 0);
  });
});
