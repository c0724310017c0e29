/**
 * Engine vocabulary: executors compile rules, actions react to outcomes, and
 * every message run yields an Outcome. Nothing here does I/O.
 */
import type { EnableAt, ExecutionMode, Metadata, Rule } from "../contract/model.js";
import type { ErrorCode, RuleViolationError, Violation } from "../errors.js";
import type { CelRuntime } from "../cel/index.js";
import type { CompiledSchema } from "../format/types.js";

/** What a compiled rule reports for one message. */
export type RuleResult =
  /** CONDITION: `value` is the condition result; TRANSFORM: the new message. */
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      /**
       * Why the rule failed; becomes Violation.message. Absent when a condition
       * came out false: the message is then the rule's condition message.
       */
      readonly message?: string;
      /** For field rules, the failing field's path and (already redacted) value. */
      readonly field?: string;
      readonly fieldValue?: string;
      readonly cause?: unknown;
      /** Why the rule could not run to a verdict, when callers can tell it apart: becomes Violation.code. */
      readonly code?: ErrorCode;
    };

/** Per-message facts a rule may read. */
export interface RuleRunContext {
  readonly mode: ExecutionMode;
  readonly subject: string;
  readonly topic: string;
  readonly isKey: boolean;
}

export interface CompiledRule {
  /** True when `run` may return a Promise (JSONata); the engine stays synchronous otherwise. */
  readonly async: boolean;
  run(message: unknown, ctx: RuleRunContext): RuleResult | Promise<RuleResult>;
  /**
   * Conditions may offer a shortcut: true only when `run` would return
   * `{ ok: true, value: true }` for this message. False says nothing (the
   * engine then calls `run`, which reports the failure). Never throws, never
   * depends on the context.
   */
  readonly passes?: (message: unknown) => boolean;
}

/** Everything an executor may use while compiling one rule. */
export interface ExecutorEnv {
  /** The schema messages conform to while the rule runs (the target schema). */
  readonly schema: CompiledSchema;
  /**
   * "native": messages in the format's own representation (domain rules).
   * "json": the plain JSON form (migration rules, as in the Java client).
   */
  readonly form: "native" | "json";
  readonly cel: CelRuntime;
  /** Rule params, then override params, then metadata properties. */
  param(name: string): string | undefined;
  /** Tags whose field values never appear in violations. */
  readonly sensitiveTags: ReadonlySet<string>;
  readonly metadata: Metadata | undefined;
  readonly limits: EngineLimits;
}

/** A rule type: CEL, CEL_FIELD, JSONATA, or a user's own. */
export interface RuleExecutor {
  readonly type: string;
  /** Compiles once per rule and schema version. Throws RuleCompileError. */
  compile(rule: Rule, env: ExecutorEnv): CompiledRule;
}

/** What an action sees when a rule succeeds or fails. */
export interface ActionContext {
  readonly rule: Rule;
  readonly ctx: RuleRunContext;
  readonly message: unknown;
  /** Set when the rule failed. */
  readonly violation: Violation | undefined;
}

/**
 * A custom action (any name but NONE, ERROR and DLQ). Runs synchronously; an
 * action that throws fails the message with onFailure semantics of ERROR, so a
 * broken action is never silently ignored.
 */
export interface RuleAction {
  readonly type: string;
  run(context: ActionContext): void;
}

/** Per rule name, per rule type, or default (neither) overrides, as Java's rule.executors.<n>.* configs. */
export interface RuleOverride {
  rule?: string;
  type?: string;
  disabled?: boolean;
  onSuccess?: string;
  onFailure?: string;
  params?: Record<string, string>;
}

/**
 * Bounds on one evaluation of one rule on one message. Exceeding any of them
 * fails the rule with `code: "rule-cost"`. Defaults in docs/rules.md and docs/cel.md.
 */
export interface EngineLimits {
  /**
   * Wall-clock bound per evaluation (Java jsonata.timeout.ms, 60 000 there).
   * Checked only as evaluation steps start; jsonataMaxSteps is what stops a
   * synchronous loop before it blocks the consumer.
   */
  readonly jsonataTimeoutMs: number;
  /** Maximum evaluation depth (Java jsonata.max.depth). */
  readonly jsonataMaxDepth: number;
  /** Evaluation steps: expression nodes evaluated, plus the items (and characters / 64) they produce. */
  readonly jsonataMaxSteps: number;
  /** Longest sequence, and longest range `[a..b]`, one evaluation may build. */
  readonly jsonataMaxSequence: number;
  /** Most items one `$sort` or order-by `^(…)` may sort. */
  readonly jsonataMaxSortItems: number;
  /** CEL cost units one evaluation of a rule may spend (CelLimits.maxCost, docs/cel.md "Cost budget"). */
  readonly celMaxCost: number;
}

/** What one rule did to one message, for an EngineObserver. */
export interface RuleEvent {
  readonly rule: Rule;
  /** Where it ran: mode, subject, topic and side. */
  readonly ctx: RuleRunContext;
  /** Whether the rule failed (a condition false, a transform or executor error, a spent cost budget). */
  readonly failed: boolean;
  /** The failure, as it goes into the outcome (sensitive values already redacted). */
  readonly violation: Violation | undefined;
  /** The action taken: NONE, ERROR, DLQ, or a custom action's type. */
  readonly action: string;
  /** How long the rule took to evaluate, in milliseconds (performance.now); set on the runs `timeEvery` picks. */
  readonly durationMs: number | undefined;
  /** The tally the observer's `tally` gave for this rule: lets a counting observer find its counts without a lookup. */
  readonly tally: RuleTally | undefined;
}

/** A compiled rule where it runs: one tally per site. */
export interface RuleSite {
  readonly rule: Rule;
  readonly mode: ExecutionMode;
  readonly subject: string;
}

/**
 * Runs of one rule at one site, counted by the engine in place: the observer
 * reads `runs` whenever it likes (a metrics scrape). An observer may give the
 * same tally to several sites (the same rule compiled twice).
 */
export interface RuleTally {
  runs: number;
}

/**
 * Watches rules run, for metrics and tests. Called synchronously on the hot
 * path: keep it cheap. An observer that throws is ignored for that event; the
 * message goes on as if it were not there.
 */
export interface EngineObserver {
  /**
   * After a rule ran on a message. Every run, unless the observer has `tally`:
   * then only runs that failed, took an action other than NONE, or were timed.
   */
  ruleFinished(event: RuleEvent): void;
  /**
   * Counting without a call per rule: asked once per compiled rule, when its
   * phase compiles (at the phase's first run). The engine adds each run to the tally, and calls ruleFinished only
   * for the runs a count cannot tell (failures, actions, timed runs).
   */
  tally?(site: RuleSite): RuleTally;
  /**
   * Time one run in N of each rule (its 1st, N+1st, 2N+1st... run): 1 times
   * every run, 0 (the default) none. Two clock reads cost about as much as a
   * cheap CEL condition, hence a sample.
   */
  readonly timeEvery?: number;
}

export interface EngineOptions {
  /** Told about the rules that run (docs/rules.md, "Observing rules"). Without one, nothing is counted or timed. */
  observer?: EngineObserver;
  executors?: readonly RuleExecutor[];
  actions?: readonly RuleAction[];
  overrides?: readonly RuleOverride[];
  /**
   * Where this engine runs, for `ruleSet.enableAt`. Java's execution.environment
   * defaults to unset, which skips enableAt=CLIENT rules; kontract is a client,
   * so it defaults to "CLIENT". Pass `null` for Java's unset behaviour.
   */
  executionEnvironment?: EnableAt | null;
  /** Fields carrying any of these tags are redacted in violations and DLQ records. */
  sensitiveTags?: readonly string[];
  limits?: Partial<EngineLimits>;
  /**
   * Run every CEL rule on the interpreter, never on the native fast path
   * (docs/cel.md, "Native fast path"). Results are the same either way; this
   * exists to compare the two.
   */
  disableNativeCel?: boolean;
}

export interface PassedOutcome {
  readonly kind: "passed";
  readonly value: unknown;
  /** True when a TRANSFORM changed the message. */
  readonly transformed: boolean;
  /** Failures whose action let the message through (NONE or a custom action). */
  readonly violations: readonly Violation[];
}

export interface FailedOutcome {
  readonly kind: "failed";
  /** "ERROR" rejects the message; "DLQ" routes it to the dead-letter topic. */
  readonly action: "ERROR" | "DLQ";
  /** The message as it was when the rule failed. */
  readonly value: unknown;
  readonly violations: readonly Violation[];
  readonly error: RuleViolationError;
  /** The rule that stopped the message. */
  readonly rule: Rule;
  /** The rule's `dlq.topic` param (or metadata property), when set. */
  readonly dlqTopic: string | undefined;
}

export type Outcome = PassedOutcome | FailedOutcome;
