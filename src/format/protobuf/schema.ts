/**
 * The compiled schema of one message of a .proto file. Messages of the same
 * file share one registry, field catalog and cache, so switching messages by
 * wire indexes costs a map lookup.
 */
import {
  create,
  fromBinary,
  fromJson,
  isMessage,
  toBinary,
  toJson,
  type DescFile,
  type DescMessage,
  type FileRegistry,
  type JsonValue,
  type Message,
} from "@bufbuild/protobuf";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import type { CelShape } from "../../cel/shape.js";
import type { Metadata } from "../../contract/model.js";
import { SerializationError } from "../../errors.js";
import { capList, capText } from "../../util/cap.js";
import type { FieldInfo, FieldWalker, JsonRedactor, ProtobufCompiledSchema, SchemaProblem } from "../types.js";
import { FieldCatalog } from "./fields.js";
import { messageIndexesOf } from "./registry.js";
import { typeNameOf, validateMessage } from "./validate.js";
import { compileWalker } from "./walker.js";
import { compileJsonRedaction } from "./redact.js";
import { withHeadroom } from "../headroom.js";
import { fastEncoder, type FastEncoder } from "./encode.js";
import { messageCelShape } from "./cel-shape.js";

/**
 * A compiled Protobuf schema. Values are protobuf-es v2 messages; `encode`,
 * `validate` and `toJson` also take plain init objects, as `create()` does.
 */
export interface ProtobufSchema extends ProtobufCompiledSchema<Message> {
  /** Every file the schema uses, for protobuf-es and the CEL runtime (Any, nested types). */
  readonly registry: FileRegistry;
  readonly file: DescFile;
  readonly desc: DescMessage;
  /** The file as protoc would describe it; Confluent's serializers register it base64-encoded. */
  readonly fileDescriptor: FileDescriptorProto;
  forIndexes(indexes: readonly number[]): ProtobufSchema;
  forName(fullName: string): ProtobufSchema;
}

/** State shared by the messages of one compiled file. */
export class ProtobufFile {
  readonly catalog: FieldCatalog;
  private readonly byDesc = new Map<DescMessage, ProtobufSchemaImpl>();
  private readonly topLevel: ProtobufSchemaImpl[] = [];

  constructor(
    readonly registry: FileRegistry,
    readonly file: DescFile,
    metadata: Metadata | undefined,
  ) {
    this.catalog = new FieldCatalog(metadata);
  }

  schemaFor(desc: DescMessage): ProtobufSchemaImpl {
    let schema = this.byDesc.get(desc);
    if (!schema) {
      schema = new ProtobufSchemaImpl(this, desc);
      this.byDesc.set(desc, schema);
    }
    return schema;
  }

  forIndexes(indexes: readonly number[]): ProtobufSchemaImpl {
    // the hot path: a top-level message, one array read
    const top = indexes.length === 1 ? this.topLevel[indexes[0]!] : undefined;
    if (top) return top;
    // The walk stops at the first index that names nothing, so it costs no more
    // than the file's nesting depth however many indexes the bytes claim.
    let desc: DescMessage | undefined = this.file.messages[indexes[0] ?? -1];
    for (let i = 1; desc && i < indexes.length; i++) desc = desc.nestedMessages[indexes[i]!];
    if (!desc) {
      throw new SerializationError(
        "wire-format",
        `message indexes ${capList(indexes, "indexes")} name no message in the schema (top-level messages: ${capList(this.file.messages.map((m) => m.name), "messages")})`,
      );
    }
    const schema = this.schemaFor(desc);
    if (indexes.length === 1) this.topLevel[indexes[0]!] = schema;
    return schema;
  }

  forName(fullName: string): ProtobufSchemaImpl {
    const name = fullName.replace(/^\./, "");
    const desc = this.registry.getMessage(name);
    if (!desc || desc.file !== this.file) {
      throw new SerializationError("wire-format", `message ${name} is not declared in the schema`);
    }
    return this.schemaFor(desc);
  }
}

class ProtobufSchemaImpl implements ProtobufSchema {
  readonly type = "PROTOBUF";
  readonly celShape: CelShape;
  readonly messageIndexes: readonly number[];
  private fieldList: readonly FieldInfo[] | undefined;
  private readonly walkers = new Map<string, FieldWalker<Message>>();
  /** The compiled encoder, once asked for; null when the type is outside its subset. */
  private fast: FastEncoder | null | undefined;

  constructor(
    private readonly owner: ProtobufFile,
    readonly desc: DescMessage,
  ) {
    this.messageIndexes = Object.freeze(messageIndexesOf(desc));
    this.celShape = messageCelShape(desc);
  }

  get name(): string {
    return this.desc.typeName;
  }
  get registry(): FileRegistry {
    return this.owner.registry;
  }
  get file(): DescFile {
    return this.owner.file;
  }
  get fileDescriptor(): FileDescriptorProto {
    return this.owner.file.proto;
  }
  get fields(): readonly FieldInfo[] {
    return (this.fieldList ??= Object.freeze(this.owner.catalog.list(this.desc)));
  }

  forIndexes(indexes: readonly number[]): ProtobufSchema {
    return this.owner.forIndexes(indexes);
  }
  forName(fullName: string): ProtobufSchema {
    return this.owner.forName(fullName);
  }

  /**
   * A message of this type as is; a plain init object through `create()`, without
   * checking it (validate and encode do). Throws SerializationError for anything else.
   */
  coerce(value: unknown): Message {
    if (isMessage(value, this.desc)) return value;
    if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      throw new SerializationError("message-invalid", `expected a ${this.desc.typeName} message or init object, got ${value === null ? "null" : typeof value}`);
    }
    const typeName = (value as { $typeName?: unknown }).$typeName;
    if (typeName !== undefined) {
      throw new SerializationError("message-invalid", `expected a ${this.desc.typeName} message, got ${typeNameOf(typeName)}`);
    }
    try {
      return create(this.desc, value as never);
    } catch (e) {
      throw new SerializationError("message-invalid", `cannot build a ${this.desc.typeName} message from the value: ${reason(e)}`, { cause: e });
    }
  }

  validate(value: unknown): SchemaProblem[] | undefined {
    try {
      return validateMessage(this.desc, value);
    } catch (e) {
      // The check recurses: a value nested deeper than the stack is invalid, wherever.
      return [{ path: "", message: reason(e) }];
    }
  }

  encode(value: Message, headroom = 0): Uint8Array {
    // The compiled pass checks and writes in one go; it answers undefined for anything it is not sure of.
    const fast = (this.fast ??= fastEncoder(this.desc) ?? null);
    const bytes = fast === null ? undefined : fast(value, headroom);
    if (bytes !== undefined) return bytes;
    const message = this.toMessage(value);
    try {
      return withHeadroom(toBinary(this.desc, message), headroom);
    } catch (e) {
      throw new SerializationError("message-invalid", `cannot encode ${this.desc.typeName}: ${errorMessage(e)}`, { cause: e });
    }
  }

  decode(payload: Uint8Array, start = 0): Message {
    try {
      return fromBinary(this.desc, start ? payload.subarray(start) : payload);
    } catch (e) {
      throw new SerializationError("wire-format", `payload does not decode as ${this.desc.typeName}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }

  fieldWalker(tags: ReadonlySet<string> | undefined): FieldWalker<Message> {
    const key = tags && tags.size ? [...tags].sort().join("\u0000") : "";
    let walker = this.walkers.get(key);
    if (!walker) {
      walker = compileWalker(this.desc, this.owner.catalog, tags);
      this.walkers.set(key, walker);
    }
    return walker;
  }

  jsonRedactor(tags: ReadonlySet<string>): JsonRedactor<Message> | undefined {
    const pass = compileJsonRedaction(this.desc, this.owner.catalog, tags);
    if (!pass) return undefined;
    return (value, replace) => {
      // toJson builds a new object: the pass may replace values in place.
      const json = this.toJson(value);
      pass(json, replace);
      return json;
    };
  }

  /** Protobuf JSON (camelCase names, 64-bit integers as strings), including fields at their default, as Java's toJson prints it. */
  toJson(value: Message): unknown {
    const message = this.toMessage(value);
    try {
      return toJson(this.desc, message, { registry: this.owner.registry, alwaysEmitImplicit: true });
    } catch (e) {
      throw new SerializationError("message-invalid", `cannot convert ${this.desc.typeName} to JSON: ${errorMessage(e)}`, { cause: e });
    }
  }

  fromJson(json: unknown): Message {
    try {
      return fromJson(this.desc, json as JsonValue, { registry: this.owner.registry });
    } catch (e) {
      // protobuf-es quotes the offending JSON value, which may be personal data: not kept, nor its error as the cause.
      throw new SerializationError("message-invalid", `JSON does not fit ${this.desc.typeName}: ${withoutJsonValue(errorMessage(e))}`);
    }
  }

  /** Checks the value and returns it as a message of this type. */
  private toMessage(value: unknown): Message {
    const problems = this.validate(value);
    if (problems) {
      const first = problems[0]!;
      const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : "";
      throw new SerializationError(
        "message-invalid",
        `value does not conform to ${this.desc.typeName}: ${first.path || "(root)"}: ${first.message}${more}`,
      );
    }
    return this.coerce(value);
  }
}

/** "cannot decode field a.M.n from JSON: <the value>" without the value; an unknown key's name stays. */
function withoutJsonValue(message: string): string {
  const at = message.indexOf(" from JSON");
  if (at < 0) return "cannot decode it from JSON";
  const detail = message.slice(at + " from JSON: ".length);
  return /^key "[^"]*" is unknown$/.test(detail) ? message : message.slice(0, at + " from JSON".length);
}

/** protobuf-es and the checks recurse: a RangeError is a value nested too deeply, not a bug to rethrow. */
function reason(e: unknown): string {
  return e instanceof RangeError ? "it is nested too deeply" : errorMessage(e);
}

/** A library's complaint about a message: capped, it may quote the input. */
function errorMessage(e: unknown): string {
  return capText(e instanceof Error ? e.message : String(e));
}
