/**
 * The wrapper's own offset commits for stateful rules (src/kafka/commits.ts): an offset is committed
 * only after the changelog write covering the record's state changes is acknowledged, never ahead of
 * it, whether that write stalls, fails, or a rebalance comes in between. Fakes for the changelog and
 * the group; the real broker is in test/integration/stateful.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HandledRecord } from "../../src/kafka/client.js";
import { committer, type CommitterDeps } from "../../src/kafka/commits.js";
import { isKontractError } from "../../src/errors.js";
import { contractConsumer, type KafkaAccess } from "../../src/kafka/index.js";
import { contract, order } from "../helpers/contracts.js";
import { fakeConsumer, fakeProducer, kafkaMessage, testRegistry, valueBytes, type FakeConsumer } from "./fakes.js";

/** A changelog whose writes the test settles by hand, and a group that records what is committed. */
function fakes(extra: Partial<CommitterDeps> = {}) {
  const writes: { resolve: () => void; reject: (e: Error) => void; changes: number }[] = [];
  let waiting = 0;
  const commits: string[][] = [];
  const deps: CommitterDeps = {
    flush: () =>
      new Promise<void>((resolve, reject) => {
        writes.push({ resolve, reject, changes: waiting });
        waiting = 0;
      }),
    dirty: () => waiting > 0,
    backlog: () => waiting,
    commit: async (records: readonly HandledRecord[]) => void commits.push(records.map((r) => `${r.topic}[${r.partition}]@${r.message.offset}`)),
    intervalMs: 3_600_000,
    ...extra,
  };
  return {
    c: committer(deps),
    writes,
    commits,
    change: (n = 1) => void (waiting += n),
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Lets `done` reach its changelog write (the `n`th), acknowledges that write, then waits for `done`. */
async function acknowledged(writes: { resolve(): void }[], n: number, done: Promise<void>): Promise<void> {
  await tick();
  writes[n]!.resolve();
  await done;
}
const record = (offset: number) => kafkaMessage(offset, Buffer.from("v"));

describe("wrapper commits for stateful rules", () => {
  it("commits a record's offset only once the changelog write covering it is acknowledged", async () => {
    const { c, writes, commits, change } = fakes();
    change(2);
    c.handled("t", 0, record(4));
    const done = c.commit();
    await tick();
    assert.equal(writes.length, 1, "the commit flushes the changelog first");
    assert.deepEqual(commits, [], "nothing is committed while the write is not acknowledged");
    writes[0]!.resolve();
    await done;
    assert.deepEqual(commits, [["t[0]@4"]]);
  });

  it("a write that stalls holds the offset back, however many commits are asked for", async () => {
    const { c, writes, commits, change } = fakes();
    change();
    c.handled("t", 0, record(0));
    void c.commit();
    void c.commit();
    void c.commit();
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(writes.length, 1, "one write at a time; later commits wait behind it");
    assert.deepEqual(commits, []);
    void c.close().catch(() => undefined);
  });

  it("a write that fails commits nothing, holds the next record (ready) until a write succeeds, and the offset moves after it", async () => {
    const { c, writes, commits, change } = fakes();
    change();
    c.handled("t", 0, record(7));
    const first = c.commit();
    await tick();
    writes[0]!.reject(new Error("changelog down"));
    await assert.rejects(first, /changelog down/);
    assert.deepEqual(commits, []);
    const ready = c.ready();
    assert.ok(ready, "after a failed write the next record waits for the changelog");
    await tick();
    writes[1]!.reject(new Error("still down"));
    await assert.rejects(ready, /still down/, "and is not handed over while it fails");
    const again = c.ready()!;
    await acknowledged(writes, 2, again);
    assert.equal(c.ready(), undefined, "a write that succeeded lets records through again");
    const second = c.commit();
    await acknowledged(writes, 3, second);
    assert.deepEqual(commits, [["t[0]@7"]]);
  });

  it("a record handled while a commit is under way is left to the next commit (its change may not be in that write)", async () => {
    const { c, writes, commits, change } = fakes();
    change();
    c.handled("t", 0, record(1));
    const first = c.commit();
    await tick();
    change();
    c.handled("t", 0, record(2));
    const second = c.commit();
    writes[0]!.resolve();
    await first;
    assert.deepEqual(commits, [["t[0]@1"]], "the first commit stops at the record handled before it began");
    await tick();
    assert.equal(writes[1]!.changes, 1, "the second commit writes the later change first");
    writes[1]!.resolve();
    await second;
    assert.deepEqual(commits, [["t[0]@1"], ["t[0]@2"]]);
  });

  it("a rebalance during a commit: its offsets are not committed (the partition may be another's now)", async () => {
    const { c, writes, commits, change } = fakes();
    change();
    c.handled("t", 0, record(3));
    const done = c.commit();
    await tick();
    c.forget();
    writes[0]!.resolve();
    await done;
    assert.deepEqual(commits, []);
    const next = c.commit();
    await acknowledged(writes, 1, next);
    assert.deepEqual(commits, [], "nor by a later commit");
  });

  it("revoking: what was handled is committed after the write, although the partitions are about to move; nothing of it afterwards", async () => {
    const { c, writes, commits, change } = fakes();
    change();
    c.handled("t", 0, record(3));
    c.handled("t", 1, record(8));
    const revoked = c.revoking();
    await acknowledged(writes, 0, revoked);
    assert.deepEqual(commits, [["t[0]@3", "t[1]@8"]], "the member still owns its partitions: they are committed");
    const next = c.commit();
    await acknowledged(writes, 1, next);
    assert.deepEqual(commits, [["t[0]@3", "t[1]@8"]], "nothing handled before the revocation is committed again after it");
  });

  it("revoking never rejects: a failed write or commit leaves the records to be delivered again", async () => {
    const failing = fakes({ commit: async () => Promise.reject(new Error("REBALANCE_IN_PROGRESS")) });
    failing.change();
    failing.c.handled("t", 0, record(1));
    const r1 = failing.c.revoking();
    await acknowledged(failing.writes, 0, r1);
    const broken = fakes();
    broken.change();
    broken.c.handled("t", 0, record(1));
    const r2 = broken.c.revoking();
    await tick();
    broken.writes[0]!.reject(new Error("changelog down"));
    await r2;
    assert.deepEqual(broken.commits, []);
  });

  it("after() keeps one write under way and never waits; a backlog past its bound holds the next record", async () => {
    const { c, writes, change } = fakes({ maxBacklog: 10 });
    void c.after();
    assert.equal(writes.length, 0, "nothing to write");
    change(4);
    void c.after();
    change(4);
    void c.after();
    assert.equal(writes.length, 1, "one write under way at a time");
    change(4);
    assert.equal(c.ready(), undefined, "8 changes wait behind the write: under the bound");
    change(4);
    const held = c.ready();
    assert.ok(held, "12 waiting changes: the next record waits");
    writes[0]!.resolve();
    await tick();
    assert.equal(writes.length, 2);
    assert.equal(writes[1]!.changes, 12);
    writes[1]!.resolve();
    await held;
  });

  it("commits each partition past its last handled record, and does not commit an offset again", async () => {
    const { c, writes, commits } = fakes();
    c.handled("t", 0, record(1));
    c.handled("t", 1, record(5));
    c.handled("t", 0, record(2));
    const first = c.commit();
    await acknowledged(writes, 0, first);
    const second = c.commit();
    await acknowledged(writes, 1, second);
    assert.deepEqual(commits, [["t[0]@2", "t[1]@5"]]);
  });

  it("once closing, a record that ends waits for a commit covering it (the consumer is still a member)", async () => {
    const { c, writes, commits, change } = fakes();
    const closing = c.close();
    await acknowledged(writes, 0, closing);
    change();
    c.handled("t", 0, record(11));
    const after = c.after();
    assert.ok(after, "the handler waits for the commit before it returns");
    await acknowledged(writes, 1, after);
    assert.deepEqual(commits, [["t[0]@11"]]);
  });

  it("close commits what was handled, after the write", async () => {
    const { c, writes, commits, change } = fakes();
    change();
    c.handled("t", 0, record(9));
    const closing = c.close();
    await tick();
    assert.deepEqual(commits, []);
    writes[0]!.resolve();
    await closing;
    assert.deepEqual(commits, [["t[0]@9"]]);
  });
});

describe("who commits a stateful consumer's offsets", () => {
  /** A kafkajs-shaped consumer (with commitOffsets) whose run records the config it was given. */
  function consumerWith() {
    const given: Record<string, unknown>[] = [];
    const kafka = Object.assign(fakeConsumer(), { commitOffsets: async () => {} });
    const run = kafka.run.bind(kafka);
    Object.assign(kafka, { run: (c: Record<string, unknown>) => (given.push(c), run(c as never)) });
    return { kafka, given };
  }
  const wrap = (kafka: FakeConsumer, commits?: "wrapper" | "client") =>
    contractConsumer(kafka, { registry: testRegistry(), key: false, stateful: { applicationId: "app", access: {} as KafkaAccess, producer: fakeProducer(), ...(commits ? { commits } : {}) } });

  it("kafkajs: the wrapper commits by default, running the client with autoCommit false", async () => {
    const { kafka, given } = consumerWith();
    const consumer = wrap(kafka);
    await consumer.run({ eachMessage: async () => {} });
    assert.equal(given[0]!.autoCommit, false);
    await consumer.disconnect();
  });

  it("kafkajs: the caller's autoCommit false means the caller commits (the client mode), and is refused with commits \"wrapper\"", async () => {
    const mine = consumerWith();
    const consumer = wrap(mine.kafka);
    await consumer.run({ eachMessage: async () => {}, autoCommit: false });
    assert.equal(mine.given[0]!.autoCommit, false);
    await consumer.disconnect();
    const refused = wrap(consumerWith().kafka, "wrapper");
    await assert.rejects(refused.run({ eachMessage: async () => {}, autoCommit: false }), (e: unknown) => isKontractError(e) && e.code === "usage" && /autoCommit: false/.test((e as Error).message));
    await refused.disconnect();
  });

  it("kafkajs: autoCommitInterval and autoCommitThreshold are refused (commitIntervalMs says when)", async () => {
    for (const option of ["autoCommitInterval", "autoCommitThreshold"]) {
      const consumer = wrap(consumerWith().kafka);
      await assert.rejects(consumer.run({ eachMessage: async () => {}, [option]: 100 }), (e: unknown) => isKontractError(e) && e.code === "usage" && e.message.includes(option));
      await consumer.disconnect();
    }
  });

  it("kafkajs: a heartbeat that finds the group rebalancing commits the records handled so far before the consumer rejoins, then passes the error on", async () => {
    const committed: string[][] = [];
    const kafka = Object.assign(fakeConsumer(), { commitOffsets: async (offsets: { topic: string; partition: number; offset: string }[]) => void committed.push(offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`)) });
    const registry = testRegistry();
    await registry.register("orders-value", contract({ domainRules: [] }));
    const bytes = valueBytes(registry);
    const consumer = contractConsumer(kafka, { registry, key: false, stateful: { applicationId: "app", access: {} as KafkaAccess, producer: fakeProducer(), commitIntervalMs: 3_600_000 } });
    const handled: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void handled.push(message.offset) });
    const first = await kafka.deliver("orders", 0, [kafkaMessage(0, await bytes(order())), kafkaMessage(1, await bytes(order()))]);
    assert.equal(first.error, undefined);
    assert.deepEqual(committed, [], "the interval has not come: nothing committed yet");
    const rebalancing = Object.assign(new Error("The group is rebalancing, so a rejoin is needed"), { type: "REBALANCE_IN_PROGRESS" });
    kafka.heartbeat = async () => Promise.reject(rebalancing);
    const second = await kafka.deliver("orders", 0, [kafkaMessage(2, await bytes(order()))]);
    assert.equal(second.error, rebalancing, "kafkajs sees its own error and rejoins");
    assert.deepEqual(handled, ["0", "1", "2"]);
    assert.deepEqual(committed, [["orders[0]@3"]], "everything handled is committed while the member still owns the partition");
    // Any other heartbeat error is the client's to meet again after the handler: the record counts as handled.
    kafka.heartbeat = async () => Promise.reject(Object.assign(new Error("The coordinator is not aware of this member"), { type: "UNKNOWN_MEMBER_ID" }));
    const third = await kafka.deliver("orders", 0, [kafkaMessage(3, await bytes(order()))]);
    assert.equal(third.error, undefined);
    assert.equal(third.resolved, "3");
    assert.deepEqual(committed, [["orders[0]@3"]], "nothing more committed");
    kafka.heartbeat = async () => {};
    await consumer.disconnect();
  });

  it("commits \"client\": the client's run options pass as given", async () => {
    const { kafka, given } = consumerWith();
    const consumer = wrap(kafka, "client");
    await consumer.run({ eachMessage: async () => {}, autoCommitInterval: 100 });
    assert.equal(given[0]!.autoCommit, undefined);
    assert.equal(given[0]!.autoCommitInterval, 100);
    await consumer.disconnect();
  });
});
