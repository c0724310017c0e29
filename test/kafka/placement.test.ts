import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message, PartitionMetadata } from "kafkajs";
import { trackingPartitioner } from "../../src/kafka/index.js";
import { placeMessages } from "../../src/kafka/placement.js";

const answer = (topicName: string, partition: number, baseOffset: string) => ({ topicName, partition, errorCode: 0, baseOffset });

describe("placeMessages", () => {
  it("one partition answered: offsets follow the base offset in message order, per topic", () => {
    const placed = placeMessages(
      [
        { topic: "a", messages: [{ value: "1" }, { value: "2" }] },
        { topic: "b", messages: [{ value: "3" }] },
        { topic: "a", messages: [{ value: "4" }] },
      ],
      [answer("a", 0, "10"), answer("b", 2, "7")],
    );
    assert.deepEqual(
      placed.map((p) => `${p.partition}@${p.offset}`),
      ["0@10", "0@11", "2@7", "0@12"],
    );
  });

  it("explicit partitions: offsets counted within each partition", () => {
    const placed = placeMessages([{ topic: "a", messages: [{ value: "1", partition: 1 }, { value: "2", partition: 0 }, { value: "3", partition: 1 }] }], [answer("a", 1, "5"), answer("a", 0, "100")]);
    assert.deepEqual(
      placed.map((p) => `${p.partition}@${p.offset}`),
      ["1@5", "0@100", "1@6"],
    );
  });

  it("offsets beyond 2^53 stay exact", () => {
    const placed = placeMessages([{ topic: "a", messages: [{ value: "1" }, { value: "2" }, { value: "3" }] }], [answer("a", 0, "9223372036854775800")]);
    assert.deepEqual(
      placed.map((p) => p.offset),
      ["9223372036854775800", "9223372036854775801", "9223372036854775802"],
    );
  });

  it("several partitions and no way to know which message went where: no guess", () => {
    const placed = placeMessages([{ topic: "a", messages: [{ value: "1" }, { value: "2" }] }], [answer("a", 1, "5"), answer("a", 0, "100")]);
    assert.deepEqual(placed, [
      { partition: undefined, offset: undefined },
      { partition: undefined, offset: undefined },
    ]);
  });

  it("trackingPartitioner remembers kafkajs's choice per message object, so offsets are exact", () => {
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })) as PartitionMetadata[];
    const partitioner = trackingPartitioner()();
    const messages: Message[] = ["k1", "k2", "k3", "k1"].map((key) => ({ key, value: "v" }));
    const chosen = messages.map((message) => partitioner({ topic: "a", partitionMetadata, message }));
    const firstOf = new Map<number, number>();
    chosen.forEach((p, i) => firstOf.has(p) || firstOf.set(p, i));
    const answers = [...firstOf.keys()].map((p) => answer("a", p, String(p * 1000)));
    const placed = placeMessages([{ topic: "a", messages }], answers);
    assert.deepEqual(
      placed.map((p) => p.partition),
      chosen,
    );
    assert.equal(placed[3]!.partition, placed[0]!.partition, "same key, same partition");
    assert.equal(BigInt(placed[3]!.offset!), BigInt(placed[0]!.offset!) + BigInt(chosen.slice(0, 3).filter((p) => p === chosen[0]).length));
  });
});
