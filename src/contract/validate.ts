/**
 * Model validation: what the Confluent registry checks before it accepts a
 * ruleSet (Java Rule.validate / RuleSet.validate), plus the shape checks a
 * JSON body needs. Pure: issues carry JSON paths, never file positions; the
 * YAML loader maps the paths back to lines.
 */
import {
  ENABLE_AT,
  MODES_BY_PHASE,
  RULE_KINDS,
  RULE_MODES,
  RULE_PHASES,
  SCHEMA_TYPES,
  defaultMode,
  type Contract,
  type Rule,
  type RuleMode,
} from "./model.js";
import { formatPath, type PathSegment } from "./path.js";

/** Stable issue codes, for linters and tests. */
export type ContractIssueCode =
  | "not-an-object"
  | "field-type"
  | "schema-required"
  | "schema-type-invalid"
  | "reference-invalid"
  | "metadata-invalid"
  | "rule-name-missing"
  | "rule-name-invalid"
  | "rule-name-duplicate"
  | "rule-type-missing"
  | "rule-kind-invalid"
  | "rule-mode-invalid"
  | "rule-mode-not-allowed"
  | "rule-action-invalid"
  | "rule-action-pair-not-allowed"
  | "enable-at-invalid";

export interface ContractIssue {
  /** Where, e.g. `ruleSet.domainRules[2].mode`. Empty for the whole contract. */
  readonly path: string;
  readonly code: ContractIssueCode;
  readonly message: string;
}

/**
 * Names Confluent accepts but kontract refuses: the keys of Object.prototype.
 * Rule names key counters, reports and lookups; `__proto__` as a key of a
 * plain object replaces its prototype instead of adding an entry.
 */
export const RESERVED_RULE_NAMES: readonly string[] = [
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "__proto__",
  "constructor",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "toString",
  "valueOf",
];

/**
 * Java Rule.validateName: a letter or `_`, then letters, digits, `_` or `-`;
 * 1-256 characters. Plus: not one of RESERVED_RULE_NAMES.
 */
export const RULE_NAME_PATTERN = new RegExp(`^(?!(?:${RESERVED_RULE_NAMES.join("|")})$)[\\p{L}_][\\p{L}\\p{Nd}_-]*$`, "u");
export const RULE_NAME_MAX_LENGTH = 256;

/** Modes whose actions may be an "A,B" pair (WRITE/UPGRADE side, READ/DOWNGRADE side). */
export const PAIR_ACTION_MODES: readonly RuleMode[] = ["WRITEREAD", "UPDOWN"];

export function isValidRuleName(name: string): boolean {
  return name.length >= 1 && name.length <= RULE_NAME_MAX_LENGTH && RULE_NAME_PATTERN.test(name);
}

/**
 * Every problem with a contract, in document order. An empty array means the
 * registry would accept it. Defensive about shapes: the input may be any JSON.
 */
export function validateContract(contract: Contract): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const add = (path: readonly PathSegment[], code: ContractIssueCode, message: string): void => {
    issues.push({ path: formatPath(path), code, message });
  };
  const c: unknown = contract;
  if (!isObject(c)) {
    add([], "not-an-object", "a contract must be an object");
    return issues;
  }
  if (typeof c.schema !== "string" || c.schema === "") {
    add(["schema"], "schema-required", "schema is required and must be non-empty text");
  }
  if (c.schemaType !== undefined && !includes(SCHEMA_TYPES, c.schemaType)) {
    add(["schemaType"], "schema-type-invalid", `schemaType must be one of ${SCHEMA_TYPES.join(", ")}, got ${show(c.schemaType)}`);
  }
  if (c.references !== undefined) validateReferences(c.references, add);
  if (c.metadata !== undefined) validateMetadata(c.metadata, add);
  if (c.ruleSet !== undefined) validateRuleSet(c.ruleSet, add);
  return issues;
}

type Add = (path: readonly PathSegment[], code: ContractIssueCode, message: string) => void;

function validateReferences(refs: unknown, add: Add): void {
  if (!Array.isArray(refs)) {
    add(["references"], "field-type", "references must be a list");
    return;
  }
  refs.forEach((ref: unknown, i) => {
    const at: PathSegment[] = ["references", i];
    if (!isObject(ref)) return add(at, "reference-invalid", "a reference must be an object {name, subject, version}");
    for (const key of ["name", "subject"] as const) {
      if (typeof ref[key] !== "string" || ref[key] === "") add([...at, key], "reference-invalid", `reference ${key} must be a non-empty string`);
    }
    if (!Number.isInteger(ref.version)) add([...at, "version"], "reference-invalid", "reference version must be an integer");
  });
}

function validateMetadata(metadata: unknown, add: Add): void {
  if (!isObject(metadata)) return add(["metadata"], "field-type", "metadata must be an object");
  const { tags, properties, sensitive } = metadata;
  if (tags !== undefined) {
    if (!isObject(tags)) add(["metadata", "tags"], "metadata-invalid", "metadata.tags must map field paths to lists of tags");
    else {
      for (const [pattern, list] of Object.entries(tags)) {
        if (!isStringArray(list)) add(["metadata", "tags", pattern], "metadata-invalid", `metadata.tags[${JSON.stringify(pattern)}] must be a list of strings`);
      }
    }
  }
  if (properties !== undefined) {
    if (!isObject(properties)) add(["metadata", "properties"], "metadata-invalid", "metadata.properties must map names to strings");
    else {
      for (const [k, v] of Object.entries(properties)) {
        if (typeof v !== "string") add(["metadata", "properties", k], "metadata-invalid", `property ${JSON.stringify(k)} must be a string, got ${show(v)}`);
      }
    }
  }
  if (sensitive !== undefined && !isStringArray(sensitive)) {
    add(["metadata", "sensitive"], "metadata-invalid", "metadata.sensitive must be a list of property names");
  }
}

function validateRuleSet(ruleSet: unknown, add: Add): void {
  if (!isObject(ruleSet)) return add(["ruleSet"], "field-type", "ruleSet must be an object");
  if (ruleSet.enableAt !== undefined && !includes(ENABLE_AT, ruleSet.enableAt)) {
    add(["ruleSet", "enableAt"], "enable-at-invalid", `enableAt must be one of ${ENABLE_AT.join(", ")}, got ${show(ruleSet.enableAt)}`);
  }
  // Names are unique across all three lists: executors and DLQ replay key on the name alone.
  const seen = new Map<string, string>();
  for (const phase of RULE_PHASES) {
    const rules = ruleSet[phase];
    if (rules === undefined) continue;
    if (!Array.isArray(rules)) {
      add(["ruleSet", phase], "field-type", `ruleSet.${phase} must be a list of rules`);
      continue;
    }
    rules.forEach((rule: unknown, i) => {
      const at: PathSegment[] = ["ruleSet", phase, i];
      if (!isObject(rule)) return add(at, "field-type", "a rule must be an object");
      validateRule(rule, phase, at, add);
      if (typeof rule.name === "string" && rule.name !== "") {
        const first = seen.get(rule.name);
        if (first !== undefined) {
          add([...at, "name"], "rule-name-duplicate", `duplicate rule name ${JSON.stringify(rule.name)} (first used at ${first}); names must be unique across domainRules, migrationRules and encodingRules`);
        } else {
          seen.set(rule.name, formatPath(at));
        }
      }
    });
  }
}

function validateRule(rule: Record<string, unknown>, phase: (typeof RULE_PHASES)[number], at: PathSegment[], add: Add): void {
  const { name, kind, mode, type } = rule;
  const label = typeof name === "string" && name !== "" ? `rule ${JSON.stringify(name)}` : "rule";
  if (name === undefined || name === "") {
    add([...at, "name"], "rule-name-missing", "rule name is required");
  } else if (typeof name !== "string") {
    add([...at, "name"], "field-type", `rule name must be a string, got ${show(name)}`);
  } else if (name.length > RULE_NAME_MAX_LENGTH) {
    add([...at, "name"], "rule-name-invalid", `${label}: name is ${name.length} characters, at most ${RULE_NAME_MAX_LENGTH} allowed`);
  } else if (RESERVED_RULE_NAMES.includes(name)) {
    add([...at, "name"], "rule-name-invalid", `${label}: name is reserved (a key of JavaScript objects such as __proto__ or constructor); choose another`);
  } else if (!RULE_NAME_PATTERN.test(name)) {
    add([...at, "name"], "rule-name-invalid", `${label}: name must start with a letter or '_' and contain only letters, digits, '_' or '-'`);
  }
  if (type === undefined || type === "") add([...at, "type"], "rule-type-missing", `${label}: type is required (CEL, CEL_FIELD, JSONATA, ENCRYPT, ...)`);
  else if (typeof type !== "string") add([...at, "type"], "field-type", `${label}: type must be a string, got ${show(type)}`);
  if (kind !== undefined && !includes(RULE_KINDS, kind)) {
    add([...at, "kind"], "rule-kind-invalid", `${label}: kind must be one of ${RULE_KINDS.join(", ")}, got ${show(kind)}`);
  }
  let effectiveMode: RuleMode | undefined;
  if (mode !== undefined && !includes(RULE_MODES, mode)) {
    add([...at, "mode"], "rule-mode-invalid", `${label}: mode must be one of ${RULE_MODES.join(", ")}, got ${show(mode)}`);
  } else {
    effectiveMode = defaultMode(rule as unknown as Rule);
    const allowed = MODES_BY_PHASE[phase];
    if (!allowed.includes(effectiveMode)) {
      const what = mode === undefined ? `mode defaults to ${effectiveMode}, which` : `mode ${effectiveMode}`;
      add([...at, "mode"], "rule-mode-not-allowed", `${label}: ${what} is not allowed in ${phase} (allowed: ${allowed.join(", ")})`);
    }
  }
  for (const key of ["onSuccess", "onFailure"] as const) {
    const action = rule[key];
    if (action === undefined) continue;
    if (typeof action !== "string") {
      add([...at, key], "field-type", `${label}: ${key} must be a string, got ${show(action)}`);
      continue;
    }
    const parts = action.split(",");
    if (parts.length > 2) {
      add([...at, key], "rule-action-invalid", `${label}: ${key} ${JSON.stringify(action)} must be one action or an "A,B" pair`);
    } else if (parts.length === 2 && effectiveMode !== undefined && !PAIR_ACTION_MODES.includes(effectiveMode)) {
      add([...at, key], "rule-action-pair-not-allowed", `${label}: ${key} ${JSON.stringify(action)}: multiple actions only valid with WRITEREAD and UPDOWN, mode is ${effectiveMode}`);
    }
  }
  for (const key of ["doc", "expr"] as const) {
    if (rule[key] !== undefined && typeof rule[key] !== "string") add([...at, key], "field-type", `${label}: ${key} must be a string, got ${show(rule[key])}`);
  }
  if (rule.tags !== undefined && !isStringArray(rule.tags)) add([...at, "tags"], "field-type", `${label}: tags must be a list of strings`);
  if (rule.params !== undefined) {
    if (!isObject(rule.params)) add([...at, "params"], "field-type", `${label}: params must map names to strings`);
    else {
      for (const [k, v] of Object.entries(rule.params)) {
        if (typeof v !== "string") add([...at, "params", k], "field-type", `${label}: param ${JSON.stringify(k)} must be a string, got ${show(v)}`);
      }
    }
  }
  if (rule.disabled !== undefined && typeof rule.disabled !== "boolean") {
    add([...at, "disabled"], "field-type", `${label}: disabled must be true or false, got ${show(rule.disabled)}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function includes<T extends string>(list: readonly T[], v: unknown): v is T {
  return typeof v === "string" && (list as readonly string[]).includes(v);
}

function show(v: unknown): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}
