/**
 * How a native message looks to CEL. Format adapters describe their schemas as
 * shapes; the CEL layer turns a (value, shape) pair into a lazy, typed view,
 * so no message is deep-copied before evaluation and only the fields a rule
 * reads are converted.
 *
 * This module imports nothing: formats depend on it without depending on CEL.
 */
export type CelShape =
  /**
   * A JS number or bigint holding an integer: CEL int (bigint).
   * `bigint` tells how the format stores it natively, so results convert back to the same JS type.
   */
  | { readonly kind: "int"; readonly bigint?: boolean }
  /** Unsigned integer: CEL uint. */
  | { readonly kind: "uint"; readonly bigint?: boolean }
  | { readonly kind: "double" }
  /** `enum`: the value is one of these symbols (an Avro enum, a JSON Schema string enum). */
  | { readonly kind: "string"; readonly enum?: EnumSymbols }
  | { readonly kind: "bool" }
  /**
   * Uint8Array or Buffer: CEL bytes. `buffer` tells that the format wants Node
   * Buffers (avsc), so results convert back to Buffers.
   */
  | { readonly kind: "bytes"; readonly buffer?: boolean }
  | { readonly kind: "null" }
  /**
   * CEL google.protobuf.Timestamp, stored natively as a JS Date, or as epoch millis/micros (number or bigint).
   * `bigint` tells that millis/micros are stored as bigint, so results convert back to the same JS type.
   */
  | { readonly kind: "timestamp"; readonly native: "date" | "millis" | "micros"; readonly bigint?: boolean }
  /** null, or a value of `inner`. */
  | { readonly kind: "nullable"; readonly inner: CelShape }
  /**
   * A plain object with known fields. Unknown keys are not visible to CEL.
   * `required`: fields every valid value holds (all of an Avro record's; a JSON
   * Schema's `required`), so has() on them is always true.
   */
  | { readonly kind: "record"; readonly name: string; readonly fields: ReadonlyMap<string, CelShape>; readonly required?: ReadonlySet<string> }
  | { readonly kind: "list"; readonly element: CelShape }
  /** A plain object or Map with string keys. */
  | { readonly kind: "map"; readonly value: CelShape }
  /**
   * One of several shapes, chosen per value. `pick` returns the branch index,
   * or -1 when the value matches none.
   */
  | { readonly kind: "union"; readonly branches: readonly CelShape[]; readonly pick: (value: unknown) => number }
  /**
   * Converted by its JS type at run time (numbers become double unless integral and `intNumbers`).
   * `intNumbers` suits JSON, where `1` and `1.0` cannot be told apart once parsed.
   */
  | { readonly kind: "dyn"; readonly intNumbers?: boolean }
  /**
   * Handed to CEL as is: protobuf-es messages and other values CEL understands natively.
   * `message`: for a protobuf-es message, its fields as the native fast path reads
   * them; the interpreter ignores it and reads the message by reflection.
   */
  | { readonly kind: "native"; readonly message?: MessageShape };

/**
 * A Protobuf message type, for the native fast path: fields by their proto
 * names (what CEL selects), each read as CEL reads a protobuf message field.
 */
export interface MessageShape {
  /** The full type name, as in the message's `$typeName`. */
  readonly name: string;
  readonly fields: ReadonlyMap<string, MessageFieldShape>;
}

export interface MessageFieldShape {
  /** The property the message stores it under. */
  readonly localName: string;
  /** For a member of a oneof: the oneof's property, whose value is `{ case, value }`. */
  readonly oneof?: string;
  /** Its values: scalars, `native` with a message shape for messages, lists and string-keyed maps of those. */
  readonly shape: CelShape;
  /** What it reads as when not set: CEL reads a field's default (a message field, the type's empty message). */
  readonly default: unknown;
  /** has(): whether the field is set, as Protobuf defines presence. */
  readonly isSet: (message: object) => boolean;
}

/** The symbols a string of an enum type may take, and the enum's name. */
export interface EnumSymbols {
  readonly name: string;
  readonly symbols: readonly string[];
}

export const SHAPES = {
  int: { kind: "int" },
  uint: { kind: "uint" },
  double: { kind: "double" },
  string: { kind: "string" },
  bool: { kind: "bool" },
  bytes: { kind: "bytes" },
  bufferBytes: { kind: "bytes", buffer: true },
  null: { kind: "null" },
  dyn: { kind: "dyn" },
  native: { kind: "native" },
} as const satisfies Record<string, CelShape>;
