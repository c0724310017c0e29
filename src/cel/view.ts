/**
 * Lazy, schema-typed views of native messages. @bufbuild/cel recognizes maps and
 * lists by Symbol.for brands, so a view class carrying the brand is a CEL map or
 * list: nothing is copied up front, and `get` converts only the field a rule
 * reads, with a converter compiled once per shape.
 *
 * Converters never throw. A value that does not fit its shape becomes a CEL
 * error value, so the rule that touches it fails (and one that does not, passes).
 */
import { celError, celList, celUint, isCelError, isCelList, isCelMap, isCelUint } from "@bufbuild/cel";
import type { CelError, CelInput, CelValue } from "@bufbuild/cel";
import { create, isMessage } from "@bufbuild/protobuf";
import { isReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import type { ReflectMessage } from "@bufbuild/protobuf/reflect";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import type { CelShape } from "./shape.js";
import { describeNative } from "./describe.js";

/** Turns a native value into a CEL value, or a CEL error value. Never throws. */
export type Converter = (value: unknown) => CelValue | CelError;

const MAP_BRAND = Symbol.for("@bufbuild/cel/map");
const LIST_BRAND = Symbol.for("@bufbuild/cel/list");

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

// ---- record views ----

interface FieldEntry {
  readonly convert: Converter;
  /** The name is also an Object.prototype member: read it only as an own property. */
  readonly ownOnly: boolean;
}

/** A compiled record shape. */
export interface RecordType {
  readonly shape: CelShape & { kind: "record" };
  readonly fields: Map<string, FieldEntry>;
  readonly names: readonly string[];
}

/** A native value of a field, or undefined when the field is absent. Never a prototype member. */
function fieldValue(native: object, key: string, entry: FieldEntry): unknown {
  if (entry.ownOnly && !Object.prototype.hasOwnProperty.call(native, key)) return undefined;
  const raw = (native as Record<string, unknown>)[key];
  // Functions are never data: they are methods of a class instance (e.g. avsc records).
  return typeof raw === "function" ? undefined : raw;
}

function fieldError(key: string, e: CelError): CelError {
  return celError(`field '${key}': ${e.message}`);
}

/**
 * A record (Avro record, JSON object, ...) seen as a CEL map with the schema's
 * fields as keys. Only schema fields exist: prototype members and undeclared keys
 * are "no such key". A field is present (`has()`, `in`, iteration) when the
 * native object holds a value for it other than undefined; null is a value.
 */
export class RecordView {
  declare readonly [MAP_BRAND]: unknown;
  constructor(
    readonly native: object,
    readonly type: RecordType,
  ) {}

  get size(): number {
    let n = 0;
    for (const name of this.type.names) {
      if (fieldValue(this.native, name, this.type.fields.get(name)!) !== undefined) n++;
    }
    return n;
  }
  get(key: unknown): CelValue | CelError | undefined {
    if (typeof key !== "string") return undefined;
    const entry = this.type.fields.get(key);
    if (entry === undefined) return undefined;
    const raw = fieldValue(this.native, key, entry);
    if (raw === undefined) return undefined;
    const value = entry.convert(raw);
    if (typeof value === "object" && value !== null && isCelError(value)) return fieldError(key, value);
    return value;
  }
  has(key: unknown): boolean {
    if (typeof key !== "string") return false;
    const entry = this.type.fields.get(key);
    return entry !== undefined && fieldValue(this.native, key, entry) !== undefined;
  }
  *keys(): IterableIterator<string> {
    for (const name of this.type.names) {
      if (fieldValue(this.native, name, this.type.fields.get(name)!) !== undefined) yield name;
    }
  }
  *values(): IterableIterator<CelValue | CelError> {
    for (const name of this.keys()) yield this.get(name)!;
  }
  *entries(): IterableIterator<[string, CelValue | CelError]> {
    for (const name of this.keys()) yield [name, this.get(name)!];
  }
  forEach(callback: (value: CelValue | CelError, key: string, map: RecordView) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }
  [Symbol.iterator](): IterableIterator<[string, CelValue | CelError]> {
    return this.entries();
  }
}
(RecordView.prototype as unknown as Record<symbol, unknown>)[MAP_BRAND] = {};

// ---- list views ----

export interface ListType {
  readonly shape: CelShape;
  element: Converter;
}

/** An array seen as a CEL list; elements are converted when read. */
export class ListView {
  declare readonly [LIST_BRAND]: unknown;
  constructor(
    readonly native: readonly unknown[],
    readonly type: ListType,
  ) {}
  get size(): number {
    return this.native.length;
  }
  get(index: number): CelValue | CelError | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.native.length) return undefined;
    return this.type.element(this.native[index]);
  }
  values(): IterableIterator<CelValue | CelError> {
    // Comprehensions materialize the whole range anyway (Array.from).
    const { native } = this;
    const convert = this.type.element;
    const out = new Array<CelValue | CelError>(native.length);
    for (let i = 0; i < native.length; i++) out[i] = convert(native[i]);
    return out.values();
  }
  [Symbol.iterator](): IterableIterator<CelValue | CelError> {
    return this.values();
  }
}
(ListView.prototype as unknown as Record<symbol, unknown>)[LIST_BRAND] = {};

// ---- map views ----

export interface MapType {
  readonly shape: CelShape;
  value: Converter;
}

/**
 * A plain object or a Map with string keys, seen as a CEL map. Plain objects
 * expose their own enumerable keys only, so a "__proto__" key is just data.
 */
export class MapView {
  declare readonly [MAP_BRAND]: unknown;
  private keyList: string[] | undefined;
  constructor(
    readonly native: object,
    readonly type: MapType,
  ) {}

  private raw(key: string): unknown {
    const n = this.native;
    if (n instanceof Map) return n.get(key);
    return Object.prototype.hasOwnProperty.call(n, key) ? (n as Record<string, unknown>)[key] : undefined;
  }
  private allKeys(): string[] {
    if (this.keyList === undefined) {
      const n = this.native;
      this.keyList =
        n instanceof Map ? [...n.keys()].filter((k): k is string => typeof k === "string") : Object.keys(n);
    }
    return this.keyList;
  }
  get size(): number {
    return this.allKeys().length;
  }
  get(key: unknown): CelValue | CelError | undefined {
    if (typeof key !== "string") return undefined;
    const raw = this.raw(key);
    return raw === undefined ? undefined : this.type.value(raw);
  }
  has(key: unknown): boolean {
    return typeof key === "string" && this.raw(key) !== undefined;
  }
  keys(): IterableIterator<string> {
    return this.allKeys().values();
  }
  *values(): IterableIterator<CelValue | CelError> {
    for (const k of this.allKeys()) yield this.get(k)!;
  }
  *entries(): IterableIterator<[string, CelValue | CelError]> {
    for (const k of this.allKeys()) yield [k, this.get(k)!];
  }
  forEach(callback: (value: CelValue | CelError, key: string, map: MapView) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }
  [Symbol.iterator](): IterableIterator<[string, CelValue | CelError]> {
    return this.entries();
  }
}
(MapView.prototype as unknown as Record<symbol, unknown>)[MAP_BRAND] = {};

// ---- scalar conversions ----

const describe = describeNative;

function mismatch(expected: string, v: unknown): CelError {
  return celError(`expected ${expected}, got ${describe(v)}`);
}

function toInt(v: unknown): CelValue | CelError {
  if (typeof v === "number") {
    return Number.isInteger(v) && v >= -TWO_63 && v < TWO_63 ? BigInt(v) : mismatch("int", v);
  }
  if (typeof v === "bigint") return v >= INT64_MIN && v <= INT64_MAX ? v : celError("int out of range");
  return mismatch("int", v);
}

function toUint(v: unknown): CelValue | CelError {
  if (typeof v === "number") {
    return Number.isInteger(v) && v >= 0 && v < TWO_64 ? celUint(BigInt(v)) : mismatch("uint", v);
  }
  if (typeof v === "bigint") return v >= 0n && v <= UINT64_MAX ? celUint(v) : celError("uint out of range");
  return mismatch("uint", v);
}

function toDouble(v: unknown): CelValue | CelError {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return mismatch("double", v);
}

function toString(v: unknown): CelValue | CelError {
  return typeof v === "string" ? v : mismatch("string", v);
}

function toBool(v: unknown): CelValue | CelError {
  return typeof v === "boolean" ? v : mismatch("bool", v);
}

/** Buffers become plain Uint8Array views of the same memory: CEL code may rely on Uint8Array semantics. */
function toBytes(v: unknown): CelValue | CelError {
  if (!(v instanceof Uint8Array)) return mismatch("bytes", v);
  return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function toNull(v: unknown): CelValue | CelError {
  return v === null || v === undefined ? null : mismatch("null", v);
}

// ---- timestamps ----

const MIN_SECONDS = -62135596800n; // 0001-01-01T00:00:00Z
const MAX_SECONDS = 253402300799n; // 9999-12-31T23:59:59Z

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

export function timestampValue(seconds: bigint, nanos: number): ReflectMessage | CelError {
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return celError("timestamp out of range");
  return reflect(TimestampSchema, create(TimestampSchema, { seconds, nanos }), false);
}

function epochToTimestamp(v: number | bigint, perSecond: 1000 | 1_000_000): ReflectMessage | CelError {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) return celError(`expected an integral epoch time, got ${v}`);
    // Exact in doubles: |v| < 2^53.
    const seconds = Math.floor(v / perSecond);
    return timestampValue(BigInt(seconds), (v - seconds * perSecond) * (1_000_000_000 / perSecond));
  }
  const per = BigInt(perSecond);
  const seconds = floorDiv(v, per);
  return timestampValue(seconds, Number(v - seconds * per) * (1_000_000_000 / perSecond));
}

function timestampConverter(native: "date" | "millis" | "micros"): Converter {
  switch (native) {
    case "date":
      return (v) => {
        if (!(v instanceof Date)) return mismatch("Date", v);
        const ms = v.getTime();
        return Number.isNaN(ms) ? celError("invalid Date") : epochToTimestamp(ms, 1000);
      };
    case "millis":
      return (v) => (typeof v === "number" || typeof v === "bigint" ? epochToTimestamp(v, 1000) : mismatch("epoch millis", v));
    case "micros":
      return (v) =>
        typeof v === "number" || typeof v === "bigint" ? epochToTimestamp(v, 1_000_000) : mismatch("epoch micros", v);
  }
}

const dateToTimestamp = timestampConverter("date");

// ---- values CEL understands natively ----

// toCel (which turns protobuf messages, Maps and arrays into CEL values) is not
// exported; a one-element CelList runs it. Only used during evaluation, where
// messages resolve against the evaluation's registry.
const holder: unknown[] = [undefined];
const holderList = celList(holder as CelInput[]);

function nativeToCel(v: unknown): CelValue | CelError {
  holder[0] = v;
  try {
    return holderList.get(0) ?? celError("unsupported value");
  } catch (e) {
    return celError(e);
  } finally {
    holder[0] = undefined;
  }
}

function isCelNative(v: object): boolean {
  return isCelMap(v) || isCelList(v) || isCelUint(v) || isReflectMessage(v) || isMessage(v);
}

// ---- dyn ----

function dynConverter(intNumbers: boolean): Converter {
  const list: ListType = { shape: { kind: "dyn", intNumbers }, element: undefined as unknown as Converter };
  const map: MapType = { shape: { kind: "dyn", intNumbers }, value: undefined as unknown as Converter };
  const convert: Converter = (v) => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        return intNumbers && Number.isInteger(v) && v >= -TWO_63 && v < TWO_63 ? BigInt(v) : v;
      case "bigint":
        return toInt(v);
      case "undefined":
        return null;
      case "object": {
        if (v === null) return null;
        if (v instanceof Uint8Array) return toBytes(v);
        if (Array.isArray(v)) return new ListView(v, list) as unknown as CelValue;
        if (v instanceof Date) return dateToTimestamp(v);
        if (isCelNative(v)) return nativeToCel(v);
        if (v instanceof Map) return nativeToCel(new Map([...v].map(([k, x]) => [dynKey(k), convert(x)])));
        const proto = Object.getPrototypeOf(v);
        if (proto === Object.prototype || proto === null) return new MapView(v, map) as unknown as CelValue;
        return mismatch("a JSON-like value", v);
      }
      default:
        return mismatch("a JSON-like value", v);
    }
  };
  list.element = convert;
  map.value = convert;
  return convert;
}

function dynKey(k: unknown): unknown {
  return typeof k === "number" && Number.isInteger(k) ? BigInt(k) : k;
}

const DYN = dynConverter(false);
const DYN_INT = dynConverter(true);

// ---- compiling shapes ----

const compiled = new WeakMap<CelShape, Converter>();

/**
 * The converter for a shape, compiled once and cached per shape object. Cyclic
 * shapes (recursive records) work: a shape's converter is cached before its
 * children are compiled.
 */
export function converterFor(shape: CelShape): Converter {
  const hit = compiled.get(shape);
  if (hit !== undefined) return hit;
  try {
    return compile(shape);
  } catch (e) {
    // A malformed shape must not leave a half-built converter behind.
    compiled.delete(shape);
    throw e;
  }
}

function compile(shape: CelShape): Converter {
  switch (shape.kind) {
    case "int":
      return remember(shape, toInt);
    case "uint":
      return remember(shape, toUint);
    case "double":
      return remember(shape, toDouble);
    case "string":
      return remember(shape, toString);
    case "bool":
      return remember(shape, toBool);
    case "bytes":
      return remember(shape, toBytes);
    case "null":
      return remember(shape, toNull);
    case "timestamp":
      return remember(shape, timestampConverter(shape.native));
    case "dyn":
      return remember(shape, shape.intNumbers === true ? DYN_INT : DYN);
    case "native":
      return remember(shape, nativeToCel);
    case "nullable": {
      let inner: Converter | undefined;
      const convert = remember(shape, (v) => (v === null || v === undefined ? null : inner!(v)));
      inner = converterFor(shape.inner);
      return convert;
    }
    case "record": {
      const fields = new Map<string, FieldEntry>();
      const type: RecordType = { shape, fields, names: [...shape.fields.keys()] };
      const convert = remember(shape, (v) =>
        typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
          ? (new RecordView(v, type) as unknown as CelValue)
          : mismatch(`record ${shape.name}`, v),
      );
      for (const [name, fieldShape] of shape.fields) {
        fields.set(name, { convert: converterFor(fieldShape), ownOnly: name in Object.prototype });
      }
      return convert;
    }
    case "list": {
      const type: ListType = { shape, element: undefined as unknown as Converter };
      const convert = remember(shape, (v) =>
        Array.isArray(v) ? (new ListView(v, type) as unknown as CelValue) : mismatch("list", v),
      );
      type.element = converterFor(shape.element);
      return convert;
    }
    case "map": {
      const type: MapType = { shape, value: undefined as unknown as Converter };
      const convert = remember(shape, (v) =>
        v instanceof Map || (typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array))
          ? (new MapView(v, type) as unknown as CelValue)
          : mismatch("map", v),
      );
      type.value = converterFor(shape.value);
      return convert;
    }
    case "union": {
      const branches: Converter[] = [];
      const convert = remember(shape, (v) => {
        let i: number;
        try {
          i = shape.pick(v);
        } catch (e) {
          return celError(e);
        }
        return i >= 0 && i < branches.length
          ? branches[i](v)
          : celError(`value matches no branch of the union: ${describe(v)}`);
      });
      for (const b of shape.branches) branches.push(converterFor(b));
      return convert;
    }
  }
}

function remember(shape: CelShape, convert: Converter): Converter {
  compiled.set(shape, convert);
  return convert;
}

/**
 * Makes a native value visible to CEL as `shape` describes it, without copying:
 * records, lists and maps become lazy views; scalars are converted (int -> bigint,
 * uint -> CelUint, Buffer -> Uint8Array, timestamps -> google.protobuf.Timestamp).
 * A value that does not fit the shape becomes a CEL error value, which fails any
 * rule that reads it. Bind the result as a program variable.
 */
export function celView(value: unknown, shape: CelShape): unknown {
  // Protobuf messages are resolved against the registry when bound; nested ones
  // when read during evaluation.
  if ((shape.kind === "native" || shape.kind === "dyn") && typeof value === "object" && value !== null && isCelNative(value)) {
    return value;
  }
  return converterFor(shape)(value);
}
