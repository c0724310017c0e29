/**
 * The static checker against schemas compiled by kontract's own format
 * adapters (Avro, JSON Schema, Protobuf) and plain list/map variables.
 * Valid expressions must check clean with the right type, and the runtime must
 * agree: each one compiles and, on a sample message, yields a value of the
 * static type. Invalid ones give the exact code and position.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isCelList, isCelMap, isCelType, isCelUint } from "@bufbuild/cel";
import { create } from "@bufbuild/protobuf";
import { isReflectMessage } from "@bufbuild/protobuf/reflect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CHECK_TYPES as T, checkCel, checkTypeOfShape, formatCheckType, isAssignable, listOf, mapOf, nullable } from "../../../src/cel/checker/index.js";
import type { CheckDiagnostic, CheckResult, CheckType } from "../../../src/cel/checker/index.js";
import { celView, createCelRuntime, isCelFailure } from "../../../src/cel/index.js";
import type { CelShape } from "../../../src/cel/index.js";
import { avroFormat, jsonSchemaFormat } from "../../../src/format/index.js";
import { compileProtobuf } from "../../../src/format/protobuf/index.js";

// ---- schemas ----

const avro = avroFormat.compile({
  schema: JSON.stringify({
    type: "record",
    name: "User",
    namespace: "acme",
    fields: [
      { name: "age", type: "int" },
      { name: "name", type: "string" },
      { name: "email", type: "string" },
      { name: "score", type: "double" },
      { name: "active", type: "boolean" },
      { name: "createdAt", type: { type: "long", logicalType: "timestamp-millis" } },
      { name: "nick", type: ["null", "string"], default: null },
      { name: "address", type: { type: "record", name: "Address", fields: [{ name: "city", type: "string" }, { name: "zip", type: "string" }] } },
      {
        name: "items",
        type: {
          type: "array",
          items: { type: "record", name: "Item", fields: [{ name: "sku", type: "string" }, { name: "qty", type: "int" }, { name: "price", type: "double" }] },
        },
      },
      { name: "attrs", type: { type: "map", values: "string" } },
      { name: "data", type: "bytes" },
      { name: "referrer", type: ["null", "User"], default: null },
    ],
  }),
});

const avroSample = {
  age: 42,
  name: "Alice",
  email: "alice@example.com",
  score: 87.5,
  active: true,
  createdAt: Date.UTC(2024, 5, 1),
  nick: null,
  address: { city: "Paris", zip: "75001" },
  items: [
    { sku: "A-1", qty: 4, price: 9.5 },
    { sku: "B-2", qty: 1, price: 20 },
  ],
  attrs: { color: "red" },
  data: Buffer.from("abc"),
  referrer: { age: 50, name: "Bob", email: "bob@example.com", score: 1, active: false, createdAt: 0, nick: "bobby", address: { city: "Lyon", zip: "69001" }, items: [], attrs: {}, data: Buffer.from(""), referrer: null },
};

const json = jsonSchemaFormat.compile({
  schemaType: "JSON",
  schema: JSON.stringify({
    title: "Person",
    type: "object",
    properties: {
      name: { type: "string" },
      age: { type: "integer" },
      nick: { type: ["string", "null"] },
      score: { type: "number" },
      extra: {},
      tags: { type: "array", items: { type: "string" } },
      counts: { type: "object", additionalProperties: { type: "integer" } },
      address: { oneOf: [{ type: "null" }, { type: "object", properties: { city: { type: "string" } } }] },
    },
  }),
});

const jsonSample = { name: "Ann", age: 30, nick: null, score: 4.5, extra: { deep: [1, 2] }, tags: ["a", "b"], counts: { x: 1 }, address: { city: "Oslo" } };

const proto = compileProtobuf({
  schemaType: "PROTOBUF",
  schema: `syntax = "proto3";
package acme;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
message Order {
  string id = 1;
  int64 amount = 2;
  Status status = 3;
  repeated Line lines = 4;
  map<string, string> attrs = 5;
  google.protobuf.Timestamp created = 6;
  google.protobuf.StringValue note = 7;
  uint32 count = 8;
  Line main = 9;
  message Line { string sku = 1; int32 qty = 2; double price = 3; }
  enum Status { NEW = 0; PAID = 1; }
}`,
});

const protoSample = create(proto.desc, {
  id: "o-1",
  amount: 120n,
  status: 1,
  lines: [{ sku: "A", qty: 2, price: 3.5 }],
  attrs: { channel: "web" },
  created: timestampFromMs(Date.UTC(2024, 0, 1)),
  count: 3,
  main: { sku: "A", qty: 2, price: 3.5 },
} as never);

const avroType = checkTypeOfShape(avro.celShape);
const jsonType = checkTypeOfShape(json.celShape);
const protoType = checkTypeOfShape(proto.celShape, { desc: proto.desc });

// ---- helpers ----

function show(r: CheckResult): string {
  return r.diagnostics.map((d) => `${d.code}@${d.line}:${d.column} ${d.message}`).join("; ");
}

/** Whether a runtime value is of the static type (dyn: anything). */
function valueHasType(v: unknown, t: CheckType): boolean {
  switch (t.kind) {
    case "dyn":
      return true;
    case "optional-null":
      return v === null || valueHasType(v, t.inner);
    case "int":
      return typeof v === "bigint";
    case "uint":
      return isCelUint(v);
    case "double":
      return typeof v === "number";
    case "string":
      return typeof v === "string";
    case "bool":
      return typeof v === "boolean";
    case "bytes":
      return v instanceof Uint8Array;
    case "null":
      return v === null;
    case "type":
      return isCelType(v);
    case "timestamp":
    case "duration":
      return isReflectMessage(v) && v.desc.typeName === `google.protobuf.${t.kind === "timestamp" ? "Timestamp" : "Duration"}`;
    case "list":
      return isCelList(v) && [...v].every((e) => valueHasType(e, t.element));
    case "map":
    case "record":
      return isCelMap(v);
    case "message":
      return isReflectMessage(v) && v.desc.typeName === t.typeName;
  }
}

const runtime = createCelRuntime();
const protoRuntime = createCelRuntime({ registry: proto.registry });

interface Env {
  name: string;
  variables: Record<string, CheckType>;
  bindings: Record<string, unknown>;
  registry?: typeof proto.registry;
}

function expectValid(env: Env, cases: readonly (readonly [string, string])[]): void {
  for (const [expr, type] of cases) {
    test(`${env.name}: ${expr} : ${type}`, () => {
      const r = checkCel(expr, env.variables, { registry: env.registry });
      assert.equal(show(r), "");
      assert.ok(r.type);
      assert.equal(formatCheckType(r.type), type);
      // The runtime accepts it and agrees on the type.
      const program = (env.registry ? protoRuntime : runtime).compile(expr, Object.keys(env.variables));
      const value = program.run(env.bindings);
      assert.ok(!isCelFailure(value), `runtime failed: ${isCelFailure(value) ? value.message : ""}`);
      assert.ok(valueHasType(value, r.type), `runtime value ${String(value)} is not a ${type}`);
    });
  }
}

type Expected = readonly [code: CheckDiagnostic["code"], line: number, column: number];

function expectInvalid(env: Env, cases: readonly (readonly [string, ...Expected])[]): void {
  for (const [expr, code, line, column] of cases) {
    test(`${env.name}: ${expr.replace(/\s+/g, " ")} -> ${code} at ${line}:${column}`, () => {
      const r = checkCel(expr, env.variables, { registry: env.registry });
      assert.equal(r.type, undefined);
      assert.ok(r.diagnostics.length > 0, "no diagnostic");
      const d = r.diagnostics[0];
      assert.deepEqual([d.code, d.line, d.column], [code, line, column], show(r));
    });
  }
}

// ---- Avro ----

const avroEnv: Env = { name: "avro", variables: { message: avroType }, bindings: { message: celView(avroSample, avro.celShape) } };

describe("Avro record: valid expressions check clean with their type", () => {
  expectValid(avroEnv, [
    ["message.age >= 18 && size(message.name) > 0 && message.email.matches('^[^@]+@[^@]+$')", "bool"],
    ["message.age", "int"],
    ["message.score * 2.0", "double"],
    ["message.age > 18.5 && message.score > 10 && message.age < 100u", "bool"],
    ["message.age == 42.0", "bool"],
    ["message.createdAt > timestamp('2024-01-01T00:00:00Z') && message.createdAt < now", "bool"],
    ["message.createdAt + duration('1h')", "timestamp"],
    ["now - message.createdAt", "duration"],
    ["message.createdAt.getFullYear('Europe/Paris')", "int"],
    ["message.nick", "nullable(string)"],
    ["message.nick == null || message.nick.startsWith('A')", "bool"],
    ["has(message.attrs.color) && message.nick != null", "bool"],
    ["message.address", "acme.Address"],
    ["message.address.city + ', ' + message.address.zip", "string"],
    ["message.items", "list(acme.Item)"],
    ["message.items.exists(i, i.qty > 3 && i.price < 10.0)", "bool"],
    ["message.items.all(i, i.sku.matches('^[A-Z]-[0-9]$'))", "bool"],
    ["message.items.exists_one(i, i.qty == 1)", "bool"],
    ["message.items.map(i, i.qty * 2)", "list(int)"],
    ["message.items.map(i, i.qty > 1, i.sku)", "list(string)"],
    ["message.items.filter(i, i.price > 5.0)", "list(acme.Item)"],
    ["message.items[0].sku", "string"],
    ["size(message.items) + message.items.size()", "int"],
    ["message.attrs['color']", "string"],
    ["'color' in message.attrs && message.attrs.color == 'red'", "bool"],
    ["message['age'] + 1", "int"],
    ["'email' in message && size(message) > 3", "bool"],
    ["message.all(k, k != '')", "bool"],
    ["message.data + b'!'", "bytes"],
    ["message.referrer.address.city", "string"],
    ["message.name.lowerAscii().trim().substring(1) + string(message.age)", "string"],
    ["message.email.split('@')", "list(string)"],
    ["message.email.split('@').join('-')", "string"],
    ["'%s is %d'.format([message.name, message.age])", "string"],
    ["strings.quote(message.name)", "string"],
    ["message.email.isEmail() && message.name.charAt(0) == 'A' && message.email.indexOf('@') > 0", "bool"],
    ["int(message.createdAt) > 0 && double(message.age) > 1.0 && uint(message.age) > 1u", "bool"],
    ["type(message.age) == int", "bool"],
    ["message.age > 50 ? 'old' : 'young'", "string"],
    ["message.nick == null ? message.name : message.nick", "nullable(string)"],
    ["[message.age, 2, 3]", "list(int)"],
    ["[message.age, message.name]", "list(dyn)"],
    ["{'n': message.name}", "map(string, string)"],
    ["dyn(message).name", "dyn"],
    ["[] + message.items.map(i, i.sku)", "list(string)"],
  ]);
});

test("avro: has() on a record field is advisory (always true), and the expression keeps its type", () => {
  const r = checkCel("has(message.nick) && has(message.address.city)", avroEnv.variables);
  assert.equal(r.type && formatCheckType(r.type), "bool");
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.column]),
    [
      ["has-always-true", 1],
      ["has-always-true", 22],
    ],
  );
  assert.match(r.diagnostics[0]!.message, /write message\.nick != null/);
});

test("the alternatives of a transform: one type per leaf branch of nested ?:", () => {
  const r = checkCel("message.age > 1 ? message.name : (message.age > 0 ? 1 : null)", avroEnv.variables);
  assert.deepEqual(r.alternatives.map(formatCheckType), ["string", "int", "null"]);
  assert.deepEqual(checkCel("message.name", avroEnv.variables).alternatives.map(formatCheckType), ["string"]);
});

describe("Avro record: invalid expressions", () => {
  expectInvalid(avroEnv, [
    ["message.agee >= 18", "unknown-field", 1, 9],
    ["message.address.zipp == 'x'", "unknown-field", 1, 17],
    ["message.items.exists(i, i.qtyy > 3)", "unknown-field", 1, 27],
    ["has(message.address.nope)", "unknown-field", 1, 21],
    ["message['agee']", "unknown-field", 1, 9],
    ["message.referrer.nextt", "unknown-field", 1, 18],
    ["message.name > 5", "no-matching-overload", 1, 14],
    ["message.age + 'x'", "no-matching-overload", 1, 13],
    ["size(message.age) > 0", "no-matching-overload", 1, 1],
    ["message.email.matches(1)", "no-matching-overload", 1, 15],
    ["message.items.exists(i, i.sku > 3)", "no-matching-overload", 1, 31],
    ["message.createdAt > '2024'", "no-matching-overload", 1, 19],
    ["message.score * 2", "no-matching-overload", 1, 15],
    ["message.age == null", "no-matching-overload", 1, 13],
    ["message.age && true", "no-matching-overload", 1, 13],
    ["message.items['x']", "no-matching-overload", 1, 14],
    ["'a' in message.age", "no-matching-overload", 1, 5],
    ["isEmail(message.email)", "no-matching-overload", 1, 1],
    ["message.name.substring(1, 2, 3)", "no-matching-overload", 1, 14],
    ["[1, 2].join(',')", "no-matching-overload", 1, 8],
    ["message.items + [1]", "no-matching-overload", 1, 15],
    ["unknownFn(message.age)", "unknown-function", 1, 1],
    ["message.name.shout()", "unknown-function", 1, 14],
    ["base64.encode(message.data)", "unknown-variable", 1, 1],
    ["a.b.encode(message.data)", "unknown-function", 1, 1],
    ["undeclared_var > 1", "unknown-variable", 1, 1],
    ["mesage.age > 1", "unknown-variable", 1, 1],
    ["message.items.exists(i, i.qty > 3) && i.qty > 1", "unknown-variable", 1, 39],
    ["message.age ? 1 : 2", "type-mismatch", 1, 1],
    ["message.items.filter(i, i.qty)", "type-mismatch", 1, 25],
    ["message.age.all(x, x > 1)", "type-mismatch", 1, 1],
    ["message.age.value", "type-mismatch", 1, 13],
    ["message.email.matches('a(?=b)')", "regex", 1, 23],
    ["message.email.matches('[a-')", "regex", 1, 23],
    ["has(message)", "syntax", 1, 1],
    ["message.items.all(1, true)", "syntax", 1, 19],
    ["message.?nick", "unsupported", 1, 8],
    ["[?message.nick]", "unsupported", 1, 2],
    ["{?'a': message.nick}", "unsupported", 1, 2],
    ["message.`first-name`", "unsupported", 1, 9],
    ["optional.of(message.age)", "unsupported", 1, 1],
    ["message.nick.orValue('x')", "unsupported", 1, 14],
    ["cel.bind(x, message.age, x * x)", "unsupported", 1, 1],
    ["message.items.all(i, v, v.qty > 0)", "unsupported", 1, 15],
    ["math.greatest(message.age, 1)", "unsupported", 1, 1],
    ["matches(message.email, '^a')", "no-matching-overload", 1, 1],
  ]);
});

describe("cel.md's type-checking table", () => {
  // The declarations of cel.md section 3: a message record plus the CEL_FIELD variables.
  const item: CheckType = { kind: "record", name: "Item", fields: new Map<string, CheckType>([["sku", T.string], ["qty", T.int], ["price", T.double]]) };
  const address: CheckType = { kind: "record", name: "Address", fields: new Map<string, CheckType>([["city", T.string], ["zip", T.string]]) };
  const message: CheckType = {
    kind: "record",
    name: "Message",
    fields: new Map<string, CheckType>([
      ["age", T.int],
      ["name", T.string],
      ["email", T.string],
      ["createdAt", T.timestamp],
      ["address", address],
      ["items", listOf(item)],
      ["nick", nullable(T.string)],
    ]),
  };
  const variables = { message, value: T.dyn, name: T.string, typeName: T.string };
  const cases: readonly [string, string | Expected][] = [
    ["message.age >= 18 && size(message.name) > 0 && message.email.matches('^[^@]+@[^@]+$')", "bool"],
    ["message.agee >= 18", ["unknown-field", 1, 9]],
    ["message.name > 5", ["no-matching-overload", 1, 14]],
    ["message.age + 'x'", ["no-matching-overload", 1, 13]],
    ["size(message.age) > 0", ["no-matching-overload", 1, 1]],
    ["message.email.matches(1)", ["no-matching-overload", 1, 15]],
    ["message.items.exists(i, i.qtyy > 3)", ["unknown-field", 1, 27]],
    ["message.items.exists(i, i.sku > 3)", ["no-matching-overload", 1, 31]],
    ["message.address.zip == 'x'", "bool"],
    ["message.address.zipp == 'x'", ["unknown-field", 1, 17]],
    ["message.createdAt > '2024'", ["no-matching-overload", 1, 19]],
    ["has(message.address.nope)", ["unknown-field", 1, 21]],
    ["undeclared_var > 1", ["unknown-variable", 1, 1]],
    ["unknownFn(message.age)", ["unknown-function", 1, 1]],
    ["message.nick == null", "bool"],
    ["typeName == 'STRING' && size(value) > 0", "bool"],
  ];
  for (const [expr, want] of cases) {
    test(`${expr} -> ${typeof want === "string" ? want : want.join(" at ")}`, () => {
      const r = checkCel(expr, variables);
      if (typeof want === "string") {
        assert.equal(show(r), "");
        assert.equal(formatCheckType(r.type!), want);
      } else {
        const d = r.diagnostics[0];
        assert.deepEqual(d && [d.code, d.line, d.column], [...want], show(r));
      }
    });
  }
});

// ---- JSON Schema ----

const jsonEnv: Env = { name: "json", variables: { message: jsonType }, bindings: { message: celView(jsonSample, json.celShape) } };

describe("JSON Schema record (nullable and untyped properties)", () => {
  expectValid(jsonEnv, [
    ["message.name.size() > 0 && message.age >= 18", "bool"],
    ["message.nick", "nullable(string)"],
    ["message.nick != null && message.nick.size() > 1", "bool"],
    ["message.score > 4 && message.score == 4.5", "bool"],
    ["message.extra", "dyn"],
    ["message.extra.deep[0] + 1.0", "double"],
    ["message.tags.exists(t, t == 'a')", "bool"],
    ["message.counts.x + 1", "int"],
    ["message.address.city", "string"],
    ["message.address == null || message.address.city != ''", "bool"],
  ]);
  expectInvalid(jsonEnv, [
    ["message.agee > 1", "unknown-field", 1, 9],
    ["message.address.town", "unknown-field", 1, 17],
    ["message.counts.x + 'a'", "no-matching-overload", 1, 18],
    ["message.nick + 1", "no-matching-overload", 1, 14],
  ]);
});

// ---- Protobuf ----

const protoEnv: Env = { name: "protobuf", variables: { message: protoType }, bindings: { message: protoSample }, registry: proto.registry };

describe("Protobuf message (fields from the registry)", () => {
  expectValid(protoEnv, [
    ["message", "acme.Order"],
    ["message.amount > 100", "bool"],
    ["message.amount", "int"],
    ["message.count", "uint"],
    ["message.count > 1u && message.count > 1", "bool"],
    ["message.status == acme.Order.Status.PAID", "bool"],
    ["message.status", "int"],
    ["message.lines.all(l, l.price < 10.0 && l.qty > 0)", "bool"],
    ["message.lines", "list(acme.Order.Line)"],
    ["message.attrs['channel'] == 'web'", "bool"],
    ["message.attrs", "map(string, string)"],
    ["message.created < now", "bool"],
    ["message.note", "nullable(string)"],
    ["message.note == null || message.note.startsWith('x')", "bool"],
    ["message.main.sku", "string"],
    ["has(message.main) && !has(message.note)", "bool"],
    ["message.main != null", "bool"],
    ["acme.Order{id: 'x', amount: 1}", "acme.Order"],
    ["acme.Order{id: 'x', lines: [acme.Order.Line{sku: 'A'}]}.lines[0].sku", "string"],
    ["google.protobuf.Timestamp{seconds: 20}", "timestamp"],
    ["type(message) == acme.Order", "bool"],
  ]);
  expectInvalid(protoEnv, [
    ["message.idd", "unknown-field", 1, 9],
    ["message.lines.exists(l, l.qtyy > 1)", "unknown-field", 1, 27],
    ["has(message.main.skux)", "unknown-field", 1, 18],
    ["acme.Order{idd: 'x'}", "unknown-field", 1, 12],
    ["acme.Order{id: 1}", "type-mismatch", 1, 16],
    ["acme.Nope{}", "unknown-variable", 1, 1],
    ["message.amount + 1u", "no-matching-overload", 1, 16],
    ["message.amount == null", "no-matching-overload", 1, 16],
    ["message.status == acme.Order.Status.LOST", "unknown-variable", 1, 19],
    ["message.lines[0].price > '1'", "no-matching-overload", 1, 24],
  ]);
});

// ---- lists and maps ----

const collectionsEnv: Env = {
  name: "collections",
  variables: { names: listOf(T.string), scores: mapOf(T.string, T.double), matrix: listOf(listOf(T.int)), byId: mapOf(T.int, T.string) },
  bindings: { names: ["a", "bb"], scores: new Map([["a", 1.5]]), matrix: [[1n, 2n], [3n]], byId: new Map([[1n, "one"]]) },
};

describe("lists and maps", () => {
  expectValid(collectionsEnv, [
    ["names.all(n, n.size() > 0)", "bool"],
    ["names.map(n, n.size())", "list(int)"],
    ["names + ['c']", "list(string)"],
    ["'a' in names", "bool"],
    ["scores['a'] * 2.0", "double"],
    ["scores.exists(k, k.startsWith('a'))", "bool"],
    ["scores.map(k, scores[k])", "list(double)"],
    ["matrix[0][1] + 1", "int"],
    ["matrix.map(row, row.map(x, x * 2))", "list(list(int))"],
    ["byId[1] == 'one' && 1 in byId && 1.0 in byId", "bool"],
    ["size(scores) + size(names)", "int"],
    ["[].map(x, x)", "list(dyn)"],
    ["{}", "map(dyn, dyn)"],
  ]);
  expectInvalid(collectionsEnv, [
    ["names[0] + 1", "no-matching-overload", 1, 10],
    ["names['a']", "no-matching-overload", 1, 6],
    ["scores.a.b", "type-mismatch", 1, 10],
    ["byId.one", "type-mismatch", 1, 6],
    ["byId['one']", "no-matching-overload", 1, 5],
    ["names + [1]", "no-matching-overload", 1, 7],
    ["names.map(n, n + 1)", "no-matching-overload", 1, 16],
  ]);
});

// ---- syntax ----

describe("syntax errors point at the offending token (cel.md's table)", () => {
  const cases: readonly [string, number, number][] = [
    ["message.age >= ", 1, 16],
    ["size(message.name", 1, 18],
    ["a && || b", 1, 6],
    ['"abc', 1, 1],
    ["message..age", 1, 9],
    ["message.name.size() > 0 &&\n  message.email.contains('@') &&\n  message.email.matches(\"^x\" +)", 3, 31],
    ["x == 1\n && y = 2", 2, 7],
    ["message.items.exists(i i.qty > 3)", 1, 24],
  ];
  for (const [expr, line, column] of cases) {
    test(`${JSON.stringify(expr)} -> ${line}:${column}`, () => {
      const r = checkCel(expr, { message: avroType, x: T.int, y: T.int, a: T.bool, b: T.bool });
      assert.equal(r.diagnostics.length, 1);
      const d = r.diagnostics[0];
      assert.deepEqual([d.code, d.line, d.column], ["syntax", line, column], d.message);
    });
  }

  test("the message says what was expected", () => {
    const [d] = checkCel("size(message.name", { message: avroType }).diagnostics;
    assert.equal(d.message, "missing ')' to close the '(' at 1:5");
    const [e] = checkCel("message.age >= ", { message: avroType }).diagnostics;
    assert.match(e.message, /expected an expression after '>='/);
  });
});

describe("positions", () => {
  test("a diagnostic spans the offending name (end exclusive)", () => {
    const [d] = checkCel("message.agee >= 18", { message: avroType }).diagnostics;
    assert.deepEqual([d.line, d.column, d.endLine, d.endColumn], [1, 9, 1, 13]);
  });

  test("positions count lines and columns within the expression, CRLF included", () => {
    const [d] = checkCel("message.age > 1 &&\r\n  message.nmae == 'x'", { message: avroType }).diagnostics;
    assert.deepEqual([d.code, d.line, d.column, d.endColumn], ["unknown-field", 2, 11, 15]);
  });

  test("a type mismatch spans the whole sub-expression", () => {
    const [d] = checkCel("message.items.filter(i, i.qty + 1)", { message: avroType }).diagnostics;
    assert.deepEqual([d.code, d.line, d.column, d.endColumn], ["type-mismatch", 1, 25, 34]);
  });

  test("every error is reported, sorted by position", () => {
    const r = checkCel("message.agee > 1 && message.nmae == 'x' && message.age + 'x' > 1", { message: avroType });
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.column]),
      [["unknown-field", 9], ["unknown-field", 29], ["no-matching-overload", 56]],
    );
  });

  test("unknown names suggest the closest declared one", () => {
    assert.match(checkCel("message.agee", { message: avroType }).diagnostics[0].message, /did you mean 'age'\?/);
    assert.match(checkCel("mesage.age", { message: avroType }).diagnostics[0].message, /did you mean 'message'\?/);
  });
});

// ---- limits ----

describe("limits: what the runtime refuses to compile", () => {
  test("too many AST nodes", () => {
    const r = checkCel("1 + 2 + 3 + 4 + 5", {}, { limits: { maxAstNodes: 5 } });
    assert.deepEqual(r.diagnostics.map((d) => d.code), ["limit"]);
  });
  test("comprehensions nested too deeply", () => {
    const r = checkCel("[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))", {});
    assert.deepEqual(r.diagnostics.map((d) => d.code), ["limit"]);
  });
  test("an expression too long", () => {
    const r = checkCel("1 + 1", {}, { limits: { maxExpressionLength: 3 } });
    assert.deepEqual(r.diagnostics.map((d) => d.code), ["limit"]);
  });
});

// ---- types from shapes ----

describe("checkTypeOfShape", () => {
  test("Avro: nullable unions, timestamps, nested and recursive records", () => {
    assert.equal(avroType.kind, "record");
    const fields = (avroType as Extract<CheckType, { kind: "record" }>).fields;
    assert.deepEqual(
      [...fields].map(([k, v]) => `${k}: ${formatCheckType(v)}`),
      [
        "age: int",
        "name: string",
        "email: string",
        "score: double",
        "active: bool",
        "createdAt: timestamp",
        "nick: nullable(string)",
        "address: acme.Address",
        "items: list(acme.Item)",
        "attrs: map(string, string)",
        "data: bytes",
        "referrer: nullable(acme.User)",
      ],
    );
    const referrer = fields.get("referrer");
    assert.ok(referrer?.kind === "optional-null");
    assert.equal(referrer.inner, avroType, "the recursive reference is the record itself");
  });

  test("unions of several types are dyn; of one type and null, nullable", () => {
    const shape: CelShape = { kind: "union", branches: [{ kind: "int" }, { kind: "string" }], pick: () => 0 };
    assert.equal(checkTypeOfShape(shape).kind, "dyn");
    const same: CelShape = { kind: "union", branches: [{ kind: "null" }, { kind: "int" }, { kind: "int" }], pick: () => 0 };
    assert.equal(formatCheckType(checkTypeOfShape(same)), "nullable(int)");
  });

  test("Protobuf: the native shape is the message; without a descriptor it is dyn", () => {
    assert.equal(formatCheckType(protoType), "acme.Order");
    assert.equal(checkTypeOfShape(proto.celShape).kind, "dyn");
  });
});

describe("isAssignable (for TRANSFORM results)", () => {
  const address = (avroType as Extract<CheckType, { kind: "record" }>).fields.get("address")!;
  const cases: [CheckType, CheckType, boolean][] = [
    [T.int, T.int, true],
    [T.int, T.double, false],
    [T.dyn, T.string, true],
    [T.string, T.dyn, true],
    [T.null, nullable(T.string), true],
    [T.null, T.string, false],
    [T.string, nullable(T.string), true],
    [nullable(T.string), T.string, true],
    [listOf(T.int), listOf(T.int), true],
    [listOf(T.int), listOf(T.string), false],
    [mapOf(T.string, T.string), address, true],
    [mapOf(T.string, T.int), address, false],
    [mapOf(T.string, T.dyn), address, true],
    [address, address, true],
    [avroType, address, false],
    [protoType, protoType, true],
    [protoType, { kind: "message", typeName: "acme.Other" }, false],
  ];
  for (const [from, to, want] of cases) {
    test(`${formatCheckType(from)} -> ${formatCheckType(to)}: ${want}`, () => assert.equal(isAssignable(from, to), want));
  }
});
