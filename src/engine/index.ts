export { createEngine, BUILTIN_EXECUTORS, DEFAULT_LIMITS, type Engine, type ContractPlan, type Phase } from "./engine.js";
export { planMigration, runMigration, type Migration, type VersionedPlan } from "./migrate.js";
export { untouched, type MessageContext } from "./run.js";
export { splitGuard } from "./guard.js";
export { REDACTED, DEFAULT_SENSITIVE_TAGS, redactedJson, renderValue } from "./redact.js";
export { conditionMessage, modeApplies } from "./plan.js";
export type {
  ActionContext,
  CompiledRule,
  EngineLimits,
  EngineObserver,
  EngineOptions,
  ExecutorEnv,
  FailedOutcome,
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
} from "./types.js";
export { encryptionExecutors, ENCRYPT_PARAMS, type EncryptionOptions } from "./executors/encrypt.js";
export { localKms, KNOWN_KMS_TYPES, type KmsConfig, type KmsDriver, type KmsKey } from "./encrypt/kms.js";
export {
  statefulPartition,
  type GroupOutcome,
  type StatefulChange,
  type StatefulPartition,
  type StatefulPartitionOptions,
} from "./stateful/partition.js";
export { referenceTable, type ChangeSink, type GroupEvent, type Moment, type ReferenceTable } from "./stateful/types.js";
