/**
 * kontract: Confluent-compatible data contracts for Apache Kafka.
 *
 * The core (contracts, CEL, formats, engine, wire format, serde) does no I/O;
 * registries and Kafka are adapters at the edges.
 */
export * from "./contract/index.js";
export * from "./errors.js";
export { createEngine, planMigration, runMigration, splitGuard, redactedJson, REDACTED, DEFAULT_SENSITIVE_TAGS } from "./engine/index.js";
export type {
  ActionContext,
  CompiledRule,
  ContractPlan,
  Engine,
  EngineLimits,
  EngineOptions,
  ExecutorEnv,
  FailedOutcome,
  MessageContext,
  Migration,
  Outcome,
  PassedOutcome,
  Phase,
  RuleAction,
  RuleExecutor,
  RuleOverride,
  RuleResult,
  RuleRunContext,
  VersionedPlan,
} from "./engine/index.js";
export { createCelRuntime, isCelFailure, celView, fromCel, validateRe2, DEFAULT_CEL_LIMITS } from "./cel/index.js";
export type { CelProgram, CelRuntime, CelLimits, CelShape } from "./cel/index.js";
export { FORMATS, avroFormat, jsonSchemaFormat, protobufFormat } from "./format/index.js";
export type { CompiledSchema, FieldInfo, FieldTypeName, FormatAdapter, JsonRedactor, ProtobufCompiledSchema, SchemaProblem } from "./format/index.js";
export { createFileRegistry, type FileRegistry, type FileRegistryOptions } from "./registry/file-registry.js";
export { createRestRegistry, type RestRegistry, type RestRegistryOptions, type RegistryConfig } from "./registry/rest/index.js";
export type { SchemaRegistry, SchemaById, SchemaByGuid } from "./registry/types.js";
export { planPush, readRegistryState, type PushPlan, type SubjectPlan, type VersionToRegister, type VersionConflict, type ContractPart } from "./registry/plan.js";
export { applyPushPlan, type PushResult, type PushedVersion } from "./registry/push.js";
export { contractFiles, type ContractFile } from "./registry/pull.js";
export * from "./serde/index.js";
export { decodeFrame, encodeFrame, readSchemaIdHeader, schemaIdHeader, schemaIdHeaderName } from "./wire/index.js";
