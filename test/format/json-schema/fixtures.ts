/** JSON Schemas and values shared by the JSON Schema adapter tests. */
import type { Contract, Metadata } from "../../../src/contract/model.js";
import { jsonSchemaFormat } from "../../../src/format/json-schema/index.js";
import type { CompiledSchema, FieldVisit } from "../../../src/format/types.js";

export const ORDER_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Order",
  type: "object",
  properties: {
    id: { type: "string", "confluent:tags": ["ID"] },
    email: { type: ["string", "null"], format: "email", "confluent:tags": ["PII"] },
    address: { $ref: "#/definitions/Address" },
    items: {
      type: "array",
      items: {
        type: "object",
        properties: { sku: { type: "string" }, qty: { type: "integer", minimum: 1 } },
        required: ["sku"],
      },
    },
    tags: { type: "array", items: { type: "string" }, "confluent:tags": ["PII"] },
    status: { enum: ["NEW", "DONE"] },
    amount: { type: "number" },
    attrs: { type: "object", additionalProperties: { type: "string" } },
  },
  required: ["id", "amount"],
  definitions: {
    Address: {
      title: "Address",
      type: "object",
      properties: { city: { type: "string" }, zip: { type: ["integer", "null"] } },
      required: ["city"],
    },
  },
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
    tags: ["vip"],
    status: "NEW",
    amount: 12.5,
    attrs: { color: "red" },
    ...overrides,
  };
}

export function compileJson(schema: unknown, metadata?: Metadata, references?: ReadonlyMap<string, Contract>): CompiledSchema {
  const contract: Contract = { schemaType: "JSON", schema: JSON.stringify(schema), ...(metadata ? { metadata } : {}) };
  return jsonSchemaFormat.compile(contract, references ? { references } : {});
}

export interface Seen {
  path: string;
  fullName: string;
  name: string;
  typeName: string;
  value: unknown;
  tags: string[];
  visit: FieldVisit;
}

/** Runs a walker and records every visit. */
export function visits(
  schema: CompiledSchema,
  tags: readonly string[] | undefined,
  message: unknown,
  transform: (value: unknown, visit: FieldVisit) => unknown = (v) => v,
): { out: unknown; seen: Seen[] } {
  const seen: Seen[] = [];
  const out = schema.fieldWalker(tags ? new Set(tags) : undefined)(message, (value, visit) => {
    const f = visit.field;
    seen.push({ path: visit.path, fullName: f.fullName, name: f.name, typeName: f.typeName, value, tags: [...f.tags].sort(), visit });
    return transform(value, visit);
  });
  return { out, seen };
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** An object whose every property access fails: proves a walker never looked inside. */
export function untouchable(what: string): object {
  const fail = (): never => {
    throw new Error(`walker read ${what}`);
  };
  return new Proxy({}, { get: fail, has: fail, ownKeys: fail, getOwnPropertyDescriptor: fail });
}
