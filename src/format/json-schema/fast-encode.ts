/**
 * The JSON payload of a message, validated and written as UTF-8 bytes in one
 * pass by code compiled once per schema, for schemas made of the common
 * keywords: type, properties, required, additionalProperties (true or false),
 * items (one schema), enum and const of primitives, and annotations. That is
 * most of a JSON Schema encode's cost otherwise: Ajv's validation,
 * JSON.stringify (a generic walk that, on Node 20, costs more than the rest
 * together), the walk that proves the text exact (codec.ts), and turning the
 * text into bytes. The bytes are written straight into the buffer
 * (src/util/json-bytes.ts): no JSON text is built.
 *
 * The compiled writer gives up (FALLBACK) on anything it is not sure of: a
 * value it would reject, a key order or property it does not expect, a
 * toJSON, a class instance, NaN... The generic encode then runs and decides,
 * with its own errors. What it does write is what the generic encode writes:
 * the value is valid for Ajv and the bytes are those of JSON.stringify's text,
 * byte for byte (test/format/json-schema/fast-encode.test.ts checks both on
 * generated values and schemas). A schema with any other validation keyword ($ref,
 * pattern, format, minimum, anyOf...) gets no compiled writer.
 */
import type { SchemaNode } from "./locate.js";
import { isObjectSchema } from "./locate.js";
import { viewOf, writeByte, writeBytes, writeNumber, writeString } from "../../util/json-bytes.js";

/** What a writer returns when it gives up: no position is negative. */
export const FALLBACK = -1;
/**
 * Writes `value`'s JSON text at `b[p..]` and returns the position after it,
 * or FALLBACK. Bytes past the buffer's end are counted, not written: a result
 * beyond `b.length` is the size the message needs.
 */
export type JsonWriter = (b: Buffer, p: number, value: unknown) => number;
/** The writers inside one: `d` is a DataView over the same bytes as `b`, for constants stored four bytes at a time. */
type Writer = (b: Buffer, d: DataView, p: number, value: unknown) => number;

const HANDLED = new Set(["type", "properties", "required", "additionalProperties", "items", "enum", "const"]);
/** Keywords Ajv knows that only annotate (or, for Confluent's, are declared to check their own shape). */
const ANNOTATIONS = new Set(["$comment", "confluent:tags", "confluent:rules"]);
const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);

const utf8 = (s: string): Uint8Array => Buffer.from(s, "utf8");
const TRUE = utf8("true");
const FALSE = utf8("false");
const NULL = utf8("null");
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * The writer for `root`, or undefined when the schema uses a keyword the
 * writer does not implement. `validates(keyword)`: whether the schema's Ajv
 * instance validates with that keyword (unknown ones it ignores, as strict:
 * false does).
 *
 * The whole schema becomes one generated module: a function per object and
 * per array, leaves checked and written inline. Its call sites are its own,
 * so another schema's writers never make them polymorphic (shared closures
 * calling per-schema writers cost more than the writing itself once two
 * schemas were compiled).
 */
export function compileJsonWriter(root: SchemaNode, validates: (keyword: string) => boolean): JsonWriter | undefined {
  const module = new WriterModule(validates);
  let code: string;
  try {
    code = module.valueCode(root, "x", 0);
  } catch (e) {
    if (e === UNSUPPORTED) return undefined;
    throw e;
  }
  return module.link(`function writeRoot(b, p, x) {\nconst d = VIEW(b);\n${code}\nreturn p;\n}`);
}

const UNSUPPORTED = Symbol("unsupported");
/** Enums of at most this many strings are compared in the code rather than looked up. */
const INLINE_ENUM = 8;
/** Deeper schemas are left to the generic path (and bound the compile's recursion). */
const MAX_DEPTH = 64;

/** Helpers the generated code calls, by the names it calls them. */
const HELPERS = {
  F: FALLBACK,
  S: writeString,
  NUM: writeNumber,
  BYTES: writeBytes,
  PUT: writeByte,
  VIEW: viewOf,
  ANY: anyValue,
  isPlain: isPlainObject,
  OBJECT_PROTO: Object.prototype,
  ARRAY_PROTO: Array.prototype,
  hasOwn: Object.prototype.hasOwnProperty,
  general: objectOf,
};

/** The code of one schema's writer, and the values it refers to (`cN`). */
class WriterModule {
  private readonly functions: string[] = [];
  private readonly constants: unknown[] = [];

  constructor(private readonly validates: (keyword: string) => boolean) {}

  /** The writer from the code of its root function. */
  link(root: string): JsonWriter {
    const names = Object.keys(HELPERS);
    const code = `${this.constants.map((_, i) => `const c${i} = C[${i}];`).join("\n")}\n${this.functions.join("\n")}\nreturn ${root};`;
    const factory = new Function(...names, "C", code) as (...args: unknown[]) => JsonWriter;
    return factory(...Object.values(HELPERS), this.constants);
  }

  private constant(value: unknown): string {
    this.constants.push(value);
    return `c${this.constants.length - 1}`;
  }

  /** A module-level function named `fN`; `code` may define others (nested writers) meanwhile. */
  private define(code: (name: string) => string): string {
    const slot = this.functions.push("") - 1;
    this.functions[slot] = code(`f${slot}`);
    return `f${slot}`;
  }

  /** Statements writing `x` (a local holding a value for `node`) at `b[p..]`, moving `p`, or returning F. */
  valueCode(node: SchemaNode, x: string, depth: number): string {
    if (depth > MAX_DEPTH) throw UNSUPPORTED;
    if (node === false) return "return F;";
    if (node === true) return `p = ANY(b, d, p, ${x}); if (p === F) return F;`;
    for (const key of Object.keys(node)) {
      if (!HANDLED.has(key) && this.validates(key) && !ANNOTATIONS.has(key)) throw UNSUPPORTED;
    }
    const types = typesOf(node.type);
    const allowed = primitiveSet(node.enum, node.const);
    const branches: [string, string][] = [];
    if (types.has("string")) branches.push(["string", this.stringCode(x, allowed)]);
    if (types.has("number") || types.has("integer")) {
      // Ajv's strictNumbers: NaN and the infinities are no numbers.
      const check = types.has("number") ? `!Number.isFinite(${x})` : `!Number.isInteger(${x})`;
      branches.push(["number", `if (${check}${allowed ? ` || !${this.constant(allowed)}.has(${x})` : ""}) return F; p = NUM(b, p, ${x});`]);
    }
    if (types.has("boolean")) branches.push(["boolean", `${allowed ? `if (!${this.constant(allowed)}.has(${x})) return F; ` : ""}if (${x}) { ${storeBytes(TRUE)} } else { ${storeBytes(FALSE)} }`]);
    const nil = types.has("null") && (allowed === undefined || allowed.has(null)) ? storeBytes(NULL) : "return F;";
    // enum and const hold primitives only: no object or list passes them.
    const object = types.has("object") && allowed === undefined ? `p = ${this.objectFunction(node, depth)}(b, d, p, ${x}); if (p === F) return F;` : "return F;";
    const list = types.has("array") && allowed === undefined ? `p = ${this.arrayFunction(node, depth)}(b, d, p, ${x}); if (p === F) return F;` : "return F;";
    if (types.has("null") || types.has("object") || types.has("array")) {
      branches.push(["object", `if (${x} === null) { ${nil} } else if (Array.isArray(${x})) { ${list} } else { ${object} }`]);
    }
    if (branches.length === 1) return `if (typeof ${x} !== "${branches[0]![0]}") return F;\n${branches[0]![1]}`;
    // `typeof x === "..."` in turn, not a switch: V8 compiles that comparison to a type check, while
    // `switch (typeof x)` makes the type's name first, through a call per value.
    return `${branches.map(([t, code]) => `if (typeof ${x} === "${t}") { ${code} } else `).join("")}return F;`;
  }

  /**
   * A string, or one of an enum's: those are written from their bytes, known
   * ahead; a short enum's are constants in the code, compared in turn (a Map
   * lookup costs more than a few comparisons of short strings).
   */
  private stringCode(x: string, allowed: ReadonlySet<unknown> | undefined): string {
    if (allowed === undefined) return `p = S(b, p, ${x});`;
    const bytes = new Map<string, Uint8Array>();
    for (const v of allowed) if (typeof v === "string") bytes.set(v, utf8(JSON.stringify(v)));
    if (bytes.size > INLINE_ENUM) return `{ const e = ${this.constant(bytes)}.get(${x}); if (e === undefined) return F; p = BYTES(b, p, e); }`;
    return `${[...bytes].map(([v, text]) => `if (${x} === ${JSON.stringify(v)}) { ${storeBytes(text)} } else `).join("")}return F;`;
  }

  private arrayFunction(node: Readonly<Record<string, unknown>>, depth: number): string {
    const items = node.items;
    if (items !== undefined && typeof items !== "boolean" && !isObjectSchema(items)) throw UNSUPPORTED; // a tuple
    const item = this.valueCode((items as SchemaNode | undefined) ?? true, "y", depth + 1);
    return this.define(
      (name) => `function ${name}(b, d, p, x) {
  ${plainCheck("x", "ARRAY_PROTO")}
  p = PUT(b, p, ${OPEN_ARRAY});
  for (let i = 0; i < x.length; i++) {
    // A hole or undefined would be written as null: not exact.
    const y = x[i];
    if (y === undefined) return F;
    if (i > 0) p = PUT(b, p, ${COMMA});
    ${item}
  }
  return PUT(b, p, ${CLOSE_ARRAY});
}`,
    );
  }

  /**
   * The common case is generated: members in the order the schema declares
   * them (some may be absent), each checked and written inline. Members in
   * another order, or undeclared ones, take the general path (objectOf), with
   * a generated writer per declared member.
   */
  private objectFunction(node: Readonly<Record<string, unknown>>, depth: number): string {
    const required = node.required;
    if (required !== undefined && (!Array.isArray(required) || !required.every((r) => typeof r === "string"))) throw UNSUPPORTED;
    const requiredSet = new Set((required as string[] | undefined) ?? []);
    // A name listed twice is counted once by Ajv, and could never be counted twice here: not worth a special case.
    if (requiredSet.size !== ((required as string[] | undefined)?.length ?? 0)) throw UNSUPPORTED;
    const additional = node.additionalProperties;
    if (additional !== undefined && typeof additional !== "boolean") throw UNSUPPORTED;
    const declared = node.properties;
    if (declared !== undefined && !isObjectSchema(declared)) throw UNSUPPORTED;
    const members = Object.entries(declared ?? {}).map(([name, schema]) => {
      if (typeof schema !== "boolean" && !isObjectSchema(schema)) throw UNSUPPORTED;
      // Generated once (nested writers are defined by it), used in three places, each with the value in `x`.
      const code = this.valueCode(schema, "x", depth + 1);
      return { name, key: utf8(`${JSON.stringify(name)}:`), code, writer: this.define((fn) => `function ${fn}(b, d, p, x) {\n${code}\nreturn p;\n}`), required: requiredSet.has(name) };
    });
    // Required names without a property schema are counted as additional members.
    const undeclaredRequired = new Set([...requiredSet].filter((r) => !members.some((m) => m.name === r)));
    const spec: ObjectSpec = {
      index: new Map(members.map((m, i) => [m.name, i])),
      keys: members.map((m) => m.key),
      required: members.map((m) => m.required),
      additional: additional !== false,
      undeclaredRequired: undeclaredRequired.size > 0 ? undeclaredRequired : undefined,
      requiredCount: requiredSet.size,
    };
    const writers = `w${this.functions.length}`;
    this.functions.push(`const ${writers} = [${members.map((m) => m.writer).join(", ")}];`);
    const generalCall = `general(b, d, open, v, ${this.constant(spec)}, ${writers})`;
    // Every required name must be declared for the generated code's count; otherwise the general path only.
    if (undeclaredRequired.size > 0) return this.define((name) => `function ${name}(b, d, open, v) {\n  return isPlain(v) ? ${generalCall} : F;\n}`);
    const keys = this.constant(members.map((m) => m.name));
    // Every declared member, in order, none undefined: straight-line code.
    const direct = members.map((m, i) => {
      const key = storeBytes(i === 0 ? m.key : Buffer.concat([Buffer.of(COMMA), m.key]));
      return `    {\n    const x = v[${JSON.stringify(m.name)}];\n    if (x === undefined) break direct;\n    ${key}\n    ${m.code}\n    }`;
    });
    // Any subset, in order: a member at a time.
    const cases = members.map((m, i) => `      case ${i}: { ${m.required ? "seen++; " : ""}if (p !== open + 1) p = PUT(b, p, ${COMMA}); ${storeBytes(m.key)}\n${m.code}\nbreak; }`);
    return this.define(
      (name) => `function ${name}(b, d, open, v) {
  ${plainCheck("v", "OBJECT_PROTO")}
  let i = 0;
  // hasOwnProperty inside for-in: V8 checks the object's map, no lookup.
  for (const k in v) {
    if (k !== ${keys}[i] || !hasOwn.call(v, k)) { i = -1; break; }
    i++;
  }
  let p = PUT(b, open, ${OPEN_OBJECT});
  direct: if (i === ${members.length}) {
${direct.join("\n")}
    return PUT(b, p, ${CLOSE_OBJECT});
  }
  p = open + 1;
  let seen = 0;
  let j = 0;
  for (const k in v) {
    while (j < ${members.length} && ${keys}[j] !== k) j++;
    if (j === ${members.length} || !hasOwn.call(v, k)) return ${generalCall};
    const x = v[k];
    if (x !== undefined) {
      switch (j) {
${cases.join("\n")}
      }
    }
    j++;
  }
  if (seen !== ${requiredSet.size}) return F;
  return PUT(b, p, ${CLOSE_OBJECT});
}`,
    );
  }
}

/** `type` as a set; absent means every type. */
function typesOf(type: unknown): ReadonlySet<string> {
  if (type === undefined) return TYPES;
  const list = typeof type === "string" ? [type] : Array.isArray(type) ? type : undefined;
  if (list === undefined || !list.every((t) => typeof t === "string" && TYPES.has(t))) throw UNSUPPORTED;
  return new Set(list as string[]);
}

/** enum and const as one set of allowed primitives (both must hold: their intersection); undefined when neither is there. */
function primitiveSet(enumValues: unknown, constValue: unknown): ReadonlySet<unknown> | undefined {
  const isPrimitive = (v: unknown) => v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
  let set: Set<unknown> | undefined;
  if (enumValues !== undefined) {
    if (!Array.isArray(enumValues) || !enumValues.every(isPrimitive)) throw UNSUPPORTED;
    set = new Set(enumValues);
  }
  if (constValue !== undefined) {
    if (!isPrimitive(constValue)) throw UNSUPPORTED;
    set = set === undefined || set.has(constValue) ? new Set([constValue]) : new Set();
  }
  return set;
}

/** Any JSON value: exact when JSON.stringify would not change it (codec.ts's check), else the generic path. */
function anyValue(b: Buffer, d: DataView, p: number, value: unknown): number {
  switch (typeof value) {
    case "string":
      return writeString(b, p, value);
    case "number":
      return Number.isFinite(value) ? writeNumber(b, p, value) : FALLBACK;
    case "boolean":
      return writeBytes(b, p, value ? TRUE : FALSE);
    case "object":
      if (value === null) return writeBytes(b, p, NULL);
      if (Array.isArray(value)) return arrayOf(b, d, p, value);
      return isPlainObject(value) ? objectOf(b, d, p, value, ANY_OBJECT, NO_WRITERS) : FALLBACK;
    default:
      return FALLBACK;
  }
}

/**
 * Statements returning F unless `v` is a plain object (`proto` OBJECT_PROTO;
 * a null prototype too) or a plain array (ARRAY_PROTO), and has no toJSON
 * (own, or its prototype's, if someone added one), which would decide what
 * JSON.stringify writes. Generated in each writer, not called, and the toJSON
 * read first: its map feedback, per call site, lets V8 fold the prototype
 * read into that map check. Called in a shared function, Object.getPrototypeOf
 * was a call into the runtime per object.
 */
function plainCheck(v: string, proto: "OBJECT_PROTO" | "ARRAY_PROTO"): string {
  const nullProto = proto === "OBJECT_PROTO" ? " && o !== null" : "";
  return `if (typeof ${v}.toJSON === "function") return F; { const o = Object.getPrototypeOf(${v}); if (o !== ${proto}${nullProto}) return F; }`;
}

/** plainCheck's test, for the shared writers of values the schema leaves open. */
function isPlainObject(value: object): boolean {
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isPlainArray(value: readonly unknown[]): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON !== "function" && Object.getPrototypeOf(value) === Array.prototype;
}

function arrayOf(b: Buffer, d: DataView, p: number, value: readonly unknown[]): number {
  if (!isPlainArray(value)) return FALLBACK;
  p = writeByte(b, p, OPEN_ARRAY);
  for (let i = 0; i < value.length; i++) {
    // A hole or undefined would be written as null: not exact.
    const v = value[i];
    if (v === undefined) return FALLBACK;
    if (i > 0) p = writeByte(b, p, COMMA);
    p = anyValue(b, d, p, v);
    if (p === FALLBACK) return FALLBACK;
  }
  return writeByte(b, p, CLOSE_ARRAY);
}

/** An object schema as the general path needs it. */
interface ObjectSpec {
  /** Declared members by name: their position in `keys`, `required` and the writers. */
  readonly index: ReadonlyMap<string, number>;
  /** Each declared member's name as JSON text, with its colon: `"name":`. */
  readonly keys: readonly Uint8Array[];
  readonly required: readonly boolean[];
  /** Whether undeclared members are allowed (additionalProperties is not false). */
  readonly additional: boolean;
  /** Required names without a property schema. */
  readonly undeclaredRequired: ReadonlySet<string> | undefined;
  readonly requiredCount: number;
}

/** Any object: every member allowed, none required. */
const ANY_OBJECT: ObjectSpec = { index: new Map(), keys: [], required: [], additional: true, undeclaredRequired: undefined, requiredCount: 0 };
const NO_WRITERS: readonly Writer[] = [];

/**
 * An object's members in its own key order (JSON.stringify's): declared ones
 * by their writers, others as any value. The required ones present are
 * counted, and must be all.
 */
function objectOf(b: Buffer, d: DataView, p: number, value: object, spec: ObjectSpec, writers: readonly Writer[]): number {
  const open = p;
  p = writeByte(b, p, OPEN_OBJECT);
  let seen = 0;
  for (const key in value) {
    // Own keys only: an enumerable key inherited from Object.prototype is no member for Ajv or JSON.stringify.
    if (!Object.hasOwn(value, key)) return FALLBACK;
    const i = spec.index.get(key);
    // An undeclared key fails additionalProperties: false whatever its value, undefined included (Ajv looks at keys).
    if (i === undefined && !spec.additional) return FALLBACK;
    const v = (value as Record<string, unknown>)[key];
    // JSON.stringify leaves the member out; Ajv's properties and required do not count it.
    if (v === undefined) continue;
    if (i !== undefined) {
      if (p !== open + 1) p = writeByte(b, p, COMMA);
      p = writers[i]!(b, d, writeBytes(b, p, spec.keys[i]!), v);
      if (spec.required[i] === true) seen++;
    } else {
      // JSON.stringify leaves out functions and symbols; any other value must be exact.
      if (typeof v === "function" || typeof v === "symbol") continue;
      if (p !== open + 1) p = writeByte(b, p, COMMA);
      p = writeByte(b, writeString(b, p, key), COLON);
      p = anyValue(b, d, p, v);
      if (spec.undeclaredRequired?.has(key) === true) seen++;
    }
    if (p === FALLBACK) return FALLBACK;
  }
  if (seen !== spec.requiredCount) return FALLBACK;
  return writeByte(b, p, CLOSE_OBJECT);
}

/**
 * Statements storing `bytes` at `b[p..]` when they fit, and moving `p` past
 * them: constants the compiler keeps in the code, four bytes a store through
 * the DataView `d` (a quarter of the stores, each checked once: the writer
 * took about 15% less than with a store per byte).
 */
function storeBytes(bytes: Uint8Array): string {
  const at = (i: number) => `p${i === 0 ? "" : ` + ${i}`}`;
  let code = "";
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) code += `d.setUint32(${at(i)}, ${(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0}, true); `;
  if (i + 2 <= bytes.length) {
    code += `d.setUint16(${at(i)}, ${bytes[i]! | (bytes[i + 1]! << 8)}, true); `;
    i += 2;
  }
  if (i < bytes.length) code += `b[${at(i)}] = ${bytes[i]}; `;
  return `if (p + ${bytes.length} <= b.length) { ${code}} p += ${bytes.length};`;
}
