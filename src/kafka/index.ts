/**
 * Kafka clients with data contracts: a producer and a consumer wrapper that
 * run the rules, and dead-letter routing, on kafkajs or the KafkaJS API of
 * @confluentinc/kafka-javascript (see client.ts for the port, clients/ for the
 * adapters). No client is imported: each is an optional peer dependency.
 */
export {
  contractProducer,
  type ContractMessage,
  type ContractProducer,
  type ContractProducerBatch,
  type ContractProducerOptions,
  type ContractProducerRecord,
  type ContractTopicMessages,
  type DlqOptions,
  type ProducerSideOptions,
} from "./producer.js";
export {
  contractConsumer,
  type ContractConsumer,
  type ContractConsumerOptions,
  type ContractEachBatchPayload,
  type ContractEachMessagePayload,
  type ContractRunConfig,
  type ConsumerRetryOptions,
  type ConsumerSideOptions,
  type DecodedMessage,
} from "./consumer.js";
export { RETRY_DEFAULTS, RETRY_HEADERS, retryTopicName, retryTopics, type RetryBackoff, type RetryOn, type RetryOptions } from "./retry.js";
export type { ContractsOptions, SubjectOptions } from "./contracts.js";
export {
  DLQ_HEADERS,
  createDeadLetterSender,
  deadLetterRecord,
  defaultDlqTopic,
  resolveDlqTopic,
  writeForm,
  type BatchSender,
  type DeadLetterCause,
  type DeadLetterInput,
  type DeadLetterSender,
  type DlqTopicOption,
} from "./dlq.js";
export {
  REPLAY_HEADERS,
  replayVerifier,
  signReplay,
  type ReplayKey,
  type ReplayOptions,
  type ReplayVerifier,
  type UnverifiedReplay,
} from "./replay.js";
export { ConsumeError, DeadLetterError, KafkaClientMissingError, ParkError, ProduceRejectedError, SendError, TransactionError, kontractCause, type RejectedMessage } from "./errors.js";
export {
  KAFKA_CLIENTS,
  type Batch,
  type ConsumedMessage,
  type ConsumerPort,
  type EachBatchPayload,
  type EachMessagePayload,
  type KafkaClientName,
  type OutgoingMessage,
  type ProducerPort,
  type RecordHeaders,
  type RecordMetadata,
  type TopicMessages,
  type WriteOptions,
} from "./client.js";
export { consumerPort, loadKafkaClient, producerPort, type KafkaConsumer, type KafkaProducer } from "./clients/index.js";
export { trackingPartitioner, type PartitionerFactory, type Placement } from "./placement.js";
export type { ConsumedDeadLetter, ContractSendResult, DeadLetteredReport, MessageReport, ParkedRecord, RetriedRecord, SentReport } from "./reports.js";
export type { ParkOptions } from "./parking/runner.js";
export { defaultParkTopic, ensureParkTopic, listParks, releasePark, type ParkFilter, type ParkSummary, type ReleaseResult } from "./parking/tools.js";
export type { ParkHead } from "./parking/state.js";
export {
  NO_RULE,
  deadLetterMatches,
  deadLetterStats,
  parseDeadLetter,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStats,
} from "./dead-letters.js";
export {
  REPLAY_SOURCE_HEADER,
  connectKafka,
  readDeadLetters,
  readTopic,
  replayDeadLetters,
  replayLedgerTopic,
  type KafkaAccess,
  type ReadOptions,
  type ReplayDeadLettersOptions,
  type ReplayPlanEntry,
  type ReplayReport,
} from "./dead-letter-tools.js";
export { changelogTopic, statefulStage, type GroupReport, type StatefulOptions, type StatefulStage } from "./stateful.js";
export type { ExactlyOnceOptions } from "./exactly-once.js";
