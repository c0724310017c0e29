/**
 * Registry JSON <-> the contract model. Responses map 1:1 onto the model's
 * fields (a `schemaType: "AVRO"` the registry sends is kept; an absent one
 * means AVRO); `null`s and fields the model lacks are dropped. Results are
 * deep-frozen because the caches hand the same object to every caller.
 */
import {
  type Contract,
  type Metadata,
  type RegisteredContract,
  type RuleSet,
  SCHEMA_TYPES,   type SchemaReference,
  type SchemaType,
} from "../../contract/model.js";
import type { SchemaById, SchemaByGuid } from "../types.js";

/** A wrong-shaped response; the client turns it into a RegistryError naming the request. */
export class WireError extends Error {}

type Json = Record<string, unknown>;

export function toContract(raw: unknown): Contract {
  const obj = object(raw, "response");
  const contract: Contract = { schema: string(obj, "schema") };
  if (obj.schemaType !== undefined && obj.schemaType !== null) contract.schemaType = schemaType(obj.schemaType);
  if (obj.references !== undefined && obj.references !== null) contract.references = references(obj.references);
  if (obj.metadata !== undefined && obj.metadata !== null) contract.metadata = object(obj.metadata, "metadata") as Metadata;
  if (obj.ruleSet !== undefined && obj.ruleSet !== null) contract.ruleSet = object(obj.ruleSet, "ruleSet") as RuleSet;
  return contract;
}

/** A `GET /subjects/{s}/versions/{v}`, lookup or metadata answer. */
export function toRegisteredContract(raw: unknown, subject: string): RegisteredContract {
  const obj = object(raw, "response");
  const result: RegisteredContract = {
    subject: obj.subject === undefined ? subject : string(obj, "subject"),
    version: integer(obj, "version"),
    id: integer(obj, "id"),
    ...toContract(obj),
  };
  if (typeof obj.guid === "string") result.guid = obj.guid;
  return deepFreeze(result);
}

/** A `GET /schemas/ids/{id}` answer, which does not repeat the id. */
export function toSchemaById(raw: unknown, id: number): SchemaById {
  const obj = object(raw, "response");
  const result: SchemaById = { id, ...toContract(obj) };
  if (typeof obj.guid === "string") result.guid = obj.guid;
  return deepFreeze(result);
}

/** A `GET /schemas/guids/{guid}` answer. Confluent does not include the numeric id there. */
export function toSchemaByGuid(raw: unknown, guid: string): SchemaByGuid {
  const obj = object(raw, "response");
  const result: SchemaByGuid = { guid, ...toContract(obj) };
  if (typeof obj.id === "number" && Number.isInteger(obj.id)) result.id = obj.id;
  return deepFreeze(result);
}

/** `POST /subjects/{s}/versions` and lookup body. `schemaType` is sent only when set. */
export function contractBody(contract: Contract): Json {
  const body: Json = { schema: contract.schema };
  if (contract.schemaType !== undefined) body.schemaType = contract.schemaType;
  if (contract.references !== undefined) body.references = contract.references;
  if (contract.metadata !== undefined) body.metadata = contract.metadata;
  if (contract.ruleSet !== undefined) body.ruleSet = contract.ruleSet;
  return body;
}

export function integerArray(raw: unknown, what: string): number[] {
  if (!Array.isArray(raw) || !raw.every((v) => Number.isInteger(v))) throw new WireError(`${what} is not an array of integers`);
  return raw as number[];
}

export function stringArray(raw: unknown, what: string): string[] {
  if (!Array.isArray(raw) || !raw.every((v) => typeof v === "string")) throw new WireError(`${what} is not an array of strings`);
  return raw as string[];
}

export function object(raw: unknown, what: string): Json {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new WireError(`${what} is not a JSON object`);
  return raw as Json;
}

export function integer(obj: Json, key: string): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isInteger(v)) throw new WireError(`field '${key}' is not an integer`);
  return v;
}

export function string(obj: Json, key: string): string {
  const v = obj[key];
  if (typeof v !== "string") throw new WireError(`field '${key}' is not a string`);
  return v;
}

function schemaType(v: unknown): SchemaType {
  if (typeof v !== "string" || !(SCHEMA_TYPES as readonly string[]).includes(v)) {
    throw new WireError(`unsupported schemaType ${JSON.stringify(v)} (expected one of ${SCHEMA_TYPES.join(", ")})`);
  }
  return v as SchemaType;
}

function references(v: unknown): SchemaReference[] {
  if (!Array.isArray(v)) throw new WireError("field 'references' is not an array");
  return v.map((item, i) => {
    const ref = object(item, `references[${i}]`);
    return { name: string(ref, "name"), subject: string(ref, "subject"), version: integer(ref, "version") };
  });
}

/** JSON with object keys sorted, so equal values give equal cache keys. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
    const sorted: Json = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Json)[k];
    return sorted;
  });
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
