/**
 * Serializing a value for a topic: resolve the contract, run the WRITE rules,
 * encode, run the encoding rules, frame in the Confluent wire format.
 */
import type { Contract } from "../contract/model.js";
import { SerializationError } from "../errors.js";
import { untouched, type FailedOutcome, type Outcome, type PassedOutcome } from "../engine/index.js";
import type { CompiledSchema, ProtobufCompiledSchema } from "../format/types.js";
import { encodeFrame, prefixLength, schemaIdHeader, schemaIdHeaderName, writePrefix, type Allocator, type SchemaRef } from "../wire/index.js";
import { then, type MaybePromise } from "../util/maybe.js";
import { messageBuffer } from "../util/message-buffers.js";
import type { ContractStore, ResolvedContract } from "./contracts.js";
import { subjectName, type SubjectNameStrategy } from "./subject.js";

/** Which registered version a producer writes with (Confluent's schema resolution options). */
export type WriterSchema =
  /** The subject's latest version (use.latest.version). */
  | { use: "latest" }
  /** The latest version whose metadata properties contain these pairs (use.latest.with.metadata). */
  | { use: "latest-with-metadata"; metadata: Readonly<Record<string, string>> }
  /** A fixed version of the subject. */
  | { use: "version"; version: number }
  /** A fixed schema id (use.schema.id). */
  | { use: "id"; id: number }
  /** Register the contract if needed, then use it (auto.register.schemas). */
  | { use: "auto-register"; contract: Contract }
  /** The registered version of this contract (lookup). */
  | { use: "lookup"; contract: Contract };

export interface SerializerOptions {
  store: ContractStore;
  isKey?: boolean;
  subjectNameStrategy?: SubjectNameStrategy;
  /** The record's full name, for the record and topic-record strategies. */
  recordName?: string;
  writerSchema?: WriterSchema;
  /** Write the schema id as a `__key_schema_id`/`__value_schema_id` header (GUID form) instead of a prefix. */
  schemaIdInHeader?: boolean;
}

export type SerializeResult =
  | {
      readonly kind: "serialized";
      /**
       * The framed message. Up to 4 KB, usually a view on a 32 KB slab shared
       * with other messages (util/message-buffers.ts), which it keeps alive:
       * copy it to keep it long.
       */
      readonly bytes: Uint8Array;
      /** The schema id header to send, when schemaIdInHeader is set. */
      readonly header: { readonly name: string; readonly value: Uint8Array } | undefined;
      readonly outcome: PassedOutcome;
      readonly contract: ResolvedContract;
    }
  | {
      /** A rule failed with ERROR or DLQ: nothing was encoded. */
      readonly kind: "failed";
      readonly outcome: FailedOutcome;
      readonly contract: ResolvedContract;
    };

export interface Serializer {
  readonly isKey: boolean;
  /** Returns synchronously once the contract is cached (and no JSONata rule runs). */
  serialize(topic: string, value: unknown): MaybePromise<SerializeResult>;
  /**
   * The outcome serialize would give the value, its refusals thrown alike,
   * without encoding it where the schema can check without writing
   * (CompiledSchema.checkEncodes) and no encoding rule needs the bytes: for
   * callers that want the verdict only (`kontract check`).
   */
  verdict(topic: string, value: unknown): MaybePromise<Outcome>;
  subject(topic: string): string;
}

export function createSerializer(options: SerializerOptions): Serializer {
  const { store } = options;
  const isKey = options.isKey ?? false;
  const strategy = options.subjectNameStrategy ?? "topic";
  const writer = options.writerSchema ?? { use: "latest" };
  const subjects = new Map<string, string>();
  const registered = new Map<string, Promise<ResolvedContract> | ResolvedContract>();

  // A producer mostly writes to one topic: its subject is kept at hand, without a Map lookup per message.
  let lastTopic: string | undefined;
  let lastSubject = "";
  const subject = (topic: string): string => {
    if (topic === lastTopic) return lastSubject;
    let s = subjects.get(topic);
    if (s === undefined) {
      s = subjectName(strategy, topic, isKey, options.recordName);
      subjects.set(topic, s);
    }
    lastTopic = topic;
    lastSubject = s;
    return s;
  };

  const resolve = (s: string): MaybePromise<ResolvedContract> => {
    switch (writer.use) {
      case "latest":
        return store.latest(s);
      case "latest-with-metadata":
        return store.latestWithMetadata(s, writer.metadata);
      case "version":
        return store.byVersion(s, writer.version);
      case "id":
        return store.byId(s, writer.id);
      case "auto-register":
      case "lookup": {
        let r = registered.get(s);
        if (!r) {
          const p = writer.use === "auto-register" ? store.register(s, writer.contract) : store.lookup(s, writer.contract);
          registered.set(
            s,
            (r = p.then(
              (v) => (registered.set(s, v), v),
              (e: unknown) => {
                registered.delete(s);
                throw e;
              },
            )),
          );
        }
        return r;
      }
    }
  };

  const inHeader = options.schemaIdInHeader ?? false;
  const withContract = (contract: ResolvedContract, topic: string, value: unknown): MaybePromise<SerializeResult> =>
    serializeWith(contract, topic, value, isKey, inHeader);

  return {
    isKey,
    subject,
    serialize(topic, value) {
      const contract = resolve(subject(topic));
      // Hot path: a cached contract and synchronous rules allocate no closure and no Promise.
      return contract instanceof Promise ? contract.then((c) => withContract(c, topic, value)) : withContract(contract, topic, value);
    },
    verdict(topic, value) {
      const contract = resolve(subject(topic));
      return contract instanceof Promise ? contract.then((c) => verdictWith(c, topic, value, isKey, inHeader)) : verdictWith(contract, topic, value, isKey, inHeader);
    },
  };
}

function serializeWith(contract: ResolvedContract, topic: string, value: unknown, isKey: boolean, inHeader: boolean): MaybePromise<SerializeResult> {
  const plan = contract.plan;
  const message = plan.schema.coerce(value);
  if (plan.write.empty) return encode(contract, untouched(message), topic, isKey, inHeader);
  const outcome = plan.write.run(message, { topic, isKey });
  return outcome instanceof Promise ? outcome.then((o) => encode(contract, o, topic, isKey, inHeader)) : encode(contract, outcome, topic, isKey, inHeader);
}

function verdictWith(contract: ResolvedContract, topic: string, value: unknown, isKey: boolean, inHeader: boolean): MaybePromise<Outcome> {
  const plan = contract.plan;
  const schema = plan.schema;
  // Where the frame could not be written (no id or guid for it), or bytes are needed, serialize gives the verdict.
  const framable = inHeader ? contract.guid !== undefined : contract.id !== undefined;
  if (schema.checkEncodes === undefined || !plan.encodeWrite.empty || !framable) return then(serializeWith(contract, topic, value, isKey, inHeader), (r) => r.outcome);
  const message = schema.coerce(value);
  if (plan.write.empty) {
    schema.checkEncodes(message);
    return untouched(message);
  }
  const outcome = plan.write.run(message, { topic, isKey });
  // No closure for then(): this runs once per message.
  if (outcome instanceof Promise) return outcome.then((o) => checkedOutcome(schema, o));
  return checkedOutcome(schema, outcome);
}

function checkedOutcome(schema: CompiledSchema, o: Outcome): Outcome {
  if (o.kind !== "failed") schema.checkEncodes!(o.value);
  return o;
}

/** After the WRITE rules: encode, run the encoding rules, frame. */
function encode(contract: ResolvedContract, o: Outcome, topic: string, isKey: boolean, inHeader: boolean): MaybePromise<SerializeResult> {
  if (o.kind === "failed") return { kind: "failed", outcome: o, contract };
  const plan = contract.plan;
  if (plan.encodeWrite.empty) {
    if (inHeader) return framedInHeader(contract, o, plan.schema.encode(o.value), isKey);
    // Hot path: the payload is encoded behind room for the prefix, which is then written in place.
    const ref = prefixRef(contract);
    const bytes = plan.schema.encode(o.value, prefixLength(ref));
    writePrefix(ref, bytes, 0);
    return { kind: "serialized", bytes, header: undefined, outcome: o, contract };
  }
  const payload = plan.schema.encode(o.value);
  return then(plan.encodeWrite.run(payload, { topic, isKey }), (enc): SerializeResult => {
    if (enc.kind === "failed") return { kind: "failed", outcome: enc, contract };
    if (!(enc.value instanceof Uint8Array)) throw new SerializationError("wire-format", "an encoding rule did not return bytes");
    if (inHeader) return framedInHeader(contract, o, enc.value, isKey);
    return { kind: "serialized", bytes: encodeFrame(prefixRef(contract), enc.value, allocBuffer), header: undefined, outcome: o, contract };
  });
}

/** The payload as is, and the schema id (GUID form) as a header. */
function framedInHeader(contract: ResolvedContract, o: PassedOutcome, bytes: Uint8Array, isKey: boolean): SerializeResult {
  if (!contract.guid) throw new SerializationError("wire-format", `schema id ${contract.id} of ${contract.subject} has no guid for the header form`);
  const header = { name: schemaIdHeaderName(isKey), value: schemaIdHeader({ guid: contract.guid, indexes: messageIndexes(contract) }, allocBuffer) };
  return { kind: "serialized", bytes, header, outcome: o, contract };
}

/** What the wire prefix names: the numeric schema id, and the message indexes for Protobuf. */
function prefixRef(contract: ResolvedContract): SchemaRef {
  if (contract.id === undefined) throw new SerializationError("wire-format", `schema ${contract.guid} of ${contract.subject} has no numeric id for the prefix form`);
  return { id: contract.id, indexes: messageIndexes(contract) };
}

function messageIndexes(contract: ResolvedContract): readonly number[] | undefined {
  const schema = contract.plan.schema;
  return schema.type === "PROTOBUF" ? (schema as ProtobufCompiledSchema).messageIndexes : undefined;
}

/** Node Buffers, so kafkajs sends the bytes without copying them; from the message slabs, as every serialized message. */
const allocBuffer: Allocator = messageBuffer;
