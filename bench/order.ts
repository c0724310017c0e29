/**
 * The benchmark message: an Avro "order" record of about 10 fields with a
 * nested address record and an array of 3 items, plus JSON Schema and
 * Protobuf equivalents, and the rule sets each case runs.
 */
import type { Rule } from "../src/contract/model.js";

export const ORDER_AVSC = JSON.stringify({
  type: "record",
  name: "Order",
  namespace: "com.acme.orders",
  fields: [
    { name: "orderId", type: "string" },
    { name: "customerId", type: "string" },
    { name: "email", type: "string", "confluent:tags": ["PII"] },
    { name: "amount", type: "double" },
    { name: "currency", type: { type: "enum", name: "Currency", symbols: ["EUR", "USD", "GBP"] } },
    { name: "status", type: "string" },
    { name: "createdAt", type: "long" },
    { name: "note", type: ["null", "string"], default: null },
    {
      name: "address",
      type: {
        type: "record",
        name: "Address",
        fields: [
          { name: "street", type: "string", "confluent:tags": ["PII"] },
          { name: "city", type: "string" },
          { name: "zip", type: "string" },
          { name: "country", type: "string" },
        ],
      },
    },
    {
      name: "items",
      type: {
        type: "array",
        items: { type: "record", name: "Item", fields: [{ name: "sku", type: "string" }, { name: "qty", type: "int" }, { name: "price", type: "double" }] },
      },
    },
  ],
});

export const ORDER_JSON_SCHEMA = JSON.stringify({
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Order",
  type: "object",
  properties: {
    orderId: { type: "string" },
    customerId: { type: "string" },
    email: { type: "string", "confluent:tags": ["PII"] },
    amount: { type: "number" },
    currency: { type: "string", enum: ["EUR", "USD", "GBP"] },
    status: { type: "string" },
    createdAt: { type: "integer" },
    note: { type: ["string", "null"] },
    address: {
      type: "object",
      properties: { street: { type: "string" }, city: { type: "string" }, zip: { type: "string" }, country: { type: "string" } },
      required: ["street", "city", "zip", "country"],
    },
    items: {
      type: "array",
      items: { type: "object", properties: { sku: { type: "string" }, qty: { type: "integer" }, price: { type: "number" } }, required: ["sku", "qty", "price"] },
    },
  },
  required: ["orderId", "customerId", "email", "amount", "currency", "status", "createdAt", "address", "items"],
});

export const ORDER_PROTO = `syntax = "proto3";
package com.acme.orders;

message Order {
  string order_id = 1;
  string customer_id = 2;
  string email = 3;
  double amount = 4;
  string currency = 5;
  string status = 6;
  int64 created_at = 7;
  string note = 8;
  Address address = 9;
  repeated Item items = 10;
}

message Address {
  string street = 1;
  string city = 2;
  string zip = 3;
  string country = 4;
}

message Item {
  string sku = 1;
  int32 qty = 2;
  double price = 3;
}
`;

export function orderValue(i: number) {
  return {
    orderId: `o-${i}`,
    customerId: `c-${i % 1000}`,
    email: `user${i % 1000}@example.com`,
    amount: 10 + (i % 500) / 10,
    currency: "EUR",
    status: "NEW",
    createdAt: 1_760_000_000_000 + i,
    note: i % 2 === 0 ? null : "leave at door",
    address: { street: "1 Main St", city: "Paris", zip: "75001", country: "FR" },
    items: [
      { sku: "A-1", qty: 1, price: 9.5 },
      { sku: "B-2", qty: 4, price: 3.25 },
      { sku: "C-3", qty: 2, price: 12 },
    ],
  };
}

export function orderProtoInit(i: number) {
  const v = orderValue(i);
  return {
    orderId: v.orderId,
    customerId: v.customerId,
    email: v.email,
    amount: v.amount,
    currency: v.currency,
    status: v.status,
    createdAt: BigInt(v.createdAt),
    note: v.note ?? "",
    address: v.address,
    items: v.items,
  };
}

const cel = (name: string, expr: string): Rule => ({ name, kind: "CONDITION", mode: "WRITE", type: "CEL", expr, onFailure: "ERROR" });

export const ONE_CONDITION: Rule[] = [cel("amountPositive", "message.amount > 0.0")];

export const FIVE_CONDITIONS: Rule[] = [
  cel("amountPositive", "message.amount > 0.0"),
  cel("idsPresent", "size(message.orderId) > 0 && size(message.address.city) <= 64"),
  cel("emailShape", "message.email.matches('^[^@]+@[^@]+$')"),
  cel("hasBulkItem", "message.items.exists(i, i.qty > 3 && i.price < 10.0)"),
  cel("recent", "message.createdAt > 1700000000000"),
];

/** Protobuf field names are snake_case in CEL (the descriptor's names). */
export const ONE_CONDITION_PROTO: Rule[] = [cel("amountPositive", "message.amount > 0.0")];

export const PII_FIELD_RULE: Rule[] = [
  { name: "maskPii", kind: "TRANSFORM", mode: "WRITE", type: "CEL_FIELD", tags: ["PII"], expr: "typeName == 'STRING' ; '****'", onFailure: "ERROR" },
];

const CITIES = [
  ["Hauptstrasse 12", "Berlin", "10115", "DE"],
  ["221 Baker Ave", "Boston", "02116", "US"],
  ["10 Downing Lane", "London", "SW1A 2AA", "GB"],
  ["Bahnhofstrasse 7", "Zurich", "8001", "CH"],
  ["5 Rue de Rivoli", "Paris", "75001", "FR"],
] as const;
const CURRENCIES = ["EUR", "USD", "GBP", "CHF"] as const;
const STATUSES = ["PENDING", "PAID", "SHIPPED", "CANCELLED"] as const;

/**
 * One line of a messages file for `kontract check orders-value` on the shipped
 * contract (rules/orders.yaml, v2). Deterministic in `i`; about 1 in 50 fails a
 * rule (amountPositive, paidOrdersHaveItems or validLineItems) and 1 in 1,000
 * does not fit the schema, as a real file would mix them.
 */
export function ruleOrderLine(i: number): string {
  const [street, city, zip, country] = CITIES[i % CITIES.length]!;
  const items = [];
  for (let k = 0; k < 1 + (i % 3); k++) items.push({ sku: `SKU-${(i * 7 + k) % 1000}`, qty: 1 + ((i + k) % 4), price: 5 + ((i * 3 + k) % 200) / 4 });
  const status = STATUSES[i % STATUSES.length]!;
  const order = {
    orderId: `ord-${i}`,
    customerId: `C-${String(100000 + (i % 100000))}`,
    totalAmount: i % 151 === 0 ? -1 : 10 + (i % 5000) / 10,
    currency: CURRENCIES[i % CURRENCIES.length]!,
    email: `user${i % 10000}@example.com`,
    status,
    createdAt: 1_767_225_600_000 + i * 1000,
    address: { street, city, zip, country },
    items: i % 137 === 0 && status === "PAID" ? [] : i % 211 === 0 ? [{ sku: "SKU-0", qty: 0, price: 1 }] : items,
    couponCode: i % 5 === 0 ? `SPRING${i % 20}` : null,
  };
  if (i % 1009 === 0) return JSON.stringify({ ...order, totalAmount: String(order.totalAmount) });
  return JSON.stringify(order);
}
