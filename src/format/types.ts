/**
 * What the engine needs from a schema format (Avro, JSON Schema, Protobuf).
 * One adapter per format, each importing only its own library.
 */
import type { CelShape } from "../cel/shape.js";
import type { Contract, SchemaType } from "../contract/model.js";

/** Confluent's field type names, as CEL_FIELD rules see them in `typeName`. */
export type FieldTypeName =
  | "RECORD"
  | "ENUM"
  | "ARRAY"
  | "MAP"
  | "COMBINED"
  | "FIXED"
  | "STRING"
  | "BYTES"
  | "INT"
  | "LONG"
  | "FLOAT"
  | "DOUBLE"
  | "BOOLEAN"
  | "NULL";

const PRIMITIVE_TYPE_NAMES: ReadonlySet<FieldTypeName> = new Set<FieldTypeName>(["STRING", "BYTES", "INT", "LONG", "FLOAT", "DOUBLE", "BOOLEAN", "NULL"]);

/** Java FieldContext.isPrimitive: the leaves field rules visit (enums and fixed are not). */
export function isPrimitiveName(name: FieldTypeName): boolean {
  return PRIMITIVE_TYPE_NAMES.has(name);
}

/** One field of a schema, as CEL_FIELD rules and the linter see it. */
export interface FieldInfo {
  /** Avro/Protobuf: record full name + "." + field name. JSON Schema: "$.a.b". */
  readonly fullName: string;
  readonly name: string;
  /** For unions of null and one type: the non-null type. Otherwise COMBINED. */
  readonly typeName: FieldTypeName;
  /** Inline tags plus every metadata tag whose wildcard matches fullName. */
  readonly tags: ReadonlySet<string>;
  /**
   * On a COMBINED field: the type of each branch, nested combinations flattened
   * (NULL included). The walk resolves a value to one of them.
   */
  readonly branches?: readonly FieldTypeName[];
  /** True for primitive leaves, the only fields CEL_FIELD rules touch. */
  readonly primitive: boolean;
  /**
   * Set on a leaf reached through a COMBINED field (an Avro union or a JSON Schema
   * combination of several non-null types), as Java's `FieldContext.isInCombined`:
   * `typeName` is then the branch the value resolved to, not the field's own type.
   */
  readonly inCombined?: true;
}

/** A visit to one primitive field value during a field walk. */
export interface FieldVisit {
  readonly field: FieldInfo;
  /** The containing record (native form), bound to `message` in CEL_FIELD rules. */
  readonly container: unknown;
  readonly containerShape: CelShape;
  /** Location of this value for violation reports, e.g. "items[2].sku" or "$.items[2].sku". */
  readonly path: string;
}

/**
 * Called once per visited primitive value. Returns the value to store back;
 * returning the same value (===) leaves the message untouched.
 */
export type FieldVisitor = (value: unknown, visit: FieldVisit) => unknown;

/**
 * Walks a message, calling `visit` for every primitive field whose tags
 * intersect the walker's tags (every primitive field when it has none).
 * Never mutates its input: returns the input itself when nothing changed,
 * else a copy that shares unchanged subtrees.
 */
export type FieldWalker<T = unknown> = (message: T, visit: FieldVisitor) => T;

/**
 * The JSON form of a value (as toJson gives it) in which the whole value of
 * every field carrying one of the redactor's tags, whatever its type (enums,
 * records, lists, maps with their keys), is replaced by what `replace` returns
 * for its JSON form. Unlike a field walk, which visits primitive leaves only
 * (Java's CEL_FIELD semantics), nothing below a tagged field stays in clear.
 * Never mutates its input.
 */
export type JsonRedactor<T = unknown> = (value: T, replace: (json: unknown) => unknown) => unknown;

export interface SchemaProblem {
  /** Location in the message, e.g. "address.city" or "$.address.city"; "" for the root. */
  path: string;
  message: string;
}

/** A schema compiled once, used for every message of its subject and version. */
export interface CompiledSchema<T = unknown> {
  readonly type: SchemaType;
  /** Record/message full name, or the JSON Schema title, when there is one. */
  readonly name: string | undefined;
  /** Every field of the schema, depth first, including nested records. */
  readonly fields: readonly FieldInfo[];
  /** How messages of this schema look to CEL. */
  readonly celShape: CelShape;

  /**
   * Brings a value from the caller into the native representation, e.g. a
   * Protobuf init object into a message. Identity for Avro and JSON Schema.
   */
  coerce(value: unknown): T;
  /** Undefined when the value conforms; otherwise every problem found. */
  validate(value: unknown): SchemaProblem[] | undefined;
  /**
   * The payload bytes, without wire framing. Throws SerializationError if the
   * value does not conform. With `headroom`, the payload starts that many
   * (unwritten) bytes in, room for the caller's wire prefix: framing then
   * costs no second allocation and copy.
   */
  encode(value: T, headroom?: number): Uint8Array;
  /**
   * Throws what `encode` would throw for the value, without writing it: for
   * callers that need the verdict, not the bytes (`kontract check`). Absent
   * where the format has no cheaper check than encoding.
   */
  checkEncodes?(value: T): void;
  /**
   * Decodes `payload` from `start` on (default 0): a consumer reads past the
   * wire prefix without a view per message. Throws SerializationError when
   * the bytes do not decode.
   */
  decode(payload: Uint8Array, start?: number): T;
  /**
   * Decodes a payload written with another version of this schema, applying
   * the format's own schema resolution (Avro's writer/reader resolution: new
   * fields take their defaults, removed ones are dropped). Absent for formats
   * whose payloads need none.
   */
  decodeFrom?(payload: Uint8Array, writer: CompiledSchema): T;
  /** Compiles a walker for the given tags (all primitive fields when empty or undefined). */
  fieldWalker(tags: ReadonlySet<string> | undefined): FieldWalker<T>;
  /**
   * A redactor for the fields carrying any of `tags`; undefined when no field
   * of the schema can carry one (known at compile time: nothing can leak).
   */
  jsonRedactor(tags: ReadonlySet<string>): JsonRedactor<T> | undefined;
  /** Plain JSON form: what JSONata sees and what dead-letter records show. */
  toJson(value: T): unknown;
  /** Back from the JSON form. Throws SerializationError if it does not fit the schema. */
  fromJson(json: unknown): T;
}

export interface CompileSchemaOptions {
  /**
   * Referenced schemas by reference name (the import path for Protobuf, the
   * full name or URL for Avro and JSON Schema), transitively resolved.
   */
  references?: ReadonlyMap<string, Contract>;
  /** Protobuf only: the message to use; the first message of the file when absent. */
  messageName?: string;
}

export interface FormatAdapter {
  readonly type: SchemaType;
  /** Throws ContractError (code "schema-invalid") naming what is wrong. */
  compile(contract: Contract, options?: CompileSchemaOptions): CompiledSchema;
}

/** Protobuf compiled schemas also resolve Confluent message indexes. */
export interface ProtobufCompiledSchema<T = unknown> extends CompiledSchema<T> {
  readonly type: "PROTOBUF";
  /** Message indexes of this message in its file, as written on the wire. */
  readonly messageIndexes: readonly number[];
  /** The schema of another message in the same file. Throws SerializationError if none. */
  forIndexes(indexes: readonly number[]): ProtobufCompiledSchema<T>;
  forName(fullName: string): ProtobufCompiledSchema<T>;
}
