/**
 * Rule metrics from the engine observer, named after the Java client's
 * (`rule.executions.total`, `rule.success.total`, `rule.failure.total`,
 * `rule.actions.total`, with the tags rule_type, rule_mode, subject and
 * rule_name), plus the time spent in each rule (`rule.duration.ms.total`,
 * which Java does not have: with rule.executions.total, the mean per message).
 *
 * Two sinks: OpenTelemetry (a Meter the application gets from
 * `@opentelemetry/api`: a no-op until it installs an SDK) and Prometheus
 * (the application's `prom-client` module). Both are optional peers that the
 * application passes in, so nothing here imports them.
 */
import type { EngineObserver, RuleEvent } from "../engine/types.js";

/**
 * Where counts go: one adapter per metrics library. Counts are kept here, as
 * plain numbers per rule, subject and mode, and read by the library when it
 * collects (an observable counter, a scrape): the hot path adds to a number
 * and calls nothing.
 */
export interface MetricsSink {
  /** Registers a counter whose current totals `read` gives, per attribute set. */
  counter(name: CounterName, read: () => Iterable<readonly [Attributes, number]>): void;
}

export type CounterName = "rule.executions.total" | "rule.success.total" | "rule.failure.total" | "rule.actions.total" | "rule.duration.ms.total" | "dead.letters.total";

export type Attributes = Readonly<Record<string, string>>;

/** The Java client's tags, and `action` on rule.actions.total. */
export type RuleAttributes = {
  readonly rule_type: string;
  readonly rule_mode: string;
  readonly subject: string;
  readonly rule_name: string;
  readonly action?: string;
};

const DESCRIPTIONS: Readonly<Record<CounterName, string>> = {
  "rule.executions.total": "Rules run on a message (rule.success.total + rule.failure.total)",
  "rule.success.total": "Rules that passed: a condition true, a transform that returned a value",
  "rule.failure.total": "Rules that failed: a condition false, a transform or executor error, a spent cost budget",
  "rule.actions.total": "Actions taken after a rule, by action (NONE is not counted)",
  "rule.duration.ms.total": "Time spent in the rule, in milliseconds: divided by rule.executions.total, the mean per message",
  "dead.letters.total": "Records written to a dead-letter topic, by origin topic, DLQ topic, rule, reason (rule, poison-pill, handler or registry) and side (produce or consume)",
};

/** Label names per counter, for libraries that declare them up front (Prometheus). */
const LABEL_NAMES: Readonly<Record<CounterName, readonly string[]>> = {
  "rule.executions.total": ["rule_type", "rule_mode", "subject", "rule_name"],
  "rule.success.total": ["rule_type", "rule_mode", "subject", "rule_name"],
  "rule.failure.total": ["rule_type", "rule_mode", "subject", "rule_name"],
  "rule.duration.ms.total": ["rule_type", "rule_mode", "subject", "rule_name"],
  "rule.actions.total": ["rule_type", "rule_mode", "subject", "rule_name", "action"],
  "dead.letters.total": ["topic", "dlq_topic", "rule_name", "reason", "side"],
};

/** The counts of one rule at one subject and mode. */
interface Site {
  readonly attributes: RuleAttributes;
  executions: number;
  success: number;
  failure: number;
  durationMs: number;
  readonly actions: Map<string, { readonly attributes: RuleAttributes; count: number }>;
}

/**
 * An engine observer that counts every rule run and the time it takes
 * (`createEngine({ observer: ruleMetrics(sink) })`).
 */
export interface RuleMetricsOptions {
  /** Also count the time spent in each rule (rule.duration.ms.total). Off by default: timing every rule costs (docs/metrics.md). */
  readonly timing?: boolean;
}

export function ruleMetrics(sink: MetricsSink, options: RuleMetricsOptions = {}): EngineObserver {
  const sites: Site[] = [];
  // Run contexts are frozen and shared by every message of a topic and side: keyed by them, finding a site costs two lookups.
  const byContext = new WeakMap<object, Map<object, Site>>();
  // The last context asked: a producer of one topic asks for the same one every time.
  let lastContext: object | undefined;
  let lastSites: Map<object, Site> | undefined;
  const siteOf = (e: RuleEvent): Site => {
    let byRule = e.ctx === lastContext ? lastSites : byContext.get(e.ctx);
    if (byRule === undefined) byContext.set(e.ctx, (byRule = new Map()));
    lastContext = e.ctx;
    lastSites = byRule;
    let site = byRule.get(e.rule);
    if (site === undefined) {
      const attributes = Object.freeze({ rule_type: e.rule.type, rule_mode: e.ctx.mode, subject: e.ctx.subject, rule_name: e.rule.name });
      // Two topics of one subject share the site: the tags name no topic.
      site = sites.find((x) => x.attributes.rule_name === attributes.rule_name && x.attributes.rule_type === attributes.rule_type && x.attributes.rule_mode === attributes.rule_mode && x.attributes.subject === attributes.subject);
      if (site === undefined) {
        site = { attributes, executions: 0, success: 0, failure: 0, durationMs: 0, actions: new Map() };
        sites.push(site);
      }
      byRule.set(e.rule, site);
    }
    return site;
  };
  const totals = (pick: (s: Site) => number) => () => sites.filter((s) => s.executions > 0).map((s) => [s.attributes, pick(s)] as const);
  sink.counter("rule.executions.total", totals((s) => s.executions));
  sink.counter("rule.success.total", totals((s) => s.success));
  sink.counter("rule.failure.total", totals((s) => s.failure));
  if (options.timing === true) sink.counter("rule.duration.ms.total", totals((s) => s.durationMs));
  sink.counter("rule.actions.total", () => sites.flatMap((s) => [...s.actions.values()].map((a) => [a.attributes, a.count] as const)));
  return {
    timeRules: options.timing === true,
    ruleFinished(e) {
      const site = siteOf(e);
      site.executions++;
      if (e.failed) site.failure++;
      else site.success++;
      if (e.durationMs !== undefined) site.durationMs += e.durationMs;
      if (e.action !== "NONE") {
        let a = site.actions.get(e.action);
        if (a === undefined) site.actions.set(e.action, (a = { attributes: Object.freeze({ ...site.attributes, action: e.action }), count: 0 }));
        a.count++;
      }
    },
  };
}

/** The parts of an OpenTelemetry `Meter` used here (`metrics.getMeter("kontract")` from @opentelemetry/api). */
export interface OpenTelemetryMeter {
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): { addCallback(callback: (result: { observe(value: number, attributes?: object): void }) => void): void };
}

/** Observable counters: the SDK reads the totals when it exports. */
export function openTelemetrySink(meter: OpenTelemetryMeter): MetricsSink {
  return {
    counter(name, read) {
      meter.createObservableCounter(name, { description: DESCRIPTIONS[name], ...(name === "rule.duration.ms.total" ? { unit: "ms" } : {}) }).addCallback((result) => {
        for (const [attributes, value] of read()) result.observe(value, attributes);
      });
    },
  };
}

/** The parts of the `prom-client` module used here (its own config types are generic over label names). */
export interface PromClient {
  Counter: new (config: never) => { inc(labels: object, value?: number): void };
}

export interface PrometheusSinkOptions {
  /** A prom-client Registry; default: prom-client's global registry. */
  readonly registry?: unknown;
  /** Prefix of every name. Default "kontract_". */
  readonly prefix?: string;
}

/**
 * Prometheus names cannot hold dots: `rule.executions.total` is
 * `kontract_rule_executions_total`; time is in seconds there,
 * `kontract_rule_duration_seconds_total`. Totals are brought up to date when
 * the registry is scraped (prom-client's collect).
 */
export function prometheusSink(prom: PromClient, options: PrometheusSinkOptions = {}): MetricsSink {
  const prefix = options.prefix ?? "kontract_";
  const registers = options.registry === undefined ? {} : { registers: [options.registry] };
  return {
    counter(name, read) {
      const seconds = name === "rule.duration.ms.total";
      const exported = new Map<Attributes, number>();
      new prom.Counter({
        name: prefix + (seconds ? "rule_duration_seconds_total" : name.replaceAll(".", "_")),
        help: seconds ? "Time spent in the rule, in seconds" : DESCRIPTIONS[name],
        labelNames: [...LABEL_NAMES[name]],
        ...registers,
        collect(this: { inc(labels: object, value: number): void }) {
          for (const [attributes, total] of read()) {
            const delta = total - (exported.get(attributes) ?? 0);
            if (delta <= 0) continue;
            this.inc(attributes, seconds ? delta / 1000 : delta);
            exported.set(attributes, total);
          }
        },
      } as never);
    },
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
 * Counts dead letters (`dead.letters.total`): give `produced` as the
 * producer's `onDeadLetter` and `consumed` as the consumer's.
 */
export function deadLetterMetrics(sink: MetricsSink): { produced(e: DeadLetterEvent): void; consumed(e: DeadLetterEvent): void } {
  const counts = new Map<string, { readonly attributes: Attributes; count: number }>();
  sink.counter("dead.letters.total", () => [...counts.values()].map((c) => [c.attributes, c.count] as const));
  const count = (side: "produce" | "consume", e: DeadLetterEvent): void => {
    const reason = e.reason ?? "rule";
    const rule = e.rule ?? "";
    const key = `${side}\u0000${e.topic}\u0000${e.dlqTopic}\u0000${rule}\u0000${reason}`;
    let c = counts.get(key);
    if (c === undefined) counts.set(key, (c = { attributes: Object.freeze({ topic: e.topic, dlq_topic: e.dlqTopic, rule_name: rule, reason, side }), count: 0 }));
    c.count++;
  };
  return { produced: (e) => count("produce", e), consumed: (e) => count("consume", e) };
}
