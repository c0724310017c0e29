/**
 * Keeping sensitive values out of violations, errors and dead-letter records.
 * A field is sensitive when it carries one of the engine's sensitive tags.
 */
import type { CompiledSchema, FieldInfo, JsonRedactor } from "../format/types.js";

export const REDACTED = "<REDACTED>";
const MAX_RENDERED = 200;

/** Default tags whose values never leave the process in clear text. */
export const DEFAULT_SENSITIVE_TAGS: readonly string[] = ["PII", "SENSITIVE", "PHI", "PCI", "SECRET", "ENCRYPTED"];

export function isSensitive(field: FieldInfo, sensitiveTags: ReadonlySet<string>): boolean {
  for (const t of field.tags) if (sensitiveTags.has(t)) return true;
  return false;
}

/** A field value as violation text: redacted when sensitive, truncated when long. */
export function renderValue(value: unknown, field: FieldInfo, sensitiveTags: ReadonlySet<string>): string {
  if (isSensitive(field, sensitiveTags)) return REDACTED;
  let text: string;
  if (value === null || value === undefined) text = "null";
  else if (typeof value === "string") text = JSON.stringify(value);
  else if (typeof value === "bigint") text = value.toString();
  else if (value instanceof Uint8Array) text = `bytes(${value.length})`;
  else text = String(value);
  return text.length > MAX_RENDERED ? text.slice(0, MAX_RENDERED) + "…" : text;
}

/**
 * The format's redactor for `sensitiveTags`, once per schema and tag set
 * (the engine, the Kafka wrappers and the CLI each hold one set for good).
 * Undefined when the schema has no field that can carry a sensitive tag.
 */
export function redactorFor(schema: CompiledSchema, sensitiveTags: ReadonlySet<string>): JsonRedactor | undefined {
  if (sensitiveTags.size === 0) return undefined;
  let bySet = redactors.get(schema);
  if (!bySet) redactors.set(schema, (bySet = new WeakMap()));
  let redactor = bySet.get(sensitiveTags);
  if (redactor === undefined) {
    redactor = schema.jsonRedactor(sensitiveTags) ?? null;
    bySet.set(sensitiveTags, redactor);
  }
  return redactor ?? undefined;
}

const redactors = new WeakMap<CompiledSchema, WeakMap<ReadonlySet<string>, JsonRedactor | null>>();

/**
 * The JSON form of a message with the whole value of every sensitive field
 * (enums, records, maps and their keys included) replaced by "<REDACTED>".
 */
export function redactedJson(schema: CompiledSchema, message: unknown, sensitiveTags: ReadonlySet<string>): unknown {
  const redactor = redactorFor(schema, sensitiveTags);
  return redactor ? redactor(message, () => REDACTED) : schema.toJson(message);
}
