import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ContractFileError, ContractLoadError } from "../../src/contract/load-error.js";
import { loadContractFiles, scanContractFiles } from "../../src/contract/load-files.js";
import { parseContractSource, type ParseContractOptions } from "../../src/contract/parse.js";
import { isKontractError, type ContractError } from "../../src/errors.js";

/** "line:col-endLine:endCol code issue" for every error, the form the assertions below pin. */
function where(e: ContractError): string {
  const p = e.position!;
  const end = p.endLine !== undefined ? `-${p.endLine}:${p.endColumn}` : "";
  return `${p.line}:${p.column}${end} ${e.code} ${(e as ContractFileError).issue}`;
}

function errorsOf(text: string, options: ParseContractOptions = {}): string[] {
  return parseContractSource(text, "rules/t.yaml", options).errors.map(where);
}

const lines = (...l: string[]) => l.join("\n") + "\n";

describe("parseContractSource: documents", () => {
  it("reads several documents, numbering versions per subject in order of appearance", () => {
    const text = lines(
      "# yaml-language-server: $schema=../schema/contract.schema.json",
      "subject: a-value",
      `schema: '"string"'`,
      "---",
      "subject: b-value",
      "id: 7",
      `schema: '"int"'`,
      "---",
      "# a document of only comments is skipped",
      "---",
      "subject: a-value",
      `schema: '"long"'`,
      "---",
      "subject: a-value",
      "version: 10",
      `schema: '"double"'`,
      "---",
      "subject: a-value",
      `schema: '"float"'`,
    );
    const { documents, errors } = parseContractSource(text, "rules/t.yaml");
    assert.deepEqual(errors, []);
    assert.deepEqual(
      documents.map((d) => [d.subject, d.version, d.id, d.contract.schema, d.source.index]),
      [
        ["a-value", 1, undefined, '"string"', 0],
        ["b-value", 1, 7, '"int"', 1],
        ["a-value", 2, undefined, '"long"', 3],
        ["a-value", 10, undefined, '"double"', 4],
        ["a-value", 11, undefined, '"float"', 5],
      ],
    );
    assert.deepEqual(documents[2]!.source.position, { file: "rules/t.yaml", line: 11, column: 1, endLine: 13, endColumn: 1 });
  });

  it("serializes an inline YAML mapping schema to compact JSON text, keeping key order", () => {
    const text = lines(
      "subject: c-value",
      "schemaType: JSON",
      "schema:",
      "  type: object",
      "  properties:",
      "    email: {type: string, \"confluent:tags\": [PII]}",
      "  required: [email]",
    );
    const [doc] = parseContractSource(text, "t.yaml").documents;
    assert.equal(doc!.contract.schema, '{"type":"object","properties":{"email":{"type":"string","confluent:tags":["PII"]}},"required":["email"]}');
    assert.equal(doc!.contract.schemaType, "JSON");
  });

  it("accepts an Avro union given as a YAML list", () => {
    const [doc] = parseContractSource(lines("subject: u", "schema: [\"null\", string]"), "t.yaml").documents;
    assert.equal(doc!.contract.schema, '["null","string"]');
  });

  it("keeps exactly the registration fields, and locates any path of a document", () => {
    const text = lines(
      "subject: o-value",
      `schema: '"string"'`,
      "ruleSet:",
      "  domainRules:",
      "    - name: a",
      "      type: CEL",
      "      expr: message > ''",
    );
    const [doc] = parseContractSource(text, "t.yaml").documents;
    assert.deepEqual(doc!.contract, { schema: '"string"', ruleSet: { domainRules: [{ name: "a", type: "CEL", expr: "message > ''" }] } });
    assert.deepEqual(doc!.source.locate("ruleSet.domainRules[0].expr"), { file: "t.yaml", line: 7, column: 13, endLine: 7, endColumn: 25 });
    assert.deepEqual(doc!.source.locate(["ruleSet", "domainRules", 0, "type"], { key: true }), { file: "t.yaml", line: 6, column: 7, endLine: 6, endColumn: 11 });
  });

  it("resolves YAML anchors and merge keys, reporting errors at the merged document's lines", () => {
    const text = lines(
      "subject: m",
      `schema: '"string"'`,
      "ruleSet:",
      "  domainRules:",
      "    - &base",
      "      name: a",
      "      kind: CONDITION",
      "      type: CEL",
      "    - <<: *base",
      "      name: b",
      "      mode: BOGUS",
    );
    assert.deepEqual(errorsOf(text), ["11:13-11:18 contract-invalid enum"]);
  });
});

describe("parseContractSource: every error has file:line:col", () => {
  it("yaml-syntax: implicit keys, unclosed flow collections, tabs, duplicate keys", () => {
    assert.deepEqual(errorsOf(lines("subject: a", "schema: x", "  bad: indent")), ["2:9-2:10 yaml-syntax BLOCK_AS_IMPLICIT_KEY", "2:9-3:6 yaml-syntax MULTILINE_IMPLICIT_KEY"]);
    assert.deepEqual(errorsOf(lines("subject: a", "ruleSet: {domainRules: [", "foo: 1")), ["3:1-3:2 yaml-syntax BAD_INDENT", "3:1-3:2 yaml-syntax BAD_INDENT"]);
    assert.deepEqual(errorsOf("subject: a\n\tschema: x\n"), ["2:1-2:2 yaml-syntax TAB_AS_INDENT"]);
    const dup = parseContractSource(lines("subject: a", "schema: '1'", "subject: b"), "rules/t.yaml").errors;
    assert.deepEqual(dup.map(where), ["3:1-3:8 yaml-syntax DUPLICATE_KEY"]);
    assert.equal(dup[0]!.message, "rules/t.yaml:3:1: Map keys must be unique: `subject` appears twice");
    assert.ok(isKontractError(dup[0]) && dup[0] instanceof ContractFileError);
  });

  it("yaml-syntax in one document does not hide problems in the next", () => {
    const text = lines("subject: a", "schema: [", "---", "subject: b", "schema: '\"int\"'", "ruleSet: {domainRules: [{name: 1x, type: CEL}]}");
    const errors = errorsOf(text);
    assert.equal(errors[0]!.split(" ")[1], "yaml-syntax");
    assert.equal(errors.at(-1), "6:32-6:34 contract-invalid pattern");
  });

  it("contract-invalid from the JSON Schema: unknown property at its key, with a suggestion", () => {
    const r = parseContractSource(lines("subject: a", `schema: '"int"'`, "rulset:", "  domainRules: []"), "rules/t.yaml");
    assert.deepEqual(r.errors.map(where), ["3:1-3:7 contract-invalid additionalProperties"]);
    assert.match(r.errors[0]!.message, /^rules\/t\.yaml:3:1: unknown property `rulset` \(did you mean `ruleSet`\?\)/);
  });

  it("contract-invalid from the JSON Schema: enum, type (with a quoting hint), pattern, required", () => {
    const text = lines(
      "subject: a",
      `schema: '"int"'`,
      "schemaType: avro",
      "metadata:",
      "  properties:",
      "    application.major.version: 2",
      "ruleSet:",
      "  enableAt: SOMETIMES",
      "  domainRules:",
      "    - name: 2fast",
      "      type: CEL",
      "      kind: CHECK",
      "    - name: noType",
      "  migrationRules:",
      "    - name: up",
      "      type: JSONATA",
    );
    const r = parseContractSource(text, "rules/t.yaml");
    assert.deepEqual(r.errors.map(where), [
      "3:13-3:17 contract-invalid enum",
      "6:32-6:33 contract-invalid type",
      "8:13-8:22 contract-invalid enum",
      "10:13-10:18 contract-invalid pattern",
      "12:13-12:18 contract-invalid enum",
      "13:7-14:1 contract-invalid required",
      "15:7-17:1 contract-invalid required",
    ]);
    const messages = r.errors.map((e) => (e as ContractFileError).detail);
    assert.match(messages[1]!, /metadata\.properties\["application\.major\.version"\]: must be a string, got number 2 \(quote it: "2"\)/);
    assert.match(messages[5]!, /ruleSet\.domainRules\[1\]: missing required property `type`/);
    assert.match(messages[6]!, /migration rules run in mode UPGRADE, DOWNGRADE or UPDOWN/);
  });

  it("contract-invalid from the JSON Schema: a mode not allowed in its list", () => {
    const text = lines("subject: a", `schema: '"int"'`, "ruleSet:", "  domainRules:", "    - {name: a, type: CEL, mode: UPGRADE}");
    const r = parseContractSource(text, "t.yaml");
    assert.deepEqual(r.errors.map(where), ["5:34-5:41 contract-invalid enum"]);
    assert.match(r.errors[0]!.message, /domain rules run in mode WRITE, READ or WRITEREAD: got "UPGRADE"/);
  });

  it("contract-invalid from the model: duplicate names and pair actions, each reported once", () => {
    const text = lines(
      "subject: a",
      `schema: '"int"'`,
      "ruleSet:",
      "  domainRules:",
      "    - name: check",
      "      type: CEL",
      "      mode: WRITE",
      "      onFailure: ERROR,NONE",
      "  migrationRules:",
      "    - name: check",
      "      type: JSONATA",
      "      mode: UPGRADE",
    );
    const r = parseContractSource(text, "t.yaml");
    assert.deepEqual(r.errors.map(where), ["8:18-8:28 contract-invalid rule-action-pair-not-allowed", "10:13-10:18 contract-invalid rule-name-duplicate"]);
    assert.match(r.errors[0]!.message, /multiple actions only valid with WRITEREAD and UPDOWN, mode is WRITE/);
  });

  it("contract-invalid: neither or both of schema and schemaFile; a PROTOBUF schema given as a mapping", () => {
    assert.deepEqual(errorsOf(lines("subject: a")), ["1:1-2:1 contract-invalid oneOf"]);
    assert.deepEqual(errorsOf(lines("subject: a", `schema: '"int"'`, "schemaFile: x.avsc")), ["1:1-4:1 contract-invalid oneOf"]);
    assert.deepEqual(errorsOf(lines("subject: a", "schemaType: PROTOBUF", "schema: {syntax: proto3}")), ["3:9-3:25 contract-invalid type"]);
    assert.deepEqual(errorsOf(lines("- subject: a")), ["1:1-2:1 contract-invalid type"]);
  });

  it("schema-invalid: JSON errors inside an inline block, single-quoted and double-quoted schema", () => {
    const block = lines("subject: a", "schema: |", '  {"type": "record",', '   "fields": [}');
    assert.deepEqual(errorsOf(block), ["4:15 schema-invalid schema-json"]);
    assert.deepEqual(errorsOf(lines("subject: a", `schema: '{"type": ''x'', }'`)), ["2:19 schema-invalid schema-json"]);
    assert.deepEqual(errorsOf(lines("subject: a", 'schema: "{\\"type\\": \\"record\\", x}"')), ["2:33 schema-invalid schema-json"]);
    const bare = parseContractSource(lines("subject: a", "schema: string"), "t.yaml").errors;
    assert.match(bare[0]!.message, /for a primitive Avro schema write schema: '"string"'/);
    // Protobuf text is not JSON and is not checked as JSON.
    assert.deepEqual(errorsOf(lines("subject: a", "schemaType: PROTOBUF", "schema: |", '  syntax = "proto3";')), []);
  });

  it("schema-missing: schemaFile not found, or no reader given", () => {
    const readFile = (p: string) => (p === join("rules", "schemas", "ok.avsc") ? '"string"' : undefined);
    assert.deepEqual(errorsOf(lines("subject: a", "schemaFile: schemas/ok.avsc"), { readFile }), []);
    const r = parseContractSource(lines("subject: a", "schemaFile: schemas/nope.avsc"), "rules/t.yaml", { readFile });
    assert.deepEqual(r.errors.map(where), ["2:13-2:30 schema-missing schema-file-missing"]);
    assert.match(r.errors[0]!.message, /schema file schemas\/nope\.avsc not found \(looked for rules\/schemas\/nope\.avsc\)/);
    assert.deepEqual(errorsOf(lines("subject: a", "schemaFile: schemas/ok.avsc")), ["2:13-2:28 schema-missing schema-file-missing"]);
  });

  it("schema-invalid: a schema file that is not JSON is reported at its own line:col", () => {
    const readFile = () => '{\n  "type": "record",\n  "name": "X"\n  "fields": []\n}\n';
    const r = parseContractSource(lines("subject: a", "schemaFile: schemas/x.avsc"), "rules/t.yaml", { readFile });
    assert.equal(r.errors.length, 1);
    assert.deepEqual(r.errors[0]!.position, { file: join("rules", "schemas", "x.avsc"), line: 4, column: 3 });
    assert.equal(r.errors[0]!.code, "schema-invalid");
    assert.match(r.errors[0]!.message, /expected ',' or '}' \(schemaFile schemas\/x\.avsc at rules\/t\.yaml:2:13\)/);
  });

  it("contract-invalid: a .proto schemaFile without schemaType PROTOBUF", () => {
    assert.deepEqual(errorsOf(lines("subject: a", "schemaFile: p.proto"), { readFile: () => "" }), ["2:13-2:20 contract-invalid schema-type-mismatch"]);
  });

  it("contract-invalid: a version defined twice in one subject", () => {
    const text = lines("subject: a", `schema: '"int"'`, "---", "subject: a", "version: 1", `schema: '"long"'`);
    const r = parseContractSource(text, "rules/t.yaml");
    assert.deepEqual(r.errors.map(where), ["5:10-5:11 contract-invalid version-duplicate"]);
    assert.match(r.errors[0]!.message, /subject a version 1 is defined twice, first at rules\/t\.yaml:1:1/);
  });

  it("collects every problem of a file instead of stopping at the first", () => {
    const text = lines(
      "subject: a",
      `schema: '"int"'`,
      "ruleSet:",
      "  domainRules:",
      "    - {name: x, type: CEL, mode: READ, onFailure: 'A,B'}",
      "    - {name: x, type: CEL, kind: NOPE}",
      "---",
      "subject: b",
      "schemaFile: missing.avsc",
    );
    assert.deepEqual(errorsOf(text, { readFile: () => undefined }), [
      "5:51-5:56 contract-invalid rule-action-pair-not-allowed",
      "6:14-6:15 contract-invalid rule-name-duplicate",
      "6:34-6:38 contract-invalid enum",
      "9:13-9:25 schema-missing schema-file-missing",
    ]);
  });
});

describe("loadContractFiles", () => {
  const root = mkdtempSync(join(tmpdir(), "kontract-load-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("loads *.yaml and *.yml of a directory in name order, numbering versions across files", () => {
    const dir = join(root, "ok");
    mkdirSync(join(dir, "schemas"), { recursive: true });
    writeFileSync(join(dir, "schemas", "v1.avsc"), '{"type":"record","name":"A","fields":[]}');
    writeFileSync(join(dir, "a1.yaml"), lines("subject: a", "schemaFile: schemas/v1.avsc"));
    writeFileSync(join(dir, "a2.yml"), lines("subject: a", `schema: '"string"'`, "---", "subject: b", `schema: '"int"'`));
    writeFileSync(join(dir, "notes.txt"), "not a contract");
    const docs = loadContractFiles(dir);
    assert.deepEqual(
      docs.map((d) => [d.subject, d.version, d.source.file]),
      [
        ["a", 1, join(dir, "a1.yaml")],
        ["a", 2, join(dir, "a2.yml")],
        ["b", 1, join(dir, "a2.yml")],
      ],
    );
    assert.equal(docs[0]!.contract.schema, '{"type":"record","name":"A","fields":[]}');
    assert.equal(docs[0]!.source.schemaFile, join(dir, "schemas", "v1.avsc"));
    assert.deepEqual(loadContractFiles([join(dir, "a2.yml")]).map((d) => d.version), [1, 1]);
  });

  it("throws one ContractLoadError listing every problem of every file", () => {
    const dir = join(root, "bad");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "a.yaml"), lines("subject: a", "schemaFile: gone.avsc", "---", "subject: a", "schema: '{'"));
    writeFileSync(join(dir, "b.yaml"), lines("subject: b", "schema: [", ""));
    writeFileSync(join(dir, "c.yaml"), lines("subject: c", `schema: '"int"'`, "---", "subject: d", `schema: '"int"'`, "ruleSet: {domainRules: [{name: r, type: CEL, mode: WRITE, onSuccess: 'NONE,NONE'}]}"));
    writeFileSync(join(dir, "d.yaml"), lines("subject: c", "version: 1", `schema: '"long"'`));
    const expected = [
      "a.yaml:2:13 schema-missing",
      "a.yaml:5:11 schema-invalid",
      "b.yaml:4:1 yaml-syntax",
      "c.yaml:6:70 contract-invalid",
      // c version 1 is defined in c.yaml (implicitly) and d.yaml (explicitly).
      "d.yaml:2:10 contract-invalid",
    ];
    assert.throws(
      () => loadContractFiles(dir),
      (e: unknown) => {
        assert.ok(e instanceof ContractLoadError);
        assert.equal(e.name, "ContractLoadError");
        assert.deepEqual(e.errors.map((x) => `${x.position?.file.slice(dir.length + 1)}:${x.position?.line}:${x.position?.column} ${x.code}`), expected);
        assert.match(e.message, /^5 problems in contract files:\n {2}\S*a\.yaml:2:13: schemaFile: schema file gone\.avsc not found/);
        assert.match(e.message, /d\.yaml:2:10: subject c version 1 is defined twice, first at \S*c\.yaml:1:1/);
        return true;
      },
    );
    // The same problems as data, plus the documents that are fine.
    const scanned = scanContractFiles(dir);
    assert.equal(scanned.errors.length, expected.length);
    assert.deepEqual(scanned.documents.map((d) => `${d.subject}@${d.version}`), ["c@1"]);
  });

  it("with subjects, parses only the files naming them or a subject they reference, in file order", () => {
    const dir = join(root, "subjects");
    mkdirSync(dir, { recursive: true });
    const ref = "references: [{name: Ref, subject: ref-value, version: 1}]";
    writeFileSync(join(dir, "a.yaml"), lines("subject: orders-value", `schema: '"string"'`));
    writeFileSync(join(dir, "b.yaml"), lines("subject: broken", "schema: [", ""));
    writeFileSync(join(dir, "c.yaml"), lines("subject: orders-value", `schema: '{"type":"record","name":"O","fields":[{"name":"r","type":"Ref"}]}'`, ref));
    writeFileSync(join(dir, "d.yaml"), lines("subject: ref-value", `schema: '{"type":"record","name":"Ref","fields":[]}'`));
    const docs = loadContractFiles(dir, { subjects: ["orders-value"] });
    // b.yaml's syntax error is not reported: b.yaml does not name the subject or its reference.
    assert.deepEqual(
      docs.map((d) => [d.subject, d.version, d.source.file.slice(dir.length + 1)]),
      [
        ["orders-value", 1, "a.yaml"],
        ["orders-value", 2, "c.yaml"],
        ["ref-value", 1, "d.yaml"],
      ],
    );
    assert.throws(() => loadContractFiles(dir), ContractLoadError);
  });

  it("with subjects, parses every file when a subject is not named literally (a YAML escape)", () => {
    const dir = join(root, "escaped");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "a.yaml"), lines(`subject: "orders\\x2dvalue"`, `schema: '"string"'`));
    writeFileSync(join(dir, "b.yaml"), lines("subject: other-value", `schema: '"int"'`));
    assert.deepEqual(scanContractFiles(dir, { subjects: ["orders-value"] }).documents.map((d) => d.subject), ["orders-value", "other-value"]);
  });

  it("reports a missing input path", () => {
    const { errors } = scanContractFiles(join(root, "does-not-exist"));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /no such file or directory/);
  });
});

describe("parseContractSource: keys that are collections", () => {
  it("are an error at the key, and nothing is written to the process's warnings", () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on("warning", onWarning);
    try {
      const errors = parseContractSource("subject: a-value\nschema: '\"string\"'\n? {complex: x}\n: b\n", "t.yaml").errors;
      assert.deepEqual(
        errors.map((e) => [e.code, e.position?.line, e.position?.column]),
        [["yaml-syntax", 3, 3]],
      );
      assert.match(errors[0]!.message, /a key must be a plain value/);
    } finally {
      process.off("warning", onWarning);
    }
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        assert.deepEqual(warnings.map((w) => w.message), []);
        resolve();
      }),
    );
  });
});
