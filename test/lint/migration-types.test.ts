/**
 * JSONata migration rules are type-checked against both versions of their
 * edge: the fields they read must exist in the version they read (UPGRADE:
 * the older; DOWNGRADE: the newer), and a result the expression builds
 * statically must give the other version its required fields with the right
 * JSON types. Expressions too dynamic to know stay silent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { lintSources, type Diagnostic } from "../../src/lint/index.js";

const V1 = `subject: orders-value
version: 1
schema:
  type: record
  name: Order
  namespace: acme
  fields:
    - {name: id, type: string}
    - {name: amount, type: double}
    - {name: customer, type: {type: record, name: Customer, fields: [{name: name, type: string}]}}
    - {name: address, type: ["null", {type: record, name: Address, fields: [{name: city, type: string}]}], default: null}
`;

function v2(rules: string[], extraFields = ""): string {
  return `---
subject: orders-value
version: 2
schema:
  type: record
  name: Order
  namespace: acme
  fields:
    - {name: id, type: string}
    - {name: total, type: double}
    - {name: customer, type: {type: record, name: Customer, fields: [{name: name, type: string}]}}
    - {name: address, type: ["null", {type: record, name: Address, fields: [{name: city, type: string}]}], default: null}
    - {name: note, type: string, default: ""}${extraFields}
ruleSet:
  migrationRules:
${rules.map((r) => `    - ${r}`).join("\n")}
`;
}

const up = (expr: string, name = "up") => `{name: ${name}, kind: TRANSFORM, mode: UPGRADE, type: JSONATA, expr: ${JSON.stringify(expr)}}`;
const down = (expr: string, name = "down") => `{name: ${name}, kind: TRANSFORM, mode: DOWNGRADE, type: JSONATA, expr: ${JSON.stringify(expr)}}`;
const UP_OK = "$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': $.amount}])";
const DOWN_OK = "$merge([$sift($, function($v, $k) {$k != 'total'}), {'amount': $.total}])";

function lint(text: string): Diagnostic[] {
  return lintSources([{ file: "c.yaml", text }]).diagnostics.filter((d) => d.code.startsWith("migration-"));
}
const brief = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.code} ${d.rule ?? ""}: ${d.message}`);

test("the shipped shape of a rename lints clean in both directions", () => {
  assert.deepEqual(brief(lint(V1 + v2([up(UP_OK), down(DOWN_OK)]))), []);
});

test("an UPGRADE rule that reads a field the older version lacks is an error, at the field", () => {
  const text = V1 + v2([up("$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': $.amout}])"), down(DOWN_OK)]);
  const ds = lint(text);
  assert.deepEqual(ds.map((d) => [d.code, d.severity, d.rule]), [["migration-field-unknown", "error", "up"]]);
  assert.match(ds[0]!.message, /amout.*v1/);
  const line = text.split("\n")[ds[0]!.line - 1]!;
  assert.equal(line.slice(ds[0]!.column - 1, ds[0]!.endColumn - 1), "amout");
});

test("a DOWNGRADE rule reads the newer version: reading the older version's field is an error", () => {
  const ds = lint(V1 + v2([up(UP_OK), down("$merge([$sift($, function($v, $k) {$k != 'total'}), {'amount': amount}])")]));
  assert.deepEqual(ds.map((d) => [d.code, d.rule]), [["migration-field-unknown", "down"]]);
  assert.match(ds[0]!.message, /amount.*v2/);
});

test("nested reads are checked through records, and stop at nullable unions (Avro wraps their JSON)", () => {
  assert.deepEqual(brief(lint(V1 + v2([up("$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': $.amount, 'note': customer.nmae}])"), down(DOWN_OK)]))).length, 1);
  assert.deepEqual(brief(lint(V1 + v2([up("$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': $.amount, 'note': address.whatever}])"), down(DOWN_OK)]))), []);
});

test("a result without a required field of the target version is an error", () => {
  const ds = lint(V1 + v2([up("$sift($, function($v, $k) {$k != 'amount'})"), down(DOWN_OK)]));
  assert.deepEqual(ds.map((d) => [d.code, d.severity, d.rule]), [["migration-result-invalid", "error", "up"]]);
  assert.match(ds[0]!.message, /total/);
  // An object constructor: only the fields without defaults are required.
  assert.deepEqual(brief(lint(V1 + v2([up("{'id': id, 'total': amount, 'customer': customer}"), down(DOWN_OK)]))), []);
  const missing = lint(V1 + v2([up("{'id': id, 'customer': customer}"), down(DOWN_OK)]));
  assert.deepEqual(missing.map((d) => d.code), ["migration-result-invalid"]);
});

test("a result field of the wrong JSON type is an error", () => {
  const ds = lint(V1 + v2([up("$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': $string(amount)}])"), down(DOWN_OK)]));
  assert.deepEqual(ds.map((d) => d.code), ["migration-result-invalid"]);
  assert.match(ds[0]!.message, /total.*string.*number|total.*number.*string/);
});

test("the transform operator copies its input: updates and deletes are followed", () => {
  assert.deepEqual(brief(lint(V1 + v2([up("$ ~> |$|{'total': amount}, ['amount']|"), down(DOWN_OK)]))), []);
  assert.deepEqual(lint(V1 + v2([up("$ ~> |$|{'totl': amount}, ['amount']|"), down(DOWN_OK)])).map((d) => d.code), ["migration-result-invalid"]);
});

test("UPDOWN rules are checked in both directions", () => {
  const updown = `{name: both, kind: TRANSFORM, mode: UPDOWN, type: JSONATA, expr: "$merge([$, {'total': amount}])"}`;
  // Upgrading, amount exists in v1; downgrading, v2 has no amount to read, and the result lacks it.
  const ds = lint(V1 + v2([updown]));
  assert.deepEqual(ds.map((d) => d.code).sort(), ["migration-field-unknown", "migration-result-invalid"]);
});

test("expressions too dynamic to know stay silent", () => {
  for (const expr of ["$eval('{}')", "$merge([$, $lookup($, 'x')])", "$map($keys($), function($k) { $k })", "$count(id) > 0 ? $ : $"]) {
    assert.deepEqual(brief(lint(V1 + v2([up(expr), down(DOWN_OK)]))), [], expr);
  }
});

test("only the first rule of a direction reads the source, and only the last transform must fit the target", () => {
  const first = up("$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': amount}])", "first");
  const second = up("$merge([$, {'note': 'migrated ' & $string(total)}])", "second");
  assert.deepEqual(brief(lint(V1 + v2([first, second, down(DOWN_OK)]))), []);
});

test("JSON Schema: required properties and reads are checked the same way", () => {
  const schema = (props: string, required: string) => `schemaType: JSON\nschema: '{"type":"object","properties":{${props}},"required":[${required}]}'`;
  const text = `subject: c-value\nversion: 1\n${schema(`"id":{"type":"string"},"name":{"type":"string"}`, `"id"`)}\n---\nsubject: c-value\nversion: 2\n${schema(`"id":{"type":"string"},"fullName":{"type":"string"}`, `"id","fullName"`)}\nruleSet:\n  migrationRules:\n    - ${up("$merge([$sift($, function($v, $k) {$k != 'name'}), {'fullName': nam}])")}\n`;
  assert.deepEqual(lint(text).map((d) => d.code), ["migration-field-unknown"]);
  const missing = text.replace("{'fullName': nam}", "{'full': name}");
  assert.deepEqual(lint(missing).map((d) => d.code), ["migration-result-invalid"]);
});

test("Protobuf: reads and results use the JSON form's names (camelCase), and proto3 fields are all optional", () => {
  const proto = (fields: string) => `schemaType: PROTOBUF\nschema: |\n  syntax = "proto3";\n  package acme;\n  message Order {\n${fields}\n    Customer customer = 9;\n  }\n  message Customer { string full_name = 1; }\n`;
  const v1 = `subject: p-value\nversion: 1\n${proto("    string order_id = 1;\n    double amount = 2;")}`;
  const v2 = (expr: string) => `---\nsubject: p-value\nversion: 2\n${proto("    string order_id = 1;\n    double total_amount = 3;")}ruleSet:\n  migrationRules:\n    - ${up(expr)}\n`;
  const rename = "$merge([$sift($, function($v, $k) {$k != 'amount'}), {'totalAmount': amount}])";
  assert.deepEqual(brief(lint(v1 + v2(rename))), []);
  // proto names are not the JSON form's
  assert.deepEqual(lint(v1 + v2(rename.replace("{'totalAmount': amount}", "{'totalAmount': order_id}"))).map((d) => d.code), ["migration-field-unknown"]);
  assert.deepEqual(lint(v1 + v2(rename.replace("{'totalAmount': amount}", "{'totalAmount': customer.fullNam}"))).map((d) => d.code), ["migration-field-unknown"]);
  // a string where a double goes is the wrong type
  assert.deepEqual(lint(v1 + v2(rename.replace("{'totalAmount': amount}", "{'totalAmount': 'x'}"))).map((d) => d.code), ["migration-result-invalid"]);
});
