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

/** Scrubs the texts built from one message's runtime values (executor and action failures). */
export interface Scrub {
  /** A failure message: renderings of sensitive values, and quoted literals ("", '', ``) foreign to the rule, left out. */
  text(text: string): string;
  /** A rendered field value: renderings of sensitive values left out. */
  value(text: string): string;
}

/**
 * Compiled per rule: given the message a failure happened on, the scrub for
 * its texts. Undefined when the schema has no sensitive field, so rules on
 * such schemas pay nothing, and passing messages never get here.
 *
 * Every rendering of a sensitive value (its JSON text, a number's digits, a
 * map key) becomes "<REDACTED>". Values derived from one (a substring, a
 * converted enum) cannot be traced, so quoted literals that are not part of
 * the rule's own expression are left out too.
 */
export function compileScrub(
  schema: CompiledSchema,
  sensitiveTags: ReadonlySet<string>,
  form: "native" | "json",
  expr: string | undefined,
): ((message: unknown) => Scrub | undefined) | undefined {
  const redactor = redactorFor(schema, sensitiveTags);
  if (!redactor) return undefined;
  return (message) => {
    const found = sensitiveTexts(redactor, schema, form, message);
    if (found.strings.size === 0 && found.numbers.size === 0) return undefined;
    const strings = [...found.strings].sort((a, b) => b.length - a.length);
    const numbers = [...found.numbers].sort((a, b) => b.length - a.length).map((n) => new RegExp(`(?<![0-9.])${escapeRegExp(n)}(?![0-9]|\\.[0-9])`, "g"));
    const value = (text: string): string => {
      let out = text;
      for (const s of strings) out = out.split(s).join(REDACTED);
      for (const re of numbers) out = out.replace(re, REDACTED);
      return out;
    };
    return {
      value,
      text: (text) =>
        value(text).replace(QUOTED, (literal) => {
          const inner = literal.slice(1, -1);
          return inner === "" || inner === REDACTED || expr?.includes(inner) ? literal : literal[0] + REDACTED + literal[0];
        }),
    };
  };
}

const QUOTED = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`\n]*`/g;

interface Texts {
  readonly strings: Set<string>;
  readonly numbers: Set<string>;
}

function sensitiveTexts(redactor: JsonRedactor, schema: CompiledSchema, form: "native" | "json", message: unknown): Texts {
  const found: Texts = { strings: new Set(), numbers: new Set() };
  try {
    redactor(form === "json" ? schema.fromJson(message) : message, (json) => {
      addTexts(json, found);
      return REDACTED;
    });
  } catch {
    // A message that does not fit its schema (JSON between migration steps, a transform's bad
    // output): which values are sensitive cannot be told, so every value counts.
    addTexts(message, found);
  }
  return found;
}

/** Every text a JSON or native value renders as: strings (also JSON-escaped), numbers, keys, bytes. */
function addTexts(value: unknown, into: Texts): void {
  if (typeof value === "string") {
    if (value === "" || value === REDACTED) return;
    into.strings.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) into.strings.add(escaped);
  } else if (typeof value === "number" || typeof value === "bigint") {
    into.numbers.add(String(value));
  } else if (value instanceof Uint8Array) {
    if (value.length === 0) return;
    const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    into.strings.add(b.toString("base64"));
    into.strings.add(b.toString("latin1"));
  } else if (Array.isArray(value)) {
    for (const v of value) addTexts(v, into);
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      addTexts(k, into);
      addTexts(v, into);
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
