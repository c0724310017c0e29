/**
 * Small builders for engine tests: a JSON Schema contract plus rules, compiled.
 */
import type { Contract, Rule, RuleSet, Metadata } from "../../src/contract/model.js";
import { createEngine, type ContractPlan, type EngineOptions } from "../../src/engine/index.js";
import type { ResolvedContract } from "../../src/serde/index.js";
import { jsonSchemaFormat } from "../../src/format/json-schema/index.js";

export const ORDER_SCHEMA = JSON.stringify({
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Order",
  type: "object",
  properties: {
    id: { type: "string" },
    amount: { type: "number" },
    qty: { type: "integer" },
    email: { type: "string", "confluent:tags": ["PII"] },
    note: { type: ["string", "null"] },
    address: {
      type: "object",
      properties: { city: { type: "string" }, zip: { type: "string", "confluent:tags": ["PII"] } },
    },
    items: { type: "array", items: { type: "object", properties: { sku: { type: "string" }, price: { type: "number" } } } },
  },
  required: ["id", "amount"],
});

export function order(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "o-1",
    amount: 12.5,
    qty: 3,
    email: "ada@example.com",
    note: null,
    address: { city: "Paris", zip: "75001" },
    items: [{ sku: "A", price: 2 }],
    ...overrides,
  };
}

export function contract(ruleSet: RuleSet, metadata?: Metadata, schema = ORDER_SCHEMA): Contract {
  const c: Contract = { schema, schemaType: "JSON", ruleSet };
  if (metadata) c.metadata = metadata;
  return c;
}

export function plan(rules: Rule[] | RuleSet, options: EngineOptions = {}, metadata?: Metadata): ContractPlan {
  const ruleSet = Array.isArray(rules) ? { domainRules: rules } : rules;
  const c = contract(ruleSet, metadata);
  const schema = jsonSchemaFormat.compile(c);
  return createEngine(options).compile("orders-value", c, schema);
}

/** A compiled plan as a contract store resolves it: with its subject's schema id and version. */
export function resolved(p: ContractPlan, id = 1, version = 1): ResolvedContract {
  return { subject: p.subject, id, guid: undefined, version, contract: p.contract, plan: p };
}

export const MC = { topic: "orders", isKey: false } as const;

/** The order of the stateful integration tests: `parts` on a parent, `order` on a part. */
export interface StatefulOrder {
  id: string;
  customer: string;
  seq: number;
  order?: string;
  parts?: number;
}

/** A completeness rule: a parent `{ id, parts }` expects `parts` records `{ order }` naming it within 3 s. */
export const ALL_PARTS_IN_3S: Rule = {
  name: "allParts",
  kind: "CONDITION",
  mode: "READ",
  type: "STATEFUL_COMPLETE",
  expr: "message.id",
  params: { "complete.parent": "has(message.parts)", "complete.parts": "message.parts", "complete.part.of": "message.order", "complete.within": "3s" },
  onFailure: "NONE",
  disabled: true,
};
