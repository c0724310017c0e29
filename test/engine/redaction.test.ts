/**
 * Redaction: sensitive-tagged values never leave the process in clear text,
 * whatever their type (enums, records, maps with their keys) and whatever
 * the JSON form calls them.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { REDACTED, createEngine, planMigration, runMigration, redactedJson, type FailedOutcome, type PassedOutcome } from "../../src/engine/index.js";
import type { Rule } from "../../src/contract/model.js";
import { MC, order, plan } from "../helpers/contracts.js";
import { avroFormat } from "../../src/format/avro/index.js";
import { jsonSchemaFormat } from "../../src/format/json-schema/index.js";
import { compileProtobuf } from "../../src/format/protobuf/index.js";
import type { CompiledSchema } from "../../src/format/types.js";
import { compileJsonRedaction } from "../../src/format/protobuf/redact.js";
import { FieldCatalog } from "../../src/format/protobuf/fields.js";
import { isErrorCode } from "../../src/errors.js";

const PII = new Set(["PII"]);

const PROTO = `syntax = "proto3";
package acme;
import "confluent/meta.proto";

message Payment {
  string card_number = 1 [(confluent.field_meta).tags = "PII"];
  string holder = 2 [json_name = "cardHolderName", (confluent.field_meta).tags = "PII"];
  Method method = 3 [(confluent.field_meta).tags = "PII"];
  map<string, string> extra_attrs = 4 [(confluent.field_meta).tags = "PII"];
  Address billing_address = 5 [(confluent.field_meta).tags = "PII"];
  Address shipping_address = 6;
  repeated Address past_addresses = 7;
  oneof proof { string id_card = 8 [(confluent.field_meta).tags = "PII"]; string other_proof = 9; }
  int64 amount_cents = 10;
  enum Method { METHOD_UNSPECIFIED = 0; CARD = 1; SECRET_METHOD = 2; }
}
message Address { string street_line = 1 [(confluent.field_meta).tags = "PII"]; string city = 2; }`;

describe("redactedJson", () => {
  it("Protobuf: redacts fields under their JSON names, enums, maps with their keys and tagged messages", () => {
    const s = compileProtobuf({ schema: PROTO, schemaType: "PROTOBUF" }) as unknown as CompiledSchema;
    const message = s.coerce({
      cardNumber: "4111111111111111",
      holder: "Jane Doe",
      method: 2,
      extraAttrs: { "secret-key": "secret-value" },
      billingAddress: { streetLine: "1 Secret Road", city: "Hidden" },
      shippingAddress: { streetLine: "2 Secret Road", city: "Paris" },
      pastAddresses: [{ streetLine: "3 Secret Road", city: "Lyon" }],
      proof: { case: "idCard", value: "ID-SECRET" },
      amountCents: 500n,
    });
    const json = redactedJson(s, message, PII) as Record<string, unknown>;
    assert.deepEqual(json, {
      cardNumber: REDACTED,
      cardHolderName: REDACTED,
      method: REDACTED,
      extraAttrs: REDACTED,
      billingAddress: REDACTED,
      shippingAddress: { streetLine: REDACTED, city: "Paris" },
      pastAddresses: [{ streetLine: REDACTED, city: "Lyon" }],
      idCard: REDACTED,
      amountCents: "500",
    });
  });

  it("Avro: redacts enums, maps with their keys, tagged records, and fields inside union-wrapped records", () => {
    const schema = JSON.stringify({
      type: "record",
      name: "Customer",
      namespace: "acme",
      fields: [
        { name: "id", type: "string" },
        { name: "tier", type: { type: "enum", name: "Tier", symbols: ["BASIC", "SECRET_TIER"] }, "confluent:tags": ["PII"] },
        { name: "attrs", type: { type: "map", values: "string" }, "confluent:tags": ["PII"] },
        {
          name: "home",
          type: ["null", { type: "record", name: "Address", fields: [{ name: "street", type: "string", "confluent:tags": ["PII"] }, { name: "city", type: "string" }] }],
        },
        { name: "work", type: ["null", "Address"], "confluent:tags": ["PII"] },
      ],
    });
    const s = avroFormat.compile({ schema, schemaType: "AVRO" });
    const json = redactedJson(
      s,
      { id: "c-1", tier: "SECRET_TIER", attrs: { "secret-key": "v" }, home: { street: "1 Secret Road", city: "Paris" }, work: { street: "2 Secret Road", city: "Hidden" } },
      PII,
    );
    assert.deepEqual(json, { id: "c-1", tier: REDACTED, attrs: REDACTED, home: { "acme.Address": { street: REDACTED, city: "Paris" } }, work: REDACTED });
  });

  it("JSON Schema: redacts enums, additionalProperties maps, tagged objects and tagged additionalProperties values", () => {
    const schema = JSON.stringify({
      type: "object",
      properties: {
        id: { type: "string" },
        tier: { enum: ["BASIC", "SECRET_TIER"], "confluent:tags": ["PII"] },
        attrs: { type: "object", additionalProperties: { type: "string" }, "confluent:tags": ["PII"] },
        notes: { type: "object", additionalProperties: { type: "string", "confluent:tags": ["PII"] } },
        address: { type: "object", properties: { street: { type: "string" } }, "confluent:tags": ["PII"] },
      },
    });
    const s = jsonSchemaFormat.compile({ schema, schemaType: "JSON" });
    const message = { id: "c-1", tier: "SECRET_TIER", attrs: { "secret-key": "v" }, notes: { a: "secret note" }, address: { street: "1 Secret Road" } };
    const json = redactedJson(s, message, PII);
    assert.deepEqual(json, { id: "c-1", tier: REDACTED, attrs: REDACTED, notes: { a: REDACTED }, address: REDACTED });
    assert.equal(message.tier, "SECRET_TIER", "the input is never mutated");
  });

  it("is the plain JSON form when the schema has no sensitive field", () => {
    const s = jsonSchemaFormat.compile({ schema: JSON.stringify({ type: "object", properties: { id: { type: "string" } } }), schemaType: "JSON" });
    assert.deepEqual(redactedJson(s, { id: "x" }, PII), { id: "x" });
  });
});

describe("kontract check dead-letter file", () => {
  it("never holds the card number or holder of the shipped payments contract", () => {
    const dir = mkdtempSync(join(tmpdir(), "kontract-redact-"));
    const input = join(dir, "payments.jsonl");
    const dlq = join(dir, "dlq.jsonl");
    const payment = { payment_id: "p", order_id: "o", amount: -5, currency: "EUR", card_number: "4111111111111111", card_holder: "Jane Doe", method: "CARD" };
    writeFileSync(input, JSON.stringify(payment) + "\n");
    const r = spawnSync(process.execPath, [join(import.meta.dirname, "../../bin/kontract.mjs"), "check", "payments-value", input, "--dlq", dlq, "--quiet", "--exit-zero"], {
      encoding: "utf8",
      cwd: join(import.meta.dirname, "../.."),
    });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(dlq, "utf8");
    assert.ok(!text.includes("4111111111111111") && !text.includes("Jane Doe"), text);
    assert.equal(JSON.parse(text).message.cardNumber, REDACTED);
  });
});

describe("Protobuf redaction pass", () => {
  it("throws redaction-failed on a JSON key the descriptor does not name, rather than skip it", () => {
    const s = compileProtobuf({ schema: PROTO, schemaType: "PROTOBUF" });
    const pass = compileJsonRedaction(s.desc, new FieldCatalog(undefined), PII)!;
    assert.throws(
      () => pass({ card_number: "4111111111111111" }, () => REDACTED),
      (e: unknown) => isErrorCode(e, "redaction-failed") && !(e as Error).message.includes("4111"),
    );
  });
});

describe("violation texts built from runtime values", () => {
  const SECRET = "4242-SECRET-x9";
  const cel = (expr: string): Rule => ({ name: "r", kind: "CONDITION", mode: "WRITE", type: "CEL", expr });
  const jsonata = (expr: string, kind: "CONDITION" | "TRANSFORM" = "CONDITION"): Rule => ({ name: "r", kind, mode: "WRITE", type: "JSONATA", expr });
  const cases: [string, Rule][] = [
    ["CEL int(message.email)", cel("int(message.email) > 0")],
    ["CEL map lookup by the value", cel("{'a': 1}[message.email] == 1")],
    ["CEL matches with the value as the pattern", cel("'x'.matches(message.email)")],
    ["CEL on a derived value", cel("int(message.email + '!') > 0")],
    ["CEL on a substring of the value, which the error prints unquoted", cel("int(message.email.substring(2)) > 0")],
    ["CEL on the value upper-cased", cel("int(message.email.upperAscii()) > 0")],
    ["CEL map lookup by a substring of the value", cel("{'a': 1}[message.email.substring(1)] == 1")],
    ["JSONata $number (D3030)", jsonata("$number(email) > 0")],
    ["JSONata comparison (T2009)", jsonata("email > 5")],
    ["JSONata $error", jsonata("$error(email)")],
  ];
  for (const [name, rule] of cases) {
    it(`${name}: the value is not in the violation, nor in the error's message or stack`, async () => {
      const o = (await plan([rule]).write.run(order({ email: SECRET + "((" }), MC)) as FailedOutcome;
      assert.equal(o.kind, "failed");
      const texts = [JSON.stringify(o.violations), o.error.message, o.error.stack ?? "", String(o.error.cause ?? "")];
      for (const t of texts) assert.ok(!t.includes("SECRET"), t);
      assert.match(o.violations[0]!.message, /<REDACTED>|Expr failed/);
    });
  }

  it("texts stay as they are when the message has no sensitive value", () => {
    const o = plan([cel("int(message.id) > 0")]).write.run(order({ id: "not-a-number", email: undefined }), MC) as FailedOutcome;
    assert.match(o.violations[0]!.message, /not-a-number/);
  });

  it("migration rules (on the JSON form) are scrubbed too", async () => {
    const schema = JSON.stringify({ type: "object", properties: { id: { type: "string" }, ssn: { type: "string", "confluent:tags": ["PII"] } } });
    const engine = createEngine();
    const at = (version: number, migrationRules: Rule[]) => {
      const c = { schemaType: "JSON" as const, schema, ruleSet: { migrationRules } };
      return { version, plan: engine.compile("people-value", c, jsonSchemaFormat.compile(c)) };
    };
    const v1 = at(1, []);
    const v2 = at(2, [{ name: "up", kind: "CONDITION", mode: "UPGRADE", type: "JSONATA", expr: "$number(ssn) > 0" }]);
    const o = (await runMigration(planMigration(v1, v2, [v1, v2]), { id: "p-1", ssn: SECRET }, MC)) as FailedOutcome;
    assert.equal(o.kind, "failed");
    assert.match(o.violations[0]!.message, /Unable to cast value to a number: "<REDACTED>"/);
    assert.ok(!o.error.stack!.includes("SECRET"));
  });

  it("a message that does not fit its schema, nested too deep or cyclic, still fails with a scrubbed text, not a RangeError", () => {
    let deep: unknown = SECRET;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const cyclic: Record<string, unknown> = { city: SECRET };
    cyclic.self = cyclic;
    const c = { schemaType: "PROTOBUF" as const, schema: PROTO, ruleSet: { domainRules: [cel("int(message.card_number) > 0")] } };
    const s = compileProtobuf(c);
    const p = createEngine().compile("payments-value", c, s as unknown as CompiledSchema);
    for (const weird of [deep, cyclic]) {
      // A native message with a value in a field that cannot hold it: its JSON form (the redactor's input) fails.
      const message = { ...(s.coerce({ cardNumber: SECRET }) as object), amountCents: weird };
      const o = p.write.run(message, MC) as FailedOutcome;
      assert.equal(o.kind, "failed");
      assert.ok(!JSON.stringify(o.violations).includes("SECRET"), JSON.stringify(o.violations));
      assert.ok(!o.error.message.includes("SECRET"));
    }
  });

  it("a custom action's error: scrubbed, and not kept as the cause", () => {
    const action = { type: "AUDIT", run: (ctx: { message: unknown }) => { throw new Error(`audit refused ${(ctx.message as { email: string }).email}`); } };
    const o = plan([{ ...cel("message.amount < 0.0"), onFailure: "AUDIT" }], { actions: [action] }).write.run(order({ email: SECRET }), MC) as FailedOutcome;
    assert.equal(o.violations.at(-1)!.message, "action AUDIT failed: audit refused <REDACTED>");
    assert.equal(o.error.cause, undefined);
    assert.ok(!inspect(o.error).includes("SECRET"));
  });

  it("a short sensitive value (a 0) is left out as a whole token, not from inside other words", () => {
    const schema = JSON.stringify({ type: "object", properties: { id: { type: "string" }, pin: { type: "integer", "confluent:tags": ["PII"] } } });
    const c = { schemaType: "JSON" as const, schema, ruleSet: { domainRules: [cel("{'a': 1}[message.id] == 1"), cel("{'a': 1}[string(message.pin)] == 1")].map((r, i) => ({ ...r, name: `r${i}`, onFailure: "NONE" })) } };
    const p = createEngine().compile("pins-value", c, jsonSchemaFormat.compile(c));
    const o = p.write.run({ id: "x10y", pin: 0 }, MC) as PassedOutcome;
    assert.deepEqual(
      o.violations.map((v) => v.message),
      ["Could not execute CEL script: field not found: x10y", "Could not execute CEL script: field not found: <REDACTED>"],
    );
  });

  it("Protobuf: an enum that does not take a sensitive value names neither", async () => {
    const c = {
      schemaType: "PROTOBUF" as const,
      schema: PROTO,
      ruleSet: { domainRules: [jsonata("$merge([$, {'method': cardNumber}])", "TRANSFORM")] },
    };
    const s = compileProtobuf(c);
    const p = createEngine().compile("payments-value", c, s as unknown as CompiledSchema);
    const o = (await p.write.run(s.coerce({ cardNumber: SECRET }), MC)) as FailedOutcome;
    assert.equal(o.kind, "failed");
    const texts = [JSON.stringify(o.violations), o.error.message, o.error.stack ?? ""];
    for (const t of texts) assert.ok(!t.includes("SECRET"), t);
  });
});

describe("Protobuf JSON errors", () => {
  it("name the field, never the value (the JSON may hold sensitive values: kontract check reports it)", () => {
    const s = compileProtobuf({ schema: PROTO, schemaType: "PROTOBUF" });
    for (const json of [{ method: "SECRET-enum" }, { amountCents: "SECRET-int" }, { billingAddress: "SECRET-msg" }, { pastAddresses: ["SECRET-item"] }]) {
      assert.throws(
        () => s.fromJson(json),
        (e: unknown) => isErrorCode(e, "message-invalid") && !(e as Error).message.includes("SECRET") && /acme\.Payment/.test((e as Error).message),
        JSON.stringify(json),
      );
    }
  });
});
