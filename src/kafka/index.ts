/**
 * kafkajs with data contracts: a producer and a consumer wrapper that run the
 * rules, and dead-letter routing. The only folder that imports kafkajs.
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
  type ConsumerSideOptions,
  type DecodedMessage,
} from "./consumer.js";
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
export { ConsumeError, DeadLetterError, ProduceRejectedError, SendError, kontractCause, type RejectedMessage } from "./errors.js";
export { trackingPartitioner, type Placement } from "./placement.js";
export type { ConsumedDeadLetter, ContractSendResult, DeadLetteredReport, MessageReport, SentReport } from "./reports.js";
