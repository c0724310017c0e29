/**
 * The consumer that stateful.test.ts kills: a stateful contract consumer of one group, on the
 * client named by KONTRACT_TEST_CLIENTS, printing one JSON line per record it handled. The wrapper
 * commits its offsets (docs/stateful.md, "Commits"; the Confluent client's consumer made with
 * autoCommit false), so when it is killed records it handled may have state changes not yet written
 * and offsets not yet committed. It never leaves the group on its own: the test ends it with SIGKILL.
 *
 *   node --import tsx test/integration/stateful-crash-child.ts '{"name","topic","group","applicationId","sessionTimeout"}'
 */
import { connectKafka, contractConsumer } from "../../src/kafka/index.js";
import { infraEndpoints } from "../helpers/infra.js";
import { clientsUnderTest, registryFor } from "./kafka-support.js";

export interface CrashChildArgs {
  readonly name: string;
  readonly topic: string;
  readonly group: string;
  readonly applicationId: string;
  readonly sessionTimeout: number;
}

/** What the child prints per record handled. */
export interface CrashChildLine {
  readonly consumer: string;
  readonly partition: number;
  readonly offset: string;
  readonly label: string;
  /** The rules the record failed (onFailure NONE: violations in the payload). */
  readonly failed: string[];
}

const args = JSON.parse(process.argv[2]!) as CrashChildArgs;
const infra = infraEndpoints();
const [client] = clientsUnderTest(() => infra);
if (client === undefined) throw new Error("KONTRACT_TEST_CLIENTS names no client");
const producer = await client.producer();
const consumer = contractConsumer(client.consumer({ groupId: args.group, sessionTimeout: args.sessionTimeout, heartbeatInterval: 500, autoCommit: false }), {
  registry: registryFor(infra),
  key: false,
  stateful: { applicationId: args.applicationId, access: await connectKafka("kafkajs", infra.brokers), producer, commits: "wrapper" },
});
await consumer.connect();
await consumer.subscribe({ topics: [args.topic], fromBeginning: true });
await consumer.run({
  eachMessage: async ({ partition, message, value, violations }) => {
    const line: CrashChildLine = { consumer: args.name, partition, offset: message.offset, label: (value as { order: string }).order, failed: violations.map((v) => v.rule ?? "") };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  },
});
