/** Rule metrics through the engine observer, into a real OpenTelemetry SDK and a real prom-client registry. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint } from "@opentelemetry/sdk-metrics";
import client from "prom-client";
import type { Rule } from "../../src/contract/model.js";
import type { Outcome } from "../../src/engine/index.js";
import { openTelemetrySink, prometheusSink, ruleMetrics } from "../../src/metrics/index.js";
import { MC, order, plan } from "../helpers/contracts.js";

const RULES: Rule[] = [
  { name: "positive", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount > 0.0", onFailure: "DLQ" },
  { name: "warnBig", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.amount < 100.0", onFailure: "NONE" },
];

function runAll(observer: ReturnType<typeof ruleMetrics>): Outcome[] {
  const p = plan(RULES, { observer });
  return [order({ amount: 5 }), order({ amount: 500 }), order({ amount: -1 })].map((m) => p.write.run(m, MC) as Outcome);
}

describe("rule metrics", () => {
  it("OpenTelemetry: Java's rule.* counters with its tags, actions by action, and the time spent", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const observer = ruleMetrics(openTelemetrySink(provider.getMeter("kontract")), { timing: true });
    const outcomes = runAll(observer);
    assert.deepEqual(outcomes.map((o) => o.kind), ["passed", "passed", "failed"]);
    await reader.forceFlush();
    const metrics = new Map(exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)).map((m) => [m.descriptor.name, m.dataPoints as DataPoint<unknown>[]]));
    const count = (name: string, rule: string, extra: Record<string, string> = {}) =>
      metrics.get(name)?.find((d) => d.attributes.rule_name === rule && Object.entries(extra).every(([k, v]) => d.attributes[k] === v))?.value;
    assert.deepEqual(metrics.get("rule.executions.total")![0]!.attributes, { rule_type: "CEL", rule_mode: "WRITE", subject: "orders-value", rule_name: "positive" });
    assert.equal(count("rule.executions.total", "positive"), 3);
    assert.equal(count("rule.success.total", "positive"), 2);
    assert.equal(count("rule.failure.total", "positive"), 1);
    // The DLQ stopped the third message: warnBig ran on two.
    assert.equal(count("rule.executions.total", "warnBig"), 2);
    assert.equal(count("rule.failure.total", "warnBig"), 1);
    assert.equal(count("rule.actions.total", "positive", { action: "DLQ" }), 1);
    assert.equal(count("rule.actions.total", "warnBig", { action: "NONE" }), undefined, "NONE is not an action taken");
    assert.ok((count("rule.duration.ms.total", "positive") as number) > 0);
    // Counts are read when the SDK collects: later messages show in the next export.
    runAll(observer);
    await reader.forceFlush();
    const again = exporter.getMetrics().at(-1)!.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === "rule.executions.total")!;
    assert.equal(again.dataPoints.find((d) => d.attributes.rule_name === "positive")?.value, 6);
    await provider.shutdown();
  });

  it("Prometheus: the same under prometheus names, time in seconds, brought up to date at each scrape", async () => {
    const registry = new client.Registry();
    const observer = ruleMetrics(prometheusSink(client, { registry }), { timing: true });
    runAll(observer);
    await registry.metrics();
    runAll(observer);
    runAll(observer);
    const text = await registry.metrics();
    const labels = (rule: string) => `rule_type="CEL",rule_mode="WRITE",subject="orders-value",rule_name="${rule}"`;
    assert.match(text, new RegExp(`kontract_rule_executions_total\\{${labels("positive")}\\} 9\n`));
    assert.match(text, new RegExp(`kontract_rule_failure_total\\{${labels("warnBig")}\\} 3\n`));
    assert.match(text, new RegExp(`kontract_rule_actions_total\\{${labels("positive")},action="DLQ"\\} 3\n`));
    assert.match(text, new RegExp(`kontract_rule_duration_seconds_total\\{${labels("positive")}\\} [0-9.e-]+\n`));
    // Without timing, no time metric (and no clock reads).
    const quiet = new client.Registry();
    runAll(ruleMetrics(prometheusSink(client, { registry: quiet })));
    assert.doesNotMatch(await quiet.metrics(), /duration/);
  });
});
