/**
 * Restore at assignment (docs/stateful.md, "Restored at assignment"): a partition given to this
 * consumer whose contract record names a contract with completeness rules is restored without
 * waiting for a record, so a group whose time runs out with no traffic after a rebalance is
 * reported on the wall clock. On the stage itself, with the changelogs in a fake producer's log
 * read back through an in-memory KafkaAccess, and a virtual clock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { RegistryError, type KontractError } from "../../src/errors.js";
import type { ConsumerPort, TopicPartition } from "../../src/kafka/client.js";
import { contractsTopic, statefulStage, type ContractIdentity, type GroupReport, type StageContext } from "../../src/kafka/stateful.js";
import { order, plan, resolved } from "../helpers/contracts.js";
import { waitFor } from "../helpers/infra.js";
import { fakeProducer, kafkaMessage, memoryAccess, type FakeProducer, type MemoryAccess } from "./fakes.js";

const allItems: Rule = {
  name: "allItems",
  kind: "CONDITION",
  mode: "READ",
  type: "STATEFUL_COMPLETE",
  expr: "message.id",
  params: { "complete.parent": "has(message.items)", "complete.parts": "size(message.items)", "complete.part.of": "message.note", "complete.within": "3s" },
  onFailure: "NONE",
  disabled: true,
};
const unique: Rule = { name: "idUnique", kind: "CONDITION", mode: "READ", type: "STATEFUL_UNIQUE", expr: "message.id", params: { "unique.last": "10" }, onFailure: "NONE", disabled: true };

const COMPLETE = resolved(plan([allItems]), 7, 2);
const CHANGELOG = "app-orders-allItems-changelog";
const parent = (id: string, n: number) => order({ id, items: Array.from({ length: n }, (_, i) => ({ sku: `s${i}`, price: 1 })) });
const part = (of: string) => {
  const { items: _none, ...rest } = order({ id: `part-of-${of}`, note: of });
  return rest;
};
const P0: TopicPartition = { topic: "orders", partition: 0 };

/** A consumer's stage on the shared fakes: its reports, its errors, and what it resolved. */
function consumerStage(producer: FakeProducer, access: MemoryAccess, clock: { now: number }, contract: StageContext["contract"] = () => COMPLETE) {
  const reports: GroupReport[] = [];
  const errors: KontractError[] = [];
  const asked: ContractIdentity[] = [];
  const stage = statefulStage(
    { applicationId: "app", access, producer, clock: () => clock.now, timerIntervalMs: 10, onGroup: (r) => void reports.push(r), onError: (e) => void errors.push(e) },
    {
      dlqTopic: (t) => `${t}-dlq`,
      contract: (subject, identity) => {
        asked.push(identity);
        return contract!(subject, identity);
      },
    },
  );
  return { stage, reports, errors, asked };
}

/** Consumer A opens group "o1" (2 parts declared, none arrive) on orders[0] and writes it; returns the shared fakes. */
async function openedByA() {
  const producer = fakeProducer();
  const access = memoryAccess(producer);
  const clock = { now: 1_000_000 };
  const a = consumerStage(producer, access, clock);
  await a.stage.judge("orders", 0, kafkaMessage(0, null), COMPLETE, parent("o1", 2));
  await a.stage.flush();
  await a.stage.close();
  return { producer, access, clock, a };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONTRACTS = contractsTopic("app", "orders");

/** A's group, and B's stage whose reads of `topic` wait for `open()`. */
async function gatedOn(topic: string) {
  const shared = await openedByA();
  let open: () => void = () => {};
  shared.access.gate = (t) => (t === topic ? new Promise<void>((r) => (open = r)) : undefined);
  return { ...shared, b: consumerStage(shared.producer, shared.access, shared.clock), open: () => open() };
}

const readOf = (access: MemoryAccess, topic: string) => waitFor(() => (access.reads.get(topic) ?? 0) > 0, { timeoutMs: 5_000, what: `a read of ${topic}` });

/** Moves the clock past o1's deadline and waits for B's report, and a little more for any second one. */
async function overdue(b: { reports: GroupReport[] }, clock: { now: number }): Promise<void> {
  clock.now += 3_000;
  await waitFor(() => b.reports.length > 0, { timeoutMs: 10_000, what: "the timeout of o1 on B" });
  await sleep(100);
}

/** A port whose rebalance notifications the test drives. */
function drivenPort() {
  const revoke: ((p: readonly TopicPartition[]) => void)[] = [];
  const assign: ((p: readonly TopicPartition[]) => void)[] = [];
  const port = { client: "confluent", run: async () => {}, onRevoke: (l) => void revoke.push(l), onAssign: (l) => void assign.push(l) } as ConsumerPort;
  return { port, revoke: (p: TopicPartition[]) => revoke.forEach((l) => l(p)), assign: (p: TopicPartition[]) => assign.forEach((l) => l(p)) };
}

describe("stateful stage: restore at assignment", () => {
  it("a partition's restore writes its contract record (key the subject, value its id and version) in the write of its records' changes", async () => {
    const { producer } = await openedByA();
    assert.deepEqual(
      producer.batches.map((b) => (b.topicMessages ?? []).map((t) => t.topic)),
      [[CONTRACTS, CHANGELOG]],
      "one write: no round trip of its own",
    );
    const [record] = producer.log.get(CONTRACTS)!;
    assert.deepEqual({ key: record!.key, value: JSON.parse(String(record!.value)), partition: record!.partition }, { key: "orders-value", value: { id: 7, version: 2 }, partition: 0 });
  });

  it("a new owner given the partition restores it at once and reports the overdue group on the clock, with no record; once", async () => {
    const { producer, access, clock } = await openedByA();
    const b = consumerStage(producer, access, clock);
    b.stage.assigned([P0]);
    await readOf(access, CHANGELOG);
    await sleep(100);
    assert.equal(b.reports.length, 0, "not due yet");
    await overdue(b, clock);
    assert.deepEqual(
      b.reports.map((r) => ({ key: r.event.key, complete: r.event.complete, arrived: r.event.arrived, partition: r.partition })),
      [{ key: "o1", complete: false, arrived: 0, partition: 0 }],
    );
    assert.deepEqual(b.asked, [{ id: 7, version: 2 }], "the version the contract record names");
    assert.deepEqual(b.errors, []);
    // Restored from its contract record: not written again.
    assert.equal(producer.log.get(CONTRACTS)!.length, 1);
    await b.stage.close();
  });

  it("a record that comes during the restore at assignment waits for it: one restore, one timer, the record judged on the restored state", async () => {
    const { access, clock, b, open } = await gatedOn(CHANGELOG);
    b.stage.assigned([P0]);
    await readOf(access, CHANGELOG);
    // The same version resolved another way (another object): it joins the restore.
    const judged = b.stage.judge("orders", 0, kafkaMessage(1, null), { ...COMPLETE }, part("o1"));
    assert.ok(judged instanceof Promise);
    open();
    assert.equal((await judged)?.kind, "passed");
    await b.stage.flush();
    assert.equal(access.reads.get(CHANGELOG), 1, "one read of the changelog");
    await overdue(b, clock);
    assert.deepEqual(
      b.reports.map((r) => ({ key: r.event.key, arrived: r.event.arrived })),
      [{ key: "o1", arrived: 1 }],
      "the part counted on the restored group, the group reported once",
    );
    await b.stage.close();
  });

  it("a record that comes first restores the partition itself: the restore at assignment leaves it", async () => {
    const { access, clock, b, open } = await gatedOn(CONTRACTS);
    b.stage.assigned([P0]);
    await readOf(access, CONTRACTS);
    assert.equal((await b.stage.judge("orders", 0, kafkaMessage(1, null), COMPLETE, part("o1")))?.kind, "passed");
    open();
    await sleep(200);
    assert.equal(access.reads.get(CHANGELOG), 1, "the record's restore on B; none at assignment");
    await overdue(b, clock);
    assert.equal(b.reports.length, 1);
    await b.stage.close();
  });

  for (const [what, topic] of [
    ["its contract records are", CONTRACTS],
    ["its changelog is", CHANGELOG],
  ] as const) {
    it(`a partition revoked while ${what} read is abandoned: no state, no timer, no report, no error`, async () => {
      const { access, clock, b, open } = await gatedOn(topic);
      const { port, revoke, assign } = drivenPort();
      b.stage.watchRebalances(port);
      assign([P0]);
      await readOf(access, topic);
      revoke([P0]);
      open();
      await sleep(200);
      clock.now += 10_000;
      await sleep(200);
      assert.equal(b.reports.length, 0);
      assert.deepEqual(b.errors, []);
      if (topic === CONTRACTS) assert.equal(access.reads.get(CHANGELOG) ?? 0, 0, "the changelog not read");
      await b.stage.close();
    });
  }

  it("a registry that cannot be reached is tried again with backoff, each failure told as a retriable state-store error; the group is reported once it answers", async () => {
    const { producer, access, clock } = await openedByA();
    let failures = 2;
    const b = consumerStage(producer, access, clock, () => {
      if (failures-- > 0) throw new RegistryError("registry: connection refused", { code: "registry-unreachable", retriable: true });
      return COMPLETE;
    });
    b.stage.assigned([P0]);
    clock.now += 3_000;
    await waitFor(() => b.reports.length > 0, { timeoutMs: 10_000, what: "the timeout of o1 once the registry answers" });
    assert.equal(b.errors.length, 2);
    for (const e of b.errors) {
      assert.ok(e.code === "state-store" && e.retriable, String(e));
      assert.match(e.message, /orders\[0\] at its assignment: the contract of orders-value \(id 7, version 2\) could not be read: registry: connection refused/);
    }
    assert.equal(b.reports.length, 1);
    await b.stage.close();
  });

  it("a broker that fails the read of the contract records is tried again, each failure told as a retriable state-store error", async () => {
    const { producer, access, clock } = await openedByA();
    const kafka = access.kafka as { admin: typeof access.kafka.admin };
    const admin = kafka.admin;
    let failures = 1;
    kafka.admin = () => {
      const a = admin();
      return { ...a, listTopics: () => (failures-- > 0 ? Promise.reject(new Error("broker down")) : a.listTopics()) };
    };
    const b = consumerStage(producer, access, clock);
    b.stage.assigned([P0]);
    await overdue(b, clock);
    assert.equal(b.errors.length, 1);
    assert.ok(b.errors[0]!.code === "state-store" && b.errors[0]!.retriable, String(b.errors[0]));
    assert.match(b.errors[0]!.message, /orders\[0\] at its assignment failed: broker down/);
    assert.equal(b.reports.length, 1);
    await b.stage.close();
  });

  it("a contract the registry does not have is told once (not retriable) and not tried again: the partition restores at its next record", async () => {
    const { producer, access, clock } = await openedByA();
    const b = consumerStage(producer, access, clock, () => {
      throw new RegistryError("schema 7 not found", { code: "unknown-schema", retriable: false });
    });
    b.stage.assigned([P0]);
    await waitFor(() => b.errors.length > 0, { timeoutMs: 5_000, what: "the failure told" });
    await sleep(1_200);
    assert.equal(b.errors.length, 1);
    assert.ok(!b.errors[0]!.retriable);
    assert.equal((await b.stage.judge("orders", 0, kafkaMessage(1, null), COMPLETE, part("o1")))?.kind, "passed");
    clock.now += 3_000;
    await waitFor(() => b.reports.length > 0, { timeoutMs: 5_000, what: "the timeout of o1 after a record" });
    await b.stage.close();
  });

  it("nothing is restored at assignment without a contract record (changelogs of an older kontract), nor for a contract without completeness rules", async () => {
    const producer = fakeProducer();
    const access = memoryAccess(producer);
    const clock = { now: 1_000_000 };
    const none = consumerStage(producer, access, clock);
    none.stage.assigned([P0]);
    await sleep(100);
    assert.deepEqual([...access.reads.keys()], [], "no contract records: nothing read");
    await none.stage.close();

    const UNIQUE = resolved(plan([unique]), 8, 3);
    const a = consumerStage(producer, access, clock, () => UNIQUE);
    await a.stage.judge("orders", 0, kafkaMessage(0, null), UNIQUE, order({ id: "k1" }));
    await a.stage.flush();
    await a.stage.close();
    const b = consumerStage(producer, access, clock, () => UNIQUE);
    b.stage.assigned([P0]);
    await waitFor(() => b.asked.length > 0, { timeoutMs: 5_000, what: "the contract resolved" });
    await sleep(100);
    assert.equal(access.reads.get("app-orders-idUnique-changelog") ?? 0, 0, "not read at assignment (A's restore found it empty)");
    await b.stage.close();
  });

  it("a partition told twice (the Confluent client tells each rebalance twice) is restored once", async () => {
    const { producer, access, clock } = await openedByA();
    const b = consumerStage(producer, access, clock);
    b.stage.assigned([P0]);
    b.stage.assigned([P0]);
    await overdue(b, clock);
    assert.equal(b.reports.length, 1);
    assert.equal(access.reads.get(CONTRACTS), 1);
    await b.stage.close();
  });
});
