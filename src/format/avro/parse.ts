/**
 * Parsing Avro schema text (and its references) into avsc types, keeping what
 * avsc drops: inline `confluent:tags` on fields and `logicalType` attributes.
 */
import type { Contract } from "../../contract/model.js";
import { ContractError } from "../../errors.js";
import { type AvroType, AvscType, isArrayType, isMapType, isRecordType, isUnionType, mapValues } from "./avsc.js";
import { boundedCollections } from "./collections.js";
import { ownBranchNames, ownSymbolEnum } from "./lookups.js";

export interface ParsedAvro {
  readonly root: AvroType;
  /** Inline `confluent:tags` by record full name, then field name. */
  readonly inlineTags: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
  /** `logicalType` of every type declared with one (avsc ignores them without logical type classes). */
  readonly logicalTypes: ReadonlyMap<AvroType, string>;
}

type Registry = Record<string, AvroType>;

export function parseAvro(contract: Contract, references: ReadonlyMap<string, Contract> | undefined): ParsedAvro {
  const registry: Registry = {};
  const inlineTags = new Map<string, Map<string, readonly string[]>>();
  const logicalTypes = new Map<AvroType, string>();
  const annotate = (json: unknown, type: AvroType) => annotateTypes(json, type, inlineTags, logicalTypes);

  if (references && references.size > 0) {
    for (const { json, type } of parseReferences(references, registry)) annotate(json, type);
  }
  const json = parseJson(contract.schema, "schema");
  let root: AvroType;
  try {
    root = AvscType.forSchema(json as never, { registry, wrapUnions: "auto", typeHook: typeHook as never });
    ownBranchNames(root);
  } catch (e) {
    throw new ContractError("schema-invalid", `invalid Avro schema: ${(e as Error).message}`, { cause: e });
  }
  annotate(json, root);
  return { root, inlineTags, logicalTypes };
}

/**
 * Refuses the name `__proto__` for a field or a named type: avsc builds
 * records with `this[field] = value` and keeps named types in a plain object,
 * so that name would set a prototype instead of a field (the value is lost,
 * and `__proto__` from a message could reach it). Then payloads, which come
 * off the network, read arrays and maps bounded (collections.ts), and values,
 * which come from callers, match enums by own symbols only (lookups.ts).
 */
function typeHook(schema: unknown, opts: unknown): AvroType | undefined {
  if (typeof schema === "object" && schema !== null) {
    const { name, fields } = schema as { name?: unknown; fields?: unknown };
    const named = name === "__proto__" || (Array.isArray(fields) && fields.some((f: unknown) => (f as { name?: unknown } | null)?.name === "__proto__"));
    if (named) throw new Error("the name __proto__ is not supported for a field or a type");
  }
  return boundedCollections(schema, opts) ?? ownSymbolEnum(schema, opts);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ContractError("schema-invalid", `invalid Avro ${what}: not JSON: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Registers the named types of every referenced schema. References may depend
 * on each other in any order, so a schema naming a type not yet registered is
 * retried after the others; each attempt works on a copy of the registry so a
 * failed attempt leaves no half-registered names behind.
 */
function parseReferences(references: ReadonlyMap<string, Contract>, registry: Registry): { json: unknown; type: AvroType }[] {
  let pending = [...references].map(([name, contract]) => ({ name, json: parseJson(contract.schema, `reference ${name}`) }));
  const parsed: { json: unknown; type: AvroType }[] = [];
  while (pending.length > 0) {
    const failed: { name: string; json: unknown; error: Error }[] = [];
    for (const ref of pending) {
      const attempt: Registry = { ...registry };
      try {
        const type = AvscType.forSchema(ref.json as never, { registry: attempt, wrapUnions: "auto", typeHook: typeHook as never });
        ownBranchNames(type);
        // Names this reference defines that an earlier one already defined are an error (avsc
        // reports "duplicate type name"), so copying the attempt back is safe.
        Object.assign(registry, attempt);
        parsed.push({ json: ref.json, type });
      } catch (e) {
        failed.push({ ...ref, error: e as Error });
      }
    }
    if (failed.length === pending.length) {
      const first = failed[0]!;
      throw new ContractError("schema-invalid", `invalid Avro reference ${first.name}: ${first.error.message}`, { cause: first.error });
    }
    pending = failed;
  }
  return parsed;
}

/** Walks the schema JSON alongside the avsc type built from it. */
function annotateTypes(
  json: unknown,
  type: AvroType,
  inlineTags: Map<string, Map<string, readonly string[]>>,
  logicalTypes: Map<AvroType, string>,
): void {
  if (typeof json === "string" || json === null || typeof json !== "object") return; // a name: annotated where defined
  if (Array.isArray(json)) {
    if (!isUnionType(type)) return;
    json.forEach((branch, i) => {
      const t = type.types[i];
      if (t) annotateTypes(branch, t, inlineTags, logicalTypes);
    });
    return;
  }
  const obj = json as Record<string, unknown>;
  if (typeof obj.type === "object" && obj.type !== null) {
    // {"type": {...}} or {"type": [...]}: the schema is the nested value.
    annotateTypes(obj.type, type, inlineTags, logicalTypes);
    return;
  }
  if (typeof obj.logicalType === "string") logicalTypes.set(type, obj.logicalType);
  if (isRecordType(type) && Array.isArray(obj.fields)) {
    const byField = new Map<string, readonly string[]>();
    obj.fields.forEach((f: unknown, i: number) => {
      const field = type.fields[i];
      if (!field || typeof f !== "object" || f === null) return;
      const tags = (f as Record<string, unknown>)["confluent:tags"];
      if (Array.isArray(tags)) byField.set(field.name, tags.map(String));
      annotateTypes((f as Record<string, unknown>).type, field.type, inlineTags, logicalTypes);
    });
    if (type.name !== undefined) inlineTags.set(type.name, byField);
  } else if (isArrayType(type)) {
    annotateTypes(obj.items, type.itemsType, inlineTags, logicalTypes);
  } else if (isMapType(type)) {
    annotateTypes(obj.values, mapValues(type), inlineTags, logicalTypes);
  }
}
