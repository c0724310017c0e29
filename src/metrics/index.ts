/**
 * Rule metrics from the engine observer, named after the Java client's
 * (`rule.executions.total`, `rule.success.total`, `rule.failure.total`,
 * `rule.actions.total`, with the tags rule_type, rule_mode, subject and
 * rule_name), plus a histogram of rule time per subject, rule type and mode
 * (`rule.duration`, which Java does not have), from a sample of runs.
 * Failure-path counters: dead letters, poison pills, retries, parks.
 *
 * Two sinks: OpenTelemetry (a Meter the application gets from
 * `@opentelemetry/api`: a no-op until it installs an SDK) and Prometheus
 * (the application's `prom-client` module). Both are optional peers that the
 * application passes in, so nothing here imports them.
 */
import type { EngineObserver, RuleTally } from "../engine/types.js";

/**
 * Where metrics go: one adapter per metrics library. Counts are kept here, as
 * plain numbers, and read by the library when it collects (an observable
 * counter, a scrape): the hot path adds to a number and calls nothing.
 * Histograms are recorded as values come, on sampled runs only.
 */
export interface MetricsSink {
  /** Registers a counter whose current totals `read` gives, per attribute set. */
  counter(name: CounterName, read: () => Iterable<readonly [Attributes, number]>): void;
  /** Registers a histogram of durations; gives, per attribute set (bound once), a function recording one value in seconds. */
  histogram(name: HistogramName): (attributes: Attributes) => (seconds: number) => void;
}

export type CounterName =
  | "rule.executions.total"
  | "rule.success.total"
  | "rule.failure.total"
  | "rule.actions.total"
  | "dead.letters.total"
  | "poison.pills.total"
  | "retries.total"
  | "parks.total";

export type HistogramName = "rule.duration";

export type Attributes = Readonly<Record<string, string>>;

/** The Java client's tags, and `action` on rule.actions.total. */
export type RuleAttributes = {
  readonly rule_type: string;
  readonly rule_mode: string;
  readonly subject: string;
  readonly rule_name: string;
  readonly action?: string;
};

const DESCRIPTIONS: Readonly<Record<CounterName | HistogramName, string>> = {
  "rule.executions.total": "Rules run on a message (rule.success.total + rule.failure.total)",
  "rule.success.total": "Rules that passed: a condition true, a transform that returned a value",
  "rule.failure.total": "Rules that failed: a condition false, a transform or executor error, a spent cost budget",
  "rule.actions.total": "Actions taken after a rule, by action (NONE is not counted)",
  "rule.duration": "Time to evaluate a rule on one message, in seconds, from one run in timeEvery of each rule",
  "dead.letters.total": "Records written to a dead-letter topic, by origin topic, DLQ topic, rule, reason (rule, poison-pill, handler or registry) and side (produce or consume)",
  "poison.pills.total": "Consumed records whose bytes could not be read, dead-lettered, by origin topic and DLQ topic",
  "retries.total": "Records written to a retry topic, by origin topic, retry topic, rule, reason and attempt",
  "parks.total": "Records parked by order-preserving parking, by topic and role (head: the failed record a key is parked behind; follower: a record parked behind it)",
};

/** Label names, for libraries that declare them up front (Prometheus) and for the failure-path counters. */
const LABEL_NAMES: Readonly<Record<CounterName | HistogramName, readonly string[]>> = {
  "rule.executions.total": ["rule_type", "rule_mode", "subject", "rule_name"],
  "rule.success.total": ["rule_type", "rule_mode", "subject", "rule_name"],
  "rule.failure.total": ["rule_type", "rule_mode", "subject", "rule_name"],
  "rule.actions.total": ["rule_type", "rule_mode", "subject", "rule_name", "action"],
  "rule.duration": ["rule_type", "rule_mode", "subject"],
  "dead.letters.total": ["topic", "dlq_topic", "rule_name", "reason", "side"],
  "poison.pills.total": ["topic", "dlq_topic"],
  "retries.total": ["topic", "retry_topic", "rule_name", "reason", "attempt"],
  "parks.total": ["topic", "role"],
};

/**
 * Bucket bounds of rule.duration, in seconds: a cheap CEL condition takes
 * about 0.1-1 µs, a JSONata transform tens of µs, a rule at its cost budget
 * milliseconds.
 */
export const RULE_DURATION_BUCKETS: readonly number[] = Object.freeze([1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1, 1]);

/** One rule at one subject and mode: the engine counts its runs in place (RuleTally), failures and actions come by event. */
interface Site extends RuleTally {
  readonly attributes: RuleAttributes;
  failure: number;
  readonly actions: Map<string, { readonly attributes: RuleAttributes; count: number }>;
  /** Records a sampled run's time into the histogram of the rule's subject, type and mode. */
  readonly record: ((seconds: number) => void) | undefined;
}

export interface RuleMetricsOptions {
  /**
   * Time one run in N of each rule (its 1st, N+1st, ...) into rule.duration.
   * Default 100; 1 times every run; 0 turns the histogram off. Counts are
   * exact whatever N is.
   */
  readonly timeEvery?: number;
}

export const DEFAULT_TIME_EVERY = 100;

/**
 * An engine observer that counts every rule run, and times a sample of them
 * (`createEngine({ observer: ruleMetrics(sink) })`). The engine adds each run
 * to a tally per rule; the observer hears only of failures, actions and timed
 * runs, so a message whose rules pass costs no call.
 */
export function ruleMetrics(sink: MetricsSink, options: RuleMetricsOptions = {}): EngineObserver {
  const timeEvery = options.timeEvery ?? DEFAULT_TIME_EVERY;
  const sites = new Map<string, Site>();
  const histogram = timeEvery === 0 ? undefined : sink.histogram("rule.duration");
  const recorders = new Map<string, (seconds: number) => void>();
  const recorderFor = (rule_type: string, rule_mode: string, subject: string): (seconds: number) => void => {
    const key = `${subject}\u0000${rule_mode}\u0000${rule_type}`;
    let record = recorders.get(key);
    if (record === undefined) recorders.set(key, (record = histogram!(Object.freeze({ rule_type, rule_mode, subject }))));
    return record;
  };
  const totals = (pick: (s: Site) => number) => () => [...sites.values()].filter((s) => s.runs > 0).map((s) => [s.attributes, pick(s)] as const);
  sink.counter("rule.executions.total", totals((s) => s.runs));
  sink.counter("rule.success.total", totals((s) => s.runs - s.failure));
  sink.counter("rule.failure.total", totals((s) => s.failure));
  sink.counter("rule.actions.total", () => [...sites.values()].flatMap((s) => [...s.actions.values()].map((a) => [a.attributes, a.count] as const)));
  return {
    timeEvery,
    // Compile time: one site per rule, subject and mode; the same rule compiled twice (two stores, a recompile) shares it.
    tally({ rule, mode, subject }) {
      const key = `${subject}\u0000${mode}\u0000${rule.type}\u0000${rule.name}`;
      let site = sites.get(key);
      if (site === undefined) {
        const attributes = Object.freeze({ rule_type: rule.type, rule_mode: mode, subject, rule_name: rule.name });
        const record = histogram === undefined ? undefined : recorderFor(rule.type, mode, subject);
        sites.set(key, (site = { attributes, runs: 0, failure: 0, actions: new Map(), record }));
      }
      return site;
    },
    ruleFinished(e) {
      // The engine hands back the tally this observer gave for the rule.
      const site = e.tally as Site;
      if (e.failed) site.failure++;
      if (e.action !== "NONE") {
        let a = site.actions.get(e.action);
        if (a === undefined) site.actions.set(e.action, (a = { attributes: Object.freeze({ ...site.attributes, action: e.action }), count: 0 }));
        a.count++;
      }
      if (e.durationMs !== undefined) site.record?.(e.durationMs / 1000);
    },
  };
}

/** The parts of an OpenTelemetry `Meter` used here (`metrics.getMeter("kontract")` from @opentelemetry/api). */
export interface OpenTelemetryMeter {
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): { addCallback(callback: (result: { observe(value: number, attributes?: object): void }) => void): void };
  createHistogram(name: string, options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } }): { record(value: number, attributes?: object): void };
}

/** Observable counters, read when the SDK exports; a Histogram instrument in seconds for rule.duration. */
export function openTelemetrySink(meter: OpenTelemetryMeter): MetricsSink {
  return {
    counter(name, read) {
      meter.createObservableCounter(name, { description: DESCRIPTIONS[name] }).addCallback((result) => {
        for (const [attributes, value] of read()) result.observe(value, attributes);
      });
    },
    histogram(name) {
      const h = meter.createHistogram(name, { description: DESCRIPTIONS[name], unit: "s", advice: { explicitBucketBoundaries: [...RULE_DURATION_BUCKETS] } });
      return (attributes) => (seconds) => h.record(seconds, attributes);
    },
  };
}

/** The parts of the `prom-client` module used here (its own config types are generic over label names). */
export interface PromClient {
  Counter: new (config: never) => { inc(labels: object, value?: number): void };
  Histogram: new (config: never) => { labels(labels: never): { observe(value: number): void } };
}

export interface PrometheusSinkOptions {
  /** A prom-client Registry; default: prom-client's global registry. */
  readonly registry?: unknown;
  /** Prefix of every name. Default "kontract_". */
  readonly prefix?: string;
}

/**
 * Prometheus names cannot hold dots: `rule.executions.total` is
 * `kontract_rule_executions_total`, `rule.duration` is
 * `kontract_rule_duration_seconds`. Counter totals are brought up to date
 * when the registry is scraped (prom-client's collect).
 */
export function prometheusSink(prom: PromClient, options: PrometheusSinkOptions = {}): MetricsSink {
  const prefix = options.prefix ?? "kontract_";
  const registers = options.registry === undefined ? {} : { registers: [options.registry] };
  return {
    counter(name, read) {
      const exported = new Map<Attributes, number>();
      new prom.Counter({
        name: prefix + name.replaceAll(".", "_"),
        help: DESCRIPTIONS[name],
        labelNames: [...LABEL_NAMES[name]],
        ...registers,
        collect(this: { inc(labels: object, value: number): void }) {
          for (const [attributes, total] of read()) {
            const delta = total - (exported.get(attributes) ?? 0);
            if (delta <= 0) continue;
            this.inc(attributes, delta);
            exported.set(attributes, total);
          }
        },
      } as never);
    },
    histogram(name) {
      const h = new prom.Histogram({
        name: `${prefix}${name.replaceAll(".", "_")}_seconds`,
        help: DESCRIPTIONS[name],
        labelNames: [...LABEL_NAMES[name]],
        buckets: [...RULE_DURATION_BUCKETS],
        ...registers,
      } as never);
      return (attributes) => {
        const child = h.labels(attributes as never);
        return (seconds) => child.observe(seconds);
      };
    },
  };
}

/**
 * A counter of events by label values (the counter's LABEL_NAMES, in order),
 * for the failure paths: one map lookup per event.
 */
function labelledCounter(sink: MetricsSink, name: CounterName): (...values: string[]) => void {
  const names = LABEL_NAMES[name];
  const counts = new Map<string, { readonly attributes: Attributes; count: number }>();
  sink.counter(name, () => [...counts.values()].map((c) => [c.attributes, c.count] as const));
  return (...values) => {
    const key = values.join("\u0000");
    let c = counts.get(key);
    if (c === undefined) counts.set(key, (c = { attributes: Object.freeze(Object.fromEntries(names.map((n, i) => [n, values[i]!]))), count: 0 }));
    c.count++;
  };
}

/** A dead letter as the producer (DeadLetteredReport) and the consumer (ConsumedDeadLetter) report it. */
export interface DeadLetterEvent {
  readonly topic: string;
  readonly dlqTopic: string;
  readonly rule: string | undefined;
  /** The consumer's reason; the producer dead-letters for rules only. */
  readonly reason?: "rule" | "poison-pill" | "handler" | "registry";
}

/**
 * Counts dead letters (`dead.letters.total`), and among the consumer's the
 * poison pills (`poison.pills.total`): give `produced` as the producer's
 * `onDeadLetter` and `consumed` as the consumer's.
 */
export function deadLetterMetrics(sink: MetricsSink): { produced(e: DeadLetterEvent): void; consumed(e: DeadLetterEvent): void } {
  const deadLetters = labelledCounter(sink, "dead.letters.total");
  const poisonPills = labelledCounter(sink, "poison.pills.total");
  return {
    produced: (e) => deadLetters(e.topic, e.dlqTopic, e.rule ?? "", e.reason ?? "rule", "produce"),
    consumed: (e) => {
      const reason = e.reason ?? "rule";
      deadLetters(e.topic, e.dlqTopic, e.rule ?? "", reason, "consume");
      if (reason === "poison-pill") poisonPills(e.topic, e.dlqTopic);
    },
  };
}

/**
 * A record written to a retry topic: the fields of the consumer's
 * `RetriedRecord` (kontract/kafka) that the counter reads, declared here so
 * that metrics need no Kafka code.
 */
export interface RetryEvent {
  /** Its main-topic coordinates: counted under the topic it was first consumed from. */
  readonly original: { readonly topic: string };
  readonly retryTopic: string;
  /** The failing rule (reason "rule"). */
  readonly rule: string | undefined;
  /** Why it is retried: "rule", "handler" or "registry". */
  readonly reason: string;
  /** The delivery it will be on when consumed from the retry topic: 2 for the first retry. */
  readonly attempt: number;
}

/** Counts retry writes (`retries.total`): give the result as the consumer's `onRetry`. */
export function retryMetrics(sink: MetricsSink): (e: RetryEvent) => void {
  const retries = labelledCounter(sink, "retries.total");
  return (e) => retries(e.original.topic, e.retryTopic, e.rule ?? "", e.reason, String(e.attempt));
}

/**
 * A record parked by order-preserving parking: the fields of the consumer's
 * `ParkedRecord` (kontract/kafka) that the counter reads.
 */
export interface ParkEvent {
  readonly topic: string;
  /** "head": dead-lettered or sent to a retry topic, its key parked behind it; "follower": parked behind its key's head. */
  readonly role: string;
}

/** Counts parks (`parks.total`): give the result as the consumer's `onPark`. */
export function parkMetrics(sink: MetricsSink): (e: ParkEvent) => void {
  const parks = labelledCounter(sink, "parks.total");
  return (e) => parks(e.topic, e.role);
}
