/** Dead letters as data: headers read back, filters, stats; the dlq command's time arguments. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timeOf } from "../../src/cli/dlq.js";
import { deadLetterMatches, deadLetterStats, parseDeadLetter } from "../../src/kafka/dead-letters.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 4, 10, 15);
const record = (offset: number, time: number, headers: Record<string, string>) => ({
  key: null,
  value: Buffer.from("v"),
  timestamp: String(time),
  attributes: 0,
  offset: String(offset),
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
});

describe("parseDeadLetter", () => {
  it("reads the rule, origin and violations; a malformed violations header or partition reads as absent", () => {
    const d = parseDeadLetter("o-dlq", 1, record(7, T0, {
      "__rule.name": "amountPositive",
      "__rule.mode": "READ",
      "__rule.subject": "o-value",
      "__rule.exception": "amount must be positive",
      "__connect.errors.topic": "o",
      "__connect.errors.partition": "2",
      "__connect.errors.offset": "41",
      "__rule.violations": JSON.stringify([{ rule: "amountPositive", value: "<REDACTED>" }, 42, null]),
    }));
    assert.deepEqual([d.rule, d.mode, d.subject, d.exception, d.origin, d.time.getTime()], ["amountPositive", "READ", "o-value", "amount must be positive", { topic: "o", partition: 2, offset: "41" }, T0]);
    assert.deepEqual(d.violations, [{ rule: "amountPositive", value: "<REDACTED>" }]);
    const bad = parseDeadLetter("o-dlq", 0, record(8, T0, { "__rule.violations": "{not json", "__connect.errors.partition": "x", "__rule.topic": "o" }));
    assert.deepEqual([bad.violations, bad.origin.partition, bad.origin.topic, bad.rule], [[], undefined, "o", undefined]);
  });

  it("a dead letter that went through retry topics has its main-topic coordinates as its origin (replay sends it there)", () => {
    const d = parseDeadLetter("o-dlq", 0, record(9, T0, {
      "__connect.errors.topic": "o-retry-2",
      "__connect.errors.partition": "0",
      "__connect.errors.offset": "3",
      "__kontract.retry.original.topic": "o",
      "__kontract.retry.original.partition": "5",
      "__kontract.retry.original.offset": "120",
    }));
    assert.deepEqual(d.origin, { topic: "o", partition: 5, offset: "120" });
  });
});

describe("filters and stats", () => {
  const letters = [
    parseDeadLetter("d", 0, record(0, T0, { "__rule.name": "a", "__connect.errors.partition": "0" })),
    parseDeadLetter("d", 0, record(1, T0 + 3 * HOUR, { "__rule.name": "b", "__connect.errors.partition": "1" })),
    parseDeadLetter("d", 0, record(2, T0 + 3 * HOUR + 5, { "__rule.name": "a", "__connect.errors.partition": "1" })),
    parseDeadLetter("d", 0, record(3, T0 + HOUR, {})),
  ];
  it("filters by rule, time window and origin partition", () => {
    const pick = (f: Parameters<typeof deadLetterMatches>[1]) => letters.filter((d) => deadLetterMatches(d, f)).map((d) => d.offset);
    assert.deepEqual(pick({ rule: "a" }), ["0", "2"]);
    assert.deepEqual(pick({ since: new Date(T0 + HOUR), until: new Date(T0 + 3 * HOUR + 1) }), ["1", "3"]);
    assert.deepEqual(pick({ originPartition: 1 }), ["1", "2"]);
  });
  it("counts per rule (most first, poison pills under (no rule)) and per hour with empty hours between", () => {
    const s = deadLetterStats(letters);
    assert.equal(s.total, 4);
    assert.deepEqual(s.byRule, [["a", 2], ["(no rule)", 1], ["b", 1]]);
    assert.deepEqual(s.byHour, [["2026-12-04T10", 1], ["2026-12-04T11", 1], ["2026-12-04T12", 0], ["2026-12-04T13", 2]]);
  });
});

describe("kontract dlq time arguments", () => {
  const now = new Date(T0);
  it("an age before now, or an ISO time; anything else is a usage error", () => {
    assert.equal(timeOf("30m", now, "--since").getTime(), T0 - 30 * 60_000);
    assert.equal(timeOf("2d", now, "--since").getTime(), T0 - 2 * 86_400_000);
    assert.equal(timeOf("2026-12-01T00:00:00Z", now, "--since").toISOString(), "2026-12-01T00:00:00.000Z");
    assert.throws(() => timeOf("yesterday", now, "--since"), /--since: "yesterday" is neither/);
    assert.throws(() => timeOf("12", now, "--until"), /--until/);
  });
});
