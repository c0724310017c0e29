/**
 * The published JSON Schema of a contract document (schema/contract.schema.json)
 * and its validator. Editors use the same file for completion; here ajv checks
 * every loaded document against it and the errors become readable messages.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import { validate as generatedValidator } from "./contract-validator.generated.js";
import contractSchema from "../../schema/contract.schema.json" with { type: "json" };
import type { PathSegment } from "./path.js";
import { parsePath } from "./path.js";
import { closest } from "../util/suggest.js";

/** The JSON Schema for one YAML contract document. */
export const CONTRACT_JSON_SCHEMA: Readonly<Record<string, unknown>> = contractSchema;

export interface ShapeViolation {
  /** Where the problem is. For unknown or missing properties: that property. */
  readonly path: PathSegment[];
  /** True when the position should be the key (an unknown property), not a value. */
  readonly atKey: boolean;
  /** The JSON Schema keyword that failed: required, enum, type, pattern, ... */
  readonly keyword: string;
  readonly message: string;
  /** For `required`: the missing property (path is the mapping that lacks it). */
  readonly property?: string;
}

/**
 * ajv's code for the schema, generated ahead of time (scripts/contract-validator.mjs, with the
 * options written there): compiling it at run time was most of `kontract check`'s start-up.
 */
const validator = generatedValidator as unknown as ValidateFunction;

/** Checks one document (as plain JS) against the contract JSON Schema. */
export function checkContractShape(data: unknown): ShapeViolation[] {
  if (validator(data)) return [];
  return explain(validator.errors ?? []);
}

type AjvError = ErrorObject<string, Record<string, unknown>, unknown>;

function explain(errors: readonly AjvError[]): ShapeViolation[] {
  // A failed anyOf/oneOf also reports every branch's errors; keep only the summary.
  const combinators = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => e.schemaPath + "/");
  const out: ShapeViolation[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === "if") continue;
    if (combinators.some((prefix) => e.schemaPath.startsWith(prefix))) continue;
    const v = violation(e);
    const key = `${v.path.join("\u0000")}|${v.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

function violation(e: AjvError): ShapeViolation {
  const path = parsePath(e.instancePath);
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const custom = typeof parent.errorMessage === "string" ? parent.errorMessage : undefined;
  const params = e.params;
  switch (e.keyword) {
    case "required": {
      const prop = String(params.missingProperty);
      const message = prop === "mode" && path.includes("migrationRules")
        ? "missing required property `mode`: migration rules run in mode UPGRADE, DOWNGRADE or UPDOWN (the default WRITEREAD is not allowed here)"
        : `missing required property \`${prop}\``;
      // Reported on the mapping that lacks it.
      return { path, atKey: false, keyword: e.keyword, message, property: prop };
    }
    case "additionalProperties": {
      const prop = String(params.additionalProperty);
      const known = Object.keys((parent.properties ?? {}) as object);
      const hint = closest(prop, known);
      return {
        path: [...path, prop],
        atKey: true,
        keyword: e.keyword,
        message: `unknown property \`${prop}\`${hint ? ` (did you mean \`${hint}\`?)` : ""}; allowed: ${known.join(", ")}`,
      };
    }
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(String).join(", ");
      return { path, atKey: false, keyword: e.keyword, message: `${custom ?? "must be one of the allowed values"}: got ${JSON.stringify(e.data)}, allowed: ${allowed}` };
    }
    case "const":
      return { path, atKey: false, keyword: e.keyword, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case "type": {
      const expected = String(params.type);
      const quote = expected === "string" && (typeof e.data === "number" || typeof e.data === "boolean") ? ` (quote it: "${String(e.data)}")` : "";
      return { path, atKey: false, keyword: e.keyword, message: `${custom ?? `must be ${article(expected)}`}, got ${typeName(e.data)}${quote}` };
    }
    case "pattern": {
      const msg = typeof parent.patternErrorMessage === "string" ? parent.patternErrorMessage : `must match ${String(params.pattern)}`;
      return { path, atKey: false, keyword: e.keyword, message: `${msg}, got ${JSON.stringify(e.data)}` };
    }
    case "minLength":
      return { path, atKey: false, keyword: e.keyword, message: Number(params.limit) === 1 ? "must not be empty" : `must have at least ${String(params.limit)} characters` };
    case "maxLength":
      return { path, atKey: false, keyword: e.keyword, message: `must have at most ${String(params.limit)} characters, has ${String((e.data as string).length)}` };
    case "uniqueItems":
      return { path, atKey: false, keyword: e.keyword, message: `must not repeat items (items ${String(params.j)} and ${String(params.i)} are equal)` };
    case "anyOf":
    case "oneOf":
      return { path, atKey: false, keyword: e.keyword, message: custom ?? (e.message ?? "is invalid") };
    default:
      return { path, atKey: false, keyword: e.keyword, message: custom ?? e.message ?? "is invalid" };
  }
}

function article(type: string): string {
  if (type.includes(",")) return `one of ${type}`;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}
