/**
 * One partition's stateful rules: a state machine per rule, run as an engine
 * phase so failures take the same path as every rule's (onFailure actions,
 * violations, redaction, the observer), and every state change recorded as a
 * changelog entry for the Kafka layer to make durable.
 */
import type { Contract, Rule } from "../../contract/model.js";
import { statefulRules, statefulSpec, type CompleteSpec, type StatefulSpec } from "../../contract/stateful.js";
import type { CelRuntime } from "../../cel/index.js";
import type { CompiledSchema } from "../../format/types.js";
import { compilePhase, type CompileContext, type PhaseSteps, type Step } from "../plan.js";
import { phaseContexts, runPhase, type MessageContext } from "../run.js";
import type { CompiledRule, Outcome, RuleExecutor, RuleResult } from "../types.js";
import { completeMachine, incompleteMessage } from "./complete.js";
import { orderMachine } from "./order.js";
import { referenceMachine, type ReferenceMachine } from "./reference.js";
import type { ChangeSink, GroupEvent, Moment, ReferenceTable, StateMachine, TimedMachine } from "./types.js";
import { uniqueMachine } from "./unique.js";
import { compileExpr } from "./values.js";
import { withGetters } from "../../util/getters.js";

/** A state change of one rule: the Kafka layer writes it to that rule's changelog. */
export interface StatefulChange {
  readonly rule: string;
  readonly key: string;
  readonly value: string | null;
}

/** A completeness group closed by its timer or completed, with the outcome of the rule for it. */
export interface GroupOutcome {
  readonly rule: Rule;
  readonly event: GroupEvent;
  /** Failed (by the rule's onFailure) for a group whose time ran out; passed for a completed one. */
  readonly outcome: Outcome;
  /** The rule's `complete.topic`: where a completed group is written, if anywhere. */
  readonly completionTopic: string | undefined;
}

export interface StatefulPartitionOptions {
  /** The table read from a reference topic, shared by the partitions of a consumer. */
  table(topic: string): ReferenceTable;
  /**
   * Where each rule's state changes go, as they are made (the Kafka layer writes them as changelog
   * bytes). Without it they are kept, in order, for `drain`.
   */
  changes?(rule: string, spec: StatefulSpec): ChangeSink;
}

export interface StatefulPartition {
  /** The rules that run, in order (READ order, as domain rules). */
  readonly rules: readonly Rule[];
  /** Runs the stateful rules on a message that passed the per-message rules. Synchronous. */
  run(message: unknown, context: MessageContext, at: Moment): Outcome;
  /** For a message first seen at `since`: how long to hold it for a reference to arrive, or undefined to run it now. */
  waitUntil(message: unknown, since: number, now: number): number | undefined;
  /** Applies one changelog entry read back on restore. Unknown rules are ignored (a rule that was removed). */
  restore(rule: string, key: string, value: string | null): void;
  /** State changes since the last call, in order; none when they go to `options.changes`. */
  drain(): StatefulChange[];
  /** True when a rule has timers (completeness): only then do `timers` and `nextDue` report anything. */
  readonly timed: boolean;
  /** True when a rule reads the wall clock (completeness timers, reference waits): otherwise `waitUntil` is always undefined and `Moment.now` unread. */
  readonly clocked: boolean;
  /** Groups whose time is up at `now`, and groups completed since the last call. */
  timers(now: number, context: MessageContext): GroupOutcome[];
  /** When the next timer is due (wall clock), if any. */
  nextDue(): number | undefined;
  /** Keys held per rule. */
  sizes(): Record<string, number>;
}

/** Compiles a contract's stateful rules for one partition. Undefined when it has none. */
export function statefulPartition(
  subject: string,
  contract: Contract,
  schema: CompiledSchema,
  cel: CelRuntime,
  cc: CompileContext,
  options: StatefulPartitionOptions,
): StatefulPartition | undefined {
  const rules = statefulRules(contract.ruleSet);
  if (rules.length === 0) return undefined;
  const machines = new Map<string, StateMachine>();
  const timed = new Map<string, { spec: CompleteSpec; machine: TimedMachine }>();
  const references: ReferenceMachine[] = [];
  let changes: StatefulChange[] = [];
  const keptChanges = (rule: string): ChangeSink => ({
    put: (key, value) => void changes.push({ rule, key, value }),
    seen: (key, n, offset) => void changes.push({ rule, key, value: `${n}@${offset}` }),
  });
  let moment: Moment = { record: 0, now: 0, offset: -1 };
  // The verdict a timer phase reports: set just before it runs (synchronously).
  let verdict: RuleResult = { ok: true, value: true };
  const shape = schema.celShape;

  // One executor per type, whose compiled rules judge against this partition's machines.
  const executor = (type: StatefulSpec["type"]): RuleExecutor => ({
    type,
    compile(rule): CompiledRule {
      // The rule as written (with its `disabled: true`), not the enabled copy the phase compiles.
      const spec = statefulSpec(rules.find((r) => r.name === rule.name) ?? rule);
      const expr = (text: string, what: string) => compileExpr(rule, cel, shape, text, what);
      const sink = options.changes?.(rule.name, spec) ?? keptChanges(rule.name);
      let machine: StateMachine;
      switch (spec.type) {
        case "STATEFUL_UNIQUE":
          machine = uniqueMachine(spec, expr(spec.expr, "key"), sink);
          break;
        case "STATEFUL_ORDER":
          machine = orderMachine(spec, expr(spec.keyExpr, "order.key"), expr(spec.expr, "sequence"), sink);
          break;
        case "STATEFUL_REFERENCE": {
          const m = referenceMachine(spec, expr(spec.expr, "key"), options.table(spec.topic));
          references.push(m);
          machine = m;
          break;
        }
        case "STATEFUL_COMPLETE": {
          const m = completeMachine(
            spec,
            {
              isParent: expr(spec.isParentExpr, "complete.parent"),
              parentKey: expr(spec.expr, "parent key"),
              parts: expr(spec.partsExpr, "complete.parts"),
              partOf: expr(spec.partOfExpr, "complete.part.of"),
            },
            sink,
          );
          timed.set(rule.name, { spec, machine: m });
          machine = m;
          break;
        }
      }
      machines.set(rule.name, machine);
      const passes = machine.passes;
      return {
        async: false,
        run: (message): RuleResult => machine.check(message, moment),
        // Records the message when it passes (see StateMachine.passes): the engine then skips run().
        ...(passes === undefined ? {} : { passes: (message: unknown) => passes(message, moment) }),
      };
    },
  });
  const executors = new Map<string, RuleExecutor>();
  for (const type of ["STATEFUL_UNIQUE", "STATEFUL_ORDER", "STATEFUL_REFERENCE", "STATEFUL_COMPLETE"] as const) executors.set(type, executor(type));
  // `disabled: true` is the form's marker for Confluent's clients (contract/stateful.ts), not an instruction to kontract.
  const enabled: Contract = { ...contract, ruleSet: { ...contract.ruleSet, domainRules: rules.map((r) => ({ ...r, disabled: false })) } };
  const phase = compilePhase(subject, enabled, "domainRules", "READ", schema, cel, { ...cc, executors });
  const contexts = phaseContexts("READ", subject);
  const timerPhases = new Map<string, PhaseSteps>();
  for (const step of phase.steps) if (timed.has(step.rule.name)) timerPhases.set(step.rule.name, timerPhase(phase, step, () => verdict));

  return withGetters<StatefulPartition, "timed" | "clocked">({
    rules: phase.steps.map((s) => s.rule),
    run(message, context, at) {
      moment = at;
      // Every stateful rule is synchronous: runPhase returns an Outcome, not a Promise.
      return runPhase(phase, message, contexts(context), context.skipRule) as Outcome;
    },
    waitUntil(message, since, now) {
      let until: number | undefined;
      for (const r of references) {
        const u = r.waitUntil(message, since, now);
        if (u !== undefined && (until === undefined || u > until)) until = u;
      }
      return until;
    },
    restore(rule, key, value) {
      machines.get(rule)?.restore(key, value);
    },
    drain() {
      const out = changes;
      changes = [];
      return out;
    },
    timers(now, context) {
      const out: GroupOutcome[] = [];
      for (const [name, { spec, machine }] of timed) {
        const steps = timerPhases.get(name);
        if (steps === undefined) continue;
        const rule = steps.steps[0]!.rule;
        const completionTopic = spec.completionTopic;
        for (const event of machine.completed()) out.push({ rule, event, outcome: { kind: "passed", value: event, transformed: false, violations: [] }, completionTopic });
        for (const event of machine.expire(now)) {
          verdict = { ok: false, message: incompleteMessage(spec, event) };
          out.push({ rule, event, outcome: runPhase(steps, event, contexts(context), undefined) as Outcome, completionTopic });
        }
      }
      return out;
    },
    nextDue() {
      let due: number | undefined;
      for (const { machine } of timed.values()) {
        const d = machine.nextDue();
        if (d !== undefined && (due === undefined || d < due)) due = d;
      }
      return due;
    },
    sizes() {
      return Object.fromEntries([...machines].map(([name, m]) => [name, m.size]));
    },
  }, {
    // A getter: the phase may compile its rules (and so fill `timed`) on first use.
    timed: () => timed.size > 0,
    clocked: () => timed.size > 0 || references.length > 0,
  });
}

/** A phase of one completeness rule that reports the timer's verdict, so it goes through the rule's own actions. */
function timerPhase(phase: PhaseSteps, step: Step, verdict: () => RuleResult): PhaseSteps {
  const compiled: CompiledRule = { async: false, run: verdict };
  return { ...phase, steps: [{ ...step, compiled, passes: undefined }] };
}
