/**
 * Running a phase's steps on one message. Synchronous unless a step is async
 * (JSONata), so the common path never awaits.
 */
import { RuleViolationError, isKontractError, type KontractError, type Violation } from "../errors.js";
import { capText } from "../util/cap.js";
import type { Rule } from "../contract/model.js";
import type { PhaseSteps, Step } from "./plan.js";
import type { EngineObserver, FailedOutcome, Outcome, PassedOutcome, RuleEvent, RuleResult, RuleRunContext, RuleTally } from "./types.js";

export interface MessageContext {
  readonly topic: string;
  readonly isKey: boolean;
  /**
   * The rule a record replayed from a DLQ skips (Java reads it from `__rule.name`).
   * Set only for a record whose replay was verified: see kafka/replay.
   */
  readonly skipRule?: string | undefined;
}

const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);

interface RunState {
  message: unknown;
  transformed: boolean;
  violations: Violation[] | undefined;
  readonly ctx: RuleRunContext;
  readonly skipRule: string | undefined;
  readonly phase: PhaseSteps;
  /** What the last applied rule did, for the observer. */
  lastViolation: Violation | undefined;
  lastAction: string;
}

/**
 * Runs a phase of one subject's plan. `ctx` is what executors see: the caller
 * may reuse it for every message of a topic (see phaseContexts).
 */
export function runPhase(phase: PhaseSteps, message: unknown, ctx: RuleRunContext, skipRule: string | undefined): Outcome | Promise<Outcome> {
  // Java: a null message (a tombstone) is never run through rules.
  const steps = phase.steps;
  if (steps.length === 0 || message === null || message === undefined) return untouched(message);
  // The common case, conditions that pass with nothing to do: their shortcuts, no run state.
  // A replayed record (skipRule) takes the full path, as does everything from the first step without a clean pass.
  let first = 0;
  if (skipRule === undefined) {
    const observer = phase.observer;
    while (first < steps.length) {
      const step = steps[first]!;
      const passes = step.passes;
      if (passes === undefined) break;
      if (observer === undefined) {
        if (!passes(message)) break;
      } else {
        const tally = step.tally!;
        // A timed run takes the full path, which has the clock: one place times rules, and this
        // loop stays a check and an increment per rule.
        if (timesRun(phase, tally)) break;
        // A shortcut that says false runs again on the full path, which counts it there.
        if (!passes(message)) break;
        tally.runs++;
        if (phase.reportsAll) notify(observer, { rule: step.rule, ctx, failed: false, violation: undefined, action: "NONE", durationMs: undefined, tally });
      }
      first++;
    }
    if (first === steps.length) return passed(message, false, undefined);
  }
  const state: RunState = { message, transformed: false, violations: undefined, ctx, skipRule, phase, lastViolation: undefined, lastAction: "NONE" };
  return continueFrom(steps, first, state);
}

/** Whether this run of the rule is one `timeEvery` picks: runs are numbered from 0, and run 0 is timed. */
function timesRun(phase: PhaseSteps, tally: RuleTally): boolean {
  return phase.timeEvery !== 0 && tally.runs % phase.timeEvery === 0;
}

/**
 * The RuleRunContext of a phase for a message's topic and side, remembered for
 * the last one asked: a producer or consumer of one topic builds it once, not
 * per message. Frozen, since every message of the topic shares it.
 */
export function phaseContexts(mode: RuleRunContext["mode"], subject: string): (mc: MessageContext) => RuleRunContext {
  let last: RuleRunContext | undefined;
  return (mc) => {
    if (last === undefined || last.topic !== mc.topic || last.isKey !== mc.isKey) last = Object.freeze({ mode, subject, topic: mc.topic, isKey: mc.isKey });
    return last;
  };
}

function continueFrom(steps: readonly Step[], start: number, state: RunState): Outcome | Promise<Outcome> {
  for (let i = start; i < steps.length; i++) {
    const step = steps[i]!;
    if (state.skipRule !== undefined && step.rule.name === state.skipRule) continue;
    const started = step.tally !== undefined && timesRun(state.phase, step.tally) ? performance.now() : -1;
    let result: RuleResult | Promise<RuleResult>;
    try {
      result = step.compiled.run(state.message, state.ctx);
    } catch (e) {
      // Executors report failures as values; a throw is a bug in a custom executor, still a rule failure.
      result = { ok: false, message: e instanceof Error ? e.message : String(e), cause: e };
    }
    if (result instanceof Promise) {
      return result.then((r) => {
        const stop = apply(step, r, state);
        if (step.tally !== undefined) finished(step, step.tally, state, started);
        return stop ?? continueFrom(steps, i + 1, state);
      });
    }
    const stop = apply(step, result, state);
    if (step.tally !== undefined) finished(step, step.tally, state, started);
    if (stop) return stop;
  }
  return passed(state.message, state.transformed, state.violations);
}

/** Applies one rule's result and runs its action. Returns an outcome when the message stops here. */
function apply(step: Step, result: RuleResult, state: RunState): FailedOutcome | undefined {
  let violation: Violation | undefined;
  if (result.ok) {
    if (step.kind === "CONDITION") {
      // Java: only exactly false fails a condition.
      if (result.value === false) violation = makeViolation(step, state, step.conditionMessage, false);
    } else if (result.value === null || result.value === undefined) {
      violation = makeViolation(step, state, "transform returned null", false);
    } else {
      if (result.value !== state.message) state.transformed = true;
      state.message = result.value;
    }
  } else if (result.message === undefined) {
    violation = makeViolation(step, state, step.conditionMessage, false, result.field, result.fieldValue);
  } else {
    // A rule that did not compile fails with its compile error: no run-time values in it.
    violation = makeViolation(step, state, result.message, step.compileError === undefined, result.field, result.fieldValue);
  }
  if (violation !== undefined && !result.ok && result.code !== undefined) violation.code = result.code;
  const action = violation ? step.onFailure : step.onSuccess;
  state.lastViolation = violation;
  state.lastAction = action.kind === "custom" ? action.action.type : action.kind;
  switch (action.kind) {
    case "NONE":
      if (violation) {
        violation.action = "NONE";
        (state.violations ??= []).push(violation);
      }
      return undefined;
    case "ERROR":
    case "DLQ":
      return failed(step, state, action.kind, violation ?? makeViolation(step, state, `Rule failed: ${step.rule.name}`, false), typedCause(step, result));
    case "custom": {
      if (violation) {
        violation.action = action.action.type;
        (state.violations ??= []).push(violation);
      }
      try {
        action.action.run({ rule: step.rule, ctx: state.ctx, message: state.message, violation });
        return undefined;
      } catch (e) {
        const v = makeViolation(step, state, `action ${action.action.type} failed: ${e instanceof Error ? e.message : String(e)}`, true);
        state.lastAction = "ERROR";
        // The action's own error may quote sensitive values, unscrubbed: not kept as the cause when the schema has any.
        return failed(step, state, "ERROR", v, step.scrub === undefined ? e : undefined);
      }
    }
  }
}

/** Counts a rule run, and tells the observer when the count alone cannot (see EngineObserver.tally). `started` is -1 for an untimed run. */
function finished(step: Step, tally: RuleTally, state: RunState, started: number): void {
  tally.runs++;
  const { observer, reportsAll } = state.phase;
  const violation = state.lastViolation;
  const action = state.lastAction;
  if (reportsAll || started >= 0 || violation !== undefined || action !== "NONE") {
    const durationMs = started >= 0 ? performance.now() - started : undefined;
    notify(observer!, { rule: step.rule, ctx: state.ctx, failed: violation !== undefined, violation, action, durationMs, tally });
  }
}

function notify(observer: EngineObserver, event: RuleEvent): void {
  try {
    observer.ruleFinished(event);
  } catch {
    // An observer's failure must not change what happens to the message.
  }
}

/**
 * Every violation text passes here. `fromRun`: `message` was built at run time
 * (an executor's or action's error, which may quote the message's values), not
 * from the rule (doc, expr, name): no sensitive value of the message may show
 * in it. A field's path (which holds map keys) and value are scrubbed too; the
 * executor already renders a sensitive field's value as "<REDACTED>".
 */
function makeViolation(step: Step, state: RunState, message: string, fromRun: boolean, field?: string, value?: string): Violation {
  const scrub = (fromRun || field !== undefined || value !== undefined) && step.scrub !== undefined ? step.scrub(state.message) : undefined;
  if (scrub) {
    if (fromRun) message = scrub.text(message);
    if (field !== undefined) field = scrub.value(field);
    if (value !== undefined) value = scrub.value(value);
  }
  const v: Violation = {
    rule: step.rule.name,
    kind: step.kind,
    mode: state.ctx.mode,
    type: step.rule.type,
    // An executor's error may quote the message ("field not found: <a key from the input>").
    message: capText(message),
    action: "",
    subject: state.ctx.subject,
  };
  if (step.rule.expr !== undefined) v.expr = step.rule.expr;
  if (field !== undefined) v.field = field;
  if (value !== undefined) v.value = value;
  return v;
}

/**
 * A typed cause (e.g. "rule-cost") tells callers why the rule failed. Other
 * causes stay out of the error chain: a library's error object may hold
 * message values (JSONata's `value`), which would print with the error.
 */
/**
 * The rule's own typed error as the outcome's cause (a `rule-cost` failure, say). On a schema with
 * sensitive fields only a cost failure, whose text names limits and never values: other errors may
 * quote the message.
 */
function typedCause(step: Step, result: RuleResult): KontractError | undefined {
  if (result.ok || !isKontractError(result.cause)) return undefined;
  return step.scrub === undefined || result.cause.code === "rule-cost" ? result.cause : undefined;
}

function failed(step: Step, state: RunState, action: "ERROR" | "DLQ", violation: Violation, cause?: unknown): FailedOutcome {
  violation.action = action;
  return new Failed(action, state.message, [...(state.violations ?? []), violation], step.rule, step.dlqTopic, cause ?? step.compileError);
}

/**
 * A failed outcome whose error is made when first read: an Error captures a
 * stack trace (several µs), and a DLQ outcome, or a report such as `kontract
 * check`, never reads it. A class, not a literal with a getter: such literals
 * take a slow shape, and every site reading outcomes slowed down with them.
 */
class Failed implements FailedOutcome {
  readonly kind = "failed";
  #error: RuleViolationError | undefined;
  readonly #cause: unknown;
  constructor(
    readonly action: "ERROR" | "DLQ",
    readonly value: unknown,
    readonly violations: readonly Violation[],
    readonly rule: Rule,
    readonly dlqTopic: string | undefined,
    cause: unknown,
  ) {
    this.#cause = cause;
  }
  get error(): RuleViolationError {
    return (this.#error ??= new RuleViolationError(this.violations, { cause: this.#cause }));
  }
}

/** The outcome when no rule ran on the message (an empty phase, a tombstone): passed as it is. */
export function untouched(value: unknown): PassedOutcome {
  return passed(value, false, undefined);
}

function passed(value: unknown, transformed: boolean, violations: Violation[] | undefined): PassedOutcome {
  return { kind: "passed", value, transformed, violations: violations ?? NO_VIOLATIONS };
}
