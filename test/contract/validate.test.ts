import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Contract, Rule } from "../../src/contract/model.js";
import { formatPath, parsePath } from "../../src/contract/path.js";
import { isValidRuleName, validateContract, type ContractIssue } from "../../src/contract/validate.js";

const SCHEMA = '{"type":"record","name":"R","fields":[]}';

function withDomainRules(...rules: Partial<Rule>[]): Contract {
  return { schema: SCHEMA, ruleSet: { domainRules: rules as Rule[] } };
}

function codes(issues: ContractIssue[]): string[] {
  return issues.map((i) => `${i.path} ${i.code}`);
}

describe("validateContract", () => {
  it("accepts a complete, valid contract", () => {
    const contract: Contract = {
      schema: SCHEMA,
      schemaType: "AVRO",
      references: [{ name: "com.acme.Address", subject: "address-value", version: 1 }],
      metadata: { tags: { "com.acme.R.email": ["PII"] }, properties: { owner: "team" }, sensitive: ["owner"] },
      ruleSet: {
        domainRules: [
          { name: "a", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "true", onFailure: "DLQ", params: { "dlq.topic": "t" } },
          { name: "b", type: "CEL", expr: "true", onFailure: "ERROR,NONE" }, // mode defaults to WRITEREAD: pair allowed
        ],
        migrationRules: [{ name: "c", mode: "UPDOWN", type: "JSONATA", expr: "$", onSuccess: "NONE,NONE" }],
        encodingRules: [{ name: "d", mode: "WRITEREAD", type: "ENCRYPT_PAYLOAD" }],
        enableAt: "CLIENT",
      },
    };
    assert.deepEqual(validateContract(contract), []);
  });

  it("checks rule names: first character, allowed characters, length (Java Rule.validateName)", () => {
    const issues = validateContract(
      withDomainRules(
        { name: "9lives", type: "CEL" },
        { name: "has space", type: "CEL" },
        { name: "_ok-name_2", type: "CEL" },
        { name: "Ünïcode_ß", type: "CEL" },
        { name: "x".repeat(257), type: "CEL" },
        { name: "", type: "CEL" },
      ),
    );
    assert.deepEqual(codes(issues), [
      "ruleSet.domainRules[0].name rule-name-invalid",
      "ruleSet.domainRules[1].name rule-name-invalid",
      "ruleSet.domainRules[4].name rule-name-invalid",
      "ruleSet.domainRules[5].name rule-name-missing",
    ]);
    assert.match(issues[2]!.message, /257 characters, at most 256/);
    assert.equal(isValidRuleName("x".repeat(256)), true);
    assert.equal(isValidRuleName("a.b"), false);
  });

  it("refuses rule names that are keys of Object.prototype: they would reach prototypes of per-rule maps", () => {
    const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
    const issues = validateContract(withDomainRules(...names.map((name) => ({ name, type: "CEL" }) as Rule), { name: "proto", type: "CEL" }));
    assert.deepEqual(codes(issues), names.map((_, i) => `ruleSet.domainRules[${i}].name rule-name-invalid`));
    assert.match(issues[0]!.message, /reserved/);
    for (const name of Object.getOwnPropertyNames(Object.prototype)) assert.equal(isValidRuleName(name), false, name);
  });

  it("requires rule names to be unique across domain, migration and encoding rules", () => {
    const issues = validateContract({
      schema: SCHEMA,
      ruleSet: {
        domainRules: [{ name: "same", type: "CEL" }],
        migrationRules: [{ name: "same", mode: "UPGRADE", type: "JSONATA" }],
        encodingRules: [{ name: "same", type: "ENCRYPT_PAYLOAD" }],
      },
    });
    assert.deepEqual(codes(issues), ["ruleSet.migrationRules[0].name rule-name-duplicate", "ruleSet.encodingRules[0].name rule-name-duplicate"]);
    assert.match(issues[0]!.message, /first used at ruleSet\.domainRules\[0\]/);
  });

  it("allows only the modes of each list (MODES_BY_PHASE)", () => {
    const issues = validateContract({
      schema: SCHEMA,
      ruleSet: {
        domainRules: [{ name: "a", mode: "UPGRADE", type: "CEL" }],
        encodingRules: [{ name: "b", mode: "UPDOWN", type: "ENCRYPT_PAYLOAD" }],
        migrationRules: [{ name: "c", mode: "WRITE", type: "JSONATA" }, { name: "d", type: "JSONATA" }],
      },
    });
    assert.deepEqual(codes(issues), [
      "ruleSet.domainRules[0].mode rule-mode-not-allowed",
      "ruleSet.migrationRules[0].mode rule-mode-not-allowed",
      "ruleSet.migrationRules[1].mode rule-mode-not-allowed",
      "ruleSet.encodingRules[0].mode rule-mode-not-allowed",
    ]);
    // A migration rule without a mode gets Java's default, WRITEREAD, which the registry rejects.
    assert.match(issues[2]!.message, /defaults to WRITEREAD/);
  });

  it("allows the pair action form only for WRITEREAD and UPDOWN rules", () => {
    const issues = validateContract({
      schema: SCHEMA,
      ruleSet: {
        domainRules: [
          { name: "w", mode: "WRITE", type: "CEL", onFailure: "ERROR,NONE" },
          { name: "r", mode: "READ", type: "CEL", onSuccess: ",NONE" },
          { name: "wr", mode: "WRITEREAD", type: "CEL", onFailure: "ERROR,NONE", onSuccess: "NONE,DLQ" },
          { name: "three", mode: "WRITEREAD", type: "CEL", onFailure: "ERROR,NONE,DLQ" },
        ],
        migrationRules: [
          { name: "u", mode: "UPGRADE", type: "JSONATA", onFailure: "ERROR,ERROR" },
          { name: "ud", mode: "UPDOWN", type: "JSONATA", onFailure: "ERROR,NONE" },
        ],
      },
    });
    assert.deepEqual(codes(issues), [
      "ruleSet.domainRules[0].onFailure rule-action-pair-not-allowed",
      "ruleSet.domainRules[1].onSuccess rule-action-pair-not-allowed",
      "ruleSet.domainRules[3].onFailure rule-action-invalid",
      "ruleSet.migrationRules[0].onFailure rule-action-pair-not-allowed",
    ]);
  });

  it("checks the kind, mode and enableAt enums and that a type is given", () => {
    const issues = validateContract({
      schema: SCHEMA,
      ruleSet: {
        domainRules: [{ name: "a", kind: "VALIDATE", mode: "ALWAYS" } as unknown as Rule, { name: "b", type: "" }],
        enableAt: "EVERYWHERE" as never,
      },
    });
    assert.deepEqual(codes(issues), [
      "ruleSet.enableAt enable-at-invalid",
      "ruleSet.domainRules[0].type rule-type-missing",
      "ruleSet.domainRules[0].kind rule-kind-invalid",
      "ruleSet.domainRules[0].mode rule-mode-invalid",
      "ruleSet.domainRules[1].type rule-type-missing",
    ]);
  });

  it("checks the schema, schemaType, references and metadata shapes", () => {
    const issues = validateContract({
      schema: "",
      schemaType: "XML" as never,
      references: [{ name: "x", subject: "", version: 1.5 }],
      metadata: { tags: { a: "PII" as never }, properties: { "application.major.version": 2 as never }, sensitive: "x" as never },
    });
    assert.deepEqual(codes(issues), [
      "schema schema-required",
      "schemaType schema-type-invalid",
      "references[0].subject reference-invalid",
      "references[0].version reference-invalid",
      'metadata.tags.a metadata-invalid',
      'metadata.properties["application.major.version"] metadata-invalid',
      "metadata.sensitive metadata-invalid",
    ]);
  });

  it("is defensive about any JSON: wrong shapes become issues, not exceptions", () => {
    assert.deepEqual(codes(validateContract(null as unknown as Contract)), [" not-an-object"]);
    const issues = validateContract({ schema: SCHEMA, ruleSet: { domainRules: "nope", migrationRules: [42] } } as unknown as Contract);
    assert.deepEqual(codes(issues), ["ruleSet.domainRules field-type", "ruleSet.migrationRules[0] field-type"]);
    const fields = validateContract(withDomainRules({ name: "a", type: "CEL", tags: "PII", params: { n: 1 }, disabled: "no", expr: 3 } as unknown as Rule));
    assert.deepEqual(codes(fields), [
      "ruleSet.domainRules[0].expr field-type",
      "ruleSet.domainRules[0].tags field-type",
      "ruleSet.domainRules[0].params.n field-type",
      "ruleSet.domainRules[0].disabled field-type",
    ]);
  });
});

describe("paths", () => {
  it("formats and parses dotted, indexed and quoted segments", () => {
    const segments = ["metadata", "properties", "application.major.version"];
    assert.equal(formatPath(segments), 'metadata.properties["application.major.version"]');
    assert.deepEqual(parsePath(formatPath(segments)), segments);
    assert.deepEqual(parsePath("ruleSet.domainRules[2].mode"), ["ruleSet", "domainRules", 2, "mode"]);
    assert.deepEqual(parsePath("/ruleSet/domainRules/2/params/dlq.topic"), ["ruleSet", "domainRules", 2, "params", "dlq.topic"]);
    assert.deepEqual(parsePath("/metadata/tags/a~1b"), ["metadata", "tags", "a/b"]);
    assert.deepEqual(parsePath(""), []);
  });
});
