/**
 * Completeness timers and rebalances on the real broker (docs/stateful.md, "Restored before
 * processing"): a partition that moves to another consumer takes its open groups with it, and its
 * old owner stops their timers at once, so a group that times out is reported by its new owner
 * only, not by both; and its new owner restores it at its assignment ("Restored at assignment"), so
 * a group whose time runs out with no record after the rebalance is reported all the same. Once per
 * client under test (the Confluent client through its rebalance callback, kafkajs and
 * @platformatic/kafka through their group-join events).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { contractConsumer, contractProducer, type GroupReport } from "../../src/kafka/index.js";
import { uniqueName, waitFor } from "../helpers/infra.js";
import type { CrashChildArgs } from "./stateful-crash-child.js";
import { accessForFile, clientsUnderTest, createTopics, kafkaFor, producerForSuite, register, registryFor, uniqueIdent, withAdmin } from "./kafka-support.js";

/** Long enough for the second consumer to join and take a partition before the first groups time out. */
const WITHIN_MS = 20_000;

interface Event {
  id: string;
  order?: string;
  parts?: number;
}

const file = accessForFile();

for (const client of clientsUnderTest(() => file.infra)) {
  describe(`completeness timers across a rebalance on ${client.name}`, () => {
    const suite = producerForSuite(client);

    /** A topic of `partitions` partitions whose contract has the completeness rule, and consumers of one group on it that note what they handle and report. */
    async function completenessGroup(name: string, partitions: number) {
      const topic = uniqueName(`stateful-${name}-${client.name}`);
      await createTopics(kafkaFor(file.infra), [{ topic, numPartitions: partitions }]);
      await register(registryFor(file.infra), `${topic}-value`, {
        schemaType: "JSON",
        schema: JSON.stringify({
          $schema: "http://json-schema.org/draft-07/schema#",
          title: uniqueIdent("statefulMoved"),
          type: "object",
          properties: { id: { type: "string" }, order: { type: "string" }, parts: { type: "integer" } },
          required: ["id"],
        }),
        ruleSet: {
          domainRules: [
            {
              name: "allParts",
              kind: "CONDITION",
              mode: "READ",
              type: "STATEFUL_COMPLETE",
              expr: "message.id",
              params: { "complete.parent": "has(message.parts)", "complete.parts": "message.parts", "complete.part.of": "message.order", "complete.within": `${WITHIN_MS}ms`, "state.copartitioned": "true" },
              onFailure: "NONE",
              disabled: true,
            },
          ],
        },
      });
      const send = (events: [number, Event][]) =>
        contractProducer(suite.producer, { registry: registryFor(file.infra), key: false }).send({ topic, messages: events.map(([partition, value]) => ({ partition, value })) });
      const group = uniqueName("g");
      const applicationId = uniqueName("app");
      const handled: { consumer: string; partition: number; id: string }[] = [];
      const timedOut: { consumer: string; key: string }[] = [];
      const start = async (name: string) => {
        const consumer = contractConsumer(client.consumer({ groupId: group }), {
          registry: registryFor(file.infra),
          key: false,
          stateful: { applicationId, access: file.access, producer: suite.producer, timerIntervalMs: 100, onGroup: (r: GroupReport) => void (r.event.complete ? undefined : timedOut.push({ consumer: name, key: r.event.key })) },
        });
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ partition, value }) => void handled.push({ consumer: name, partition, id: (value as Event).id }) });
        return consumer;
      };
      /** Waits until the group's committed offset of partition 0 is past `offset`: its changelog entries are written, and its next owner gets no record before it. */
      const committedPast = (offset: number, who: string) =>
        waitFor(async () => (await withAdmin(kafkaFor(file.infra), (admin) => admin.fetchOffsets({ groupId: group, topics: [topic] })))[0]?.partitions[0]?.offset === String(offset + 1), {
          timeoutMs: 30_000,
          intervalMs: 500,
          what: `${who}'s offset committed past ${offset}`,
        });
      /** Waits for the first timeout report, then a little more for any second one (A's, or a second timer), and checks it is `consumer`'s alone, with no record handled there. */
      const reportedOnceBy = async (consumer: string) => {
        await waitFor(() => timedOut.length > 0, { timeoutMs: 90_000, what: "the timeout of p0" }).catch((e: unknown) => {
          throw new Error(`${e instanceof Error ? e.message : String(e)}: ${JSON.stringify({ timedOut, handled })}`, { cause: e });
        });
        await new Promise((r) => setTimeout(r, 2_000));
        assert.deepEqual(timedOut, [{ consumer, key: "p0" }], JSON.stringify({ timedOut, handled }));
        assert.deepEqual(
          handled.filter((h) => h.consumer === consumer),
          [],
          `${consumer} reported the group without a record of the partition`,
        );
      };
      return { topic, group, applicationId, send, start, handled, timedOut, committedPast, reportedOnceBy };
    }

    it("a partition that moves away stops its groups' timers on its old owner: a timed-out group is reported once, by its new owner", async () => {
      const { send, start, handled, timedOut } = await completenessGroup("moved", 2);

      // A opens a group on each partition whose parts never come.
      await send([
        [0, { id: "p0", parts: 2 }],
        [1, { id: "p1", parts: 2 }],
      ]);
      const a = await start("A");
      let b: Awaited<ReturnType<typeof start>> | undefined;
      try {
        await waitFor(() => handled.length >= 2, { timeoutMs: 60_000, what: "A handling p0 and p1" });
        // B joins; parents with no parts (complete at once) go to both partitions until B has handled one.
        b = await start("B");
        let round = 0;
        await waitFor(
          async () => {
            if (handled.some((h) => h.consumer === "B")) return true;
            round++;
            await send([
              [0, { id: `probe-0-${round}`, parts: 0 }],
              [1, { id: `probe-1-${round}`, parts: 0 }],
            ]);
            return false;
          },
          { timeoutMs: 90_000, intervalMs: 2_000, what: "a record handled by B" },
        );
        const moved = handled.find((h) => h.consumer === "B")!.partition;
        const kept = 1 - moved;
        assert.equal(timedOut.length, 0, `the partitions moved before the groups of A timed out (complete.within ${WITHIN_MS} ms): ${JSON.stringify(timedOut)}`);
        // A parent opened on the partition A kept, after the move: its group times out after p0's and p1's,
        // so once A reports it, A has passed the moved group's deadline too (timers fire in deadline order).
        await send([[kept, { id: "late", parts: 1 }]]);
        await waitFor(() => timedOut.some((t) => t.key === "late") && timedOut.some((t) => t.key === `p${moved}`), { timeoutMs: 90_000, what: `the timeouts of "late" and p${moved}` }).catch((e: unknown) => {
          throw new Error(`${e instanceof Error ? e.message : String(e)}: ${JSON.stringify({ timedOut, handled })}`, { cause: e });
        });
        assert.deepEqual(
          timedOut.filter((t) => t.key === `p${moved}` || t.key === "late").sort((x, y) => x.key.localeCompare(y.key)),
          [
            { consumer: "A", key: "late" },
            { consumer: "B", key: `p${moved}` },
          ].sort((x, y) => x.key.localeCompare(y.key)),
          `p${moved} moved to B with its partition; A must not report it too: ${JSON.stringify({ timedOut, handled })}`,
        );
      } finally {
        await b?.disconnect();
        await a.disconnect();
      }
    });

    it("a partition given to a new owner with no traffic after the rebalance: its overdue group is reported on the wall clock, once, by the new owner, without a record", async () => {
      const { send, start, handled, committedPast, reportedOnceBy } = await completenessGroup("handover", 1);
      // A opens a group whose parts never come, and nothing more is produced.
      await send([[0, { id: "p0", parts: 2 }]]);
      let a: Awaited<ReturnType<typeof start>> | undefined = await start("A");
      let b: Awaited<ReturnType<typeof start>> | undefined;
      try {
        await waitFor(() => handled.length >= 1, { timeoutMs: 60_000, what: "A handling p0" });
        await committedPast(0, "A");
        // B joins (a rebalance; with one partition either may own it), then A leaves: B owns the partition.
        b = await start("B");
        const leaving = a;
        a = undefined;
        await leaving.disconnect();
        await reportedOnceBy("B");
      } finally {
        await b?.disconnect();
        await a?.disconnect();
      }
    });

    it("a consumer killed with a group open and no traffic after: the survivor takes the partition after the session timeout and reports the overdue group, once, without a record", async () => {
      const { topic, group, applicationId, send, start, committedPast, reportedOnceBy } = await completenessGroup("killed", 1);
      await send([[0, { id: "p0", parts: 2 }]]);
      // K, in a child process, opens the group; it never leaves the group on its own.
      const args: CrashChildArgs = { name: "K", topic, group, applicationId, sessionTimeout: 6_000 };
      const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./stateful-crash-child.ts", import.meta.url)), JSON.stringify(args)], {
        env: { ...process.env, KONTRACT_TEST_CLIENTS: client.name },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      let lines = 0;
      child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
      createInterface({ input: child.stdout }).on("line", () => void lines++);
      let s: Awaited<ReturnType<typeof start>> | undefined;
      try {
        await waitFor(
          () => {
            if (child.exitCode !== null) throw new Error(`the child consumer exited (${child.exitCode}): ${stderr}`);
            return lines > 0;
          },
          { timeoutMs: 90_000, what: "K handling p0" },
        );
        await committedPast(0, "K");
        child.kill("SIGKILL");
        // S joins after the crash: it gets the partition once the coordinator has waited out K's session.
        s = await start("S");
        await reportedOnceBy("S");
      } finally {
        child.kill("SIGKILL");
        await s?.disconnect();
      }
    });
  });
}
