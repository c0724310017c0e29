/**
 * Keeping sensitive values out of violations, errors and dead-letter records.
 * A field is sensitive when it carries one of the engine's sensitive tags.
 */
import { hasAnyTag } from "../format/tags.js";
import type { CompiledSchema, FieldInfo, JsonRedactor } from "../format/types.js";
import { MAX_JSON_DEPTH } from "../util/json-depth.js";

export const REDACTED = "<REDACTED>";
const MAX_RENDERED = 200;

/** Default tags whose values never leave the process in clear text. */
export const DEFAULT_SENSITIVE_TAGS: readonly string[] = ["PII", "SENSITIVE", "PHI", "PCI", "SECRET", "ENCRYPTED"];

export function isSensitive(field: FieldInfo, sensitiveTags: ReadonlySet<string>): boolean {
  return hasAnyTag(field.tags, sensitiveTags);
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
 * map key) becomes "<REDACTED>": as a substring, or as a whole token when it
 * is shorter than SHORT (a default 0 must not take every "0" of a text with
 * it). Values derived from one (a substring, a converted enum) cannot be
 * traced exactly, so in failure texts quoted literals that are not part of the
 * rule's own expression are left out too, and so is every word that shares
 * SHORT characters in a row with a sensitive value, ignoring case (what
 * substring(), upperAscii() or a concatenation leaves of it, printed unquoted,
 * as in "Cannot convert 42-SECRET to a BigInt").
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
    const found = new Set<string>();
    if (!collectSensitive(redactor, schema, form, message, found)) return WITHHELD;
    if (found.size === 0) return undefined;
    // Longest first, so a value containing another goes whole.
    const texts = [...found].sort((a, b) => b.length - a.length);
    const value = (text: string): string => {
      let out = text;
      for (const t of texts) out = t.length < SHORT ? out.replace(tokenPattern(t), REDACTED) : out.split(t).join(REDACTED);
      return out;
    };
    const grams = runsOf(texts);
    const derived = (word: string): boolean => {
      const lower = word.toLowerCase();
      for (let i = 0; i + SHORT <= lower.length; i++) if (grams.has(lower.slice(i, i + SHORT))) return true;
      return false;
    };
    return {
      value,
      text: (text) =>
        value(text)
          .replace(QUOTED, (literal) => {
            const inner = literal.slice(1, -1);
            return inner === "" || inner === REDACTED || expr?.includes(inner) ? literal : literal[0] + REDACTED + literal[0];
          })
          .replace(WORD, (word) => (word === REDACTED || expr?.includes(word) || !derived(word) ? word : REDACTED)),
    };
  };
}

/** For a message whose values cannot all be listed: every text is left out whole. */
const WITHHELD: Scrub = {
  text: () => "<REDACTED: the message's values could not be listed, so the text is left out>",
  value: () => REDACTED,
};

const SHORT = 4;
/** A word of a failure text: what an error prints a value as, up to spaces, quotes and brackets. */
const WORD = /[^\s"'`(){}[\],;]+/g;

/** Every run of SHORT characters, lower-cased, of the texts long enough to have one. */
function runsOf(texts: readonly string[]): Set<string> {
  const runs = new Set<string>();
  for (const t of texts) {
    const lower = t.toLowerCase();
    for (let i = 0; i + SHORT <= lower.length; i++) runs.add(lower.slice(i, i + SHORT));
  }
  return runs;
}
const QUOTED = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`\n]*`/g;

/** `t` where it is not part of a longer word or number. */
function tokenPattern(t: string): RegExp {
  return new RegExp(`(?<![\\p{L}\\p{N}_.])${escapeRegExp(t)}(?![\\p{L}\\p{N}_]|\\.\\p{N})`, "gu");
}

/** False when the values could not all be listed. */
function collectSensitive(redactor: JsonRedactor, schema: CompiledSchema, form: "native" | "json", message: unknown, into: Set<string>): boolean {
  let complete = true;
  try {
    redactor(form === "json" ? schema.fromJson(message) : message, (json) => {
      complete &&= addTexts(json, into, 0, new Set());
      return REDACTED;
    });
    return complete;
  } catch {
    // A message that does not fit its schema (JSON between migration steps, a transform's bad
    // output): which values are sensitive cannot be told, so every value counts.
    return addTexts(message, into, 0, new Set());
  }
}

/**
 * Every text a JSON or native value renders as: strings (also JSON-escaped),
 * numbers, keys, bytes. False when the value nests deeper than MAX_JSON_DEPTH
 * or holds itself (`path`: the objects above it), so not all could be listed.
 */
function addTexts(value: unknown, into: Set<string>, depth: number, path: Set<object>): boolean {
  if (typeof value === "string") {
    if (value === "" || value === REDACTED) return true;
    into.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) into.add(escaped);
  } else if (typeof value === "number" || typeof value === "bigint") {
    into.add(String(value));
  } else if (value instanceof Uint8Array) {
    if (value.length === 0) return true;
    const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    into.add(b.toString("base64"));
    into.add(b.toString("latin1"));
  } else if (typeof value === "object" && value !== null) {
    if (depth >= MAX_JSON_DEPTH || path.has(value)) return false;
    path.add(value);
    try {
      for (const [k, v] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
        if (typeof k === "string") addTexts(k, into, depth, path);
        if (!addTexts(v, into, depth + 1, path)) return false;
      }
    } finally {
      path.delete(value);
    }
  }
  return true;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
