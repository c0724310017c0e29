/**
 * Contracts: the Confluent model, validation, YAML files and conversion.
 */
export {
  BUILTIN_ACTIONS,
  ENABLE_AT,
  MODES_BY_PHASE,
  RULE_KINDS,
  RULE_MODES,
  RULE_PHASES,
  SCHEMA_TYPES,
  defaultKind,
  defaultMode,
  schemaTypeOf,
  type Contract,
  type EnableAt,
  type ExecutionMode,
  type Metadata,
  type RegisteredContract,
  type Rule,
  type RuleKind,
  type RuleMode,
  type RulePhase,
  type RuleSet,
  type SchemaReference,
  type SchemaType,
} from "./model.js";
export { fieldTags, wildcardMatch, wildcardToRegExp } from "./tags.js";
export {
  PAIR_ACTION_MODES,
  RESERVED_RULE_NAMES,
  RULE_NAME_MAX_LENGTH,
  RULE_NAME_PATTERN,
  isValidRuleName,
  validateContract,
  type ContractIssue,
  type ContractIssueCode,
} from "./validate.js";
export { formatPath, parsePath, type PathSegment } from "./path.js";
export { CONTRACT_JSON_SCHEMA, checkContractShape, type ShapeViolation } from "./json-schema.js";
export { assignVersions, type ContractDocument, type DocumentSource } from "./document.js";
export { ContractFileError, ContractLoadError, formatContractErrors, type ContractFileErrorCode, type ContractFileErrorOptions } from "./load-error.js";
export { parseContractSource, type ContractLoadResult, type ParseContractOptions } from "./parse.js";
export { loadContractFiles, readSchemaFile, scanContractFiles, type ContractFilesInput } from "./load-files.js";
export { SCHEMA_FILE_MAX_BYTES, type SchemaFileRead, type SchemaFileReader, type SchemaFileRefusal } from "./schema-file.js";
export {
  contractToYaml,
  contractsToYaml,
  documentToEntry,
  yamlToContract,
  yamlToContracts,
  type ContractToYamlOptions,
  type YamlContractEntry,
} from "./yaml.js";
export {
  DEFAULT_MAX_KEYS,
  STATEFUL_TYPES,
  isStatefulRule,
  parseDuration,
  statefulRules,
  statefulSpec,
  type CompleteSpec,
  type OrderSpec,
  type ReferenceSpec,
  type StatefulSpec,
  type StatefulType,
  type UniqueSpec,
} from "./stateful.js";
