/**
 * Which adapter a client object gets, and loading a client package on demand.
 *
 * Nothing here imports a client: the adapters work on the objects the
 * application made with its own client, told apart by shape, and
 * `loadKafkaClient` loads a package only when asked to.
 */
import { createRequire } from "node:module";
import { KontractError } from "../../errors.js";
import { KAFKA_CLIENTS, type BatchProducer, type ConsumerPort, type KafkaClientName, type ProducerPort, type RunnableConsumer } from "../client.js";
import { KafkaClientMissingError } from "../errors.js";
import { confluentConsumer, confluentProducer } from "./confluent.js";
import { kafkajsConsumer, kafkajsProducer } from "./kafkajs.js";

/** A producer kontract can wrap: kafkajs's, or one of the KafkaJS API of @confluentinc/kafka-javascript. */
export type KafkaProducer = BatchProducer;
/**
 * A consumer kontract can wrap. Its `run` takes the client's own option types,
 * which differ in detail between clients: what the wrapper relies on is
 * checked when it is wrapped (consumerPort), not by the type.
 */
export interface KafkaConsumer {
  run(...args: never[]): Promise<void>;
}

/** The Confluent client's KafkaJS producers and consumers have dependentAdmin(); kafkajs's do not. */
function isConfluent(client: object): boolean {
  return typeof (client as { dependentAdmin?: unknown }).dependentAdmin === "function";
}

export function producerPort(producer: KafkaProducer): ProducerPort {
  if (typeof producer !== "object" || producer === null || typeof producer.sendBatch !== "function") {
    throw new KontractError("usage", `not a Kafka producer: expected a producer of ${Object.values(KAFKA_CLIENTS).join(", ")}`);
  }
  return isConfluent(producer) ? confluentProducer(producer) : kafkajsProducer(producer);
}

export function consumerPort(consumer: KafkaConsumer): ConsumerPort {
  if (typeof consumer !== "object" || consumer === null || typeof consumer.run !== "function") {
    throw new KontractError("usage", `not a Kafka consumer: expected a consumer of ${Object.values(KAFKA_CLIENTS).join(", ")}`);
  }
  const runnable = consumer as unknown as RunnableConsumer;
  return isConfluent(consumer) ? confluentConsumer(runnable) : kafkajsConsumer(runnable);
}

const requireHere = createRequire(import.meta.url);

function isMissing(e: unknown, packageName: string): boolean {
  const code = (e as { code?: unknown }).code;
  return (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") && String((e as Error).message).includes(packageName);
}

/**
 * A client package loaded synchronously (CommonJS ones: kafkajs,
 * @confluentinc/kafka-javascript). `why` names what needs it, for the error.
 */
export function requireKafkaClient<M>(name: KafkaClientName, why: string): M {
  return requireOptional<M>(KAFKA_CLIENTS[name], why);
}

/** `require(packageName)`, or a KafkaClientMissingError naming it when it is not installed. */
export function requireOptional<M>(packageName: string, why: string): M {
  try {
    return requireHere(packageName) as M;
  } catch (e) {
    if (isMissing(e, packageName)) throw new KafkaClientMissingError(packageName, why, e);
    throw e;
  }
}

/**
 * Loads a client package on demand: `await loadKafkaClient("confluent")` is
 * `import("@confluentinc/kafka-javascript")`, with a KafkaClientMissingError
 * naming the package to install when it is not there.
 */
export function loadKafkaClient<M = unknown>(name: KafkaClientName): Promise<M> {
  return importOptional<M>(KAFKA_CLIENTS[name], `loadKafkaClient("${name}")`);
}

/** `import(packageName)`, or a KafkaClientMissingError naming it when it is not installed. */
export async function importOptional<M>(packageName: string, why: string): Promise<M> {
  try {
    return (await import(packageName)) as M;
  } catch (e) {
    if (isMissing(e, packageName)) throw new KafkaClientMissingError(packageName, why, e);
    throw e;
  }
}
