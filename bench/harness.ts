/**
 * Side-by-side throughput measurement: both contenders run in the same
 * process, interleaved round by round, so machine noise hits both alike.
 * We report ratios; absolute numbers on a shared machine are only indicative.
 */
export interface Contender {
  name: string;
  /** Processes message i. May return a promise. */
  run(i: number): unknown;
}

export interface CaseResult {
  name: string;
  rates: Record<string, number>;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === "object" && v !== null && typeof (v as Promise<unknown>).then === "function";
}

/**
 * "wall": performance.now. "cpu": the process's CPU time (process.cpuUsage, user + system, GC
 * threads included), which time spent descheduled on a busy shared machine does not inflate.
 */
export type Clock = "wall" | "cpu";

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function timed(c: Contender, start: number, ms: number, now: () => number): Promise<{ count: number; elapsed: number }> {
  const t0 = now();
  let i = start;
  let elapsed = 0;
  // Check the clock every 64 messages to keep its cost out of the loop.
  while (elapsed < ms) {
    for (let k = 0; k < 64; k++, i++) {
      const r = c.run(i);
      if (isPromise(r)) await r;
    }
    elapsed = now() - t0;
  }
  return { count: i - start, elapsed };
}

export async function measure(name: string, contenders: Contender[], opts: { rounds?: number; roundMs?: number; warmupMs?: number; clock?: Clock } = {}): Promise<CaseResult> {
  const rounds = opts.rounds ?? 5;
  const roundMs = opts.roundMs ?? 300;
  const now = opts.clock === "cpu" ? cpuMs : () => performance.now();
  for (const c of contenders) await timed(c, 0, opts.warmupMs ?? 400, now);
  const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  let offset = 1_000_000;
  for (let r = 0; r < rounds; r++) {
    // Alternate who goes first so neither always gets the warmer machine.
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const { count, elapsed } = await timed(c, offset, roundMs, now);
      offset += count;
      samples[c.name]!.push((count / elapsed) * 1000);
    }
  }
  const rates: Record<string, number> = {};
  for (const [k, v] of Object.entries(samples)) rates[k] = median(v);
  return { name, rates };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function table(results: CaseResult[], reference: string, ours: string, peakRssMb: number): string {
  const rows = [
    `| case | ${reference} msgs/s | ${ours} msgs/s | ratio |`,
    "|---|---:|---:|---:|",
    ...results.map((r) => {
      const a = r.rates[reference]!;
      const b = r.rates[ours]!;
      return `| ${r.name} | ${fmt(a)} | ${fmt(b)} | ${(b / a).toFixed(1)}x |`;
    }),
  ];
  return rows.join("\n") + `\n\npeak RSS of the whole run: ${peakRssMb.toFixed(0)} MB`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function trackPeakRss(): () => number {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  timer.unref();
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage.rss()) / 1024 / 1024;
  };
}
