/**
 * The client port's pieces that need no broker: which adapter an object gets,
 * the Confluent adapter's differences (per-call options dropped, topics
 * merged, partitions restored, a stop held by pausing), the Proxy that keeps
 * a class-based client's methods working, and the error for a missing client.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { createEngine } from "../../src/engine/index.js";
import { KontractError, RuleViolationError, isErrorCode } from "../../src/errors.js";
import { createContracts } from "../../src/kafka/contracts.js";
import { createMemoryRegistry } from "../../src/registry/memory-registry.js";
import { createContractStore } from "../../src/serde/index.js";
import type { OutgoingMessage, RecordMetadata, RunConfig, TopicMessages } from "../../src/kafka/client.js";
import { consumerPort, importOptional, producerPort, requireOptional } from "../../src/kafka/clients/index.js";
import { createDeadLetterSender } from "../../src/kafka/dlq.js";
import { ConsumeError, DeadLetterError, KafkaClientMissingError } from "../../src/kafka/errors.js";
import { overlay } from "../../src/kafka/overlay.js";

/** Answers like the Confluent KafkaJS producer: one entry per send() (topic entry) and partition, mutating the messages. */
function confluentLikeProducer() {
  const calls: { topicMessages: TopicMessages[]; options: string[] }[] = [];
  let next = 0;
  return {
    calls,
    dependentAdmin: () => ({}),
    async sendBatch(batch: { topicMessages?: TopicMessages[] } & Record<string, unknown>): Promise<RecordMetadata[]> {
      for (const k of ["acks", "timeout", "compression"]) if (Object.hasOwn(batch, k)) throw new Error(`${k} is not supported per call`);
      calls.push({ topicMessages: batch.topicMessages!, options: Object.keys(batch) });
      const out: RecordMetadata[] = [];
      for (const { topic, messages } of batch.topicMessages!) {
        for (const m of messages) m.partition ??= -1;
        out.push({ topicName: topic, partition: 0, errorCode: 0, baseOffset: String(next) });
        next += messages.length;
      }
      return out;
    },
  };
}

/** An eachMessage payload of partition t[0] whose pause is noted in `paused`. */
const recordPayload = (offset: string, paused: string[]) => ({
  topic: "t",
  partition: 0,
  message: { key: null, value: null, timestamp: "0", attributes: 0, offset },
  heartbeat: async () => {},
  pause: () => (paused.push(offset), () => {}),
});

describe("client port", () => {
  it("a producer with dependentAdmin() gets the Confluent adapter, others kafkajs's; anything else is refused", () => {
    assert.equal(producerPort(confluentLikeProducer()).client, "confluent");
    assert.equal(producerPort({ sendBatch: async () => [] }).client, "kafkajs");
    assert.equal(consumerPort({ run: async () => {}, dependentAdmin: () => ({}) } as never).client, "confluent");
    assert.equal(consumerPort({ run: async () => {} }).client, "kafkajs");
    assert.throws(() => producerPort({} as never), (e: unknown) => e instanceof KontractError && e.code === "usage" && /kafkajs, @confluentinc\/kafka-javascript/.test(e.message));
  });

  it("group joins reach the port where the client reports them: kafkajs's GROUP_JOIN, @platformatic/kafka's consumer:group:join; none on Confluent's KafkaJS API", () => {
    const listeners = new Map<string, () => void>();
    const on = (event: string, listener: () => void) => void listeners.set(event, listener);
    let joins = 0;
    consumerPort({ run: async () => {}, on, events: { GROUP_JOIN: "consumer.group_join" } } as never).onGroupJoin!(() => joins++);
    listeners.get("consumer.group_join")!();
    consumerPort({ type: "consumer", consume: async () => ({}), on } as never).onGroupJoin!(() => joins++);
    listeners.get("consumer:group:join")!();
    assert.equal(joins, 2);
    // Confluent's `on` throws "Not implemented", and kafkajs-like consumers without events say nothing.
    assert.equal(consumerPort({ run: async () => {}, dependentAdmin: () => ({}) } as never).onGroupJoin, undefined);
    assert.equal(consumerPort({ run: async () => {} }).onGroupJoin, undefined);
  });

  it("assignments reach the port after the group join listeners of the same join: kafkajs's GROUP_JOIN member assignment, @platformatic/kafka's assignments", () => {
    const listeners = new Map<string, (event?: unknown) => void>();
    const on = (event: string, listener: (event?: unknown) => void) => void listeners.set(event, listener);
    const seen: string[] = [];
    const watch = (port: ReturnType<typeof consumerPort>) => {
      port.onAssign!((partitions) => void seen.push(`assigned ${partitions.map((p) => `${p.topic}[${p.partition}]`).join(",")}`));
      port.onGroupJoin!(() => void seen.push("joined"));
    };
    watch(consumerPort({ run: async () => {}, on, events: { GROUP_JOIN: "consumer.group_join" } } as never));
    listeners.get("consumer.group_join")!({ payload: { memberAssignment: { t: [0, 2], u: [1] } } });
    listeners.get("consumer.group_join")!();
    const platformatic = { type: "consumer", consume: async () => ({}), on, assignments: [{ topic: "t", partitions: [1] }] };
    watch(consumerPort(platformatic as never));
    listeners.get("consumer:group:join")!({});
    assert.deepEqual(seen, ["joined", "assigned t[0],t[2],u[1]", "joined", "assigned ", "joined", "assigned t[1]"]);
  });

  it("Confluent: revocations and assignments reach the port from the node-rdkafka consumer's rebalance events, once the consumer runs, and a listener that throws does not reach the client", async () => {
    const internal = new EventEmitter();
    const port = consumerPort({ run: async () => {}, dependentAdmin: () => ({}), _getInternalClient: () => internal } as never);
    const revoked: string[] = [];
    port.onRevoke!((partitions) => void revoked.push(partitions.map((p) => `${p.topic}[${p.partition}]`).join(",")));
    port.onRevoke!(() => {
      throw new Error("a listener that fails");
    });
    // Not connected before run: nothing is watched yet (the internal client is made by connect).
    assert.equal(internal.listenerCount("rebalance"), 0);
    await port.run({ eachMessage: async () => {} });
    await port.run({ eachMessage: async () => {} });
    assert.equal(internal.listenerCount("rebalance"), 1, "watched once, however many runs");
    const assigned: string[] = [];
    port.onAssign!((partitions) => void assigned.push(partitions.map((p) => `${p.topic}[${p.partition}]`).join(",")));
    port.onAssign!(() => {
      throw new Error("a listener that fails");
    });
    internal.emit("rebalance", { code: -175 }, [{ topic: "t", partition: 0 }]);
    assert.deepEqual(assigned, ["t[0]"]);
    internal.emit("rebalance", { code: -174 }, [
      { topic: "t", partition: 0 },
      { topic: "t", partition: 1 },
    ]);
    assert.deepEqual(revoked, ["t[0],t[1]"]);
    // Without the internal client (another version of the client): no hook, and run still works.
    const bare = consumerPort({ run: async () => {}, dependentAdmin: () => ({}) } as never);
    bare.onRevoke!(() => assert.fail("no revocations without the internal client"));
    await bare.run({ eachMessage: async () => {} });
    // kafkajs and @platformatic/kafka tell group joins, not which partitions were lost.
    assert.equal(consumerPort({ run: async () => {} }).onRevoke, undefined);
    assert.deepEqual(assigned, ["t[0]"], "a revocation is not an assignment");
  });

  it("Confluent: acks and timeout are not passed, a repeated topic is sent once, placements follow the call order", async () => {
    const p = confluentLikeProducer();
    const m = (v: string, partition?: number): OutgoingMessage => (partition === undefined ? { value: v } : { value: v, partition });
    const written = await producerPort(p).write(
      [
        { topic: "a", messages: [m("a1"), m("a2")] },
        { topic: "b", messages: [m("b1", 0)] },
        { topic: "a", messages: [m("a3")] },
      ],
      { acks: -1, timeout: 5_000 },
    );
    assert.deepEqual(p.calls[0]!.options, ["topicMessages"]);
    assert.deepEqual(
      p.calls[0]!.topicMessages.map((t) => [t.topic, t.messages.map((x) => x.value)]),
      [
        ["a", ["a1", "a2", "a3"]],
        ["b", ["b1"]],
      ],
    );
    // The client set partition -1 on the messages it sent; placement uses what the caller gave.
    assert.deepEqual(p.calls[0]!.topicMessages[0]!.messages.map((x) => x.partition), [undefined, undefined, undefined]);
    assert.deepEqual(
      written.placements.map((x) => x.offset),
      ["0", "1", "3", "2"],
    );
  });

  it("Confluent: a write that timed out or found no broker is retriable (the client says so only for transactions); a refused record is not", async () => {
    const failing = (code: number) => ({
      dependentAdmin: () => ({}),
      sendBatch: async () => Promise.reject(Object.assign(new Error(`librdkafka error ${code}`), { code, retriable: false })),
    });
    const sent = (code: number) =>
      createDeadLetterSender({ producer: failing(code) as never, purpose: "dead-letter" })
        .send([{ topic: "t-dlq", message: { value: Buffer.from("x") } }])
        .then(
          () => assert.fail("the write should fail"),
          (e: unknown) => e,
        );
    for (const code of [-192, -195, -187, 6]) {
      const e = await sent(code);
      assert.ok(e instanceof DeadLetterError && e.retriable, `code ${code}: retriable`);
    }
    for (const code of [10, -188]) {
      const e = await sent(code);
      assert.ok(e instanceof DeadLetterError && !e.retriable, `code ${code}: not retriable`);
    }
  });

  it("Confluent: a non-retriable kontract error pauses the record's partition before the client seeks back; others do not", async () => {
    let config: RunConfig | undefined;
    const port = consumerPort({ run: async (c: RunConfig) => void (config = c), dependentAdmin: () => ({}) } as never);
    const failWith = [new ConsumeError({ topic: "t", partition: 0, offset: "1", isKey: false }, new RuleViolationError([]), [], false), new Error("handler bug")];
    await port.run({ eachMessage: async () => Promise.reject(failWith.shift()) });
    const paused: string[] = [];
    const payload = (offset: string) => recordPayload(offset, paused);
    await assert.rejects(config!.eachMessage!(payload("1")), ConsumeError);
    await assert.rejects(config!.eachMessage!(payload("2")), /handler bug/);
    assert.deepEqual(paused, ["1"]);
  });

  it("Confluent: a handler that fails after the partition was rewound resolves instead of throwing (the client's seek back to the record would win); a non-retriable error pauses, then seeks again; a partition not assigned is not sought", async () => {
    let config: RunConfig | undefined;
    const seeks: string[] = [];
    const logged: string[] = [];
    const port = consumerPort({
      run: async (c: RunConfig) => void (config = c),
      dependentAdmin: () => ({}),
      assignment: () => [{ topic: "t", partition: 0 }],
      seek: (to: { topic: string; partition: number; offset: string }) => void seeks.push(`${to.topic}[${to.partition}]@${to.offset}`),
      logger: () => ({ error: (message: string) => void logged.push(message) }),
    } as never);
    const paused: string[] = [];
    const payload = (offset: string) => recordPayload(offset, paused);
    const stop = new ConsumeError({ topic: "t", partition: 0, offset: "5", isKey: false }, new RuleViolationError([]), [], false);
    const failures = [new Error("handler bug"), stop, new Error("not rewound")];
    await port.run({
      eachMessage: async ({ message }) => {
        if (message.offset !== "9") port.seek!("t", 0, "3");
        throw failures.shift();
      },
    });
    await config!.eachMessage!(payload("4"));
    await config!.eachMessage!(payload("5"));
    assert.deepEqual(paused, ["5"]);
    assert.deepEqual(seeks, ["t[0]@3", "t[0]@3", "t[0]@3"], "sought in the handler, and again after the pause");
    // The client logs a handler's error when it seeks back itself; resolved instead, the error is logged here.
    assert.equal(logged.length, 2);
    assert.match(logged[0]!, /t\[0\]@4.*handler bug/);
    assert.match(logged[1]!, /t\[0\]@5/);
    await assert.rejects(config!.eachMessage!(payload("9")), /not rewound/);
    port.seek!("t", 1, "0");
    assert.equal(seeks.length, 3);
  });

  it("overlay: a class instance keeps its prototype methods and private fields; overrides win", async () => {
    class Client {
      #state = "connected";
      state() {
        return this.#state;
      }
      send() {
        return "client's own send";
      }
    }
    const wrapped = overlay(new Client(), { send: () => "wrapped send", producer: 1 });
    assert.equal(wrapped.state(), "connected");
    assert.equal(wrapped.send(), "wrapped send");
    assert.equal(wrapped.producer, 1);
    assert.equal(wrapped.state, wrapped.state, "bound once");
  });

  it("a client that is not installed: KafkaClientMissingError naming the package to install", async () => {
    const name = "@confluentinc/kafka-javascript-not-here";
    const check = (e: unknown) => e instanceof KafkaClientMissingError && e.code === "client-missing" && e.packageName === name && e.message.includes(`npm install ${name}`);
    await assert.rejects(importOptional(name, "this test"), check);
    assert.throws(() => requireOptional(name, "this test"), check);
  });
});

describe("where contracts come from", () => {
  const registry = createMemoryRegistry();
  it("a registry, or a store of your own, never both; a store carries its own registry and sensitive tags", () => {
    const store = createContractStore({ registry, engine: createEngine({ sensitiveTags: ["SECRET"] }) });
    const shared = createContracts({ store });
    assert.equal(shared.store({}), store);
    assert.equal(shared.registry, registry);
    assert.deepEqual([...shared.sensitiveTags], ["SECRET"]);
    assert.throws(() => createContracts({ store, registry }), (e: unknown) => isErrorCode(e, "usage") && /either store or registry/.test((e as Error).message));
    assert.throws(() => createContracts({}), /pass registry .* or store/);
    assert.throws(() => shared.store({ messageName: "acme.Order" }), /set messageName on the store/);
  });

  it("built from a registry, the key and value sides share one store unless they write different Protobuf messages", () => {
    const c = createContracts({ registry });
    assert.equal(c.store({}), c.store({ subjectNameStrategy: "record" }));
    assert.notEqual(c.store({ messageName: "acme.Key" }), c.store({}));
    assert.equal(c.store({ messageName: "acme.Key" }), c.store({ messageName: "acme.Key" }));
  });
});
