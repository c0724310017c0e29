/**
 * The linter's behaviour beyond single defects (the corpus covers those):
 * CEL_FIELD typing per field, guards, lenient loading, configuration,
 * suppression comments, several files, and a mutation check proving the
 * valid corpus is really type-checked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { lintSources, parseConfig, type Diagnostic, type LintSource } from "../../src/lint/index.js";

const AVRO = `schema:
  type: record
  name: Order
  namespace: acme
  fields:
    - {name: id, type: string}
    - {name: qty, type: int, "confluent:tags": [PII]}
    - {name: email, type: string, "confluent:tags": [PII]}
    - {name: note, type: ["null", string], default: null, "confluent:tags": [NOTE]}
    - {name: amount, type: double}
`;

function lint(text: string, options: Parameters<typeof lintSources>[1] = {}, file = "c.yaml"): Diagnostic[] {
  return [...lintSources([{ file, text }], options).diagnostics];
}

function codes(ds: readonly Diagnostic[]): string[] {
  return ds.map((d) => `${d.line}:${d.code}`);
}

const rule = (r: string) => `subject: orders-value\nruleSet:\n  domainRules:\n    - ${r}\n${AVRO}`;

test("CEL_FIELD: a typeName guard limits the body to the fields it lets through", () => {
  const guarded = rule(`{name: m, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [PII], expr: "typeName == 'STRING' ; value.upperAscii()"}`);
  assert.deepEqual(lint(guarded), []);
  const unguarded = lint(rule(`{name: m, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [PII], expr: "value.upperAscii()"}`));
  assert.deepEqual(codes(unguarded), ["4:cel-no-matching-overload"]);
  // Only the int field fails: the message says which.
  assert.match(unguarded[0]!.message, /for field acme\.Order\.qty/);
});

test("CEL_FIELD: value and message are typed per field; a transform must fit the field", () => {
  assert.deepEqual(lint(rule(`{name: m, kind: CONDITION, type: CEL_FIELD, tags: [PII], expr: "message.id != '' && name in ['qty', 'email']"}`)), []);
  // A nullable field may be set to null; a string field may not become an int.
  assert.deepEqual(lint(rule(`{name: m, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [NOTE], expr: "value == null ? null : value.trim()"}`)), []);
  const bad = lint(rule(`{name: m, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [NOTE], expr: "size(value)"}`));
  assert.deepEqual(codes(bad), ["4:cel-transform-type"]);
  assert.match(bad[0]!.message, /int.*nullable\(string\)/);
});

test("CEL: a whole-message transform may return the message or a map of its fields", () => {
  assert.deepEqual(lint(rule(`{name: t, kind: TRANSFORM, mode: WRITE, type: CEL, expr: "message"}`)), []);
  assert.deepEqual(lint(rule(`{name: t, kind: TRANSFORM, mode: WRITE, type: CEL, expr: "{'id': message.id, 'qty': 1, 'email': 'x', 'note': null, 'amount': 1.0}"}`)), []);
  assert.deepEqual(codes(lint(rule(`{name: t, kind: TRANSFORM, mode: WRITE, type: CEL, expr: "{'id': 1}"}`))), ["4:cel-transform-type"]);
});

test("migration rules see the message as JSON: CEL there is untyped", () => {
  const text = `subject: orders-value\nruleSet:\n  migrationRules:\n    - {name: up, kind: CONDITION, mode: UPGRADE, type: CEL, expr: "message.anything == 'x'"}\n${AVRO}`;
  assert.deepEqual(lint(text), []);
});

test("cel.ignore.guard.separator keeps ';' inside the expression (param or metadata property)", () => {
  const expr = `expr: "message.email.contains(';')"`;
  assert.deepEqual(codes(lint(rule(`{name: c, kind: CONDITION, type: CEL, ${expr}}`))), ["4:guard-java-split"]);
  assert.deepEqual(lint(rule(`{name: c, kind: CONDITION, type: CEL, params: {cel.ignore.guard.separator: "true"}, ${expr}}`)), []);
  const viaProperty = `subject: orders-value\nmetadata:\n  properties: {cel.ignore.guard.separator: "true"}\nruleSet:\n  domainRules:\n    - {name: c, kind: CONDITION, type: CEL, ${expr}}\n${AVRO}`;
  assert.deepEqual(lint(viaProperty), []);
});

test("a document with problems in one rule still has its other rules type-checked", () => {
  const text = `subject: orders-value
ruleSet:
  domainRules:
    - {name: a, kind: CONDITION, type: CEL, expr: message.id != ''}
    - {name: a, kind: CONDITION, type: CEL, exprr: x}
    - {name: b, kind: CONDITION, type: CEL, expr: message.amout > 0}
${AVRO}`;
  assert.deepEqual(codes(lint(text)).sort(), ["5:rule-expr-missing", "5:rule-name-duplicate", "5:structure-unknown-property", "6:cel-unknown-field"]);
});

test("diagnostics carry subject, version, rule and the JSON path", () => {
  const [d] = lint(rule(`{name: amountTypo, kind: CONDITION, type: CEL, expr: message.amout > 0}`));
  assert.ok(d);
  assert.equal(d.subject, "orders-value");
  assert.equal(d.version, 1);
  assert.equal(d.rule, "amountTypo");
  assert.equal(d.path, "ruleSet.domainRules[0].expr");
  assert.equal(d.hint, undefined);
  assert.match(d.message, /did you mean 'amount'/);
});

test("configuration: severities per code, `off`, and overrides per file glob", () => {
  const text = rule(`{name: d, kind: CONDITION, type: CEL, expr: message.qty > 0, disabled: true}`);
  const config = parseConfig(
    `lint:
  severity:
    rule-disabled: warning
  overrides:
    - files: ["legacy/**"]
      severity: {rule-disabled: off}
`,
    "kontract.config.yaml",
    ".",
  );
  assert.deepEqual(lint(text, { config }, "rules/c.yaml").map((d) => d.severity), ["warning"]);
  assert.deepEqual(lint(text, { config }, "legacy/old/c.yaml"), []);
});

test("configuration: custom actions, rule types and the parameters they need", () => {
  const text = rule(`{name: a, kind: CONDITION, type: AUDITED, expr: x, onFailure: AUDIT}`);
  assert.deepEqual(lint(text).map((d) => d.code).sort(), ["rule-action-unknown", "rule-type-unknown"]);
  const config = parseConfig(`lint:\n  actions: [AUDIT]\n  ruleTypes: [AUDITED]\n  requiredParams: {AUDIT: [audit.topic]}\n`, "k.yaml", ".");
  assert.deepEqual(lint(text, { config }).map((d) => d.code), ["param-property-missing"]);
  const withProperty = text.replace("subject: orders-value\n", "subject: orders-value\nmetadata:\n  properties: {audit.topic: audits}\n");
  assert.deepEqual(lint(withProperty, { config }), []);
});

test("suppression: next-line covers the whole node below, line and file forms, codes filter", () => {
  const text = `# kontract-disable-file rule-tags-ignored
subject: orders-value
ruleSet:
  domainRules:
    # kontract-disable-next-line cel-unknown-field -- renamed in v2
    - name: a
      kind: CONDITION
      type: CEL
      tags: [PII]
      expr: |
        message.amout > 0 &&
          message.qtty > 0
    - {name: b, kind: CONDITION, type: CEL, expr: message.amout > 0} # kontract-disable-line cel-unknown-field
    - {name: c, kind: CONDITION, type: CEL, expr: message.amout > 0} # kontract-disable-line rule-disabled
${AVRO}`;
  assert.deepEqual(codes(lint(text)), ["14:cel-unknown-field", "14:suppression-unused"]);
});

test("several files: versions numbered in order, migration checked across files, references resolved", () => {
  const v1: LintSource = {
    file: "a.yaml",
    text: `subject: address-value\nschema: '{"type": "record", "name": "Address", "namespace": "acme", "fields": [{"name": "city", "type": "string"}]}'\n---\nsubject: orders-value\nschema: '{"type": "record", "name": "Order", "namespace": "acme", "fields": [{"name": "amount", "type": "double"}]}'\n`,
  };
  const v2: LintSource = {
    file: "b.yaml",
    text: `subject: orders-value
references: [{name: acme.Address, subject: address-value, version: 1}]
ruleSet:
  domainRules:
    - {name: city, kind: CONDITION, type: CEL, expr: "message.address.city != ''"}
schema: '{"type": "record", "name": "Order", "namespace": "acme", "fields": [{"name": "total", "type": "double"}, {"name": "address", "type": "acme.Address"}]}'
`,
  };
  const report = lintSources([v1, v2]);
  assert.deepEqual(
    report.diagnostics.map((d) => `${d.file}:${d.line} ${d.code} v${d.version}`),
    ["b.yaml:6 migration-missing v2", "b.yaml:6 migration-missing v2"],
  );
  assert.equal(report.summary.documents, 3);
});

test("schema files are read through the callback, and their JSON errors point into them", () => {
  const files: Record<string, string> = { "schemas/o.avsc": '{"type": "record",\n "name": "O" "fields": []}' };
  const report = lintSources([{ file: "c.yaml", text: "subject: o-value\nschemaFile: schemas/o.avsc\n" }], { readFile: (p) => files[p] });
  assert.deepEqual(report.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`), ["schemas/o.avsc:2:14 schema-not-json"]);
});

// The valid corpus lints clean; each of these small edits must make it fail with the given code.
const MUTATIONS: [file: string, from: string, to: string, code: string][] = [
  ["avro-orders.yaml", "message.amount > 0.0", "message.amount > '0'", "cel-no-matching-overload"],
  ["avro-orders.yaml", "i.sku.matches('^SKU-[A-Z0-9-]+$')", "i.skus.matches('^SKU-[A-Z0-9-]+$')", "cel-unknown-field"],
  ["avro-orders.yaml", "expr: value.upperAscii()", "expr: value + 1", "cel-no-matching-overload"],
  ["avro-orders.yaml", "expr: message.total > 0.0\n", "expr: message.amount > 0.0\n", "cel-unknown-field"],
  ["avro-orders.yaml", "mode: DOWNGRADE", "mode: UPGRADE", "migration-missing"],
  ["avro-orders.yaml", "{'total': $.amount}", "{'total': $.amount", "jsonata-syntax"],
  ["json-customers.yaml", "message.email.isEmail()", "message.emial.isEmail()", "cel-unknown-field"],
  ["json-customers.yaml", "c.kind in ['EMAIL', 'PHONE']", "c.kind in [1, 2]", "cel-no-matching-overload"],
  ["json-customers.yaml", "$.contacts[*].value: [PII]", "$.contact[*].value: [PII]", "metadata-tag-unmatched"],
  ["protobuf-payments.yaml", "message.card.number != ''", "message.card.numbr != ''", "cel-unknown-field"],
  ["protobuf-payments.yaml", "message.created_at < now", "message.created_at < 1", "cel-no-matching-overload"],
  ["protobuf-payments.yaml", "onFailure: AUDIT", "onFailure: AUDITT", "rule-action-unknown"],
];

test("valid corpus: targeted edits are caught (the clean result is not blindness)", () => {
  const dir = join(import.meta.dirname, "corpus/valid");
  const config = parseConfig(readFileSync(join(dir, "kontract.config.yml"), "utf8"), join(dir, "kontract.config.yml"), dir);
  const readFile = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return undefined;
    }
  };
  for (const [name, from, to, code] of MUTATIONS) {
    const file = join(dir, name);
    const text = readFileSync(file, "utf8");
    assert.ok(text.includes(from), `${name} does not contain ${from}`);
    const report = lintSources([{ file, text: text.replace(from, () => to) }], { readFile, config });
    assert.ok(
      report.diagnostics.some((d) => d.code === code),
      `${name}: ${from} -> ${to} should give ${code}, got ${report.diagnostics.map((d) => d.code).join(", ") || "nothing"}`,
    );
  }
});

test("a rule named __proto__ or constructor is rule-name-invalid, and the rule is still type-checked", () => {
  for (const name of ["__proto__", "constructor", "toString"]) {
    const ds = lint(rule(`{name: ${name}, kind: CONDITION, mode: WRITE, type: CEL, expr: message.amont > 0.0}`));
    assert.deepEqual(codes(ds), ["4:rule-name-invalid", "4:cel-unknown-field"], name);
  }
});

const ENUMS = `schema:
  type: record
  name: Order
  namespace: acme
  fields:
    - {name: id, type: string}
    - {name: status, type: {type: enum, name: Status, symbols: [PAID, OPEN, SHIPPED]}}
    - {name: note, type: ["null", string], default: null}
`;
const enumRule = (expr: string) => `subject: orders-value\nruleSet:\n  domainRules:\n    - {name: c, kind: CONDITION, mode: WRITE, type: CEL, expr: "${expr}"}\n${ENUMS}`;

test("CEL: an Avro enum compared with a symbol it does not have is an error, with the nearest symbol", () => {
  const ds = lint(enumRule("message.status == 'PAYED'"));
  assert.deepEqual(codes(ds), ["4:cel-enum-symbol"]);
  assert.match(ds[0]!.message, /'PAYED' is not a symbol of acme\.Status/);
  assert.match(ds[0]!.message, /symbols: PAID, OPEN, SHIPPED/);
  assert.deepEqual(codes(lint(enumRule("'OPEN' != message.status"))), []);
  assert.deepEqual(codes(lint(enumRule("message.status in ['PAID', 'SHIPED']"))), ["4:cel-enum-symbol"]);
  assert.deepEqual(codes(lint(enumRule("message.status in ['PAID', 'SHIPPED'] && message.id != 'PAYED'"))), []);
});

test("CEL: a JSON Schema string enum is checked the same way", () => {
  const text = `subject: s\nruleSet:\n  domainRules:\n    - {name: c, kind: CONDITION, type: CEL, expr: "message.currency == 'EURO'"}\nschemaType: JSON\nschema: {type: object, properties: {currency: {type: string, enum: [EUR, USD]}}}\n`;
  assert.deepEqual(codes(lint(text)), ["4:cel-enum-symbol"]);
});

test("CEL: has() on a field that is always present is a warning; on an optional one it is clean", () => {
  const avro = lint(enumRule("has(message.note)"));
  assert.deepEqual(avro.map((d) => `${d.code}:${d.severity}`), ["cel-has-always-true:warning"]);
  assert.match(avro[0]!.message, /always true/);
  const json = (expr: string) =>
    `subject: s\nruleSet:\n  domainRules:\n    - {name: c, kind: CONDITION, type: CEL, expr: "${expr}"}\nschemaType: JSON\nschema: {type: object, required: [id], properties: {id: {type: string}, note: {type: string}}}\n`;
  assert.deepEqual(codes(lint(json("has(message.id)"))), ["4:cel-has-always-true"]);
  assert.deepEqual(codes(lint(json("has(message.note)"))), []);
  // The warning does not hide the other checks: the condition still must be bool.
  const both = lint(`subject: s\nruleSet:\n  domainRules:\n    - {name: c, kind: CONDITION, type: CEL, expr: "has(message.id) ? 1 : 2"}\nschemaType: JSON\nschema: {type: object, required: [id], properties: {id: {type: string}}}\n`);
  assert.deepEqual(codes(both).sort(), ["4:cel-condition-not-bool", "4:cel-has-always-true"]);
});

test("TRANSFORM: each branch of ?: must fit, not their join", () => {
  const field = (expr: string) => rule(`{name: m, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [NOTE], expr: "${expr}"}`);
  assert.deepEqual(codes(lint(field("value == null ? null : value.trim()"))), []);
  const bad = lint(field("value == null ? 0 : value.trim()"));
  assert.deepEqual(codes(bad), ["4:cel-transform-type"]);
  assert.match(bad[0]!.message, /int/);
  assert.deepEqual(codes(lint(field("value == null ? null : (size(value) > 3 ? value : 42)"))), ["4:cel-transform-type"]);
  const whole = (expr: string) => rule(`{name: t, kind: TRANSFORM, mode: WRITE, type: CEL, expr: "${expr}"}`);
  assert.deepEqual(codes(lint(whole("message.id == '' ? message : 'x'"))), ["4:cel-transform-type"]);
  assert.deepEqual(codes(lint(whole("message.id == '' ? message : message"))), []);
});

test("stateful rules: a key of the value needs co-partitioning, reported unless declared; reference tables and key subjects need none", () => {
  const stateful = (r: string) => rule(`{name: s, kind: CONDITION, mode: READ, disabled: true, ${r}}`);
  const unique = lint(stateful(`type: STATEFUL_UNIQUE, expr: message.id, params: {unique.window: 10m}`));
  assert.deepEqual(unique.map((d) => [d.code, d.severity]), [["stateful-partitioning", "warning"]]);
  assert.match(unique[0]!.message, /^rule "?s"?: its state is per partition and keyed by message.id, an expression of the value/);
  assert.match(unique[0]!.hint ?? "", /docs\/stateful.md#co-partitioning/);
  assert.match(lint(stateful(`type: STATEFUL_ORDER, expr: message.qty, params: {order.key: message.id}`))[0]!.message, /keyed by order.key message.id/);
  assert.deepEqual(lint(stateful(`type: STATEFUL_UNIQUE, expr: message.id, params: {unique.window: 10m, state.copartitioned: "true"}`)), []);
  assert.deepEqual(lint(stateful(`type: STATEFUL_REFERENCE, expr: message.id, params: {reference.topic: customers}`)), [], "a reference table is global");
  assert.deepEqual(lint(stateful(`type: STATEFUL_UNIQUE, expr: message.id, params: {unique.window: 10m}`).replace("subject: orders-value", "subject: orders-key")), [], "a key subject's message is the record key");
});

test("stateful rules: a key or sequence over a field tagged sensitive is reported, since the changelog holds it in clear", () => {
  const stateful = (r: string) => rule(`{name: s, kind: CONDITION, mode: READ, disabled: true, ${r.replace("params: {", 'params: {state.copartitioned: "true", ')}}`);
  const unique = lint(stateful(`type: STATEFUL_UNIQUE, expr: "message.email.lowerAscii()", params: {unique.window: 10m}`));
  assert.deepEqual(unique.map((d) => [d.code, d.severity]), [["stateful-sensitive-key", "warning"]]);
  assert.match(unique[0]!.message, /the key reads message.email, and acme.Order.email is tagged PII: the rule's changelog topic holds those values in clear/);
  assert.match(unique[0]!.hint ?? "", /docs\/threat-model.md/);
  assert.deepEqual(lint(stateful(`type: STATEFUL_UNIQUE, expr: message.id, params: {unique.window: 10m}`)), [], "an untagged key");
  assert.deepEqual(lint(stateful(`type: STATEFUL_UNIQUE, expr: "message.note == null ? message.id : 'x'", params: {unique.window: 10m}`)).map((d) => d.code), [], "NOTE is not a sensitive tag");
  // The order rule's key and its sequence are both kept; the sequence is int here (qty, tagged PII).
  assert.deepEqual(lint(stateful(`type: STATEFUL_ORDER, expr: message.qty, params: {order.key: message.id}`)).map((d) => [d.code, d.path]), [["stateful-sensitive-key", "ruleSet.domainRules[0].expr"]]);
  assert.deepEqual(lint(stateful(`type: STATEFUL_ORDER, expr: message.amount, params: {order.key: message.email}`)).map((d) => [d.code, d.path]), [["stateful-sensitive-key", "ruleSet.domainRules[0].params[\"order.key\"]"]]);
  assert.deepEqual(lint(stateful(`type: STATEFUL_REFERENCE, expr: message.email, params: {reference.topic: customers}`)), [], "a reference rule writes no changelog");
  assert.deepEqual(lint(stateful(`type: STATEFUL_UNIQUE, expr: "[message.id].exists(message, message == 'x') ? 'a' : message.id", params: {unique.window: 10m}`)), [], "a comprehension's own message is not the record");
  // Nested fields, and tags from metadata wildcards, in the other formats.
  const json = `subject: orders-value\nmetadata: {tags: {"$.customer.email": [PII]}}\nruleSet:\n  domainRules:\n    - {name: s, kind: CONDITION, mode: READ, disabled: true, type: STATEFUL_UNIQUE, expr: message.customer.email, params: {unique.window: 10m, state.copartitioned: "true"}}\nschemaType: JSON\nschema: {type: object, required: [customer], properties: {customer: {type: object, required: [email], properties: {email: {type: string}}}}}\n`;
  assert.deepEqual(lint(json).map((d) => d.code), ["stateful-sensitive-key"]);
  const proto = `subject: orders-value\nmetadata: {tags: {"acme.Customer.email": [PHI]}}\nruleSet:\n  domainRules:\n    - {name: s, kind: CONDITION, mode: READ, disabled: true, type: STATEFUL_UNIQUE, expr: message.customer.email, params: {unique.window: 10m, state.copartitioned: "true"}}\nschemaType: PROTOBUF\nschema: |\n  syntax = "proto3";\n  package acme;\n  message Order { Customer customer = 1; }\n  message Customer { string email = 1; }\n`;
  assert.deepEqual(lint(proto).map((d) => d.code), ["stateful-sensitive-key"]);
  assert.deepEqual(lint(proto.replace("message.customer.email", `"message.customer.email.size() > 0 ? 'x' : 'y'"`)).map((d) => d.code), ["stateful-sensitive-key"]);
});

test("stateful rules: their form, params and expression types are checked, and disabled: true is expected", () => {
  // Co-partitioning has its own test below: these lint everything else.
  const stateful = (r: string) => rule(`{name: s, kind: CONDITION, mode: READ, disabled: true, ${r.replace("params: {", 'params: {state.copartitioned: "true", ')}}`);
  assert.deepEqual(lint(stateful(`type: STATEFUL_UNIQUE, expr: message.id, params: {unique.window: 10m}`)), []);
  assert.deepEqual(
    lint(stateful(`type: STATEFUL_ORDER, expr: message.amount, params: {order.key: message.id, order.contiguous: "true"}`)).map((d) => d.code),
    ["stateful-type"],
    "a double sequence cannot be contiguous",
  );
  assert.deepEqual(lint(stateful(`type: STATEFUL_UNIQUE, expr: message.note, params: {unique.last: "5"}`)).map((d) => d.code), ["stateful-type"], "a nullable key");
  assert.deepEqual(lint(stateful(`type: STATEFUL_UNIQUE, expr: message.idd, params: {unique.window: 10m}`)).map((d) => d.code), ["cel-unknown-field"]);
  const bad = lint(stateful(`type: STATEFUL_UNIQUE, expr: message.id, params: {unique.window: ten minutes}`));
  assert.deepEqual(bad.map((d) => d.code), ["stateful-invalid"]);
  assert.match(bad[0]!.message, /unique.window: "ten minutes" is not a duration/);
  assert.deepEqual(lint(stateful(`type: STATEFUL_REFERENCE, expr: message.id`)).map((d) => d.code), ["stateful-invalid"], "no reference topic named");
  assert.deepEqual(
    lint(stateful(`type: STATEFUL_COMPLETE, expr: message.id, params: {complete.parent: message.qty, complete.parts: message.id, complete.part.of: message.id, complete.within: 5m}`)).map((d) => d.code),
    ["stateful-type", "stateful-type"],
    "complete.parent must be a bool, complete.parts an int",
  );
  const enabled = lint(rule(`{name: s, kind: CONDITION, mode: WRITE, type: STATEFUL_UNIQUE, expr: message.id, params: {unique.last: "5", state.copartitioned: "true"}}`));
  assert.deepEqual(enabled.map((d) => d.code).sort(), ["stateful-not-disabled", "stateful-write-mode"]);
});

test("ENCRYPT on a union field: lint accepts a string branch, and errs when no branch can be encrypted", () => {
  const union = (type: string) => `subject: orders-value
ruleSet:
  domainRules:
    - {name: enc, type: ENCRYPT, tags: [PII], params: {encrypt.kek.name: k, encrypt.kms.type: local-kms, encrypt.kms.key.id: x}}
schema:
  type: record
  name: Order
  fields:
    - {name: ref, type: ${type}, "confluent:tags": [PII]}
`;
  const options = { config: parseConfig("lint:\n  ruleTypes: [ENCRYPT]\n", "kontract.config.yaml", ".") };
  // The walk visits the branch each value resolves to; Java leaves a union's other branches clear.
  assert.deepEqual(codes(lint(union(`["null", string, int]`), options)), []);
  const none = lint(union(`[int, long]`), options);
  assert.deepEqual(codes(none), ["4:encrypt-field-type"]);
  assert.match(none[0]!.message, /Order\.ref/);
});
