/**
 * Turning the rounds of the Kafka bench into one table: median rates, and
 * ratios taken within each round (the contenders of a round shared the
 * machine's state) before taking their median, shown with their spread.
 */
export type Side = "produce" | "consume";
export type ContenderId = "plain" | "avsc" | "kontract" | "confluent" | "ck-plain" | "ck-avsc" | "ck-kontract" | "pk-plain" | "pk-avsc" | "pk-kontract";

type PerSide<T> = Record<Side, Record<ContenderId, T>>;

/** One round: msgs/s, and this process's CPU time per message (µs), per side and contender. */
export interface RoundResult {
  rate: PerSide<number>;
  cpuUs: PerSide<number>;
}

/** Issue 12's targets, per client: produce vs the plain client moving pre-serialized bytes, consume vs the client with a bare Avro decode. */
export const TARGET = { produce: 0.8, consume: 0.95 } as const;

/** Per client: its plain contender, its bare-Avro yardstick, and kontract on it. */
const CLIENTS = [
  { name: "kafkajs", plain: "plain", avsc: "avsc", kontract: "kontract" },
  { name: "@confluentinc/kafka-javascript", plain: "ck-plain", avsc: "ck-avsc", kontract: "ck-kontract" },
  { name: "@platformatic/kafka", plain: "pk-plain", avsc: "pk-avsc", kontract: "pk-kontract" },
] as const;

export interface Summary {
  rate: PerSide<number>;
  cpuUs: PerSide<number>;
  /** vs the run's first plain client (plain kafkajs when it ran), median of the per-round ratios. */
  vsPlain: PerSide<number>;
  /** kontract / @confluentinc, median of the per-round ratios. */
  kontractVsConfluent: Record<Side, number>;
  /** kontract / kafkajs + avsc without a contract, median of the per-round ratios. */
  kontractVsAvsc: Record<Side, number>;
  /** Per client (of CLIENTS): kontract on it / the plain client, and / the client with avsc; medians of per-round ratios. */
  perClient: ClientRatios[];
}

/** A ratio over the rounds: the median of the per-round ratios, their lowest and highest, and each. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

export interface ClientRatios {
  name: string;
  vsPlain: Record<Side, Spread>;
  vsAvsc: Record<Side, Spread>;
  /** The ratio (produce / plain, consume / + avsc) from this process's CPU time per message instead of the wall clock. */
  byCpu: Record<Side, Spread>;
}

const SIDES: readonly Side[] = ["produce", "consume"];
const ALL_IDS: readonly ContenderId[] = ["plain", "avsc", "kontract", "confluent", "ck-plain", "ck-avsc", "ck-kontract", "pk-plain", "pk-avsc", "pk-kontract"];
let IDS: readonly ContenderId[] = ALL_IDS;

/** The contenders of this run, in table order. */
export function useContenders(ids: readonly ContenderId[]): void {
  IDS = ALL_IDS.filter((id) => ids.includes(id));
}

/** What "vs plain" compares with: plain kafkajs, or the first plain client of a run without it. */
function reference(): ContenderId {
  return IDS.find((id) => id === "plain" || id.endsWith("-plain")) ?? "plain";
}

export function emptyRound(): RoundResult {
  const zero = (): Record<ContenderId, number> => Object.fromEntries(ALL_IDS.map((id) => [id, 0])) as Record<ContenderId, number>;
  return { rate: { produce: zero(), consume: zero() }, cpuUs: { produce: zero(), consume: zero() } };
}

export function summarize(rounds: readonly RoundResult[]): Summary {
  const per = <T>(f: (side: Side) => T): Record<Side, T> => ({ produce: f("produce"), consume: f("consume") });
  const perId = (f: (id: ContenderId) => number): Record<ContenderId, number> =>
    Object.fromEntries(ALL_IDS.map((id) => [id, IDS.includes(id) ? f(id) : 0])) as Record<ContenderId, number>;
  return {
    rate: per((side) => perId((id) => median(rounds.map((r) => r.rate[side][id])))),
    cpuUs: per((side) => perId((id) => median(rounds.map((r) => r.cpuUs[side][id])))),
    vsPlain: per((side) => perId((id) => median(rounds.map((r) => r.rate[side][id] / r.rate[side][reference()])))),
    kontractVsConfluent: per((side) => median(rounds.map((r) => r.rate[side].kontract / r.rate[side].confluent))),
    kontractVsAvsc: per((side) => median(rounds.map((r) => r.rate[side].kontract / r.rate[side].avsc))),
    perClient: CLIENTS.filter((c) => IDS.includes(c.kontract)).map((c) => {
      const byRate = (side: Side, of: ContenderId) => spread(rounds.map((r) => r.rate[side][c.kontract] / r.rate[side][of]));
      // A rate is messages per time: the CPU-time ratio is the other one's CPU per message over kontract's.
      const byCpu = (side: Side, of: ContenderId) => spread(rounds.map((r) => r.cpuUs[side][of] / r.cpuUs[side][c.kontract]));
      return {
        name: c.name,
        vsPlain: per((side) => byRate(side, c.plain)),
        vsAvsc: per((side) => byRate(side, c.avsc)),
        byCpu: { produce: byCpu("produce", c.plain), consume: byCpu("consume", c.avsc) },
      };
    }),
  };
}

export function spread(ratios: readonly number[]): Spread {
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), rounds: [...ratios] };
}

export function table(summary: Summary, labels: Record<ContenderId, string>): string {
  const cells = (side: Side, id: ContenderId) =>
    `${fmt(summary.rate[side][id])} | ${summary.vsPlain[side][id].toFixed(2)} | ${summary.cpuUs[side][id].toFixed(1)}`;
  const rows = [
    "| contender | produce msgs/s | vs plain | CPU µs/msg | consume msgs/s | vs plain | CPU µs/msg |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...IDS.map((id) => `| ${labels[id]} | ${cells("produce", id)} | ${cells("consume", id)} |`),
  ];
  const range = (r: Spread) => `${r.min.toFixed(2)}-${r.max.toFixed(2)}`;
  const met = (r: Spread, target: number) => `${r.median.toFixed(2)} [rounds ${range(r)}] (target ${target}: ${r.median >= target ? "met" : "NOT met"})`;
  const perClient = summary.perClient.map((c) =>
    [
      `kontract on ${c.name}:`,
      `  produce / plain ${met(c.vsPlain.produce, TARGET.produce)}; by CPU µs/msg ${c.byCpu.produce.median.toFixed(2)} [${range(c.byCpu.produce)}]`,
      `  consume / + avsc decode ${met(c.vsAvsc.consume, TARGET.consume)}; by CPU µs/msg ${c.byCpu.consume.median.toFixed(2)} [${range(c.byCpu.consume)}]`,
      `  also produce / + avsc ${c.vsAvsc.produce.median.toFixed(2)} [${range(c.vsAvsc.produce)}], consume / plain ${c.vsPlain.consume.median.toFixed(2)} [${range(c.vsPlain.consume)}]`,
    ].join("\n"),
  );
  const vsConfluent = SIDES.map((side) => `${side} ${summary.kontractVsConfluent[side].toFixed(1)}x`).join(", ");
  return [
    ...rows,
    "",
    ...(reference() === "plain" ? [] : [`(vs plain: vs ${labels[reference()]})`]),
    ...perClient,
    ...(IDS.includes("kontract") && IDS.includes("confluent") ? [`kontract on kafkajs / @confluentinc/schemaregistry + kafkajs: ${vsConfluent}`] : []),
    "(CPU µs/msg: this Node process only, user + system; the broker runs in its own JVM)",
  ].join("\n");
}

/** One line per round, for stderr while the bench runs. */
export function roundLine(round: string, r: RoundResult): string {
  const side = (s: Side) => IDS.map((id) => `${id} ${fmt(r.rate[s][id])}`).join(", ");
  return `${round}: produce ${side("produce")} | consume ${side("consume")} msgs/s`;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
