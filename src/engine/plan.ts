/**
 * Compiling a contract version into executable plans: one per phase and mode,
 * pruned at compile time so a message only meets the rules that can run.
 */
import {
  defaultKind,
  defaultMode,
  type Contract,
  type ExecutionMode,
  type Rule,
  type RuleKind,
  type RulePhase,
} from "../contract/model.js";
import { RuleCompileError, isKontractError } from "../errors.js";
import type { CelRuntime } from "../cel/index.js";
import type { CompiledSchema } from "../format/types.js";
import { compileScrub, type Scrub } from "./redact.js";
import { ERROR, NONE, actionName, firstDefined, overridesFor, resolveAction, type ResolvedAction } from "./actions.js";
import type { CompiledRule, EngineLimits, EngineObserver, EngineOptions, ExecutorEnv, RuleAction, RuleExecutor, RuleResult, RuleSite, RuleTally } from "./types.js";

/** One rule, ready to run in one mode. */
export interface Step {
  readonly rule: Rule;
  readonly kind: RuleKind;
  readonly mode: ExecutionMode;
  /** The compiled rule, or a stand-in that fails with the compile error (Java fails such rules at run time). */
  readonly compiled: CompiledRule;
  /** Set when the rule did not compile; `compiled` then always fails with it. */
  readonly compileError: RuleCompileError | undefined;
  readonly onSuccess: ResolvedAction;
  readonly onFailure: ResolvedAction;
  readonly dlqTopic: string | undefined;
  /** The condition-failure message: doc, else the expression, else the name. */
  readonly conditionMessage: string;
  /**
   * The compiled rule's shortcut, for a condition with nothing to do when it
   * passes (onSuccess NONE): a message it returns true for skips the step.
   */
  readonly passes: ((message: unknown) => boolean) | undefined;
  /** For texts built from the failing message's values; undefined when its schema has no sensitive field. */
  readonly scrub: ((message: unknown) => Scrub | undefined) | undefined;
  /** Where this rule's runs are counted: the observer's tally, or the engine's own; undefined without an observer. */
  readonly tally: RuleTally | undefined;
}

export interface PhaseSteps {
  readonly mode: ExecutionMode;
  readonly steps: readonly Step[];
  /** True when some step may return a Promise. */
  readonly async: boolean;
  readonly observer: EngineObserver | undefined;
  /** The observer is told about every run (it has no `tally`), not only failures, actions and timed runs. */
  readonly reportsAll: boolean;
  /** Time one run in this many of each rule; 0: none (EngineObserver.timeEvery). */
  readonly timeEvery: number;
}

export interface CompileContext {
  readonly executors: ReadonlyMap<string, RuleExecutor>;
  readonly actions: ReadonlyMap<string, RuleAction>;
  readonly options: EngineOptions;
  readonly sensitiveTags: ReadonlySet<string>;
  readonly limits: EngineLimits;
}

/** The rule lists a phase runs, in execution order (READ and DOWNGRADE run reversed). */
export function rulesFor(contract: Contract, phase: RulePhase, mode: ExecutionMode): Rule[] {
  const list = contract.ruleSet?.[phase] ?? [];
  return mode === "READ" || mode === "DOWNGRADE" ? [...list].reverse() : [...list];
}

/** A rule a phase runs: chosen, its actions resolved, its expression not compiled yet. */
export interface SelectedRule {
  readonly rule: Rule;
  readonly overrides: ReturnType<typeof overridesFor>;
  readonly onSuccess: ResolvedAction;
  readonly onFailure: ResolvedAction;
}

/**
 * The rules a phase runs, in order, without compiling them: cheap, so a plan
 * knows every phase's rules (and refuses unknown actions, which are
 * configuration) while compiling only the phases its side runs.
 */
export function selectPhase(contract: Contract, phase: RulePhase, mode: ExecutionMode, cc: CompileContext): SelectedRule[] {
  const rules = rulesFor(contract, phase, mode);
  const selected: SelectedRule[] = [];
  if (!enabledAt(contract, cc.options)) return selected;
  rules.forEach((rule, index) => {
    if (!modeApplies(rule, mode)) return;
    const overrides = overridesFor(rule, cc.options.overrides ?? []);
    if (firstDefined(overrides, "disabled") === true) return;
    if (rule.disabled === true) return;
    if (isDuplicateFieldTransform(rule, index, rules, mode)) return;
    // Actions are configuration: an unknown one fails compilation (Java: ConfigException).
    const onSuccess = resolveAction(rule, actionName(rule, firstDefined(overrides, "onSuccess") ?? rule.onSuccess, mode), NONE, cc.actions);
    const onFailure = resolveAction(rule, actionName(rule, firstDefined(overrides, "onFailure") ?? rule.onFailure, mode), ERROR, cc.actions);
    selected.push({ rule, overrides, onSuccess, onFailure });
  });
  return selected;
}

/** Compiles the rules `selectPhase` chose. */
export function compileSelected(
  subject: string,
  contract: Contract,
  phase: RulePhase,
  mode: ExecutionMode,
  selected: readonly SelectedRule[],
  schema: CompiledSchema,
  cel: CelRuntime,
  cc: CompileContext,
): PhaseSteps {
  const observer = cc.options.observer;
  const steps = selected.map((s) => compileStep(contract, s, mode, phase, schema, cel, cc, tallyFor(observer, { rule: s.rule, mode, subject })));
  return { mode, steps, async: steps.some((s) => s.compiled.async), observer, reportsAll: observer?.tally === undefined, timeEvery: observer?.timeEvery ?? 0 };
}

export function compilePhase(
  subject: string,
  contract: Contract,
  phase: RulePhase,
  mode: ExecutionMode,
  schema: CompiledSchema,
  cel: CelRuntime,
  cc: CompileContext,
): PhaseSteps {
  return compileSelected(subject, contract, phase, mode, selectPhase(contract, phase, mode, cc), schema, cel, cc);
}

/** The step's tally: the observer's when it counts, else the engine's own (timeEvery numbers runs with it). */
function tallyFor(observer: EngineObserver | undefined, site: RuleSite): RuleTally | undefined {
  if (observer === undefined) return undefined;
  return observer.tally?.(site) ?? { runs: 0 };
}


/** A WRITEREAD rule runs on WRITE and READ, UPDOWN on UPGRADE and DOWNGRADE; others only in their own mode. */
export function modeApplies(rule: Rule, mode: ExecutionMode): boolean {
  const ruleMode = defaultMode(rule);
  if (ruleMode === "WRITEREAD") return mode === "WRITE" || mode === "READ";
  if (ruleMode === "UPDOWN") return mode === "UPGRADE" || mode === "DOWNGRADE";
  return ruleMode === mode;
}

/**
 * Java: enableAt NONE never runs; otherwise a rule runs when enableAt is unset,
 * ALL, or equal to the execution environment.
 */
function enabledAt(contract: Contract, options: EngineOptions): boolean {
  const at = contract.ruleSet?.enableAt;
  if (at === undefined || at === "ALL") return true;
  if (at === "NONE") return false;
  const env = options.executionEnvironment === undefined ? "CLIENT" : options.executionEnvironment;
  return env !== null && at === env;
}

/**
 * Java's FieldRuleExecutor skips a field TRANSFORM when another rule of the same
 * kind, mode, type and (non-empty) tags comes earlier in WRITE/UPGRADE order or
 * later in READ/DOWNGRADE order, so e.g. encryption never runs twice.
 * (The JS client compares tag arrays by reference and never de-duplicates.)
 */
function isDuplicateFieldTransform(rule: Rule, index: number, rules: readonly Rule[], mode: ExecutionMode): boolean {
  if (rule.type.toUpperCase() !== "CEL_FIELD" && rule.type.toUpperCase() !== "ENCRYPT") return false;
  if (defaultKind(rule) !== "TRANSFORM" || !rule.tags || rule.tags.length === 0) return false;
  const others = mode === "WRITE" || mode === "UPGRADE" ? rules.slice(0, index) : rules.slice(index + 1);
  return others.some(
    (o) =>
      defaultKind(o) === "TRANSFORM" &&
      defaultMode(o) === defaultMode(rule) &&
      o.type === rule.type &&
      sameTags(o.tags ?? [], rule.tags ?? []),
  );
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((t) => sb.has(t));
}

function compileStep(
  contract: Contract,
  { rule, overrides, onSuccess, onFailure }: SelectedRule,
  mode: ExecutionMode,
  phase: RulePhase,
  schema: CompiledSchema,
  cel: CelRuntime,
  cc: CompileContext,
  tally: RuleTally | undefined,
): Step {
  const overrideParams = Object.assign({}, ...[...overrides].reverse().map((o) => o.params ?? {})) as Record<string, string>;
  const param = (name: string): string | undefined =>
    rule.params?.[name] ?? overrideParams[name] ?? contract.metadata?.properties?.[name];
  const env: ExecutorEnv = {
    schema,
    form: phase === "migrationRules" ? "json" : "native",
    cel,
    param,
    sensitiveTags: cc.sensitiveTags,
    metadata: contract.metadata,
    limits: cc.limits,
  };
  let compiled: CompiledRule;
  let compileError: RuleCompileError | undefined;
  const executor = cc.executors.get(rule.type.toUpperCase());
  if (!executor) {
    compileError = new RuleCompileError(rule.name, `could not find rule executor of type ${rule.type}`, { code: "rule-unknown-type" });
  } else {
    try {
      compiled = executor.compile(rule, env);
    } catch (e) {
      compileError =
        e instanceof RuleCompileError
          ? e
          : new RuleCompileError(rule.name, isKontractError(e) || e instanceof Error ? e.message : String(e), { cause: e });
    }
  }
  if (compileError) compiled = failing(compileError);
  const kind = defaultKind(rule);
  return {
    rule,
    kind,
    mode,
    compiled: compiled!,
    compileError,
    onSuccess,
    onFailure,
    dlqTopic: param("dlq.topic"),
    conditionMessage: conditionMessage(rule),
    passes: kind === "CONDITION" && onSuccess.kind === "NONE" ? compiled!.passes : undefined,
    scrub: compileScrub(schema, cc.sensitiveTags, env.form, rule.expr),
    tally,
  };
}

function failing(error: RuleCompileError): CompiledRule {
  const result: RuleResult = { ok: false, message: error.message, cause: error };
  return { async: false, run: () => result };
}

/** Java's RuleConditionException message. */
export function conditionMessage(rule: Rule): string {
  if (rule.doc) return rule.doc;
  if (rule.expr) return `Expr failed: '${rule.expr}'`;
  return `Condition failed: '${rule.name}'`;
}

