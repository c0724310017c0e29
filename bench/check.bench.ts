/**
 * `kontract check` against the floor of any JSONL tool: Node reading the same
 * file line by line (readline) and JSON.parse-ing each line. One run, the same
 * file, rounds interleaved so machine noise hits both alike.
 *
 *   npm run bench:check                      200k orders (about 70 MB), generated once into the temp folder
 *   npm run bench:check -- --lines 3000000   about 1 GB: what matters then is the peak RSS (memory stays flat)
 *   npm run bench:check -- --rounds 5 --child-rounds 3 --keep
 *
 * The orders fit the shipped contract (rules/orders.yaml, v2: three CEL
 * conditions and a CEL_FIELD transform on the PII fields); about 1 in 50 fails
 * a rule and 1 in 1,000 does not fit the schema (bench/order.ts ruleOrderLine).
 *
 * Two measures:
 * - in-process: the floor and `check` (dist/src/cli/check.js, the compiled build's
 *   own code path, output to a sink) alternate round by round in this process; the
 *   ratio of their median rates is the target (check ≥ 50% of the floor), printed
 *   with the median and range of the per-round ratios (the machine is shared).
 * - as users run it: `node bin/kontract.mjs check` (the bundled CLI) and a floor script as child
 *   processes, alternating, wall time including Node's and kontract's start-up, and each one's
 *   CPU time and peak RSS (from process.resourceUsage at exit).
 * Each is printed by wall time (the target) and by CPU time: on the shared machine, other
 * processes stretch wall time far more than CPU time.
 *
 * Needs the compiled build: `npm run bench:check` builds it first.
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { ruleOrderLine } from "./order.js";

const root = join(import.meta.dirname, "../..");
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const LINES = arg("lines", 200_000);
const ROUNDS = arg("rounds", 5);
const CHILD_ROUNDS = arg("child-rounds", 3);
const KEEP = process.argv.includes("--keep");
const dir = join(tmpdir(), "kontract-bench");
const file = join(dir, `orders-${LINES}.jsonl`);
const dlq = join(dir, "dlq.jsonl");

/** The messages file, generated once per size and kept in the temp folder (never in the repository). */
async function ensureFile(): Promise<void> {
  if (existsSync(file)) return;
  mkdirSync(dir, { recursive: true });
  const part = `${file}.part`;
  const out = createWriteStream(part);
  let batch: string[] = [];
  for (let i = 0; i < LINES; i++) {
    batch.push(ruleOrderLine(i));
    if (batch.length === 10_000 || i === LINES - 1) {
      if (!out.write(batch.join("\n") + "\n")) await new Promise<void>((r) => out.once("drain", () => r()));
      batch = [];
    }
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  renameSync(part, file);
}

/** The floor: what any JSONL tool pays to read the file's lines and parse each. */
async function floor(): Promise<number> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line === "") continue;
    JSON.parse(line);
    n++;
  }
  return n;
}

type CheckCommand = (argv: string[], out?: NodeJS.WritableStream) => Promise<number>;

/** Wall and CPU seconds of one run. CPU time (this process's, GC threads included) moves less than wall time when other processes take the cores. */
async function timed(run: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Rates from the median times, and the ratio per round: each round's two runs
 * were back to back and saw one machine state (the machine is shared). By wall
 * time (the target) and by CPU time, which other processes' load moves less.
 */
function report(floorRuns: readonly Timing[], checkRuns: readonly Timing[], floorUnit: string, checkUnit: string): void {
  for (const clock of ["wall", "cpu"] as const) {
    const f = floorRuns.map((t) => t[clock]);
    const c = checkRuns.map((t) => t[clock]);
    const perRound = f.map((x, i) => x / c[i]!).sort((a, b) => a - b);
    console.log(`  ${clock === "wall" ? "wall time" : "CPU time "}  floor ${fmt(LINES / median(f)).padStart(9)} ${floorUnit}, check ${fmt(LINES / median(c)).padStart(9)} ${checkUnit}: check / floor ${(median(f) / median(c)).toFixed(2)} (per round ${perRound[0]!.toFixed(2)}-${perRound[perRound.length - 1]!.toFixed(2)})`);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

/** Peak RSS and CPU time of a child, reported by a preloaded exit hook (the CLI itself prints nothing of the kind). */
const RSS_HOOK = `data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nbench-usage "+u.maxRSS+" "+(u.userCPUTime+u.systemCPUTime)+"\\n")})`;

function child(args: string[]): { seconds: number; cpu: number; rssMb: number; stdout: string; code: number | null } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--import", RSS_HOOK, ...args], { cwd: root, encoding: "utf8", maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  const usage = /bench-usage (\d+) (\d+)/.exec(r.stderr);
  if (!usage) throw new Error(`child ${args.join(" ")} failed (exit ${r.status}): ${r.stderr}`);
  return { seconds, cpu: Number(usage[2]) / 1e6, rssMb: Number(usage[1]) / 1024, stdout: r.stdout, code: r.status };
}

const FLOOR_SCRIPT = `import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
let n = 0;
for await (const line of createInterface({ input: createReadStream(process.argv[1]), crlfDelay: Infinity })) { if (line !== "") { JSON.parse(line); n++; } }
process.stdout.write(String(n));`;

async function main(): Promise<void> {
  const compiled = join(root, "dist/src/cli/check.js");
  if (!existsSync(compiled)) throw new Error("no compiled build: run `npm run build` (npm run bench:check does)");
  await ensureFile();
  const size = statSync(file).size;
  console.log(`${fmt(LINES)} orders, ${(size / 1024 / 1024).toFixed(0)} MB: ${file}\n`);
  const { checkCommand } = (await import(pathToFileURL(compiled).href)) as { checkCommand: CheckCommand };
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const checkArgs = ["orders-value", file, "--rules", join(root, "rules"), "--dlq", dlq, "--quiet", "--exit-zero"];

  // In-process, interleaved; the first round of each warms up and is not counted.
  const floorRuns: Timing[] = [];
  const checkRuns: Timing[] = [];
  const inProcess = LINES <= 1_000_000;
  if (inProcess) {
    for (let r = 0; r <= ROUNDS; r++) {
      const pair = [async () => floorRuns.push(await timed(floor)), async () => checkRuns.push(await timed(() => checkCommand(checkArgs, sink)))];
      for (const run of r % 2 === 0 ? pair : pair.reverse()) await run();
      if (r === 0) {
        floorRuns.length = 0;
        checkRuns.length = 0;
      }
    }
    console.log("in-process (median of %d rounds, interleaved)", ROUNDS);
    report(floorRuns, checkRuns, "lines/s", "msgs/s");
  }

  // As users run it: child processes, start-up included, alternating round by round too.
  const floorChildren: Timing[] = [];
  const cliChildren: Timing[] = [];
  const rss = { floor: 0, cli: 0 };
  let summary = { total: 0, passed: 0, failed: 0, invalid: 0 };
  for (let r = 0; r < CHILD_ROUNDS; r++) {
    const runFloor = () => {
      const c = child(["--input-type=module", "-e", FLOOR_SCRIPT, file]);
      if (Number(c.stdout) !== LINES) throw new Error(`the floor read ${c.stdout} lines, not ${LINES}`);
      floorChildren.push({ wall: c.seconds, cpu: c.cpu });
      rss.floor = Math.max(rss.floor, c.rssMb);
    };
    const runCli = () => {
      const c = child([join(root, "bin/kontract.mjs"), "check", ...checkArgs.slice(0, -1), "--json"]);
      summary = JSON.parse(c.stdout) as typeof summary;
      if (summary.total !== LINES) throw new Error(`check counted ${summary.total} messages, not ${LINES}`);
      cliChildren.push({ wall: c.seconds, cpu: c.cpu });
      rss.cli = Math.max(rss.cli, c.rssMb);
    };
    for (const run of r % 2 === 0 ? [runFloor, runCli] : [runCli, runFloor]) run();
  }
  const one = join(dir, "one.jsonl");
  writeFileSync(one, ruleOrderLine(1) + "\n");
  const startup = child([join(root, "bin/kontract.mjs"), "check", "orders-value", one, "--rules", join(root, "rules"), "--dlq", dlq, "--quiet"]);
  console.log("child processes: `node -e <floor>` and `node bin/kontract.mjs check` (median of %d, start-up included)", CHILD_ROUNDS);
  report(floorChildren, cliChildren, "lines/s", "msgs/s");
  console.log(`  peak RSS                        floor ${rss.floor.toFixed(0)} MB, check ${rss.cli.toFixed(0)} MB`);
  console.log(`  check of one message            ${startup.seconds.toFixed(2)} s wall, ${startup.cpu.toFixed(2)} s CPU (start-up)`);
  console.log(`\n  ${summary.passed} passed, ${summary.failed} failed, ${summary.invalid} invalid`);
  if (!KEEP && LINES > 1_000_000) rmSync(file);
}

await main();
