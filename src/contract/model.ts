/**
 * The one contract model: Confluent Schema Registry's registration JSON.
 * YAML files, the registry and the engine all speak these types, so a contract
 * round-trips between them without loss.
 */

export const SCHEMA_TYPES = ["AVRO", "JSON", "PROTOBUF"] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

export const RULE_KINDS = ["CONDITION", "TRANSFORM"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const RULE_MODES = ["WRITE", "READ", "WRITEREAD", "UPGRADE", "DOWNGRADE", "UPDOWN"] as const;
export type RuleMode = (typeof RULE_MODES)[number];

/** The modes a message actually moves through; the pair modes only select rules. */
export type ExecutionMode = "WRITE" | "READ" | "UPGRADE" | "DOWNGRADE";

export const ENABLE_AT = ["ALL", "CLIENT", "GATEWAY", "SERVER", "NONE"] as const;
export type EnableAt = (typeof ENABLE_AT)[number];

export const RULE_PHASES = ["domainRules", "migrationRules", "encodingRules"] as const;
export type RulePhase = (typeof RULE_PHASES)[number];

/** Modes each rule list accepts (Confluent RuleSet validation). */
export const MODES_BY_PHASE: Readonly<Record<RulePhase, readonly RuleMode[]>> = {
  domainRules: ["WRITE", "READ", "WRITEREAD"],
  encodingRules: ["WRITE", "READ", "WRITEREAD"],
  migrationRules: ["UPGRADE", "DOWNGRADE", "UPDOWN"],
};

/** Actions every engine knows. Others are looked up among registered custom actions. */
export const BUILTIN_ACTIONS = ["NONE", "ERROR", "DLQ"] as const;

export interface Rule {
  name: string;
  doc?: string;
  /** Java defaults to TRANSFORM. */
  kind?: RuleKind;
  /** Java defaults to WRITEREAD. */
  mode?: RuleMode;
  /** Executor key: CEL, CEL_FIELD, JSONATA, ENCRYPT, ... */
  type: string;
  tags?: string[];
  params?: Record<string, string>;
  expr?: string;
  /** An action name, or "A,B" for WRITEREAD/UPDOWN rules. */
  onSuccess?: string;
  onFailure?: string;
  disabled?: boolean;
}

export interface RuleSet {
  migrationRules?: Rule[];
  domainRules?: Rule[];
  encodingRules?: Rule[];
  enableAt?: EnableAt;
}

export interface Metadata {
  /** Field-path wildcard (`?`, `*`, `**`) to tags. */
  tags?: Record<string, string[]>;
  properties?: Record<string, string>;
  /** Names of properties whose values are secrets. */
  sensitive?: string[];
}

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A schema registration: `POST /subjects/{s}/versions` body. */
export interface Contract {
  schema: string;
  /** Absent means AVRO, as in the registry. */
  schemaType?: SchemaType;
  references?: SchemaReference[];
  metadata?: Metadata;
  ruleSet?: RuleSet;
}

export const COMPATIBILITY_LEVELS = [
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
  "NONE",
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** A subject's config: `PUT /config/{subject}` body and `GET` answer. */
export interface SubjectConfig {
  compatibility?: CompatibilityLevel;
  /** A metadata property name: compatibility is checked only against versions with the same value. */
  compatibilityGroup?: string;
  compatibilityPolicy?: string;
  normalize?: boolean;
  validateFields?: boolean;
  validateRules?: boolean;
  alias?: string;
  defaultMetadata?: Metadata;
  overrideMetadata?: Metadata;
  defaultRuleSet?: RuleSet;
  overrideRuleSet?: RuleSet;
}

/** A contract as stored under a subject. */
export interface RegisteredContract extends Contract {
  subject: string;
  version: number;
  id: number;
  guid?: string;
}

export function schemaTypeOf(contract: Contract): SchemaType {
  return contract.schemaType ?? "AVRO";
}

export function defaultKind(rule: Rule): RuleKind {
  return rule.kind ?? "TRANSFORM";
}

export function defaultMode(rule: Rule): RuleMode {
  return rule.mode ?? "WRITEREAD";
}
