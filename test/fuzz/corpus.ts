/**
 * What the fuzz tests start from: the shipped contracts (rules/*.yaml) in a file
 * registry, plus one contract per format that uses every kind of field the
 * format has (unions, maps, fixed, recursion, nested Protobuf messages, oneof)
 * and READ rules, so decoded values also run through the engine.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Contract, Rule } from "../../src/contract/model.js";
import { createEngine } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import { createFileRegistry, type FileRegistry } from "../../src/registry/file-registry.js";
import { createContractStore, createDeserializer, createSerializer, type ContractStore, type SerializeResult } from "../../src/serde/index.js";

export const ROOT = join(import.meta.dirname, "../..");
export const RULES_DIR = join(ROOT, "rules");

const read = (name: string, expr: string, extra: Partial<Rule> = {}): Rule => ({ name, kind: "CONDITION", mode: "READ", type: "CEL", expr, ...extra });

export const AVRO_ALL = JSON.stringify({
  type: "record",
  name: "All",
  namespace: "fuzz",
  fields: [
    { name: "s", type: "string", "confluent:tags": ["PII"] },
    { name: "i", type: "int" },
    { name: "l", type: "long" },
    { name: "f", type: "float" },
    { name: "d", type: "double" },
    { name: "b", type: "boolean" },
    { name: "by", type: "bytes" },
    { name: "fx", type: { type: "fixed", name: "Four", size: 4 } },
    { name: "e", type: { type: "enum", name: "Color", symbols: ["RED", "GREEN", "BLUE"] } },
    { name: "u", type: ["null", "string", "int"] },
    { name: "arr", type: { type: "array", items: "int" } },
    { name: "m", type: { type: "map", values: "string" } },
    { name: "list", type: ["null", { type: "record", name: "Node", fields: [{ name: "v", type: "int" }, { name: "next", type: ["null", "Node"] }] }] },
    { name: "day", type: { type: "int", logicalType: "date" } },
    { name: "ts", type: { type: "long", logicalType: "timestamp-micros" } },
    { name: "dec", type: { type: "bytes", logicalType: "decimal", precision: 9, scale: 2 } },
    { name: "id", type: { type: "string", logicalType: "uuid" } },
  ],
});

export const PROTO_ALL = `syntax = "proto3";
package fuzz;

import "confluent/meta.proto";

message All {
  string s = 1 [(confluent.field_meta).tags = "PII"];
  int32 i = 2;
  int64 l = 3;
  uint64 u = 4;
  sint32 z = 5;
  double d = 6;
  float f = 7;
  bool b = 8;
  bytes by = 9;
  Color e = 10;
  repeated int32 nums = 11;
  repeated string tags = 12;
  map<string, int64> counts = 13;
  Inner inner = 14;
  repeated Inner inners = 15;
  oneof choice {
    string text = 16;
    int32 number = 17;
  }
  optional string note = 18;
  fixed32 f32 = 19;
  sfixed64 sf64 = 20;
  message Inner {
    string name = 1;
    Inner child = 2;
    message Deep { bytes data = 1; }
    Deep deep = 3;
  }
  enum Color { RED = 0; GREEN = 1; BLUE = 2; }
}

// Other message indexes on the wire ([1], [1, 0]) name these.
message Second { string a = 1; message Third { repeated bytes b = 1; } }
`;

export const JSON_ALL = JSON.stringify({
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "All",
  type: "object",
  properties: {
    s: { type: "string", "confluent:tags": ["PII"] },
    n: { type: "number" },
    i: { type: "integer" },
    b: { type: "boolean" },
    nil: { type: "null" },
    opt: { type: ["string", "null"] },
    arr: { type: "array", items: { type: "integer" } },
    obj: { type: "object", properties: { x: { type: "string" }, deep: { type: "object" } }, additionalProperties: { type: "number" } },
    one: { oneOf: [{ type: "string" }, { type: "integer" }] },
    e: { enum: ["A", "B", 1] },
  },
  required: ["s"],
});

const ALL_RULES: Rule[] = [
  // Mutated strings grow: some reads fail this rule (run after readMask: READ runs in reverse).
  read("shortS", "size(message.s) <= 4"),
  { name: "readMask", kind: "TRANSFORM", mode: "READ", type: "CEL_FIELD", tags: ["PII"], expr: "typeName == 'STRING' ; value + '!'" },
];

export const EXTRA_CONTRACTS: Record<string, Contract> = {
  "all-avro-value": { schema: AVRO_ALL, ruleSet: { domainRules: ALL_RULES } },
  "all-proto-value": { schema: PROTO_ALL, schemaType: "PROTOBUF", ruleSet: { domainRules: ALL_RULES } },
  "all-json-value": { schema: JSON_ALL, schemaType: "JSON", ruleSet: { domainRules: ALL_RULES } },
};

/** Valid messages in JSON form, per subject. */
export const JSON_MESSAGES: Record<string, unknown[]> = {
  "orders-value": lines("orders.jsonl"),
  "customers-value": lines("customers.jsonl"),
  "payments-value": lines("payments.jsonl"),
  "all-avro-value": [
    { s: "abc", i: -5, l: 1234567890123, f: 1.5, d: -0.25, b: true, by: "\u0001\u00ff", fx: "abcd", e: "GREEN", u: { string: "x" }, arr: [1, 2, 3], m: { k: "v" }, list: { "fuzz.Node": { v: 1, next: { "fuzz.Node": { v: 2, next: null } } } }, day: 19000, ts: 1700000000000000, dec: "\u0001\u0000", id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8" },
    { s: "", i: 0, l: 0, f: 0, d: 0, b: false, by: "", fx: "\u0000\u0000\u0000\u0000", e: "RED", u: null, arr: [], m: {}, list: null, day: 0, ts: 0, dec: "", id: "00000000-0000-0000-0000-000000000000" },
  ],
  "all-proto-value": [
    { s: "abc", i: -5, l: "1234567890123", u: "18446744073709551615", z: -7, d: 1.5, f: 2.5, b: true, by: "AAEC", e: "BLUE", nums: [1, -1], tags: ["a", ""], counts: { a: "1" }, inner: { name: "n", child: { name: "c" }, deep: { data: "AQ==" } }, inners: [{ name: "x" }], text: "t", note: "", f32: 7, sf64: "-9" },
    { number: 3 },
  ],
  "all-json-value": [
    { s: "abc", n: 1.5, i: 3, b: true, nil: null, opt: null, arr: [1, 2], obj: { x: "y", deep: { a: [1] }, k: 2 }, one: 5, e: "A" },
    { s: "" },
  ],
};

function lines(file: string): unknown[] {
  return readFileSync(join(ROOT, "fixtures", file), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

export interface Corpus {
  registry: FileRegistry;
  store: ContractStore;
  subjects: string[];
  /** Framed messages that deserialize, per subject, including orders v1 bytes (a migration on read as latest). */
  valid: Map<string, Uint8Array[]>;
  /** Every registered schema id and GUID. */
  ids: number[];
  guids: string[];
}

export async function loadCorpus(): Promise<Corpus> {
  const registry = createFileRegistry({ dir: RULES_DIR });
  for (const [subject, c] of Object.entries(EXTRA_CONTRACTS)) await registry.register(subject, c);
  const store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const subjects = Object.keys(JSON_MESSAGES);
  const valid = new Map<string, Uint8Array[]>();
  for (const subject of subjects) {
    const topic = subject.replace(/-value$/, "");
    const writers = [createSerializer({ store })];
    if (subject === "orders-value") writers.push(createSerializer({ store, writerSchema: { use: "version", version: 1 } }));
    const out: Uint8Array[] = [];
    for (const serializer of writers) {
      const schema = (await store.latest(subject)).plan.schema;
      for (const json of JSON_MESSAGES[subject]!) {
        // The fixtures hold some messages that are meant to fail (for `kontract check`): skip those.
        let value: unknown;
        try {
          value = schema.fromJson(json);
        } catch {
          continue;
        }
        let r: SerializeResult;
        try {
          r = await serializer.serialize(topic, serializer === writers[0] ? value : v1Order(value));
        } catch {
          continue;
        }
        if (r.kind === "serialized") out.push(Uint8Array.from(r.bytes));
      }
    }
    if (out.length === 0) throw new Error(`no valid message for ${subject}`);
    valid.set(subject, out);
  }
  const all = registry.all();
  return { registry, store, subjects, valid, ids: [...new Set(all.map((c) => c.id))], guids: [...new Set(all.map((c) => c.guid).filter((g): g is string => g !== undefined))] };
}

/** A v2 order in the v1 schema's JSON form (amount, not totalAmount). */
function v1Order(json: unknown): unknown {
  const { totalAmount, ...rest } = json as Record<string, unknown>;
  return { ...rest, amount: totalAmount };
}

/** Deserializers reading as written and as the latest version (which migrates orders v1). */
export function deserializers(store: ContractStore) {
  return [createDeserializer({ store }), createDeserializer({ store, readerSchema: { use: "latest" } })];
}
