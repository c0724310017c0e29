/**
 * kafkajs on the client port: its API is the port's shape, so the adapter only
 * derives per-message placements from kafkajs's per-partition answer (exact
 * with trackingPartitioner(), see placement.ts).
 */
import type { BatchProducer, ConsumerPort, ProducerPort, RunnableConsumer } from "../client.js";
import { placeMessages } from "../placement.js";

export function kafkajsProducer(producer: BatchProducer): ProducerPort {
  return {
    client: "kafkajs",
    async write(topicMessages, options) {
      const records = await producer.sendBatch({ ...options, topicMessages });
      return { placements: placeMessages(topicMessages, records), records };
    },
  };
}

/**
 * kafkajs already stops on a non-retriable error from a handler (the consumer
 * crashes with restart: false) and retries a retriable one (`retry`, then
 * `retry.restartOnFailure`): the port's semantics as they are.
 */
export function kafkajsConsumer(consumer: RunnableConsumer): ConsumerPort {
  const events = consumer as Partial<GroupEvents>;
  return {
    client: "kafkajs",
    run: (config) => consumer.run(config),
    ...(typeof events.on === "function" && typeof events.events?.GROUP_JOIN === "string"
      ? { onGroupJoin: (listener: () => void) => void events.on!(events.events!.GROUP_JOIN, listener) }
      : {}),
  };
}

/** kafkajs's instrumentation events, as far as the port uses them. */
interface GroupEvents {
  on(event: string, listener: () => void): unknown;
  readonly events: { readonly GROUP_JOIN: string };
}
