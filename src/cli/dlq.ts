/**
 * `kontract dlq inspect | stats | replay <topic>`: what is in a dead-letter
 * topic, how often each rule sends records there, and putting fixed records
 * back, exactly once.
 */
import { parseArgs } from "node:util";
import { KAFKA_CLIENTS } from "../kafka/client.js";
import { connectKafka, readDeadLetters, replayDeadLetters, type KafkaAccess, type ReplayPlanEntry } from "../kafka/dead-letter-tools.js";
import { NO_RULE, deadLetterStats, type DeadLetter, type DeadLetterFilter, type DeadLetterStats } from "../kafka/dead-letters.js";
import { UsageError } from "./check.js";
import { loadConfig } from "./lint.js";
import type { PlanCommandIO } from "./registry-commands.js";

export const DLQ_USAGE = `Usage: kontract dlq <inspect|stats|replay> <topic> [options]

  inspect <topic>   the dead letters: when, which rule, subject and origin, and
                    the failure (violations as recorded, sensitive values redacted)
  stats <topic>     counts per rule and per hour, as a chart
  replay <topic>    send dead letters back to their origin topic (or --to), byte
                    for byte, each at most once however often it runs

Filters (all commands):
  --rule <name>        dead-lettered by this rule
  --subject <subject>  of this subject
  --since <time>       at or after: an ISO time, or an age such as 30m, 2h, 7d
  --until <time>       before
  --partition <n>      from this partition of the origin topic

Options:
  --brokers <list>     host:port,... (default: $KONTRACT_BROKERS, else kafka.brokers
                       in kontract.config.yaml)
  --client <name>      kafkajs or confluent (default: the one installed, kafkajs first)
  --limit <n>          inspect: the newest n (default 50; 0 for all)
  --to <topic>         replay: send here instead of each record's origin topic
  --dry-run            replay: show what would be sent, send nothing
  --json               machine-readable output
  -h, --help           print this help

Replayed records carry __rule.name, the rule that dead-lettered them. Set
KONTRACT_REPLAY_KEY (32 bytes or more, the key your consumers verify with) to
sign them: consumers holding the key then skip that rule for the replayed
record. Records dead-lettered on produce hold the message's JSON form with
sensitive fields redacted, not bytes a consumer reads: replay lists them as
not replayable. Replay marks what it sent in <topic>.replayed (a compacted
topic) in the same Kafka transaction as the records.

Exit codes: 0 done, 2 usage errors or a broker that cannot be reached.
`;

const SUBCOMMANDS = ["inspect", "stats", "replay"] as const;

export async function dlqCommand(argv: string[], io: PlanCommandIO = { stdout: process.stdout, cwd: process.cwd(), env: process.env }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rule: { type: "string" },
      subject: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      partition: { type: "string" },
      brokers: { type: "string" },
      client: { type: "string" },
      limit: { type: "string", default: "50" },
      to: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const [sub, topic, ...rest] = positionals;
  if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`dlq: give inspect, stats or replay (see kontract dlq --help)`);
  if (topic === undefined || rest.length > 0) throw new UsageError(`dlq ${sub} takes one topic`);
  const filter = filterOf(values, new Date());
  const access = await kafkaAccess(values.brokers, values.client, io);
  if (sub === "replay") {
    const key = io.env.KONTRACT_REPLAY_KEY || undefined;
    const report = await replayDeadLetters(access, topic, { filter, dryRun: values["dry-run"], ...(values.to !== undefined ? { to: values.to } : {}), ...(key !== undefined ? { replayKey: key } : {}) });
    if (values.json) io.stdout.write(JSON.stringify({ sent: report.sent, entries: report.entries.map((e) => ({ ...summary(e.deadLetter), target: e.target, status: e.status })) }, null, 2) + "\n");
    else io.stdout.write(formatReplay(report.entries, report.sent, values["dry-run"], key !== undefined));
    return 0;
  }
  const letters = await readDeadLetters(access, topic, filter);
  if (sub === "stats") {
    const stats = deadLetterStats(letters);
    io.stdout.write(values.json ? JSON.stringify(stats, null, 2) + "\n" : formatStats(topic, stats));
    return 0;
  }
  const limit = positiveInt(values.limit, "--limit");
  const shown = limit === 0 ? letters : [...letters].sort((a, b) => a.time.getTime() - b.time.getTime()).slice(-limit);
  io.stdout.write(values.json ? JSON.stringify(shown.map((d) => ({ ...summary(d), violations: d.violations })), null, 2) + "\n" : formatInspect(topic, shown, letters.length));
  return 0;
}

/** The brokers and the client: --client, else kafkajs if installed, else the Confluent client. */
export async function kafkaAccess(flag: string | undefined, clientFlag: string | undefined, io: PlanCommandIO): Promise<KafkaAccess> {
  const list = flag ?? (io.env.KONTRACT_BROKERS || undefined);
  const brokers = list !== undefined ? list.split(",").map((b) => b.trim()).filter((b) => b !== "") : [...(loadConfig(io.cwd, undefined, false).kafka.brokers ?? [])];
  if (brokers.length === 0) throw new UsageError("no brokers: give --brokers host:port, set KONTRACT_BROKERS, or set kafka.brokers in kontract.config.yaml");
  if (clientFlag !== undefined && clientFlag !== "kafkajs" && clientFlag !== "confluent") throw new UsageError(`--client: ${clientFlag} is not kafkajs or confluent`);
  if (clientFlag !== undefined) return connectKafka(clientFlag as KafkaAccess["client"], brokers);
  try {
    return await connectKafka("kafkajs", brokers);
  } catch {
    try {
      return await connectKafka("confluent", brokers);
    } catch {
      throw new UsageError(`kontract dlq needs a Kafka client: npm install ${KAFKA_CLIENTS.kafkajs} (or ${KAFKA_CLIENTS.confluent})`);
    }
  }
}

function filterOf(values: { rule?: string | undefined; subject?: string | undefined; since?: string | undefined; until?: string | undefined; partition?: string | undefined }, now: Date): DeadLetterFilter {
  return {
    ...(values.rule !== undefined ? { rule: values.rule } : {}),
    ...(values.subject !== undefined ? { subject: values.subject } : {}),
    ...(values.since !== undefined ? { since: timeOf(values.since, now, "--since") } : {}),
    ...(values.until !== undefined ? { until: timeOf(values.until, now, "--until") } : {}),
    ...(values.partition !== undefined ? { originPartition: positiveInt(values.partition, "--partition") } : {}),
  };
}

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO time, or an age before `now` (30m, 2h, 7d). */
export function timeOf(text: string, now: Date, flag: string): Date {
  const age = /^(\d+)([smhd])$/.exec(text);
  if (age) return new Date(now.getTime() - Number(age[1]) * UNITS[age[2]!]!);
  const t = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t.getTime())) throw new UsageError(`${flag}: ${JSON.stringify(text)} is neither an ISO time nor an age such as 30m, 2h, 7d`);
  return t;
}

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function summary(d: DeadLetter) {
  return { partition: d.partition, offset: d.offset, time: d.time.toISOString(), rule: d.rule ?? null, mode: d.mode ?? null, subject: d.subject ?? null, origin: d.origin, exception: d.exception ?? null, errorClass: d.errorClass ?? null };
}

function origin(d: DeadLetter): string {
  const o = d.origin;
  return o.topic === undefined ? "?" : o.partition === undefined ? `${o.topic} (produce)` : `${o.topic}[${o.partition}]@${o.offset ?? "?"}`;
}

export function formatInspect(topic: string, shown: readonly DeadLetter[], total: number): string {
  if (total === 0) return `${topic}: no dead letters match\n`;
  const rows = shown.map((d) => [`${d.partition}@${d.offset}`, d.time.toISOString().replace("T", " ").slice(0, 19), d.rule ?? NO_RULE, d.subject ?? "", origin(d), oneLine(d.exception ?? d.errorClass ?? "")]);
  const head = ["at", "time (UTC)", "rule", "subject", "origin", "failure"];
  const widths = head.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]!))).join("  ");
  const out = [line(head), ...rows.map(line)];
  for (const d of shown) {
    const v = d.violations.at(-1);
    if (v?.field !== undefined || v?.value !== undefined) out.push(`  ${d.partition}@${d.offset}: ${v.rule}${v.field !== undefined ? ` at ${v.field}` : ""}${v.value !== undefined ? ` = ${oneLine(v.value)}` : ""}`);
  }
  out.push("", `${shown.length === total ? total : `${shown.length} newest of ${total}`} dead letter${total === 1 ? "" : "s"} in ${topic}`);
  return out.join("\n") + "\n";
}

export function formatStats(topic: string, stats: DeadLetterStats): string {
  if (stats.total === 0) return `${topic}: no dead letters match\n`;
  const bar = (n: number, max: number) => "█".repeat(Math.max(1, Math.round((n / max) * 40)));
  const out = [`${stats.total} dead letter${stats.total === 1 ? "" : "s"} in ${topic}`, "", "per rule"];
  const ruleWidth = Math.max(...stats.byRule.map(([r]) => r.length));
  const maxRule = Math.max(...stats.byRule.map(([, n]) => n));
  for (const [rule, n] of stats.byRule) out.push(`  ${rule.padEnd(ruleWidth)}  ${String(n).padStart(6)}  ${bar(n, maxRule)}`);
  out.push("", "per hour (UTC)");
  const maxHour = Math.max(...stats.byHour.map(([, n]) => n));
  for (const [hour, n] of stats.byHour) out.push(`  ${hour.replace("T", " ")}:00  ${String(n).padStart(6)}  ${n === 0 ? "" : bar(n, maxHour)}`);
  return out.join("\n") + "\n";
}

function formatReplay(entries: readonly ReplayPlanEntry[], sent: number, dryRun: boolean, signed: boolean): string {
  const out: string[] = [];
  for (const e of entries) {
    const d = e.deadLetter;
    const what = { "to-send": dryRun ? `would send to ${e.target}` : `sent to ${e.target}`, "already-replayed": "already replayed", "no-target": "no origin topic: give --to", "not-replayable": "dead-lettered on produce: not replayable" }[e.status];
    out.push(`${d.partition}@${d.offset}  ${d.rule ?? NO_RULE}  ${what}`);
  }
  const count = (s: ReplayPlanEntry["status"]) => entries.filter((e) => e.status === s).length;
  out.push(
    "",
    `${dryRun ? `Would send ${count("to-send")}` : `Sent ${sent}`} of ${entries.length}; ${count("already-replayed")} already replayed${count("not-replayable") > 0 ? `, ${count("not-replayable")} not replayable` : ""}${count("no-target") > 0 ? `, ${count("no-target")} without an origin` : ""}.`,
  );
  if (!signed && count("to-send") > 0) out.push("Unsigned (no KONTRACT_REPLAY_KEY): kontract consumers run every rule on the replayed records again.");
  return out.join("\n") + "\n";
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > 120 ? flat.slice(0, 119) + "…" : flat;
}
