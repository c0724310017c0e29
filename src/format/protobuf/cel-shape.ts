/**
 * How a protobuf-es message looks to CEL's native fast path (cel/native): the
 * fields of each message type read from its descriptor, with CEL's protobuf
 * semantics. The interpreter still gets the message itself (`native`) and reads
 * it by reflection; the fast path reads the same fields directly and must
 * return what the interpreter returns (test/cel/native/protobuf.test.ts).
 *
 * - 32-bit integers are numbers, 64-bit ones bigint (int, or uint for the
 *   unsigned types); enums are ints; float and double are doubles.
 * - An unset field reads as its default (proto2 `[default = ...]` included);
 *   an unset message field as the type's empty message.
 * - has() is Protobuf presence (isFieldSet): set for explicit presence, not
 *   zero for implicit, non-empty for lists and maps, the case for oneofs.
 *
 * Fields the fast path does not read natively are left out, so an expression
 * that selects one runs on the interpreter: 64-bit integers stored as strings
 * (`jstype = JS_STRING`), well-known types (Timestamp, Duration, Any, Struct,
 * wrappers...), google.protobuf.NullValue enums (CEL's null), groups, and maps
 * whose keys are not strings.
 */
import { ScalarType, create, isFieldSet, type DescEnum, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { SHAPES, type CelShape, type MessageFieldShape, type MessageShape } from "../../cel/shape.js";

const shapes = new WeakMap<DescMessage, CelShape>();

/** The CEL shape of messages of `desc`: `native`, carrying the fields the fast path reads. */
export function messageCelShape(desc: DescMessage): CelShape {
  let shape = shapes.get(desc);
  if (shape === undefined) {
    const fields = new Map<string, MessageFieldShape>();
    const message: MessageShape = { name: desc.typeName, fields };
    shape = { kind: "native", message };
    // Registered before its fields: a recursive type refers to itself.
    shapes.set(desc, shape);
    for (const f of desc.fields) {
      const field = fieldShape(f);
      if (field !== undefined) fields.set(f.name, field);
    }
  }
  return shape;
}

function fieldShape(f: DescField): MessageFieldShape | undefined {
  const isSet = (m: object): boolean => isFieldSet(m as Message, f);
  const oneof = f.oneof?.localName;
  const common = { localName: f.localName, isSet, ...(oneof === undefined ? {} : { oneof }) };
  switch (f.fieldKind) {
    case "scalar": {
      if (f.longAsString) return undefined;
      const shape = scalarShape(f.scalar);
      return { ...common, shape, default: f.getDefaultValue() ?? zero(f.scalar) };
    }
    case "enum":
      if (isNullValue(f.enum)) return undefined;
      return { ...common, shape: SHAPES.int, default: f.getDefaultValue() ?? f.enum.values[0]!.number };
    case "message": {
      const child = plainMessage(f.message);
      if (child === undefined || f.delimitedEncoding) return undefined;
      return { ...common, shape: child, default: Object.freeze(create(f.message)) };
    }
    case "list": {
      if (f.listKind === "scalar" && f.longAsString) return undefined;
      const element = f.listKind === "scalar" ? scalarShape(f.scalar) : f.listKind === "enum" ? enumShape(f.enum) : plainMessage(f.message);
      if (element === undefined || (f.listKind === "message" && f.delimitedEncoding)) return undefined;
      return { ...common, shape: { kind: "list", element }, default: EMPTY_LIST };
    }
    case "map": {
      if (f.mapKey !== ScalarType.STRING) return undefined;
      const value = f.mapKind === "scalar" ? scalarShape(f.scalar) : f.mapKind === "enum" ? enumShape(f.enum) : plainMessage(f.message);
      if (value === undefined) return undefined;
      return { ...common, shape: { kind: "map", value }, default: EMPTY_MAP };
    }
  }
}

/** CEL reads google.protobuf.NullValue as null, not as an int: left to the interpreter. */
function isNullValue(e: DescEnum): boolean {
  return e.typeName === "google.protobuf.NullValue";
}

function enumShape(e: DescEnum): CelShape | undefined {
  return isNullValue(e) ? undefined : SHAPES.int;
}

const EMPTY_LIST: readonly unknown[] = Object.freeze([]);
const EMPTY_MAP: object = Object.freeze({});

/** Messages of types CEL gives their own meaning (well-known types) are not read natively. */
function plainMessage(desc: DescMessage): CelShape | undefined {
  return desc.typeName.startsWith("google.protobuf.") ? undefined : messageCelShape(desc);
}

const INT64: CelShape = { kind: "int", bigint: true };
const UINT64: CelShape = { kind: "uint", bigint: true };

function scalarShape(t: ScalarType): CelShape {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return SHAPES.double;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return SHAPES.int;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return SHAPES.uint;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return INT64;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return UINT64;
    case ScalarType.BOOL:
      return SHAPES.bool;
    case ScalarType.STRING:
      return SHAPES.string;
    case ScalarType.BYTES:
      return SHAPES.bytes;
  }
}

const EMPTY_BYTES = new Uint8Array(0);

function zero(t: ScalarType): unknown {
  switch (t) {
    case ScalarType.BOOL:
      return false;
    case ScalarType.STRING:
      return "";
    case ScalarType.BYTES:
      return EMPTY_BYTES;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return 0n;
    default:
      return 0;
  }
}
