/**
 * Lint speed: 1,000 rules over 100 schemas (Avro, JSON Schema and Protobuf;
 * CEL conditions with guards, CEL_FIELD transforms on tags, JSONata
 * migrations between two versions of each subject). The target is under 2 s
 * for one cold run on the shared 2-core machine. Prints the cold run and the
 * median of the warm runs.
 *
 *   node --import tsx bench/lint.bench.ts [--runs=5] [--schemas=100]
 */
import { lintSources, type LintSource } from "../src/lint/index.js";

const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt);
const RUNS = arg("runs", 5);
const SCHEMAS = arg("schemas", 100);
const RULES_PER_SCHEMA = 10;

/** Ten rules per schema: 6 CEL (2 with guards), 2 CEL_FIELD, 2 JSONata (migrations on v2, domain on v1). */
function rules(i: number, fields: { amount: string; items: string; email: string }, migration: boolean): string {
  const { amount, items, email } = fields;
  const domain = [
    `    - {name: amountPositive${i}, kind: CONDITION, mode: WRITE, type: CEL, expr: "message.${amount} > 0.0"}`,
    `    - {name: paidHasItems${i}, kind: CONDITION, mode: WRITE, type: CEL, expr: "message.status == 'PAID' ; size(message.${items}) > 0"}`,
    `    - {name: itemsValid${i}, kind: CONDITION, mode: WRITE, type: CEL, expr: "message.${items}.all(x, x.qty > 0 && x.price >= 0.0)", onFailure: DLQ, params: {dlq.topic: dlq-${i}}}`,
    `    - {name: emailValid${i}, kind: CONDITION, mode: WRITE, type: CEL, expr: "message.${email}.isEmail() && message.${email}.matches('^[^@]+@[^@]+$')"}`,
    `    - {name: notCancelled${i}, kind: CONDITION, mode: WRITEREAD, type: CEL, expr: "message.status != 'CANCELLED' ; message.${amount} < 1000000.0", onFailure: "ERROR,NONE"}`,
    `    - {name: idSet${i}, kind: CONDITION, mode: READ, type: CEL, expr: "size(message.id) > 0 && !message.id.startsWith(' ')"}`,
    `    - {name: maskPii${i}, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [PII], expr: "typeName == 'STRING' ; size(value) > 4 ? value.substring(0, 2) + '***' : '***'"}`,
    `    - {name: trimCodes${i}, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [CODE], expr: "value.trim()"}`,
  ];
  const jsonata = migration
    ? [
        `  migrationRules:`,
        `    - {name: up${i}, kind: TRANSFORM, mode: UPGRADE, type: JSONATA, expr: "$merge([$sift($, function($v, $k) {$k != 'oldNote'}), {'note': $.oldNote}])"}`,
        `    - {name: down${i}, kind: TRANSFORM, mode: DOWNGRADE, type: JSONATA, expr: "$merge([$sift($, function($v, $k) {$k != 'note'}), {'oldNote': $.note}])"}`,
      ]
    : [
        `    - {name: jsonCheck${i}, kind: CONDITION, mode: WRITE, type: JSONATA, expr: "$count(${items}[qty > 100]) = 0"}`,
        `    - {name: jsonCheck2${i}, kind: CONDITION, mode: WRITE, type: JSONATA, expr: "$match(id, /^[A-Z]-[0-9]+$/) != null"}`,
      ];
  return ["ruleSet:", "  domainRules:", ...domain, ...jsonata].join("\n");
}

function avro(i: number, note: string): string {
  const schema = {
    type: "record",
    name: `Order${i}`,
    namespace: `acme.s${i}`,
    fields: [
      { name: "id", type: "string" },
      { name: "amount", type: "double" },
      { name: "status", type: { type: "enum", name: "Status", symbols: ["PENDING", "PAID", "CANCELLED"] } },
      { name: "email", type: "string", "confluent:tags": ["PII"] },
      { name: "name", type: "string", "confluent:tags": ["PII"] },
      { name: "sku", type: "string", "confluent:tags": ["CODE"] },
      { name: "qty", type: "int", "confluent:tags": ["PII"] },
      { name: "items", type: { type: "array", items: { type: "record", name: "Item", fields: [{ name: "qty", type: "int" }, { name: "price", type: "double" }] } } },
      { name: note, type: ["null", "string"], default: null },
    ],
  };
  return `schema: '${JSON.stringify(schema)}'`;
}

function json(i: number, note: string): string {
  const schema = {
    title: `Customer${i}`,
    type: "object",
    required: ["id", "amount", "status", "email"],
    properties: {
      id: { type: "string" },
      amount: { type: "number" },
      status: { type: "string", enum: ["PENDING", "PAID", "CANCELLED"] },
      email: { type: "string", "confluent:tags": ["PII"] },
      name: { type: "string", "confluent:tags": ["PII"] },
      sku: { type: "string", "confluent:tags": ["CODE"] },
      items: { type: "array", items: { type: "object", properties: { qty: { type: "integer" }, price: { type: "number" } } } },
      [note]: { type: "string" },
    },
  };
  return `schemaType: JSON\nschema: '${JSON.stringify(schema)}'`;
}

function protobuf(i: number, note: string): string {
  return `schemaType: PROTOBUF
schema: |
  syntax = "proto3";
  package acme.p${i};
  import "confluent/meta.proto";
  message Payment {
    string id = 1;
    double amount = 2;
    string status = 3;
    string email = 4 [(confluent.field_meta).tags = "PII"];
    string name = 5 [(confluent.field_meta).tags = "PII"];
    string sku = 6 [(confluent.field_meta).tags = "CODE"];
    repeated Item items = 7;
    string ${note === "oldNote" ? "old_note" : "note"} = 8;
  }
  message Item {
    int32 qty = 1;
    double price = 2;
  }`;
}

function sources(): LintSource[] {
  const out: LintSource[] = [];
  // Each subject has two versions (v2 renames a field, with migrations): 50 subjects x 2 = 100 schemas.
  for (let i = 0; i < SCHEMAS / 2; i++) {
    const kind = i % 3;
    const make = kind === 0 ? avro : kind === 1 ? json : protobuf;
    const fields = { amount: "amount", items: "items", email: "email" };
    const doc = (version: number, note: string, migration: boolean) => `subject: subject-${i}-value\nversion: ${version}\n${make(i, note)}\n${rules(i, fields, migration)}\n`;
    out.push({ file: `bench/contracts/subject-${i}.yaml`, text: `${doc(1, "oldNote", false)}---\n${doc(2, "note", true)}` });
  }
  return out;
}

const input = sources();
const t0 = performance.now();
const first = lintSources(input);
const cold = performance.now() - t0;
const s = first.summary;
const problems = first.diagnostics.filter((d) => d.severity === "error" || d.severity === "warning");
if (problems.length > 0) {
  console.error(`unexpected findings in the generated contracts:\n${problems.slice(0, 10).map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`).join("\n")}`);
  process.exitCode = 1;
}
const warm: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  lintSources(input);
  warm.push(performance.now() - t);
}
warm.sort((a, b) => a - b);
const median = warm[Math.floor(warm.length / 2)]!;
console.log(`kontract lint: ${s.rules} rules over ${s.documents} schemas in ${s.files} files (${RULES_PER_SCHEMA} rules per schema)`);
console.log(`  cold run   ${cold.toFixed(0)} ms   (target: < 2000 ms)`);
console.log(`  warm runs  ${median.toFixed(0)} ms median of ${RUNS} (${(median / s.rules).toFixed(2)} ms per rule)`);
console.log(`  findings   ${first.diagnostics.length} (${s.errors} errors, ${s.warnings} warnings, ${s.infos} infos, ${s.hints} hints)`);
