/**
 * Turning the rounds of the Kafka bench into one table: median rates, and
 * ratios taken within each round (the contenders of a round shared the
 * machine's state) before taking their median.
 */
export type Side = "produce" | "consume";
export type ContenderId = "plain" | "avsc" | "kontract" | "confluent";

type PerSide<T> = Record<Side, Record<ContenderId, T>>;

/** One round: msgs/s, and this process's CPU time per message (µs), per side and contender. */
export interface RoundResult {
  rate: PerSide<number>;
  cpuUs: PerSide<number>;
}

export const TARGET = 0.8;

export interface Summary {
  rate: PerSide<number>;
  cpuUs: PerSide<number>;
  /** vs plain kafkajs, median of the per-round ratios. */
  vsPlain: PerSide<number>;
  /** kontract / @confluentinc, median of the per-round ratios. */
  kontractVsConfluent: Record<Side, number>;
  /** kontract / kafkajs + avsc without a contract, median of the per-round ratios. */
  kontractVsAvsc: Record<Side, number>;
}

const SIDES: readonly Side[] = ["produce", "consume"];
const IDS: readonly ContenderId[] = ["plain", "avsc", "kontract", "confluent"];

export function emptyRound(): RoundResult {
  const zero = (): Record<ContenderId, number> => ({ plain: 0, avsc: 0, kontract: 0, confluent: 0 });
  return { rate: { produce: zero(), consume: zero() }, cpuUs: { produce: zero(), consume: zero() } };
}

export function summarize(rounds: readonly RoundResult[]): Summary {
  const per = <T>(f: (side: Side) => T): Record<Side, T> => ({ produce: f("produce"), consume: f("consume") });
  const perId = (f: (id: ContenderId) => number): Record<ContenderId, number> => ({ plain: f("plain"), avsc: f("avsc"), kontract: f("kontract"), confluent: f("confluent") });
  return {
    rate: per((side) => perId((id) => median(rounds.map((r) => r.rate[side][id])))),
    cpuUs: per((side) => perId((id) => median(rounds.map((r) => r.cpuUs[side][id])))),
    vsPlain: per((side) => perId((id) => median(rounds.map((r) => r.rate[side][id] / r.rate[side].plain)))),
    kontractVsConfluent: per((side) => median(rounds.map((r) => r.rate[side].kontract / r.rate[side].confluent))),
    kontractVsAvsc: per((side) => median(rounds.map((r) => r.rate[side].kontract / r.rate[side].avsc))),
  };
}

export function table(summary: Summary, labels: Record<ContenderId, string>): string {
  const cells = (side: Side, id: ContenderId) =>
    `${fmt(summary.rate[side][id])} | ${summary.vsPlain[side][id].toFixed(2)} | ${summary.cpuUs[side][id].toFixed(1)}`;
  const rows = [
    "| contender | produce msgs/s | vs plain | CPU µs/msg | consume msgs/s | vs plain | CPU µs/msg |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...IDS.map((id) => `| ${labels[id]} | ${cells("produce", id)} | ${cells("consume", id)} |`),
  ];
  const verdict = SIDES.map((side) => {
    const r = summary.vsPlain[side].kontract;
    return `${side} ${r.toFixed(2)} (${r >= TARGET ? "met" : "NOT met"})`;
  }).join(", ");
  const vsConfluent = SIDES.map((side) => `${side} ${summary.kontractVsConfluent[side].toFixed(1)}x`).join(", ");
  const vsAvsc = SIDES.map((side) => `${side} ${summary.kontractVsAvsc[side].toFixed(2)}`).join(", ");
  return [
    ...rows,
    "",
    `kontract / plain kafkajs, target >= ${TARGET} (issue #3): ${verdict}`,
    `kontract / @confluentinc/schemaregistry: ${vsConfluent}`,
    `kontract / kafkajs + avsc without a contract (what the contract costs beyond Avro itself): ${vsAvsc}`,
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
