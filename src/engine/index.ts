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
