/**
 * kontract: Confluent-compatible data contracts for Apache Kafka.
 *
 * The root entry point holds what an application needs: the contract model
 * and its YAML files, the engine and its extension points, registries, the
 * serializer and deserializer, errors and the wire format. Registry
 * workflows are in `kontract/registry`, rule tests in `kontract/testing`, and
 * Kafka clients in `kontract/kafka`; nothing here loads a Kafka client.
 */
export type {
  Contract,
  EnableAt,
  ExecutionMode,
  Metadata,
  RegisteredContract,
  Rule,
  RuleKind,
  RuleMode,
  RulePhase,
  RuleSet,
  SchemaReference,
  SchemaType,
  SubjectConfig,
} from "./contract/model.js";
export type { ContractDocument, DocumentSource } from "./contract/document.js";
export { CONTRACT_JSON_SCHEMA } from "./contract/json-schema.js";
export { loadContractFiles, type ContractFilesInput } from "./contract/load-files.js";
export { ContractFileError, ContractLoadError, formatContractErrors } from "./contract/load-error.js";
export { validateContract, type ContractIssue, type ContractIssueCode } from "./contract/validate.js";
export { contractToYaml, contractsToYaml, yamlToContract, yamlToContracts, type ContractToYamlOptions, type YamlContractEntry } from "./contract/yaml.js";
export * from "./errors.js";
export { createEngine, REDACTED, DEFAULT_SENSITIVE_TAGS, encryptionExecutors, localKms } from "./engine/index.js";
export type { EncryptionOptions, KmsConfig, KmsDriver, KmsKey } from "./engine/index.js";
export type { Dek, DekAlgorithm, DekRegistry, Kek, KeyLookup, NewDek, NewKek } from "./contract/keys.js";
export { awsKms, type AwsKmsOptions } from "./kms/aws.js";
export { gcpKms, type GcpKmsOptions } from "./kms/gcp.js";
export { azureKms } from "./kms/azure.js";
export { hcvaultKms, type HcvaultKmsOptions } from "./kms/hcvault.js";
export type {
  ActionContext,
  CompiledRule,
  ContractPlan,
  Engine,
  EngineLimits,
  EngineObserver,
  EngineOptions,
  ExecutorEnv,
  FailedOutcome,
  MessageContext,
  Outcome,
  PassedOutcome,
  RuleAction,
  RuleExecutor,
  RuleOverride,
  RuleResult,
  RuleEvent,
  RuleSite,
  RuleTally,
  RuleRunContext,
} from "./engine/index.js";
export { FORMATS } from "./format/index.js";
export type { CompiledSchema, FormatAdapter } from "./format/index.js";
export { createMemoryRegistry, type MemoryRegistry, type MemoryRegistryOptions } from "./registry/memory-registry.js";
export { createFileRegistry, type FileRegistry, type FileRegistryOptions } from "./registry/file-registry.js";
export { createRestDekRegistry, createRestRegistry, type RegistryConfig, type RestRegistry, type RestRegistryOptions } from "./registry/rest/index.js";
export type { SchemaByGuid, SchemaById, SchemaRegistry } from "./registry/types.js";
export * from "./serde/index.js";
export { decodeFrame, encodeFrame, readSchemaIdHeader, schemaIdHeader, schemaIdHeaderName } from "./wire/index.js";
