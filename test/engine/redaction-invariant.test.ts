/**
 * The redaction invariant: no sensitive value ever appears in any output.
 * Over Avro, JSON Schema and Protobuf, random sensitive values (strings with
 * quotes, escapes and non-ASCII; large integers; map keys; an enum symbol)
 * go through rules that fail in many ways: false conditions, CEL runtime
 * errors on the sensitive value, JSONata errors, field rules, transforms that
 * do not fit. Checked: violations (messages and values), the
 * RuleViolationError (message, stack, inspected with its cause), the
 * redacted JSON form, the Kafka DLQ record with its headers, and the
 * `kontract check` dead-letter file. Fixed seed, fixed count.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import type { Contract, Rule, SchemaType } from "../../src/contract/model.js";
import { DEFAULT_SENSITIVE_TAGS, createEngine, redactedJson, type FailedOutcome } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import type { CompiledSchema } from "../../src/format/types.js";
import { deadLetterRecord, writeForm } from "../../src/kafka/index.js";
import { mulberry32 } from "../helpers/random.js";

const COUNT = 25;
const SEED = 0x5eed10;
const TAGS: ReadonlySet<string> = new Set(DEFAULT_SENSITIVE_TAGS);
const ENUM_SECRET = "GOLD_SECRET_TIER";

interface Secrets {
  ssn: string;
  cardNumber: string;
  holder: string;
  pin: number;
  attrKey: string;
  attrValue: string;
}

const ALPHABET = "abcdefghijkXYZ0123456789 -_.:/\"'\\{}[]()$*+?éß€中😀\t";

function secrets(rand: () => number): Secrets {
  const text = (): string => {
    const n = 8 + Math.floor(rand() * 12);
    let s = "";
    for (let i = 0; i < n; i++) s += [...ALPHABET][Math.floor(rand() * [...ALPHABET].length)];
    return s;
  };
  return { ssn: text(), cardNumber: text(), holder: text(), pin: 10_000_000 + Math.floor(rand() * 890_000_000), attrKey: text(), attrValue: text() };
}

/** Every text of the secrets that would betray them: as is, and JSON-escaped. */
function forms(s: Secrets): string[] {
  const raw = [s.ssn, s.cardNumber, s.holder, String(s.pin), s.attrKey, s.attrValue, ENUM_SECRET];
  return raw.flatMap((r) => [r, JSON.stringify(r).slice(1, -1)]);
}

interface Format {
  readonly type: SchemaType;
  readonly schema: string;
  /** JSON form names, for JSONata. */
  readonly cardNumber: string;
  /** The message in the format's native form. */
  native(s: Secrets, id: string): unknown;
}

const FORMATS_UNDER_TEST: readonly Format[] = [
  {
    type: "AVRO",
    schema: JSON.stringify({
      type: "record",
      name: "Customer",
      namespace: "acme",
      fields: [
        { name: "id", type: "string" },
        { name: "amount", type: "double" },
        { name: "ssn", type: "string", "confluent:tags": ["PII"] },
        { name: "card_number", type: "string", "confluent:tags": ["PCI"] },
        { name: "pin", type: "long", "confluent:tags": ["SECRET"] },
        { name: "tier", type: { type: "enum", name: "Tier", symbols: ["BASIC", ENUM_SECRET] }, "confluent:tags": ["PII"] },
        { name: "attrs", type: { type: "map", values: "string" }, "confluent:tags": ["PII", "ATTRS"] },
        { name: "card", type: { type: "record", name: "Card", fields: [{ name: "holder", type: "string", "confluent:tags": ["PII"] }, { name: "brand", type: "string" }] } },
      ],
    }),
    cardNumber: "card_number",
    native: (s, id) => ({ id, amount: 5, ssn: s.ssn, card_number: s.cardNumber, pin: s.pin, tier: ENUM_SECRET, attrs: { [s.attrKey]: s.attrValue }, card: { holder: s.holder, brand: "visa" } }),
  },
  {
    type: "JSON",
    schema: JSON.stringify({
      type: "object",
      title: "Customer",
      properties: {
        id: { type: "string" },
        amount: { type: "number" },
        ssn: { type: "string", "confluent:tags": ["PII"] },
        card_number: { type: "string", "confluent:tags": ["PCI"] },
        pin: { type: "integer", "confluent:tags": ["SECRET"] },
        tier: { enum: ["BASIC", ENUM_SECRET], "confluent:tags": ["PII"] },
        attrs: { type: "object", additionalProperties: { type: "string", "confluent:tags": ["ATTRS"] }, "confluent:tags": ["PII"] },
        card: { type: "object", properties: { holder: { type: "string", "confluent:tags": ["PII"] }, brand: { type: "string" } } },
      },
    }),
    cardNumber: "card_number",
    native: (s, id) => ({ id, amount: 5, ssn: s.ssn, card_number: s.cardNumber, pin: s.pin, tier: ENUM_SECRET, attrs: { [s.attrKey]: s.attrValue }, card: { holder: s.holder, brand: "visa" } }),
  },
  {
    type: "PROTOBUF",
    schema: `syntax = "proto3";
package acme;
import "confluent/meta.proto";
message Customer {
  string id = 1;
  double amount = 2;
  string ssn = 3 [(confluent.field_meta).tags = "PII"];
  string card_number = 4 [(confluent.field_meta).tags = "PCI"];
  int64 pin = 5 [(confluent.field_meta).tags = "SECRET"];
  Tier tier = 6 [(confluent.field_meta).tags = "PII"];
  map<string, string> attrs = 7 [(confluent.field_meta).tags = "PII", (confluent.field_meta).tags = "ATTRS"];
  Card card = 8;
  enum Tier { BASIC = 0; ${ENUM_SECRET} = 1; }
}
message Card { string holder = 1 [(confluent.field_meta).tags = "PII"]; string brand = 2; }`,
    cardNumber: "cardNumber",
    native: (s, id) => ({ id, amount: 5, ssn: s.ssn, cardNumber: s.cardNumber, pin: BigInt(s.pin), tier: 1, attrs: { [s.attrKey]: s.attrValue }, card: { holder: s.holder, brand: "visa" } }),
  },
];

/** Rules that fail in many ways, all with onFailure NONE, then one that dead-letters every message. */
function rules(f: Format): Rule[] {
  const rule = (name: string, type: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "CONDITION", mode: "WRITE", type, expr, onFailure: "NONE", ...extra });
  return [
    rule("falseCondition", "CEL", "message.amount < 0.0"),
    rule("celIntOfSecret", "CEL", "int(message.ssn) > 0"),
    rule("celLookupBySecret", "CEL", "{'a': 1}[message.card_number] == 1"),
    rule("celBadRegexFromSecret", "CEL", "message.card.holder.matches(message.card.holder + '(')"),
    rule("celMapKey", "CEL", "message.attrs.exists(k, int(k) > 0)"),
    rule("celPinArithmetic", "CEL", "{'a': 1}[string(message.pin)] == 1"),
    rule("fieldFalse", "CEL_FIELD", "typeName != 'STRING' || size(value) < 2", { tags: ["PII", "PCI"] }),
    rule("fieldError", "CEL_FIELD", "int(value) > 0", { tags: ["PII", "PCI", "SECRET"] }),
    // Map values: the violation's field path holds the (sensitive) key.
    rule("fieldOnMapValues", "CEL_FIELD", "int(value) > 0", { tags: ["ATTRS"] }),
    rule("jsonataNumber", "JSONATA", "$number(ssn) > 0"),
    rule("jsonataCompare", "JSONATA", `${f.cardNumber} > 5`),
    rule("jsonataError", "JSONATA", "$error(card.holder)"),
    rule("jsonataKey", "JSONATA", "$keys(attrs)[0] > 5"),
    rule("jsonataDerived", "JSONATA", "$substring(ssn, 1) > 5"),
    rule("enumDoesNotFit", "JSONATA", "$merge([$, {'tier': ssn}])", { kind: "TRANSFORM" }),
    rule("fieldDoesNotFit", "CEL_FIELD", "typeName == 'STRING' ; 7", { kind: "TRANSFORM", tags: ["PCI"] }),
    rule("deadLetter", "CEL", "message.amount < 0.0", { onFailure: "DLQ" }),
  ];
}

function assertNoLeak(texts: readonly string[], s: Secrets, where: string): void {
  for (const text of texts) {
    for (const secret of forms(s)) {
      assert.ok(!text.includes(secret), `${where}: ${JSON.stringify(secret)} leaked in ${text.slice(0, 2000)}`);
    }
  }
}

function headerTexts(headers: Record<string, unknown> | undefined): string[] {
  return Object.entries(headers ?? {}).map(([k, v]) => `${k}=${Buffer.isBuffer(v) ? v.toString("utf8") : String(v)}`);
}

describe("the redaction invariant: no sensitive value ever appears in any output", () => {
  for (const f of FORMATS_UNDER_TEST) {
    it(`${f.type}: violations, errors, redacted JSON, DLQ records and the check dead-letter file`, async () => {
      const rand = mulberry32(SEED);
      const contract: Contract = { schemaType: f.type, schema: f.schema, ruleSet: { domainRules: rules(f) } };
      const schema: CompiledSchema = FORMATS[f.type].compile(contract);
      const plan = createEngine().compile("customers-value", contract, schema);
      assert.deepEqual(plan.compileErrors, []);
      const all: Secrets[] = [];
      const lines: string[] = [];
      for (let i = 0; i < COUNT; i++) {
        const s = secrets(rand);
        all.push(s);
        const message = schema.coerce(f.native(s, `c-${i}`));
        lines.push(JSON.stringify(schema.toJson(message), (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
        const o = (await plan.write.run(message, { topic: "customers", isKey: false })) as FailedOutcome;
        assert.equal(o.kind, "failed");
        if (process.env.SHOW_RULES) console.log(f.type, o.violations.map((v) => `${v.rule}: ${v.message}`).join("\n"));
        assert.ok(o.violations.length >= 10, `rules failed as intended: ${o.violations.map((v) => v.rule).join(", ")}`);
        const record = deadLetterRecord({
          key: null,
          value: writeForm(schema, o.value, TAGS),
          headers: { trace: Buffer.from("t-1") },
          origin: { topic: "customers" },
          cause: { kind: "rule", outcome: o },
        });
        assertNoLeak(
          [
            JSON.stringify(o.violations),
            o.error.message,
            o.error.stack ?? "",
            inspect(o.error, { depth: 10 }),
            JSON.stringify(redactedJson(schema, o.value, TAGS), (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
            String(record.value),
            ...headerTexts(record.headers as Record<string, unknown>),
          ],
          s,
          `${f.type} message ${i}`,
        );
      }

      const dir = mkdtempSync(join(tmpdir(), "kontract-invariant-"));
      writeFileSync(join(dir, "customers.yaml"), JSON.stringify({ subject: "customers-value", ...contract }));
      writeFileSync(join(dir, "in.jsonl"), lines.join("\n") + "\n");
      const dlq = join(dir, "dlq.jsonl");
      const r = spawnSync(
        process.execPath,
        [join(import.meta.dirname, "../../bin/kontract.mjs"), "check", "customers-value", join(dir, "in.jsonl"), "--rules", dir, "--dlq", dlq, "--quiet", "--exit-zero"],
        { encoding: "utf8", cwd: dir },
      );
      assert.equal(r.status, 0, r.stderr);
      const records = readFileSync(dlq, "utf8").trim().split("\n");
      assert.equal(records.length, COUNT);
      records.forEach((line, i) => assertNoLeak([line], all[i]!, `${f.type} check dead-letter line ${i + 1}`));
      for (const s of all) assertNoLeak([r.stdout, r.stderr], s, `${f.type} check output`);
    });
  }
});
