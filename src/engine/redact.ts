/**
 * Keeping sensitive values out of violations, errors and dead-letter records.
 * A field is sensitive when it carries one of the engine's sensitive tags.
 */
import type { CompiledSchema, FieldInfo } from "../format/types.js";

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
 * The JSON form of a message with every sensitive field replaced by "<REDACTED>".
 * Sensitive locations are found on the native message with the schema's field
 * walker, then replaced by path in the JSON form.
 */
export function redactedJson(schema: CompiledSchema, message: unknown, sensitiveTags: ReadonlySet<string>): unknown {
  const paths: string[] = [];
  if (sensitiveTags.size > 0) {
    schema.fieldWalker(sensitiveTags)(message, (value, visit) => {
      if (isSensitive(visit.field, sensitiveTags)) paths.push(visit.path);
      return value;
    });
  }
  const json = schema.toJson(message);
  if (paths.length === 0) return json;
  const copy = structuredClone(json) as unknown;
  for (const path of paths) setAtPath(copy, parsePath(path), REDACTED);
  return copy;
}

/** "$.a.b[2].c" or "a.b[2].c" to ["a", "b", 2, "c"]. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  const body = path.startsWith("$") ? path.slice(1) : path;
  for (const m of body.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(`"${m[3]}"`) as string);
  }
  return out;
}

function setAtPath(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<string | number, unknown>)[path[i]!];
  }
  const last = path[path.length - 1];
  if (last !== undefined && typeof node === "object" && node !== null && Object.hasOwn(node, last)) {
    (node as Record<string | number, unknown>)[last] = value;
  }
}
