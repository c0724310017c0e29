/** Avro schemas and values shared by the Avro adapter tests. */
import type { Contract, Metadata } from "../../../src/contract/model.js";
import { avroFormat } from "../../../src/format/avro/index.js";
import type { CompiledSchema, FieldVisit } from "../../../src/format/types.js";

export const ORDER_SCHEMA = {
  type: "record",
  name: "Order",
  namespace: "com.acme",
  fields: [
    { name: "id", type: "string", "confluent:tags": ["ID"] },
    { name: "email", type: ["null", "string"], default: null, "confluent:tags": ["PII"] },
    {
      name: "address",
      type: {
        type: "record",
        name: "Address",
        fields: [
          { name: "city", type: "string" },
          { name: "zip", type: ["null", "int"], default: null },
        ],
      },
    },
    {
      name: "items",
      type: {
        type: "array",
        items: { type: "record", name: "Item", fields: [{ name: "sku", type: "string" }, { name: "qty", type: "int" }] },
      },
    },
    { name: "attrs", type: { type: "map", values: "string" } },
    { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "DONE"] } },
    { name: "blob", type: "bytes" },
    { name: "amount", type: "double" },
    { name: "count", type: "long" },
    { name: "ts", type: { type: "long", logicalType: "timestamp-millis" } },
    { name: "shipping", type: ["null", "Address"], default: null },
  ],
};

export function orderValue(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "o-1",
    email: "ada@example.com",
    address: { city: "Paris", zip: 75001 },
    items: [
      { sku: "A-1", qty: 2 },
      { sku: "B-2", qty: 1 },
    ],
    attrs: { color: "red", "gift wrap": "yes" },
    status: "NEW",
    blob: Buffer.from([0x00, 0xff, 0x10]),
    amount: 12.5,
    count: 2 ** 40,
    ts: 1_700_000_000_000,
    shipping: null,
    ...overrides,
  };
}

export function compileAvro(schema: unknown, metadata?: Metadata, references?: ReadonlyMap<string, Contract>): CompiledSchema {
  const contract: Contract = { schema: JSON.stringify(schema), ...(metadata ? { metadata } : {}) };
  return avroFormat.compile(contract, references ? { references } : {});
}

/** Runs a walker and records every visit. */
export function visits(
  schema: CompiledSchema,
  tags: readonly string[] | undefined,
  message: unknown,
  transform: (value: unknown, visit: FieldVisit) => unknown = (v) => v,
): { out: unknown; seen: { path: string; fullName: string; typeName: string; value: unknown; tags: string[]; visit: FieldVisit }[] } {
  const seen: { path: string; fullName: string; typeName: string; value: unknown; tags: string[]; visit: FieldVisit }[] = [];
  const out = schema.fieldWalker(tags ? new Set(tags) : undefined)(message, (value, visit) => {
    seen.push({ path: visit.path, fullName: visit.field.fullName, typeName: visit.field.typeName, value, tags: [...visit.field.tags].sort(), visit });
    return transform(value, visit);
  });
  return { out, seen };
}

/** Drops avsc's record classes (prototypes) so values compare with object literals. */
export function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(plain);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}
