/**
 * The engine: compiles contract versions into plans (once), and runs them.
 */
import type { Contract } from "../contract/model.js";
import { DEFAULT_CEL_LIMITS, createCelRuntime, type CelRuntime } from "../cel/index.js";
import type { CompiledSchema } from "../format/types.js";
import { celExecutor } from "./executors/cel.js";
import { celFieldExecutor } from "./executors/cel-field.js";
import { jsonataExecutor } from "./executors/jsonata.js";
import { compileSelected, selectPhase, type CompileContext, type PhaseSteps } from "./plan.js";
import { DEFAULT_SENSITIVE_TAGS } from "./redact.js";
import { phaseContexts, runPhase, type MessageContext } from "./run.js";
import type { EngineLimits, EngineOptions, Outcome, RuleAction, RuleExecutor } from "./types.js";
import type { RuleCompileError } from "../errors.js";
import { statefulPartition, type StatefulPartition, type StatefulPartitionOptions } from "./stateful/partition.js";
import { withGetters } from "../util/getters.js";

export const BUILTIN_EXECUTORS: readonly RuleExecutor[] = [celExecutor, celFieldExecutor, jsonataExecutor];

/**
 * JSONata runs per message inside a consumer: its bounds stay far below Kafka's
 * 45 s session timeout (Java's 60 s timeout would get the consumer evicted).
 * Measured costs are in docs/rules.md.
 */
export const DEFAULT_LIMITS: EngineLimits = Object.freeze({
  jsonataTimeoutMs: 5_000,
  jsonataMaxDepth: 1000,
  jsonataMaxSteps: 1_000_000,
  jsonataMaxSequence: 100_000,
  jsonataMaxSortItems: 2_000,
  celMaxCost: DEFAULT_CEL_LIMITS.maxCost,
});

/** A phase ready to run on messages. */
export interface Phase {
  readonly steps: PhaseSteps;
  /** True when the phase has no rules: callers can skip it entirely. */
  readonly empty: boolean;
  /** Runs the phase. Returns a Promise only when a rule in it is asynchronous (JSONata). */
  run(message: unknown, context: MessageContext): Outcome | Promise<Outcome>;
}

/** One contract version, compiled for one schema. */
export interface ContractPlan {
  readonly subject: string;
  readonly contract: Contract;
  readonly schema: CompiledSchema;
  /** Domain rules on produce. */
  readonly write: Phase;
  /** Domain rules on consume (reversed order). */
  readonly read: Phase;
  /** This version's migration rules, run when upgrading a message into this version. */
  readonly upgrade: Phase;
  /** This version's migration rules, run in reverse when downgrading a message out of this version. */
  readonly downgrade: Phase;
  /** Encoding rules on the payload bytes. */
  readonly encodeWrite: Phase;
  readonly encodeRead: Phase;
  /** Rules that did not compile. They fail through onFailure when they run; `kontract check` refuses them up front. Reading it compiles every phase. */
  readonly compileErrors: readonly RuleCompileError[];
  /** The same contract compiled for another schema (another message type of a Protobuf file). */
  recompile(schema: CompiledSchema): ContractPlan;
  /**
   * The contract's stateful rules (docs/stateful.md), compiled with fresh state
   * for one partition; undefined when it has none.
   */
  statefulPartition(options: StatefulPartitionOptions): StatefulPartition | undefined;
}

export interface Engine {
  /** Compiles a contract version for a compiled schema. Throws RuleCompileError for an unknown action. */
  compile(subject: string, contract: Contract, schema: CompiledSchema): ContractPlan;
  /** Tags whose fields are redacted in violations (and, by the Kafka wrappers, in dead-letter records). */
  readonly sensitiveTags: ReadonlySet<string>;
}

export function createEngine(options: EngineOptions = {}): Engine {
  const executors = new Map<string, RuleExecutor>();
  for (const e of [...BUILTIN_EXECUTORS, ...(options.executors ?? [])]) executors.set(e.type.toUpperCase(), e);
  const every = options.observer?.timeEvery;
  if (every !== undefined && (!Number.isSafeInteger(every) || every < 0)) throw new TypeError(`observer timeEvery must be a whole number >= 0, not ${String(every)}`);
  const actions = new Map<string, RuleAction>();
  for (const a of options.actions ?? []) {
    if (a.type === "NONE" || a.type === "ERROR" || a.type === "DLQ") throw new TypeError(`action type ${a.type} is built in`);
    actions.set(a.type, a);
  }
  const cc: CompileContext = {
    executors,
    actions,
    options,
    sensitiveTags: new Set(options.sensitiveTags ?? DEFAULT_SENSITIVE_TAGS),
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  };
  const runtimes = new WeakMap<object, CelRuntime>();
  let defaultRuntime: CelRuntime | undefined;
  // Unset leaves the runtime's default (on, unless KONTRACT_CEL_NATIVE=off).
  const native = options.disableNativeCel === true ? false : undefined;
  const celLimits = { maxCost: cc.limits.celMaxCost };
  const celFor = (schema: CompiledSchema): CelRuntime => {
    // Protobuf schemas carry their own registry, which CEL needs to evaluate messages natively.
    const registry = (schema as { registry?: object }).registry;
    if (!registry) return (defaultRuntime ??= createCelRuntime({ native, limits: celLimits }));
    let rt = runtimes.get(registry);
    if (!rt) {
      rt = createCelRuntime({ registry: registry as never, native, limits: celLimits });
      runtimes.set(registry, rt);
    }
    return rt;
  };

  const engine: Engine = {
    sensitiveTags: cc.sensitiveTags,
    compile(subject, contract, schema) {
      // The CEL runtime too is made when a phase first needs it: a side without rules never does.
      let celRuntime: CelRuntime | undefined;
      const cel = (): CelRuntime => (celRuntime ??= celFor(schema));
      // Each phase compiles its rules when first run or looked at: a consumer never compiles the WRITE
      // rules, a producer never the READ ones. Choosing the rules is eager, so an unknown action still
      // fails here and `empty` needs no compile.
      const phase = (list: "domainRules" | "migrationRules" | "encodingRules", mode: "WRITE" | "READ" | "UPGRADE" | "DOWNGRADE"): Phase => {
        const selected = selectPhase(contract, list, mode, cc);
        let compiled: PhaseSteps | undefined;
        const steps = (): PhaseSteps => (compiled ??= compileSelected(subject, contract, list, mode, selected, schema, cel(), cc));
        const contextFor = phaseContexts(mode, subject);
        // Read per message (`phase.empty`, `plan.write`): getters defined on the literal keep it out of V8's dictionary mode (util/getters.ts).
        return withGetters<Phase, "steps">({ empty: selected.length === 0, run: (message, context) => runPhase(steps(), message, contextFor(context), context.skipRule) }, { steps });
      };
      const write = phase("domainRules", "WRITE");
      const read = phase("domainRules", "READ");
      const upgrade = phase("migrationRules", "UPGRADE");
      const downgrade = phase("migrationRules", "DOWNGRADE");
      const encodeWrite = phase("encodingRules", "WRITE");
      const encodeRead = phase("encodingRules", "READ");
      let compileErrors: RuleCompileError[] | undefined;
      // Compiles every phase: for `kontract check` and `test`, which refuse such rules up front.
      const listCompileErrors = (): readonly RuleCompileError[] => {
        if (compileErrors === undefined) {
          const byRule = new Map<string, RuleCompileError>();
          for (const p of [write, read, upgrade, downgrade, encodeWrite, encodeRead]) {
            for (const s of p.steps.steps) if (s.compileError) byRule.set(s.rule.name, s.compileError);
          }
          compileErrors = [...byRule.values()];
        }
        return compileErrors;
      };
      return withGetters<ContractPlan, "compileErrors">(
        {
          subject,
          contract,
          schema,
          write,
          read,
          upgrade,
          downgrade,
          encodeWrite,
          encodeRead,
          recompile: (other) => engine.compile(subject, contract, other),
          statefulPartition: (opts) => statefulPartition(subject, contract, schema, cel(), cc, opts),
        },
        { compileErrors: listCompileErrors },
      );
    },
  };
  return engine;
}
