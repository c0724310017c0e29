/**
 * Every diagnostic code the linter emits, with its default severity and a
 * one-line description. Codes are stable: configuration files and inline
 * suppressions name them, and docs/lint.md documents each one (a test keeps
 * the two in step).
 */
import type { Severity } from "./types.js";

export interface CodeInfo {
  readonly severity: Severity;
  readonly category: "yaml" | "structure" | "schema" | "rule" | "metadata" | "cel" | "jsonata" | "migration" | "suppression";
  readonly description: string;
}

export const LINT_CODES = {
  // The file and its structure
  "yaml-syntax": { severity: "error", category: "yaml", description: "The YAML does not parse (indentation, tabs, duplicate keys, unclosed brackets)." },
  "structure-unknown-property": { severity: "error", category: "structure", description: "A property the contract format does not have (often a typo)." },
  "structure-missing-property": { severity: "error", category: "structure", description: "A required property is missing." },
  "structure-type": { severity: "error", category: "structure", description: "A value has the wrong type (e.g. a number where a string is required)." },
  "structure-value": { severity: "error", category: "structure", description: "A value is not allowed (enum, pattern, length, `schema` and `schemaFile` both or neither)." },
  "version-duplicate": { severity: "error", category: "structure", description: "The same version of a subject is defined twice." },
  "id-conflict": { severity: "error", category: "structure", description: "One explicit schema id is given to two different contracts." },
  "guid-conflict": { severity: "error", category: "structure", description: "One guid is given to two different schemas." },
  "config-duplicate": { severity: "error", category: "structure", description: "Two documents of one subject set `config`: a subject has one config." },
  "reference-unresolved": { severity: "error", category: "structure", description: "A schema reference names a subject version that the linted files do not define." },
  // Schemas
  "schema-file-missing": { severity: "error", category: "schema", description: "The `schemaFile` does not exist." },
  "schema-file-refused": { severity: "error", category: "schema", description: "The `schemaFile` is not read: an absolute path, a path (or symbolic link) leading out of the contract's folder, not a regular file, or over 1 MiB." },
  "schema-not-json": { severity: "error", category: "schema", description: "An AVRO or JSON schema is not valid JSON." },
  "schema-invalid": { severity: "error", category: "schema", description: "The schema does not compile as Avro, JSON Schema or Protobuf." },
  "schema-type-mismatch": { severity: "error", category: "schema", description: "A `.proto` schema file without `schemaType: PROTOBUF`." },
  // Rules
  "rule-name-invalid": { severity: "error", category: "rule", description: "A rule name is empty, too long, or has characters Confluent rejects." },
  "rule-name-duplicate": { severity: "error", category: "rule", description: "Two rules of one contract share a name (names are unique across the three lists)." },
  "rule-kind-invalid": { severity: "error", category: "rule", description: "`kind` is neither CONDITION nor TRANSFORM." },
  "rule-mode-invalid": { severity: "error", category: "rule", description: "`mode` is not a rule mode." },
  "rule-mode-not-allowed": { severity: "error", category: "rule", description: "The mode is not allowed in this list (migration rules: UPGRADE, DOWNGRADE, UPDOWN; others: WRITE, READ, WRITEREAD)." },
  "rule-action-invalid": { severity: "error", category: "rule", description: "`onSuccess`/`onFailure` has more than two comma-separated actions." },
  "rule-action-pair-not-allowed": { severity: "error", category: "rule", description: "An \"A,B\" action pair on a rule whose mode is not WRITEREAD or UPDOWN." },
  "rule-action-unknown": { severity: "error", category: "rule", description: "An action that is neither NONE, ERROR, DLQ nor a custom action named in the configuration." },
  "rule-type-unknown": { severity: "error", category: "rule", description: "A rule type no executor handles (not CEL, CEL_FIELD, JSONATA, nor configured)." },
  "rule-type-unsupported": { severity: "warning", category: "rule", description: "ENCRYPT or ENCRYPT_PAYLOAD: they run only on an engine given encryptionExecutors(); elsewhere the rule fails through onFailure. List the type under lint.ruleTypes once it is." },
  "rule-type-not-allowed": { severity: "error", category: "rule", description: "A rule type that cannot run in this list (CEL_FIELD in migrationRules)." },
  "rule-expr-missing": { severity: "error", category: "rule", description: "A CEL, CEL_FIELD or JSONATA rule without an expression." },
  "rule-disabled": { severity: "info", category: "rule", description: "The rule is disabled and never runs." },
  "rule-tag-unknown": { severity: "error", category: "rule", description: "A rule tag that no (primitive) field of the schema carries: the field rule never runs." },
  "rule-tags-ignored": { severity: "warning", category: "rule", description: "Tags on a rule type that does not select fields (CEL, JSONATA)." },
  "encrypt-field-type": { severity: "error", category: "rule", description: "An ENCRYPT rule's tag selects a field that is neither a string nor bytes: only those can hold ciphertext, so the rule fails on every message with a value there." },
  "encrypt-tag-not-sensitive": { severity: "warning", category: "rule", description: "An ENCRYPT rule's tag is not one of kontract's default sensitive tags: an engine refuses the rule unless its sensitiveTags include the tag (decrypted values must be redacted)." },
  "encrypt-param-invalid": { severity: "error", category: "rule", description: "An ENCRYPT or ENCRYPT_PAYLOAD param the executor refuses: an unknown `encrypt.kms.type` or `encrypt.dek.algorithm`, a negative or non-numeric `encrypt.dek.expiry.days`." },
  "enable-at-invalid": { severity: "error", category: "rule", description: "`ruleSet.enableAt` is not ALL, CLIENT, GATEWAY, SERVER or NONE." },
  "param-property-missing": { severity: "error", category: "rule", description: "A parameter the rule's type or action needs is neither in its params nor in metadata.properties." },
  "dlq-topic-default": { severity: "hint", category: "rule", description: "A DLQ rule without `dlq.topic`: failures go to `<topic>-dlq`." },
  "guard-malformed": { severity: "error", category: "rule", description: "A `guard ; body` expression with an empty body, or more than one `;`." },
  "guard-java-split": { severity: "warning", category: "rule", description: "A `;` inside a string literal: the Java client splits the guard there, kontract does not." },
  // Stateful rules
  "stateful-not-disabled": { severity: "error", category: "rule", description: "A STATEFUL_* rule without `disabled: true`: Confluent's clients fail on its type (Java every message, JS every later rule)." },
  "stateful-invalid": { severity: "error", category: "rule", description: "A STATEFUL_* rule whose params do not parse (a window, a duration, a count), lack a required one (the reference topic), or that is not a domain CONDITION." },
  "stateful-type": { severity: "error", category: "rule", description: "A stateful rule's expression yields the wrong type: a key must be a string or an int, a sequence orderable, complete.parent a bool, complete.parts an int." },
  "stateful-partitioning": { severity: "warning", category: "rule", description: "A stateful rule keyed on an expression of the value, not declared co-partitioned: state is per partition, so records with the same state key must share a partition (key them by it, or repartition; docs/stateful.md)." },
  "stateful-sensitive-key": { severity: "warning", category: "rule", description: "A unique, order or complete rule keyed by an expression that reads a field tagged sensitive (PII, SENSITIVE, PHI, PCI, SECRET, ENCRYPTED): its changelog topic holds those values in clear." },
  "stateful-write-mode": { severity: "warning", category: "rule", description: "A stateful rule with `mode: WRITE`: stateful rules run in the consumer only, so it never runs." },
  // Metadata
  "metadata-tag-unmatched": { severity: "warning", category: "metadata", description: "A metadata.tags wildcard that matches no field of the schema." },
  "metadata-sensitive-unknown": { severity: "warning", category: "metadata", description: "metadata.sensitive names a property that metadata.properties does not define." },
  // CEL
  "cel-syntax": { severity: "error", category: "cel", description: "The CEL expression does not parse." },
  "cel-unknown-field": { severity: "error", category: "cel", description: "A field that the message (or record) does not have." },
  "cel-unknown-variable": { severity: "error", category: "cel", description: "A name that is not a variable of the rule type (`message` for CEL; `value`, `name`, `fullName`, `typeName`, `tags`, `message` for CEL_FIELD)." },
  "cel-unknown-function": { severity: "error", category: "cel", description: "A function or method that does not exist." },
  "cel-no-matching-overload": { severity: "error", category: "cel", description: "A function exists but not for these argument types." },
  "cel-type-mismatch": { severity: "error", category: "cel", description: "Operand types that do not fit (e.g. comparing a string with an int)." },
  "cel-unsupported": { severity: "error", category: "cel", description: "CEL the runtime cannot run (optional values, cel.bind, math extension, two-variable macros...)." },
  "cel-limit": { severity: "error", category: "cel", description: "The expression exceeds a compile-time limit (length, nodes, nesting)." },
  "cel-regex": { severity: "error", category: "cel", description: "A regex literal that is not valid RE2 (lookaround, backreferences...) or whose RE2 program is over the size limit." },
  "cel-cost": { severity: "warning", category: "cel", description: "A rule whose evaluation cost grows faster than the message (nested loops over message data): large messages fail with rule-cost." },
  "cel-condition-not-bool": { severity: "error", category: "cel", description: "A CONDITION whose expression does not yield bool." },
  "cel-guard-not-bool": { severity: "error", category: "cel", description: "A guard that does not yield bool (the body would never run)." },
  "cel-enum-symbol": { severity: "error", category: "cel", description: "An enum field compared with a string that is not one of its symbols (`message.status == 'PAYED'`): the comparison never matches." },
  "cel-has-always-true": { severity: "warning", category: "cel", description: "has() on a field every message holds (any Avro record field, a JSON Schema `required` property): it is always true." },
  "cel-transform-type": { severity: "error", category: "cel", description: "A TRANSFORM whose result does not fit: the field's type (CEL_FIELD) or a message or map (CEL)." },
  // JSONata
  "jsonata-syntax": { severity: "error", category: "jsonata", description: "The JSONata expression does not parse." },
  "jsonata-regex": { severity: "error", category: "jsonata", description: "A JSONata regex that is not valid RE2, or whose RE2 program is over the size limit." },
  // Versions
  "migration-missing": { severity: "error", category: "migration", description: "A schema change that breaks compatibility with the previous version, without a migration rule for that direction." },
  "migration-field-unknown": { severity: "error", category: "migration", description: "A JSONata migration rule reads a field that the version it reads (UPGRADE: the older; DOWNGRADE: the newer) does not have." },
  "migration-result-invalid": { severity: "error", category: "migration", description: "A JSONata migration rule yields a message that lacks a required field of the version it produces, or gives a field the wrong JSON type." },
  // Suppression comments
  "suppression-unused": { severity: "warning", category: "suppression", description: "A `kontract-disable` comment that suppressed nothing." },
  "suppression-unknown-code": { severity: "warning", category: "suppression", description: "A `kontract-disable` comment naming a code that does not exist." },
} as const satisfies Record<string, CodeInfo>;

export type LintCode = keyof typeof LINT_CODES;

export const ALL_CODES: readonly LintCode[] = Object.keys(LINT_CODES) as LintCode[];

export function isLintCode(s: string): s is LintCode {
  return Object.hasOwn(LINT_CODES, s);
}
