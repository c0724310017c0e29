import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { loadContractFiles } from "../../src/contract/load-files.js";
import type { Contract, RegisteredContract } from "../../src/contract/model.js";
import { contractToYaml, contractsToYaml, documentToEntry, yamlToContract, yamlToContracts } from "../../src/contract/yaml.js";
import { ContractLoadError } from "../../src/contract/load-error.js";

const RULES_DIR = fileURLToPath(new URL("../../rules", import.meta.url));

/** A registry response body with every feature the model has. */
const REGISTERED: RegisteredContract = {
  subject: "orders-value",
  version: 3,
  id: 100042,
  guid: "0b5e9c1a-3f1e-4f7a-9b0e-2d6f1f5c9a11",
  schemaType: "AVRO",
  schema: '{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"id","type":"string"},{"name":"email","type":"string","confluent:tags":["PII"]},{"name":"amount","type":"double","default":0.5},{"name":"status","type":{"type":"enum","name":"S","symbols":["A","B"]}},{"name":"address","type":["null","com.acme.Address"],"default":null}]}',
  references: [{ name: "com.acme.Address", subject: "address-value", version: 2 }],
  metadata: {
    tags: { "com.acme.Order.email": ["PII", "EMAIL"], "**.street": ["PII"] },
    properties: { "application.major.version": "2", owner: "orders-team", "confluent:version": "3", retries: "3", flag: "true", nothing: "null" },
    sensitive: ["owner"],
  },
  ruleSet: {
    domainRules: [
      {
        name: "amountPositive",
        doc: "Amount must be positive.\nSecond line: with a colon # and a hash",
        kind: "CONDITION",
        mode: "WRITEREAD",
        type: "CEL",
        tags: [],
        params: { "dlq.topic": "orders-dlq", "dlq.auto.flush": "true", count: "10" },
        expr: "message.amount > 0 ; message.status == 'A'",
        onSuccess: "NONE,NONE",
        onFailure: "DLQ,ERROR",
        disabled: false,
      },
      { name: "mask", kind: "TRANSFORM", mode: "WRITE", type: "CEL_FIELD", tags: ["PII"], expr: "typeName == 'STRING' ; '***'", disabled: true },
      { name: "readSide", mode: "WRITEREAD", type: "CEL", expr: "true", onFailure: ",NONE" },
    ],
    migrationRules: [
      { name: "up", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "$merge([$sift($, function($v, $k) {$k != 'a'}), {'b': $.a}])" },
      { name: "both", kind: "TRANSFORM", mode: "UPDOWN", type: "JSONATA", expr: "$", onFailure: "ERROR,NONE" },
    ],
    encodingRules: [
      {
        name: "encrypt",
        kind: "TRANSFORM",
        mode: "WRITEREAD",
        type: "ENCRYPT_PAYLOAD",
        params: { "encrypt.kek.name": "kek1", "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "mykey" },
        onFailure: "ERROR,NONE",
      },
    ],
    enableAt: "CLIENT",
  },
};

function body(r: RegisteredContract): Contract {
  const { subject: _s, version: _v, id: _i, guid: _g, ...contract } = r;
  return contract;
}

describe("registry JSON -> YAML -> registry JSON", () => {
  it("is identical for a contract using every field (values, params, tags, disabled, pair actions, sensitive, references)", () => {
    const yaml = contractToYaml(REGISTERED);
    const doc = yamlToContract(yaml, { file: "orders.yaml" });
    assert.deepEqual(doc.contract, body(REGISTERED));
    assert.deepEqual(documentToEntry(doc), REGISTERED);
  });

  it("is identical for a plain registration body given with a subject", () => {
    const yaml = contractToYaml(body(REGISTERED), "orders-value", { includeIds: false });
    const doc = yamlToContract(yaml);
    assert.equal(doc.subject, "orders-value");
    assert.deepEqual(doc.contract, body(REGISTERED));
  });

  it("writes a compact JSON schema as a readable YAML mapping, and keeps any other text verbatim", () => {
    const compact = contractToYaml(REGISTERED);
    assert.equal(typeof parse(compact).schema, "object");
    assert.match(compact, /symbols: \[A, B\]/);

    const pretty = { schema: '{\n  "type": "string"\n}\n', schemaType: "JSON" as const };
    const prettyYaml = contractToYaml(pretty, "p");
    assert.equal(typeof parse(prettyYaml).schema, "string");
    assert.deepEqual(yamlToContract(prettyYaml).contract, pretty);

    // Numbers JSON.stringify would rewrite (1.0 -> 1) force the text form too.
    const lossy = { schema: '{"type":"fixed","name":"F","size":16.0}' };
    assert.equal(typeof parse(contractToYaml(lossy, "f")).schema, "string");
    assert.deepEqual(yamlToContract(contractToYaml(lossy, "f")).contract, lossy);

    const text = contractToYaml(REGISTERED, undefined, { schemaStyle: "text" });
    assert.equal(parse(text).schema, REGISTERED.schema);
  });

  it("keeps Protobuf text and a primitive Avro schema verbatim", () => {
    const proto: Contract = { schemaType: "PROTOBUF", schema: 'syntax = "proto3";\n\nmessage A {\n  string b = 1 [(confluent.field_meta).tags = "PII"];\n}\n' };
    assert.deepEqual(yamlToContract(contractToYaml(proto, "a")).contract, proto);
    const primitive: Contract = { schema: '"string"' };
    assert.deepEqual(yamlToContract(contractToYaml(primitive, "a")).contract, primitive);
  });

  it("survives strings YAML would otherwise retype or mangle", () => {
    const tricky = ["true", "no", "null", "~", "0x1F", "1e3", "2024-01-01", "- item", "key: value", "# hash", "  leading", "trailing  ", "tab\there", "multi\nline\n", "quote ' and \"", "{flow}", "[x]", "*alias", "&anchor", "!tag", "@at", "%pct", "ünï ✓", ""];
    for (const s of tricky) {
      const contract: Contract = {
        schema: '"string"',
        metadata: { properties: { p: s }, tags: { [s || "x"]: [s] } },
        ruleSet: { domainRules: [{ name: "r", type: "CEL", expr: s, doc: s, params: { [s || "k"]: s } }] },
      };
      assert.deepEqual(yamlToContract(contractToYaml(contract, "s")).contract, contract, JSON.stringify(s));
    }
  });

  it("adds the yaml-language-server comment for editors, and it parses back", () => {
    const yaml = contractToYaml(REGISTERED, undefined, { schemaComment: "../schema/contract.schema.json" });
    assert.ok(yaml.startsWith("# yaml-language-server: $schema=../schema/contract.schema.json\n"));
    assert.deepEqual(yamlToContract(yaml).contract, body(REGISTERED));
  });

  it("writes schemaFile instead of the schema when asked", () => {
    const yaml = contractToYaml(REGISTERED, undefined, { schemaFile: "schemas/orders.avsc" });
    assert.equal(parse(yaml).schemaFile, "schemas/orders.avsc");
    const doc = yamlToContract(yaml, { file: "rules/orders.yaml", readFile: (p) => (p === "rules/schemas/orders.avsc" ? REGISTERED.schema : undefined) });
    assert.deepEqual(doc.contract, body(REGISTERED));
  });

  it("requires a subject", () => {
    assert.throws(() => contractToYaml(body(REGISTERED)), /a subject is required/);
  });
});

describe("YAML (with schemaFile) -> JSON -> YAML -> JSON", () => {
  it("is stable for every example in rules/", () => {
    const loaded = loadContractFiles(RULES_DIR);
    assert.ok(loaded.some((d) => d.source.schemaFile !== undefined), "the examples use schemaFile");
    const json1 = loaded.map(documentToEntry);
    const yaml1 = contractsToYaml(json1);
    const json2 = yamlToContracts(yaml1, { file: "all.yaml" }).map(documentToEntry);
    assert.deepEqual(json2, json1);
    const yaml2 = contractsToYaml(json2);
    assert.equal(yaml2, yaml1, "the YAML rendering is a fixed point");
    assert.deepEqual(yamlToContracts(yaml2).map(documentToEntry), json1);
  });

  it("keeps explicit and implicit versions apart when several subjects share a file", () => {
    const yaml = contractsToYaml([
      { subject: "a", version: 1, schema: '"int"' },
      { subject: "b", version: 1, schema: '"int"' },
      { subject: "a", version: 2, schema: '"long"' },
    ]);
    assert.deepEqual(yamlToContracts(yaml).map((d) => `${d.subject}@${d.version}`), ["a@1", "b@1", "a@2"]);
  });
});

describe("yamlToContract", () => {
  it("throws ContractLoadError with positions for invalid YAML", () => {
    assert.throws(
      () => yamlToContract("subject: a\nschema: '\"int\"'\nruleSet: {domainRules: [{name: x}]}\n", { file: "x.yaml" }),
      (e: unknown) => e instanceof ContractLoadError && e.errors.length === 1 && /x\.yaml:3:25: ruleSet\.domainRules\[0\]: missing required property `type`/.test(e.message),
    );
  });

  it("wants exactly one document", () => {
    assert.throws(() => yamlToContract("subject: a\nschema: '1'\n---\nsubject: b\nschema: '1'\n"), /expected one contract document, found 2/);
  });
});
