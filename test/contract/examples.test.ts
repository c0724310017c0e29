/**
 * The shipped examples (rules/*.yaml, fixtures/*.jsonl) load, validate, and
 * contain what the docs promise: each rule is exercised by the fixtures.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import avsc from "avsc";
import protobuf from "protobufjs";
import type { ContractDocument } from "../../src/contract/document.js";
import { scanContractFiles } from "../../src/contract/load-files.js";
import type { Rule } from "../../src/contract/model.js";
import { validateContract } from "../../src/contract/validate.js";

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const { documents, errors } = scanContractFiles(root("rules"));
const find = (subject: string, version = 1): ContractDocument => {
  const doc = documents.find((d) => d.subject === subject && d.version === version);
  assert.ok(doc, `${subject} v${version} is defined`);
  return doc;
};
const rule = (doc: ContractDocument, name: string): Rule => {
  const all = [...(doc.contract.ruleSet?.domainRules ?? []), ...(doc.contract.ruleSet?.migrationRules ?? [])];
  const r = all.find((x) => x.name === name);
  assert.ok(r, `${doc.subject} v${doc.version} has rule ${name}`);
  return r;
};
const fixture = (name: string): Record<string, unknown>[] =>
  readFileSync(root(`fixtures/${name}`), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** 1-based line numbers where `pred` holds. */
const linesWhere = <T>(rows: T[], pred: (row: T) => boolean): number[] => rows.flatMap((r, i) => (pred(r) ? [i + 1] : []));

describe("rules/ examples", () => {
  it("load without a single problem and pass model validation", () => {
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.deepEqual(documents.map((d) => `${d.subject}@${d.version}`), ["customers-value@1", "orders-value@1", "orders-value@2", "payments-value@1"]);
    for (const d of documents) assert.deepEqual(validateContract(d.contract), [], `${d.subject}@${d.version}`);
  });

  it("orders v1: Avro from a schema file, with the promised rules", () => {
    const v1 = find("orders-value", 1);
    assert.equal(v1.source.schemaFile, root("rules/schemas/orders-v1.avsc"));
    const type = avsc.Type.forSchema(JSON.parse(v1.contract.schema));
    assert.deepEqual(
      (type as unknown as { fields: { name: string }[] }).fields.map((f) => f.name),
      ["orderId", "customerId", "amount", "currency", "email", "status", "createdAt", "address", "items", "couponCode"],
    );
    assert.match(v1.contract.schema, /"name": "email", "type": "string", "confluent:tags": \["PII"\]/);
    assert.deepEqual(rule(v1, "amountPositive"), { ...rule(v1, "amountPositive"), kind: "CONDITION", type: "CEL", expr: "message.amount > 0" });
    assert.match(rule(v1, "paidOrdersHaveItems").expr!, /^[^;]+;[^;]+$/, "a guarded CEL condition");
    assert.deepEqual(
      { ...rule(v1, "maskPii"), doc: undefined, expr: undefined },
      { name: "maskPii", doc: undefined, kind: "TRANSFORM", mode: "WRITE", type: "CEL_FIELD", tags: ["PII"], expr: undefined },
    );
    const dlq = rule(v1, "validLineItems");
    assert.equal(dlq.onFailure, "DLQ");
    assert.deepEqual(dlq.params, { "dlq.topic": "orders-dlq" });
    assert.equal(rule(v1, "chfOrdersShipToSwitzerland").disabled, true);
    assert.deepEqual(v1.contract.metadata?.sensitive, ["alerts.webhook"]);
    assert.equal(v1.contract.metadata?.properties?.["application.major.version"], "1");
  });

  it("orders v2: renamed field, major version 2, JSONATA UPGRADE and DOWNGRADE", () => {
    const v2 = find("orders-value", 2);
    const fields = (avsc.Type.forSchema(JSON.parse(v2.contract.schema)) as unknown as { fields: { name: string }[] }).fields.map((f) => f.name);
    assert.ok(fields.includes("totalAmount") && !fields.includes("amount"));
    assert.equal(v2.contract.metadata?.properties?.["application.major.version"], "2");
    const migrations = v2.contract.ruleSet?.migrationRules ?? [];
    assert.deepEqual(migrations.map((r) => [r.type, r.mode]), [["JSONATA", "UPGRADE"], ["JSONATA", "DOWNGRADE"]]);
    assert.equal(rule(v2, "amountPositive").expr, "message.totalAmount > 0");
  });

  it("customers: inline JSON Schema that ajv compiles, isEmail, CEL_FIELD on tags, a WRITEREAD pair action", () => {
    const doc = find("customers-value");
    assert.equal(doc.contract.schemaType, "JSON");
    assert.match(rule(doc, "validEmail").expr!, /isEmail\(\)/);
    const field = rule(doc, "normalizeEmail");
    assert.deepEqual([field.type, field.tags], ["CEL_FIELD", ["EMAIL"]]);
    const pair = rule(doc, "premiumTiersHavePhone");
    assert.deepEqual([pair.mode, pair.onFailure], ["WRITEREAD", "ERROR,NONE"]);
    assert.ok(compileCustomers());
  });

  it("payments: Protobuf text importing confluent/meta.proto with field tags", () => {
    const doc = find("payments-value");
    assert.equal(doc.contract.schemaType, "PROTOBUF");
    const parsed = protobuf.parse(doc.contract.schema, { keepCase: true });
    assert.deepEqual(parsed.imports, ["confluent/meta.proto"]);
    const payment = parsed.root.lookupType("com.acme.payments.Payment");
    assert.deepEqual(payment.fields.card_number!.options, { "(confluent.field_meta).tags": "PCI" });
    assert.equal(rule(doc, "maskCardNumber").type, "CEL_FIELD");
    assert.equal(rule(doc, "amountPositiveWithIsoCurrency").type, "CEL");
  });
});

// The fixture tables below are the ones docs/yaml.md lists; the predicates mirror the rules' CEL.
describe("fixtures/", () => {
  it("orders.jsonl (v2 shape): which lines break the schema and which break each rule", () => {
    const rows = fixture("orders.jsonl");
    const type = avsc.Type.forSchema(JSON.parse(find("orders-value", 2).contract.schema));
    assert.deepEqual(linesWhere(rows, (r) => !type.isValid(r)), [9, 10], "not matching the schema");
    const valid = (pred: (r: Order) => boolean) => linesWhere(rows as unknown as Order[], (r) => type.isValid(r) && pred(r));
    assert.deepEqual(valid((r) => !(r.totalAmount > 0)), [5, 8], "amountPositive");
    assert.deepEqual(valid((r) => r.status === "PAID" && r.items.length === 0), [6], "paidOrdersHaveItems");
    assert.deepEqual(valid((r) => !r.items.every((i) => i.qty > 0 && i.price >= 0)), [7, 12], "validLineItems (DLQ)");
    assert.equal(rows.length, 14);
  });

  it("customers.jsonl: which lines break the schema and which break each rule", () => {
    const rows = fixture("customers.jsonl");
    const validate = compileCustomers();
    assert.deepEqual(linesWhere(rows, (r) => !validate(r)), [9, 10], "not matching the schema");
    const valid = (pred: (r: Customer) => boolean) => linesWhere(rows as unknown as Customer[], (r) => validate(r) && pred(r));
    assert.deepEqual(valid((r) => !/^[^@\s()]+@[^@\s()]+\.[a-z]+$/i.test(r.email)), [6], "validEmail");
    assert.deepEqual(valid((r) => r.tier !== "STANDARD" && r.phone === undefined), [7, 8], "premiumTiersHavePhone");
    assert.deepEqual(valid((r) => r.email !== r.email.toLowerCase()), [2], "normalizeEmail transforms");
  });

  it("payments.jsonl: which lines break the schema and which break each rule", () => {
    const rows = fixture("payments.jsonl");
    const payment = protobuf.parse(find("payments-value").contract.schema, { keepCase: true }).root.lookupType("com.acme.payments.Payment");
    const fits = (r: Record<string, unknown>) => Object.keys(r).every((k) => k in payment.fields) && payment.verify({ ...r, method: 0, status: 0 }) === null;
    assert.deepEqual(linesWhere(rows, (r) => !fits(r)), [9, 10], "not matching the schema");
    const valid = (pred: (r: Payment) => boolean) => linesWhere(rows as unknown as Payment[], (r) => fits(r as unknown as Record<string, unknown>) && pred(r));
    const condition = (r: Payment) => r.amount > 0 && /^[A-Z]{3}$/.test(r.currency);
    assert.deepEqual(valid((r) => !condition(r)), [7, 8], "amountPositiveWithIsoCurrency");
    assert.deepEqual(valid((r) => condition(r) && (r.card_number ?? "").length > 4), [1, 2, 4, 6], "maskCardNumber transforms");
  });
});

interface Order {
  totalAmount: number;
  status: string;
  items: { qty: number; price: number }[];
}
interface Customer {
  email: string;
  tier: string;
  phone?: string;
}
interface Payment {
  amount: number;
  currency: string;
  card_number?: string;
}

function compileCustomers() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv.compile(JSON.parse(find("customers-value").contract.schema) as object);
}
