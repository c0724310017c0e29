/**
 * `kontract park list | release <park-topic>`: the keys a consumer group has
 * parked behind a dead letter, and an operator's release of one whose head
 * will not be replayed.
 */
import { parseArgs } from "node:util";
import { listParks, releasePark, type ParkSummary } from "../kafka/parking/tools.js";
import { UsageError } from "./check.js";
import { kafkaAccess } from "./dlq.js";
import type { PlanCommandIO } from "./registry-commands.js";

export const PARK_USAGE = `Usage: kontract park <list|release> <park-topic> [options]

  list <park-topic>            the parks: group, source partition, the head's offset
                               and DLQ record, how many records wait behind it.
                               Never a key or a value.
  release <park-topic> <id> --group <group>
                               resolve the park <id> (as listed: <topic>/<partition>@<offset>)
                               without replaying its head: the group's consumer delivers
                               the parked records, in order, at the partition's next record.
                               The head stays in the DLQ. To resolve a park by replaying
                               its head instead: KONTRACT_REPLAY_KEY=... kontract dlq replay.

Options:
  --group <group>      the consumer group (list: only this group's parks)
  --topic <topic>      list: only parks of this source topic
  --brokers <list>     host:port,... (default: $KONTRACT_BROKERS, else kafka.brokers
                       in kontract.config.yaml)
  --client <name>      kafkajs or confluent (default: the one installed, kafkajs first)
  --json               machine-readable output
  -h, --help           print this help

Whoever can write to the park topic can release parks: give write access to it
to the consumer group's service and its operators only.

Exit codes: 0 done, 2 usage errors, a park topic that does not exist, an unknown park, or a
broker that cannot be reached.
`;

const SUBCOMMANDS = ["list", "release"] as const;

export async function parkCommand(argv: string[], io: PlanCommandIO = { stdout: process.stdout, cwd: process.cwd(), env: process.env }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      group: { type: "string" },
      topic: { type: "string" },
      brokers: { type: "string" },
      client: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const [sub, parkTopic, ...rest] = positionals;
  if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError("park: give list or release (see kontract park --help)");
  if (parkTopic === undefined) throw new UsageError(`park ${sub}: give the park topic`);
  if (sub === "release") {
    const [id, ...extra] = rest;
    if (id === undefined || extra.length > 0) throw new UsageError("park release takes one park id, as kontract park list shows it");
    if (values.group === undefined) throw new UsageError("park release: give --group, the consumer group that parked it");
    const access = await kafkaAccess(values.brokers, values.client, io);
    const { released } = await releasePark(access, parkTopic, values.group, id);
    io.stdout.write(values.json ? JSON.stringify({ released: summary(released) }, null, 2) + "\n" : `released ${released.id} of group ${released.group}: ${released.followers} parked record(s) go to the consumer at the partition's next record\n`);
    return 0;
  }
  if (rest.length > 0) throw new UsageError("park list takes one park topic");
  const access = await kafkaAccess(values.brokers, values.client, io);
  const parks = await listParks(access, parkTopic, { ...(values.group !== undefined ? { group: values.group } : {}), ...(values.topic !== undefined ? { topic: values.topic } : {}) });
  io.stdout.write(values.json ? JSON.stringify(parks.map(summary), null, 2) + "\n" : formatParks(parkTopic, parks));
  return 0;
}

function summary(p: ParkSummary) {
  return { id: p.id, group: p.group, topic: p.topic, partition: p.partition, state: p.state, followers: p.followers, parkedAt: p.head ? new Date(p.head.parkedAt).toISOString() : null, where: p.head?.where ?? null, dlq: p.head?.dlq ?? null };
}

export function formatParks(parkTopic: string, parks: readonly ParkSummary[]): string {
  if (parks.length === 0) return `${parkTopic}: nothing parked\n`;
  const rows = parks.map((p) => {
    const dlq = p.head?.dlq ? `${p.head.dlq.topic}/${p.head.dlq.partition ?? "?"}@${p.head.dlq.offset ?? "?"}` : p.head ? "(in a retry topic)" : "";
    return [p.id, p.group, p.state, String(p.followers), p.head ? new Date(p.head.parkedAt).toISOString().replace("T", " ").slice(0, 19) : "", dlq];
  });
  const head = ["park", "group", "state", "waiting", "parked at (UTC)", "head"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  const waiting = parks.reduce((n, p) => n + p.followers, 0);
  return [line(head), ...rows.map(line), "", `${parks.length} park${parks.length === 1 ? "" : "s"}, ${waiting} record${waiting === 1 ? "" : "s"} waiting, in ${parkTopic}`].join("\n") + "\n";
}
