/**
 * The stateful stage closes everything it opened (docs/stateful.md, "Reference tables"): a record
 * whose partition is being restored when the contract consumer is closed (on @platformatic/kafka the
 * client can be closed while a handler runs) must not start a reader of a reference topic after the
 * close, which nothing would stop and which keeps the process alive. On in-process fakes of the
 * admin and consumer calls, gated so that the close falls inside the restore.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Rule } from "../../src/contract/model.js";
import { KontractError } from "../../src/errors.js";
import type { KafkaAccess } from "../../src/kafka/index.js";
import { statefulStage } from "../../src/kafka/stateful.js";
import { order, plan, resolved } from "../helpers/contracts.js";
import { fakeProducer, kafkaMessage } from "./fakes.js";

const knownCustomer: Rule = {
  name: "customerKnown",
  kind: "CONDITION",
  mode: "READ",
  type: "STATEFUL_REFERENCE",
  expr: "message.id",
  params: { "reference.topic": "customers" },
  onFailure: "DLQ",
  disabled: true,
};

/**
 * The source topic's admin calls (the restore's, which creates the changelog topics) wait for
 * `open()`; the reference topic's (its reader's) do not. Every consumer made is counted, and so is
 * every disconnect. Every topic exists, empty.
 */
function gatedAccess() {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const consumers = { made: 0, disconnected: 0 };
  const access = {
    client: "kafkajs",
    kafka: {
      admin: () => ({
        connect: async () => {},
        disconnect: async () => {},
        fetchTopicOffsets: async (topic: string) => {
          if (topic === "orders") await gate;
          return [{ partition: 0, offset: "0", high: "0", low: "0" }];
        },
        listTopics: async () => ["orders", "customers", "app-orders-customerKnown-changelog"],
        createTopics: async () => true,
      }),
      consumer: () => {
        consumers.made++;
        return {
          connect: async () => {},
          subscribe: async () => {},
          run: async () => {},
          disconnect: async () => void consumers.disconnected++,
        };
      },
      producer: () => {
        throw new Error("not used");
      },
    },
  } as unknown as KafkaAccess;
  return { access, consumers, open };
}

describe("stateful stage: close", () => {
  it("a restore under way when the stage closes starts no reference reader after it, and fails the record (retriable): every reader made is stopped", async () => {
    const { access, consumers, open } = gatedAccess();
    const stage = statefulStage({ applicationId: "app", access, producer: fakeProducer() }, { dlqTopic: (t) => `${t}-dlq` });
    const judged = stage.judge("orders", 0, kafkaMessage(0, null), resolved(plan([knownCustomer])), order({ id: "c1" }));
    assert.ok(judged instanceof Promise, "the partition's first record waits for its restore");
    const verdict = judged.then(
      () => undefined,
      (e: unknown) => e,
    );
    // Closed while the restore waits on the broker; then the restore may go on.
    await stage.close();
    open();
    const e = await verdict;
    assert.ok(e instanceof KontractError && e.code === "state-store" && e.retriable, String(e));
    // Whatever was under way settles: give it the turns it needs, then count.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(consumers.disconnected, consumers.made, `${consumers.made} reference reader(s) made, ${consumers.disconnected} stopped`);
  });

  it("a closed stage judges no new partition: the record fails (retriable) and nothing is read", async () => {
    const { access, consumers, open } = gatedAccess();
    open();
    const stage = statefulStage({ applicationId: "app", access, producer: fakeProducer() }, { dlqTopic: (t) => `${t}-dlq` });
    await stage.close();
    const e = await Promise.resolve(stage.judge("orders", 0, kafkaMessage(0, null), resolved(plan([knownCustomer])), order({ id: "c1" }))).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(e instanceof KontractError && e.code === "state-store" && e.retriable, String(e));
    assert.deepEqual(consumers, { made: 0, disconnected: 0 });
  });
});
