/**
 * Stateful rules on the consumer path (docs/stateful.md, "Speed and memory"), without a broker: the
 * same Avro order consumed (framed bytes deserialized, READ phase run) with and without a stateful
 * rule, every order with a fresh id `o-<i>`.
 *
 * - uniqueness of `orderId` over a 10-minute window of record time, every key new, record times
 *   2 ms apart: the window holds 300k keys;
 * - referential integrity of `customerId` against a 100,000-key reference table.
 *
 * Each side runs in a process of its own (one side's heap would make the other's GC cheaper or
 * dearer), fills the window first (300k records), then is timed on `--records` more by CPU time
 * (user + system, GC threads included; time descheduled on the shared machine is not counted) and
 * by wall clock. A round runs every side once, in an order that flips every round; ratios are taken
 * within a round, their median shown with the lowest and highest. The stateful side writes its
 * changelog entries as the Kafka layer does (src/kafka/changelog-journal.ts: bytes, taken every
 * 1,024 records) but sends nothing to a broker.
 *
 * `--parts` times, the same way, each part of the stateful path alone and together (µs per record),
 * with the main thread's GC pauses by kind. `--soak` runs 1M messages of the uniqueness case and
 * samples the heap (and array buffers) after GC every 100k.
 *
 *   npm run bench:stateful [-- --rounds 5] [--records 600000] [--parts] [--soak]
 */
import { spawnSync } from "node:child_process";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { createCelRuntime } from "../src/cel/index.js";
import type { Contract, Rule } from "../src/contract/model.js";
import { statefulSpec, type UniqueSpec } from "../src/contract/stateful.js";
import { createEngine, referenceTable, type StatefulPartition } from "../src/engine/index.js";
import { keyRing } from "../src/engine/stateful/keyring.js";
import { queue } from "../src/engine/stateful/queue.js";
import { uniqueMachine } from "../src/engine/stateful/unique.js";
import { compileExpr } from "../src/engine/stateful/values.js";
import { changelogJournal, type ChangelogJournal } from "../src/kafka/changelog-journal.js";
import { FORMATS } from "../src/format/index.js";
import { createFileRegistry } from "../src/registry/file-registry.js";
import { createContractStore, createDeserializer, createSerializer, type Deserializer } from "../src/serde/index.js";
import { ORDER_AVSC, orderValue } from "./order.js";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    records: { type: "string", default: "600000" },
    parts: { type: "boolean", default: false },
    soak: { type: "boolean", default: false },
    /** Internal: the side or part this process runs. */
    side: { type: "string" },
  },
});

/** Record times 2 ms apart, a 10-minute window: 300k keys live once it is full. */
const WINDOW_KEYS = 300_000;
const KEYS = 100_000;
const CONTEXT = { topic: "orders", isKey: false } as const;
const stateful = (name: string, type: string, expr: string, params: Record<string, string>): Rule => ({ name, kind: "CONDITION", mode: "READ", type, expr, params, onFailure: "DLQ", disabled: true });
const UNIQUE = stateful("orderIdUnique", "STATEFUL_UNIQUE", "message.orderId", { "unique.window": "10m" });
const REFERENCE = stateful("customerKnown", "STATEFUL_REFERENCE", "message.customerId", { "reference.topic": "customers" });

const PLAIN = "without stateful rules";
const CASES: { name: string; side: string }[] = [
  { name: "uniqueness, 10-minute window", side: "unique" },
  { name: `reference, ${KEYS / 1000}k-key table`, side: "reference" },
];
/** The parts of `--parts`, in the order shown. */
const PARTS: Record<string, string> = {
  decode: "the consumer without stateful rules (decode, READ phase)",
  id: "the order id string alone (in every part below)",
  eval: "the key's CEL expression on a decoded order",
  "map+queue": "a Map of key → entry object and an eviction queue (the store before keyring.ts)",
  keyring: "the store: keyring.ts",
  entry: "the changelog entry, written as bytes (changelog-journal.ts), taken every 1,024",
  machine: "the uniqueness machine's fast path (passes), entries written as bytes",
  partition: "the partition's run (the engine's stateful phase around the machine), entries as bytes",
  unique: "decode and partition: the consumer with the uniqueness rule",
  reference: "decode and a reference rule to a 100k-key table",
};

interface Setup {
  readonly deserializer: Deserializer;
  readonly state: StatefulPartition;
  /** Where the state's changes go (every 1,024 records taken, as a flush takes them). */
  readonly journal: ChangelogJournal;
  readonly pool: Uint8Array[];
  /** A decoded order, for the parts that judge without decoding. */
  readonly order: { orderId: string };
  readonly celShape: never;
}

async function setup(rule: Rule): Promise<Setup> {
  const registry = createFileRegistry({ documents: [] });
  const contract: Contract = { schema: ORDER_AVSC, schemaType: "AVRO", ruleSet: { domainRules: [rule] } };
  await registry.register("orders-value", contract);
  const store = createContractStore({ registry, engine: createEngine(), formats: FORMATS });
  const serializer = createSerializer({ store, writerSchema: { use: "latest" } });
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 1024; i++) {
    const r = await serializer.serialize("orders", { ...orderValue(i), customerId: `c${(i * 7919) % KEYS}` });
    if (r.kind !== "serialized") throw new Error("the bench order does not serialize");
    pool.push(r.bytes);
  }
  const deserializer = createDeserializer({ store });
  const first = await deserializer.deserialize("orders", pool[0]!);
  if (first.kind !== "deserialized") throw new Error("the bench order failed its READ rules");
  const customers = referenceTable();
  for (let k = 0; k < KEYS; k++) customers.apply(`c${k}`, true);
  const journal = changelogJournal(() => "pack");
  const state = first.reader.plan.statefulPartition({ table: () => customers, changes: (name, spec) => journal.sink("orders", 0, name, "changelog", spec) });
  if (!state) throw new Error("no stateful rules compiled");
  return { deserializer, state, journal, pool, order: first.value as { orderId: string }, celShape: first.reader.plan.schema.celShape as never };
}

/** One consumed record: decoded and given a fresh order id (every side alike). */
function decode(s: Setup, i: number): { orderId: string } {
  const r = s.deserializer.deserialize("orders", s.pool[i & 1023]!);
  if (r instanceof Promise) throw new Error("the bench expects cached contracts: synchronous deserialization");
  if (r.kind !== "deserialized") throw new Error("the bench order failed its READ rules");
  const value = r.value as { orderId: string };
  value.orderId = `o-${i}`;
  return value;
}

/** Whether record i ends a flush's worth (1,024 records): the journal is taken then, as a flush takes it. */
const flushes = (i: number): boolean => (i & 1023) === 1023;

function judge(s: Setup, value: unknown, i: number): void {
  const o = s.state.run(value, CONTEXT, { record: i * 2, now: 0, offset: i });
  if (flushes(i)) s.journal.take();
  if (o.kind !== "passed") throw new Error(`the stateful rule failed message ${i}: ${JSON.stringify(o.violations)}`);
}

/** A journal's sink of the uniqueness rule's entries. */
const windowSink = (journal: ChangelogJournal) => journal.sink("orders", 0, UNIQUE.name, "changelog", statefulSpec(UNIQUE));

/** What a side or part does to record i. */
async function step(name: string): Promise<(i: number) => void> {
  switch (name) {
    case "decode": {
      const s = await setup(UNIQUE);
      return (i) => void decode(s, i);
    }
    case "unique": {
      const s = await setup(UNIQUE);
      return (i) => judge(s, decode(s, i), i);
    }
    case "reference": {
      const s = await setup(REFERENCE);
      return (i) => judge(s, decode(s, i), i);
    }
    case "id": {
      const ids: string[] = [""];
      return (i) => void (ids[0] = `o-${i}`);
    }
    case "eval": {
      const s = await setup(UNIQUE);
      const key = compileExpr(UNIQUE, createCelRuntime(), s.celShape, UNIQUE.expr!, "key");
      return (i) => {
        s.order.orderId = `o-${i}`;
        if ("ok" in key(s.order)) throw new Error("the key did not evaluate");
      };
    }
    case "map+queue": {
      const seen = new Map<string, { key: string; t: number; offset: number }>();
      const order = queue<{ key: string; t: number; offset: number }>();
      return (i) => {
        const k = `o-${i}`;
        if (seen.get(k) !== undefined) throw new Error("a duplicate");
        const e = { key: k, t: i * 2, offset: i };
        seen.set(k, e);
        order.push(e);
        for (let o = order.peek(); o !== undefined && o.t <= i * 2 - 600_000; o = order.peek()) {
          order.shift();
          if (seen.get(o.key) === o) seen.delete(o.key);
        }
      };
    }
    case "keyring": {
      const seen = keyRing();
      return (i) => {
        const k = `o-${i}`;
        if (seen.find(k) >= 0) throw new Error("a duplicate");
        seen.push(k, i * 2, i);
        for (let e = seen.oldest(); e >= 0 && seen.t(e) <= i * 2 - 600_000; e = seen.oldest()) seen.remove(e);
      };
    }
    case "entry": {
      const journal = changelogJournal(() => "pack");
      const sink = windowSink(journal);
      return (i) => {
        sink.seen(`o-${i}`, i * 2, i);
        if (flushes(i)) journal.take();
      };
    }
    case "machine": {
      const s = await setup(UNIQUE);
      const key = compileExpr(UNIQUE, createCelRuntime(), s.celShape, UNIQUE.expr!, "key");
      const m = uniqueMachine(statefulSpec(UNIQUE) as UniqueSpec, key, windowSink(s.journal));
      return (i) => {
        s.order.orderId = `o-${i}`;
        if (!m.passes!(s.order, { record: i * 2, now: 0, offset: i })) throw new Error("a duplicate");
        if (flushes(i)) s.journal.take();
      };
    }
    case "partition": {
      const s = await setup(UNIQUE);
      return (i) => {
        s.order.orderId = `o-${i}`;
        judge(s, s.order, i);
      };
    }
  }
  throw new Error(`unknown side ${name}`);
}

interface Timing {
  cpuUs: number;
  wallUs: number;
  scavenges: number;
  scavengeUs: number;
  markCompacts: number;
  markCompactUs: number;
}

/** In a child process: fills the window, then times `records` more of one side. */
async function runSide(name: string): Promise<void> {
  const records = Number(args.records);
  const run = await step(name);
  for (let i = 0; i < WINDOW_KEYS; i++) run(i);
  (globalThis as { gc?: () => void }).gc?.();
  const gcs = { minor: { n: 0, ms: 0 }, major: { n: 0, ms: 0 } };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      const g = kind === constants.NODE_PERFORMANCE_GC_MINOR ? gcs.minor : kind === constants.NODE_PERFORMANCE_GC_MAJOR ? gcs.major : undefined;
      if (g !== undefined) {
        g.n++;
        g.ms += e.duration;
      }
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = WINDOW_KEYS; i < WINDOW_KEYS + records; i++) run(i);
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  // GC entries are delivered after the loop; let them arrive.
  await new Promise((r) => setTimeout(r, 10));
  observer.disconnect();
  const per = (ms: number): number => (ms * 1000) / records;
  const t: Timing = { cpuUs: per((used.user + used.system) / 1000), wallUs: per(wall), scavenges: gcs.minor.n, scavengeUs: per(gcs.minor.ms), markCompacts: gcs.major.n, markCompactUs: per(gcs.major.ms) };
  console.log(JSON.stringify(t));
}

/** Every side once per round, each in a fresh process, in an order flipped every round. */
function rounds(sides: string[]): Map<string, Timing[]> {
  const out = new Map<string, Timing[]>(sides.map((s) => [s, []]));
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
      const child = spawnSync(process.execPath, ["--expose-gc", process.argv[1]!, "--side", side, "--records", args.records!], { encoding: "utf8" });
      if (child.status !== 0) throw new Error(`${side} failed: ${child.stderr}`);
      out.get(side)!.push(JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Timing);
    }
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits = 2): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)} to ${Math.max(...xs).toFixed(digits)})`;

function compare(): void {
  const runs = rounds(["decode", ...CASES.map((c) => c.side)]);
  const plain = runs.get("decode")!;
  console.log(`${args.rounds} rounds, ${args.records} records per side after ${WINDOW_KEYS} filling the window, each side in its own process; median (lowest to highest)\n`);
  console.log(`| case | ${PLAIN}, µs CPU per record | with, µs CPU per record | ratio, CPU | ratio, wall |`);
  console.log("|---|---:|---:|---:|---:|");
  for (const c of CASES) {
    const ours = runs.get(c.side)!;
    const cpu = ours.map((o, r) => plain[r]!.cpuUs / o.cpuUs);
    const wall = ours.map((o, r) => plain[r]!.wallUs / o.wallUs);
    console.log(`| ${c.name} | ${spread(plain.map((p) => p.cpuUs))} | ${spread(ours.map((o) => o.cpuUs))} | ${spread(cpu)} | ${spread(wall)} |`);
  }
}

function parts(): void {
  const runs = rounds(Object.keys(PARTS));
  console.log(`${args.rounds} rounds, ${args.records} records per part after ${WINDOW_KEYS} filling the window, each part in its own process; µs per record, median (lowest to highest)\n`);
  console.log("| part | | CPU | wall | scavenges | scavenge pauses | mark-compacts | mark-compact pauses |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|");
  for (const [part, ts] of runs) {
    const col = (f: (t: Timing) => number): string => spread(ts.map(f));
    console.log(`| ${part} | ${PARTS[part]} | ${col((t) => t.cpuUs)} | ${col((t) => t.wallUs)} | ${median(ts.map((t) => t.scavenges))} | ${col((t) => t.scavengeUs)} | ${median(ts.map((t) => t.markCompacts))} | ${col((t) => t.markCompactUs)} |`);
  }
}

/** 1M messages of the uniqueness case: heap after GC must stop growing once the window is full. */
async function soak(): Promise<void> {
  const s = await setup(UNIQUE);
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: string[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    judge(s, decode(s, i), i);
    if ((i + 1) % 100_000 === 0) {
      gc?.();
      // The store's typed arrays live outside the JS heap: counted with it.
      const m = process.memoryUsage();
      samples.push(`${(i + 1) / 1000}k: ${((m.heapUsed + m.arrayBuffers) / 1024 / 1024).toFixed(0)} MB (${s.state.sizes()[UNIQUE.name]} keys)`);
    }
  }
  console.log(`\nsoak, uniqueness over 10 minutes, record time 2 ms apart, heap and array buffers after GC:\n  ${samples.join("\n  ")}${gc ? "" : "\n  (run with node --expose-gc for exact numbers)"}`);
}

if (args.side !== undefined) await runSide(args.side);
else if (args.soak) await soak();
else if (args.parts) parts();
else compare();
