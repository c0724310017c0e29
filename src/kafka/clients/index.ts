/**
 * Which adapter a client object gets, and loading a client package on demand.
 *
 * Nothing here imports a client: the adapters work on the objects the
 * application made with its own client, told apart by shape, and
 * `loadKafkaClient` loads a package only when asked to.
 */
import { createRequire } from "node:module";
import { KontractError } from "../../errors.js";
import { KAFKA_CLIENTS, type BatchProducer, type ConsumerPort, type KafkaClientName, type ProducerPort, type RunnableConsumer, type TransactionalProducerPort } from "../client.js";
import { KafkaClientMissingError } from "../errors.js";
import { confluentConsumer, confluentProducer, confluentTransactional, type ConfluentTransactionalProducer } from "./confluent.js";
import { kafkajsConsumer, kafkajsProducer, kafkajsTransactional, type KafkajsTransactionalProducer } from "./kafkajs.js";
import {
  isPlatformaticConsumer,
  isPlatformaticProducer,
  platformaticConsumer,
  platformaticProducer,
  platformaticTransactional,
  type PlatformaticConsumer,
  type PlatformaticConsumerControls,
  type PlatformaticProducer,
} from "./platformatic.js";

/** A producer kontract can wrap: kafkajs's, one of the KafkaJS API of @confluentinc/kafka-javascript, or @platformatic/kafka's. */
export type KafkaProducer = BatchProducer | PlatformaticProducer;
/**
 * A consumer kontract can wrap. Its `run` (or @platformatic/kafka's `consume`)
 * takes the client's own option types, which differ in detail between
 * clients: what the wrapper relies on is checked when it is wrapped
 * (consumerPort), not by the type.
 */
export type KafkaConsumer = { run(...args: never[]): Promise<void> } | PlatformaticConsumer;

/** What a wrapped consumer adds to the client's methods: @platformatic/kafka's get a partition hold (paused/resume) and a close that stops the run first. */
export type ConsumerControls<C> = C extends PlatformaticConsumer ? PlatformaticConsumerControls : unknown;

/** The Confluent client's KafkaJS producers and consumers have dependentAdmin(); kafkajs's do not. */
function isConfluent(client: object): boolean {
  return typeof (client as { dependentAdmin?: unknown }).dependentAdmin === "function";
}

export function producerPort(producer: KafkaProducer): ProducerPort {
  if (typeof producer === "object" && producer !== null) {
    if (isPlatformaticProducer(producer)) return platformaticProducer(producer);
    if (typeof (producer as Partial<BatchProducer>).sendBatch === "function") {
      const batchProducer = producer as BatchProducer;
      return isConfluent(producer) ? confluentProducer(batchProducer) : kafkajsProducer(batchProducer);
    }
  }
  throw new KontractError("usage", `not a Kafka producer: expected a producer of ${Object.values(KAFKA_CLIENTS).join(", ")}`);
}

/** A transactional producer (made with a transactional id) of any of the three clients, on the port. */
export function transactionalPort(producer: KafkaProducer): TransactionalProducerPort {
  if (typeof producer === "object" && producer !== null) {
    if (isPlatformaticProducer(producer)) return platformaticTransactional(producer);
    if (typeof (producer as { transaction?: unknown }).transaction === "function") {
      return isConfluent(producer) ? confluentTransactional(producer as unknown as ConfluentTransactionalProducer) : kafkajsTransactional(producer as unknown as KafkajsTransactionalProducer);
    }
  }
  throw new KontractError("usage", `not a transactional Kafka producer: expected a producer of ${Object.values(KAFKA_CLIENTS).join(", ")} made with a transactional id`);
}

export function consumerPort(consumer: KafkaConsumer): ConsumerPort {
  if (typeof consumer === "object" && consumer !== null) {
    if (isPlatformaticConsumer(consumer)) return platformaticConsumer(consumer);
    if (typeof (consumer as Partial<RunnableConsumer>).run === "function") {
      const runnable = consumer as unknown as RunnableConsumer;
      return isConfluent(consumer) ? confluentConsumer(runnable) : kafkajsConsumer(runnable);
    }
  }
  throw new KontractError("usage", `not a Kafka consumer: expected a consumer of ${Object.values(KAFKA_CLIENTS).join(", ")}`);
}

const requireHere = createRequire(import.meta.url);

function isMissing(e: unknown, packageName: string): boolean {
  const code = (e as { code?: unknown }).code;
  return (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") && String((e as Error).message).includes(packageName);
}

/**
 * A client package loaded synchronously (CommonJS ones: kafkajs,
 * @confluentinc/kafka-javascript; @platformatic/kafka is ESM: loadKafkaClient).
 * `why` names what needs it, for the error.
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
 * (`loadKafkaClient("platformatic")` needs Node >= 22.22, @platformatic/kafka's engines.)
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
