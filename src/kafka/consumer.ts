/**
 * A kafkajs consumer whose `run` decodes every record through the data
 * contracts before the handler sees it.
 *
 * Offsets: a dead-lettered record counts as processed only once its DLQ write
 * has been acknowledged. A handler error, an ERROR rule, a failed DLQ write or
 * a registry that cannot be reached all throw, so kafkajs does not commit the
 * record's offset and reads it again (after retrying, or after a restart).
 */
import type { Consumer, ConsumerRunConfig, EachBatchPayload, EachMessagePayload, KafkaMessage, Message } from "kafkajs";
import type { FailedOutcome } from "../engine/index.js";
import type { KontractError, Violation } from "../errors.js";
import { createDeserializer, type Deserializer, type ReaderSchema } from "../serde/index.js";
import { createContracts, isPoisonPill, subjectExists, type Contracts, type ContractsOptions, type SubjectOptions } from "./contracts.js";
import { createDeadLetterSender, deadLetterRecord, resolveDlqTopic, type DeadLetterCause } from "./dlq.js";
import { ConsumeError, rememberThrown } from "./errors.js";
import type { DlqOptions } from "./producer.js";
import type { ConsumedDeadLetter } from "./reports.js";

/** How one side (key or value) is read. */
export interface ConsumerSideOptions extends SubjectOptions {
  /**
   * The version to read as. Default `{ use: "writer" }`: the version the record
   * was written with. "latest" / "latest-with-metadata" run the migration rules
   * (UPGRADE or DOWNGRADE) from the writer's version to that one.
   */
  readerSchema?: ReaderSchema;
}

export interface ContractConsumerOptions extends ContractsOptions {
  value?: ConsumerSideOptions;
  /** As for the producer: "auto" (default) decodes keys when the key subject exists; false hands keys over as bytes. */
  key?: "auto" | boolean;
  keySerde?: ConsumerSideOptions;
  /** DLQ topic and producer. Without a producer, a record to dead-letter stops the consumer (nothing is skipped). */
  dlq?: DlqOptions;
  /**
   * Records whose bytes cannot be read (not the wire format, unknown schema id,
   * undecodable payload): "dlq" (default) dead-letters them, "fail" throws a
   * non-retriable ConsumeError, which stops the consumer.
   */
  poisonPill?: "dlq" | "fail";
  /**
   * A rule with onFailure ERROR throws a ConsumeError. "stop" (default) makes
   * it non-retriable: kafkajs stops the consumer without committing the record.
   * "retry" makes it retriable: kafkajs retries it (consumer `retry` options),
   * then restarts the consumer unless `retry.restartOnFailure` says no.
   */
  onError?: "stop" | "retry";
  /** Called after each record's DLQ write succeeded. A throw is handled like a handler error. */
  onDeadLetter?: (record: ConsumedDeadLetter) => void;
}

/** A record as the handler sees it. */
export interface DecodedMessage<V = unknown, K = unknown> {
  /** The decoded key, or the key bytes as consumed when the topic has no key contract. */
  readonly key: K | Buffer | null;
  /** The decoded (migrated, transformed) value; null for a tombstone. */
  readonly value: V | null;
  /** Rule failures that let the record through (onFailure NONE or a custom action), key and value. */
  readonly violations: readonly Violation[];
  /** The record as consumed. */
  readonly message: KafkaMessage;
}

export interface ContractEachMessagePayload<V = unknown, K = unknown> extends EachMessagePayload {
  readonly key: K | Buffer | null;
  readonly value: V | null;
  readonly violations: readonly Violation[];
}

export interface ContractEachBatchPayload<V = unknown, K = unknown> extends EachBatchPayload {
  /**
   * The batch's records that passed, decoded, in offset order. `batch.messages`
   * still holds every record as consumed. Resolving a record's offset also
   * resolves the dead-lettered records right after it.
   */
  readonly messages: readonly DecodedMessage<V, K>[];
  /** The batch's records that went to the DLQ (already written and acknowledged). */
  readonly deadLettered: readonly ConsumedDeadLetter[];
}

export interface ContractRunConfig<V = unknown, K = unknown> extends Omit<ConsumerRunConfig, "eachMessage" | "eachBatch"> {
  eachMessage?: (payload: ContractEachMessagePayload<V, K>) => Promise<void>;
  eachBatch?: (payload: ContractEachBatchPayload<V, K>) => Promise<void>;
}

/** The wrapped consumer: kafkajs's Consumer, with a contract-aware run. */
export type ContractConsumer<V = unknown, K = unknown> = Omit<Consumer, "run"> & {
  run(config: ContractRunConfig<V, K>): Promise<void>;
  /** The consumer underneath. */
  readonly consumer: Consumer;
};

type Decoded =
  | { readonly kind: "ok"; readonly key: unknown; readonly value: unknown; readonly violations: readonly Violation[] }
  | { readonly kind: "dead"; readonly dlqTopic: string; readonly record: Message; readonly report: ConsumedDeadLetter };

const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);

export function contractConsumer<V = unknown, K = unknown>(consumer: Consumer, options: ContractConsumerOptions): ContractConsumer<V, K> {
  const contracts = createContracts(options);
  const valueReader = sideDeserializer(contracts, false, options.value ?? {});
  const keyReader = sideDeserializer(contracts, true, options.keySerde ?? {});
  const keyMode = options.key ?? "auto";
  const keyExists = subjectExists(contracts.registry);
  const poisonPolicy = options.poisonPill ?? "dlq";
  const retryErrors = (options.onError ?? "stop") === "retry";
  const sender = createDeadLetterSender({
    producer: options.dlq?.producer,
    ...(options.dlq?.timeout === undefined ? {} : { timeout: options.dlq.timeout }),
  });

  /** Decodes one side. Resolves to the value, or to the reason the record stops here. */
  async function readSide(
    reader: Deserializer,
    topic: string,
    bytes: Buffer,
    message: KafkaMessage,
  ): Promise<{ kind: "ok"; value: unknown; violations: readonly Violation[] } | { kind: "failed"; outcome: FailedOutcome } | { kind: "poison"; error: KontractError }> {
    try {
      const r = await reader.deserialize(topic, bytes, message.headers);
      return r.kind === "failed" ? { kind: "failed", outcome: r.outcome } : { kind: "ok", value: r.value, violations: r.outcome.violations };
    } catch (e) {
      // Retriable errors (registry down) propagate: kafkajs retries, nothing is dead-lettered.
      if (isPoisonPill(e)) return { kind: "poison", error: e };
      throw e;
    }
  }

  async function decode(topic: string, partition: number, message: KafkaMessage): Promise<Decoded> {
    const where = { topic, partition, offset: message.offset };
    let key: unknown = message.key;
    let violations = NO_VIOLATIONS;
    const stop = (isKey: boolean, r: { kind: "failed"; outcome: FailedOutcome } | { kind: "poison"; error: KontractError }): Decoded => {
      const all = r.kind === "failed" ? (violations.length ? [...violations, ...r.outcome.violations] : r.outcome.violations) : violations;
      if (r.kind === "poison" && poisonPolicy === "fail") throw new ConsumeError({ ...where, isKey }, r.error, all, false);
      if (r.kind === "failed" && r.outcome.action === "ERROR") throw new ConsumeError({ ...where, isKey }, r.outcome.error, all, retryErrors);
      const cause: DeadLetterCause = r.kind === "failed" ? { kind: "rule", outcome: r.outcome, violations: all } : { kind: "poison-pill", error: r.error };
      const dlqTopic = resolveDlqTopic(options.dlq?.topic, topic, r.kind === "failed" ? r.outcome.dlqTopic : undefined);
      return {
        kind: "dead",
        dlqTopic,
        record: deadLetterRecord({ key: message.key, value: message.value, headers: message.headers, origin: where, cause }),
        report: {
          ...where,
          dlqTopic,
          reason: r.kind === "failed" ? "rule" : "poison-pill",
          rule: r.kind === "failed" ? r.outcome.rule.name : undefined,
          isKey,
          violations: all,
          error: r.kind === "failed" ? r.outcome.error : r.error,
        },
      };
    };
    if (message.key !== null && message.key !== undefined && (keyMode === "auto" ? await keyExists(keyReader.subject(topic)) : keyMode)) {
      const r = await readSide(keyReader, topic, message.key, message);
      if (r.kind !== "ok") return stop(true, r);
      key = r.value;
      violations = r.violations;
    }
    if (message.value === null) return { kind: "ok", key, value: null, violations };
    const r = await readSide(valueReader, topic, message.value, message);
    if (r.kind !== "ok") return stop(false, r);
    return { kind: "ok", key, value: r.value, violations: violations.length ? [...violations, ...r.violations] : r.violations };
  }

  async function deadLetter(list: readonly (Decoded & { kind: "dead" })[]): Promise<void> {
    await sender.send(list.map((d) => ({ topic: d.dlqTopic, message: d.record })));
    if (options.onDeadLetter) for (const d of list) options.onDeadLetter(d.report);
  }

  function wrapEachMessage(handler: NonNullable<ContractRunConfig<V, K>["eachMessage"]>): NonNullable<ConsumerRunConfig["eachMessage"]> {
    return async (payload) => {
      try {
        const d = await decode(payload.topic, payload.partition, payload.message);
        if (d.kind === "dead") return await deadLetter([d]);
        await handler({ ...payload, key: d.key as K | Buffer | null, value: d.value as V | null, violations: d.violations });
      } catch (e) {
        throw rememberThrown(e);
      }
    };
  }

  function wrapEachBatch(
    handler: NonNullable<ContractRunConfig<V, K>["eachBatch"]>,
    autoResolve: boolean,
  ): NonNullable<ConsumerRunConfig["eachBatch"]> {
    const run = async (payload: EachBatchPayload): Promise<void> => {
      const { batch } = payload;
      const entries: { offset: string; d: Decoded; message: KafkaMessage }[] = [];
      // Decode in order up to the first record that must stop the batch; the ones before it are delivered.
      let failure: unknown;
      let failed = false;
      for (const message of batch.messages) {
        try {
          entries.push({ offset: message.offset, d: await decode(batch.topic, batch.partition, message), message });
        } catch (e) {
          failure = e;
          failed = true;
          break;
        }
      }
      const dead = entries.filter((e): e is typeof e & { d: { kind: "dead" } } => e.d.kind === "dead");
      // No offset moves before the DLQ writes are acknowledged.
      if (dead.length > 0) await deadLetter(dead.map((e) => e.d));

      // Resolving a record also resolves the dead-lettered records right after it.
      const resolveThrough = (i: number): void => {
        let j = i;
        while (j + 1 < entries.length && entries[j + 1]!.d.kind === "dead") j++;
        payload.resolveOffset(entries[j]!.offset);
      };
      const firstGood = entries.findIndex((e) => e.d.kind === "ok");
      if (firstGood !== 0 && dead.length > 0) {
        // Leading dead letters are done: nothing before them is pending.
        resolveThrough(0);
      }
      const good: DecodedMessage<V, K>[] = [];
      const position = new Map<string, number>();
      entries.forEach((e, i) => {
        if (e.d.kind !== "ok") return;
        position.set(e.offset, i);
        good.push({ key: e.d.key as K | Buffer | null, value: e.d.value as V | null, violations: e.d.violations, message: e.message });
      });
      if (good.length > 0) {
        await handler({
          ...payload,
          messages: good,
          deadLettered: dead.map((e) => (e.d as Decoded & { kind: "dead" }).report),
          resolveOffset: (offset) => {
            const i = position.get(offset);
            if (i === undefined) payload.resolveOffset(offset);
            else resolveThrough(i);
          },
        });
      }
      if (failed) {
        // The handler returned: with auto-resolve, everything before the failing record is processed.
        if (autoResolve && entries.length > 0) payload.resolveOffset(entries[entries.length - 1]!.offset);
        throw failure;
      }
    };
    return (payload) => run(payload).catch((e: unknown) => Promise.reject(rememberThrown(e)));
  }

  return {
    ...consumer,
    consumer,
    run: (config) => {
      const { eachMessage, eachBatch, ...rest } = config;
      const wrapped: ConsumerRunConfig = { ...rest };
      if (eachMessage) wrapped.eachMessage = wrapEachMessage(eachMessage);
      if (eachBatch) wrapped.eachBatch = wrapEachBatch(eachBatch, config.eachBatchAutoResolve ?? true);
      return consumer.run(wrapped);
    },
  };
}

function sideDeserializer(contracts: Contracts, isKey: boolean, side: ConsumerSideOptions): Deserializer {
  return createDeserializer({
    store: contracts.store(side),
    isKey,
    ...(side.subjectNameStrategy === undefined ? {} : { subjectNameStrategy: side.subjectNameStrategy }),
    ...(side.recordName === undefined ? {} : { recordName: side.recordName }),
    ...(side.readerSchema === undefined ? {} : { readerSchema: side.readerSchema }),
  });
}
