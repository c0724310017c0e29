/**
 * Rule metrics through the engine observer (tallies counted in place, a sample timed), and the
 * failure-path counters, into a real OpenTelemetry SDK and a real prom-client registry.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import client from "prom-client";
import type { Rule } from "../../src/contract/model.js";
import { createEngine, type ContractPlan, type Outcome } from "../../src/engine/index.js";
import { jsonSchemaFormat } from "../../src/format/json-schema/index.js";
import type { ParkedRecord, RetriedRecord } from "../../src/kafka/index.js";
import { RULE_DURATION_BUCKETS, deadLetterMetrics, openTelemetrySink, parkMetrics, prometheusSink, retryMetrics, ruleMetrics, type MetricsSink } from "../../src/metrics/index.js";
import { MC, contract, order, plan } from "../helpers/contracts.js";
import { mulberry32 } from "../helpers/random.js";

const RULES: Rule[] = [
  { name: "positive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" },
  { name: "warnBig", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount < 100.0", onFailure: "NONE" },
];

/** A fixed sequence of messages and what the two rules must have counted on it. */
const SEED = 13;
const COUNT = 500;
function sequence() {
  const random = mulberry32(SEED);
  const amounts = Array.from({ length: COUNT }, () => Math.round(random() * 200 - 50));
  const positiveFailures = amounts.filter((a) => a <= 0).length;
  const warnRuns = COUNT - positiveFailures;
  const warnFailures = amounts.filter((a) => a >= 100).length;
  return { amounts, positiveFailures, warnRuns, warnFailures };
}
const expected = sequence();
// Sanity of the fixture: both rules fail some messages and pass others.
assert.ok(expected.positiveFailures > 0 && expected.warnFailures > 0 && expected.warnRuns < COUNT);

const TIME_EVERY = 10;
/** Runs 0, 10, 20... of each rule are timed: ceil(runs / 10) samples. */
const samples = (runs: number) => Math.ceil(runs / TIME_EVERY);

function runSequence(sink: MetricsSink, timeEvery = TIME_EVERY): { outcomes: Outcome[]; p: ContractPlan } {
  const p = plan(RULES, { observer: ruleMetrics(sink, { timeEvery }) });
  return { outcomes: expected.amounts.map((amount) => p.write.run(order({ amount }), MC) as Outcome), p };
}

async function otel() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async () => {
    await reader.forceFlush();
    return new Map(exporter.getMetrics().at(-1)!.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m] as const));
  };
  return { sink: openTelemetrySink(provider.getMeter("kontract")), collect, provider };
}

const labels = (rule: string) => `rule_type="CEL",rule_mode="WRITE",subject="orders-value",rule_name="${rule}"`;
const promValue = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("rule metrics", () => {
  it("OpenTelemetry: exact rule.* counts with Java's tags, actions by action, and a rule.duration histogram of the sampled runs", async () => {
    const { sink, collect, provider } = await otel();
    const { outcomes, p } = runSequence(sink);
    assert.equal(outcomes.filter((o) => o.kind === "failed").length, expected.positiveFailures);
    const metrics = await collect();
    const point = (name: string, rule: string, extra: Record<string, string> = {}) =>
      (metrics.get(name)?.dataPoints as DataPoint<number>[] | undefined)?.find((d) => d.attributes.rule_name === rule && Object.entries(extra).every(([k, v]) => d.attributes[k] === v))?.value;
    assert.deepEqual(metrics.get("rule.executions.total")!.dataPoints[0]!.attributes, { rule_type: "CEL", rule_mode: "WRITE", subject: "orders-value", rule_name: "positive" });
    assert.equal(point("rule.executions.total", "positive"), COUNT);
    assert.equal(point("rule.success.total", "positive"), COUNT - expected.positiveFailures);
    assert.equal(point("rule.failure.total", "positive"), expected.positiveFailures);
    // The DLQ stopped the messages "positive" failed: warnBig ran on the others only.
    assert.equal(point("rule.executions.total", "warnBig"), expected.warnRuns);
    assert.equal(point("rule.failure.total", "warnBig"), expected.warnFailures);
    assert.equal(point("rule.actions.total", "positive", { action: "DLQ" }), expected.positiveFailures);
    assert.equal(point("rule.actions.total", "warnBig", { action: "NONE" }), undefined, "NONE is not an action taken");

    // One histogram per subject, rule type and mode: both rules' sampled runs, in seconds, on the advised buckets.
    const duration = metrics.get("rule.duration")!;
    assert.equal(duration.descriptor.unit, "s");
    assert.equal(duration.dataPoints.length, 1);
    const h = duration.dataPoints[0] as DataPoint<Histogram>;
    assert.deepEqual(h.attributes, { rule_type: "CEL", rule_mode: "WRITE", subject: "orders-value" });
    assert.equal(h.value.count, samples(COUNT) + samples(expected.warnRuns));
    assert.deepEqual(h.value.buckets.boundaries, RULE_DURATION_BUCKETS);

    // Counts are read when the SDK collects: later messages show in the next export.
    p.write.run(order(), MC);
    const again = await collect();
    assert.equal((again.get("rule.executions.total")!.dataPoints as DataPoint<number>[]).find((d) => d.attributes.rule_name === "positive")?.value, COUNT + 1);
    await provider.shutdown();
  });

  it("Prometheus: the same counts under prometheus names, brought up to date at each scrape, and the histogram in seconds", async () => {
    const registry = new client.Registry();
    const observer = ruleMetrics(prometheusSink(client, { registry }), { timeEvery: TIME_EVERY });
    const p = plan(RULES, { observer });
    const runAll = () => expected.amounts.forEach((amount) => p.write.run(order({ amount }), MC));
    runAll();
    await registry.metrics();
    runAll();
    runAll();
    const text = await registry.metrics();
    assert.equal(promValue(text, `kontract_rule_executions_total{${labels("positive")}}`), 3 * COUNT);
    assert.equal(promValue(text, `kontract_rule_success_total{${labels("positive")}}`), 3 * (COUNT - expected.positiveFailures));
    assert.equal(promValue(text, `kontract_rule_failure_total{${labels("warnBig")}}`), 3 * expected.warnFailures);
    assert.equal(promValue(text, `kontract_rule_actions_total{${labels("positive")},action="DLQ"}`), 3 * expected.positiveFailures);
    const series = `rule_type="CEL",rule_mode="WRITE",subject="orders-value"`;
    // Runs are numbered across the three passes: ceil(total runs / 10) samples per rule.
    assert.equal(promValue(text, `kontract_rule_duration_seconds_count{${series}}`), samples(3 * COUNT) + samples(3 * expected.warnRuns));
    assert.equal(promValue(text, `kontract_rule_duration_seconds_bucket{le="+Inf",${series}}`), samples(3 * COUNT) + samples(3 * expected.warnRuns));
    assert.ok(promValue(text, `kontract_rule_duration_seconds_bucket{le="0.000001",${series}}`) !== undefined, "µs-scale buckets");
  });

  it("timeEvery 1 times every run, 0 keeps no histogram; counts are exact either way", async () => {
    const every = new client.Registry();
    runSequence(prometheusSink(client, { registry: every }), 1);
    const text = await every.metrics();
    assert.equal(promValue(text, `kontract_rule_duration_seconds_count{rule_type="CEL",rule_mode="WRITE",subject="orders-value"}`), COUNT + expected.warnRuns);
    const quiet = new client.Registry();
    runSequence(prometheusSink(client, { registry: quiet }), 0);
    const none = await quiet.metrics();
    assert.doesNotMatch(none, /duration/);
    assert.equal(promValue(none, `kontract_rule_executions_total{${labels("warnBig")}}`), expected.warnRuns);
  });

  it("the same rule compiled twice (two stores of one subject) adds to one series", async () => {
    const registry = new client.Registry();
    const observer = ruleMetrics(prometheusSink(client, { registry }));
    const a = plan(RULES, { observer });
    const b = plan(RULES, { observer });
    a.write.run(order(), MC);
    b.write.run(order(), { topic: "orders-eu", isKey: false });
    assert.equal(promValue(await registry.metrics(), `kontract_rule_executions_total{${labels("positive")}}`), 2);
  });

  it("migrations count under rule_mode UPGRADE and DOWNGRADE, with their own histogram series", async () => {
    const registry = new client.Registry();
    const migrationRules: Rule[] = [
      { name: "up", kind: "TRANSFORM", mode: "UPGRADE", type: "CEL", expr: "message" },
      { name: "down", kind: "TRANSFORM", mode: "DOWNGRADE", type: "CEL", expr: "message" },
    ];
    const c = contract({ migrationRules });
    const p = createEngine({ observer: ruleMetrics(prometheusSink(client, { registry }), { timeEvery: 1 }) }).compile("orders-value", c, jsonSchemaFormat.compile(c));
    for (let i = 0; i < 3; i++) p.upgrade.run(order(), MC);
    p.downgrade.run(order(), MC);
    const text = await registry.metrics();
    assert.equal(promValue(text, `kontract_rule_executions_total{rule_type="CEL",rule_mode="UPGRADE",subject="orders-value",rule_name="up"}`), 3);
    assert.equal(promValue(text, `kontract_rule_executions_total{rule_type="CEL",rule_mode="DOWNGRADE",subject="orders-value",rule_name="down"}`), 1);
    assert.equal(promValue(text, `kontract_rule_duration_seconds_count{rule_type="CEL",rule_mode="UPGRADE",subject="orders-value"}`), 3);
  });
});

describe("failure-path metrics", () => {
  it("dead letters by side and reason; consumed poison pills also as poison.pills.total (Prometheus)", async () => {
    const registry = new client.Registry();
    const sink = prometheusSink(client, { registry });
    const dl = deadLetterMetrics(sink);
    dl.produced({ topic: "orders", dlqTopic: "orders-dlq", rule: "positive" });
    dl.consumed({ topic: "orders", dlqTopic: "orders-dlq", rule: "positive", reason: "rule" });
    dl.consumed({ topic: "orders", dlqTopic: "orders-dlq", rule: undefined, reason: "poison-pill" });
    dl.consumed({ topic: "orders", dlqTopic: "orders-dlq", rule: undefined, reason: "poison-pill" });
    const text = await registry.metrics();
    assert.equal(promValue(text, `kontract_dead_letters_total{topic="orders",dlq_topic="orders-dlq",rule_name="positive",reason="rule",side="produce"}`), 1);
    assert.equal(promValue(text, `kontract_dead_letters_total{topic="orders",dlq_topic="orders-dlq",rule_name="",reason="poison-pill",side="consume"}`), 2);
    assert.equal(promValue(text, `kontract_poison_pills_total{topic="orders",dlq_topic="orders-dlq"}`), 2);
    assert.doesNotMatch(text, /kontract_poison_pills_total\{[^}]*\} 3/);
  });

  it("retries by attempt and parks by role, from the consumer's own reports (OpenTelemetry)", async () => {
    const { sink, collect, provider } = await otel();
    // Typed as the consumer's callbacks: the metrics read the reports the consumer really gives.
    const retried: (r: RetriedRecord) => void = retryMetrics(sink);
    const parked: (r: ParkedRecord) => void = parkMetrics(sink);
    const original = { topic: "orders", partition: 0, offset: "7" };
    const retry = (from: string, retryTopic: string, attempt: number): RetriedRecord => ({
      topic: from, partition: 0, offset: "1", retryTopic, attempt, due: new Date(0), firstFailure: new Date(0), original, reason: "rule", rule: "positive", error: new Error("x"),
    });
    retried(retry("orders", "orders-retry-1", 2));
    retried(retry("orders", "orders-retry-1", 2));
    // The second retry fails on the retry topic, but is counted under the topic it came from.
    retried(retry("orders-retry-1", "orders-retry-2", 3));
    parked({ topic: "orders", partition: 0, offset: "7", parkTopic: "orders-park", role: "head", episode: "7" });
    parked({ topic: "orders", partition: 0, offset: "8", parkTopic: "orders-park", role: "follower", episode: "7" });
    parked({ topic: "orders", partition: 0, offset: "9", parkTopic: "orders-park", role: "follower", episode: "7" });
    const metrics = await collect();
    const points = (name: string) => (metrics.get(name)!.dataPoints as DataPoint<number>[]).map((d) => [d.attributes, d.value]);
    assert.deepEqual(points("retries.total"), [
      [{ topic: "orders", retry_topic: "orders-retry-1", rule_name: "positive", reason: "rule", attempt: "2" }, 2],
      [{ topic: "orders", retry_topic: "orders-retry-2", rule_name: "positive", reason: "rule", attempt: "3" }, 1],
    ]);
    assert.deepEqual(points("parks.total"), [
      [{ topic: "orders", role: "head" }, 1],
      [{ topic: "orders", role: "follower" }, 2],
    ]);
    await provider.shutdown();
  });
});
