/**
 * A Protobuf binary encoder compiled per message type, for the serializer's
 * hot path. protobuf-es's `toBinary` costs about 2.4 µs for the bench's order,
 * a fifth of it allocating (a BinaryWriter per message, grown by copies, sliced,
 * then copied again behind the wire prefix), and kontract's generic check
 * (validate.ts) another 0.8 µs before it. Here one generated function per type
 * checks the message and writes it in place in the free room of the message
 * slab, behind the caller's headroom, as the Avro path does (avro/tap.ts). A
 * nested message's length is reserved as one byte, and widened (moving the
 * bytes after it) only when the message turns out longer than 127 bytes. A
 * message that outgrows the slab's room is written again into a buffer of the
 * size the first pass counted: writes past the end are dropped, and the
 * position counts on.
 *
 * The bytes are toBinary's, exactly (test/format/protobuf/encode.test.ts
 * compares them over generated messages of many shapes). The compiled pass
 * accepts only what the generic check accepts and what it is sure to write
 * as toBinary does: a message of the type (its `$typeName` set, no key that is
 * not a member), every value of its field's exact JS type and range. Anything
 * else (plain init objects, 64-bit values given as strings, a lone surrogate,
 * a missing required field, null values) makes it answer undefined, and the
 * caller takes the generic path, which reports the problem or encodes what it
 * accepts. Types it does not compile (groups, unboxed wrapper fields,
 * google.protobuf.Struct fields, a big-endian host) always take the generic path.
 */
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { claim, currentSlab, freeStart, messageBuffer } from "../../util/message-buffers.js";
import { isWellFormed } from "../../util/unicode.js";
import { isJsonStruct, isUnboxedWrapper } from "./fields.js";

/** The payload behind `headroom` unwritten bytes, or undefined: take the generic path. */
export type FastEncoder = (value: unknown, headroom: number) => Uint8Array | undefined;

// google.protobuf.FeatureSet.FieldPresence
const EXPLICIT = 1;
const LEGACY_REQUIRED = 3;
const FLOAT_MAX = 3.4028234663852886e38;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes a message of its type at `pos`: the position after it, or -1 when not sure of the value. */
type Writer = (m: unknown, buf: Buffer, pos: number) => number;

const compiled = new WeakMap<DescMessage, FastEncoder | null>();

/** The compiled encoder of `desc`, or undefined when its type (or a type it holds) is outside the compiled subset. */
export function fastEncoder(desc: DescMessage): FastEncoder | undefined {
  let enc = compiled.get(desc);
  if (enc === undefined) {
    enc = compile(desc) ?? null;
    compiled.set(desc, enc);
  }
  return enc ?? undefined;
}

function compile(root: DescMessage): FastEncoder | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  // Every message type reachable from the root, numbered: generated code calls W[i].
  const types: DescMessage[] = [];
  const index = new Map<DescMessage, number>();
  const visit = (d: DescMessage): boolean => {
    if (index.has(d)) return true;
    index.set(d, types.length);
    types.push(d);
    for (const f of d.fields) {
      if (!compilable(f)) return false;
      const child = f.fieldKind === "list" || f.fieldKind === "map" || f.fieldKind === "message" ? f.message : undefined;
      if (child && !visit(child)) return false;
    }
    return true;
  };
  if (!visit(root)) return undefined;
  const W: Writer[] = [];
  const E: ReadonlySet<number>[] = [];
  for (const d of types) W.push(new Function("H", "W", "E", generate(d, index, E))(HELPERS, W, E) as Writer);
  const write = W[0]!;
  return (value, headroom) => {
    try {
      const start = freeStart();
      const slab = currentSlab();
      const end = write(value, slab, start + headroom);
      if (end < 0) return undefined;
      if (end <= slab.length) return claim(end);
      // It outgrew the slab's room; the pass counted on, so its size is known.
      const buf = messageBuffer(end - start);
      return write(value, buf, headroom) === buf.length ? buf : undefined;
    } catch {
      // Nested deeper than the stack: the generic path tells.
      return undefined;
    }
  };
}

function compilable(f: DescField): boolean {
  if ("delimitedEncoding" in f && f.delimitedEncoding) return false;
  if (f.fieldKind === "message" && isUnboxedWrapper(f)) return false;
  if ((f.fieldKind === "message" || f.fieldKind === "list" || f.fieldKind === "map") && isJsonStruct(f)) return false;
  return true;
}

// ---- code generation ----

const WIRE_VARINT = 0;
const WIRE_64 = 1;
const WIRE_LEN = 2;
const WIRE_32 = 5;

function wireType(t: ScalarType): number {
  switch (t) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WIRE_LEN;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WIRE_64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WIRE_32;
    default:
      return WIRE_VARINT;
  }
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** The tag's bytes as statements; its length as a number. */
function tag(no: number, wt: number): { write: string; size: number } {
  const bytes = varintBytes(((no << 3) | wt) >>> 0);
  return { write: bytes.map((b) => `buf[pos++] = ${b};`).join(" "), size: bytes.length };
}

/** A scalar value the generated code handles: the enum's closed set, if any, rides along. */
interface ScalarKind {
  readonly t: ScalarType;
  /** Closed enums: the index of the set of declared numbers in E. */
  readonly closed?: number;
}

interface Gen {
  /** The declared numbers of closed enums, E[i] in generated code. */
  readonly enums: ReadonlySet<number>[];
  readonly index: ReadonlyMap<DescMessage, number>;
  tmp: number;
}

/** Statements that bail out (-1) unless `v` is a value of the scalar type that validate accepts and toBinary writes as we do. */
function checkScalar(k: ScalarKind, v: string): string {
  switch (k.t) {
    case ScalarType.STRING:
      return `if (typeof ${v} !== "string") return -1;`;
    case ScalarType.BYTES:
      return `if (!(${v} instanceof Uint8Array)) return -1;`;
    case ScalarType.BOOL:
      return `if (typeof ${v} !== "boolean") return -1;`;
    case ScalarType.DOUBLE:
      return `if (typeof ${v} !== "number") return -1;`;
    case ScalarType.FLOAT:
      return `if (typeof ${v} !== "number" || (Math.abs(${v}) > ${FLOAT_MAX} && ${v} !== Infinity && ${v} !== -Infinity)) return -1;`;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return `if (typeof ${v} !== "number" || (${v} | 0) !== ${v}) return -1;${k.closed === undefined ? "" : ` if (!E[${k.closed}].has(${v})) return -1;`}`;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return `if (typeof ${v} !== "number" || (${v} >>> 0) !== ${v}) return -1;`;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return `if (!H.split(${v}, false)) return -1;`;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return `if (!H.split(${v}, true)) return -1;`;
  }
}

/** Statements that check `v` (checkScalar), then write it (without tag) at `pos`. */
function writeScalar(k: ScalarKind, v: string): string {
  const check = checkScalar(k, v);
  switch (k.t) {
    case ScalarType.STRING:
      return `${check} pos = H.str(buf, pos, ${v}); if (pos < 0) return -1;`;
    case ScalarType.BYTES:
      return `${check} pos = H.varint(buf, pos, ${v}.length); pos = H.bytes(buf, pos, ${v});`;
    case ScalarType.BOOL:
      return `${check} buf[pos++] = ${v} ? 1 : 0;`;
    case ScalarType.DOUBLE:
      return `${check} pos = H.f64(buf, pos, ${v});`;
    case ScalarType.FLOAT:
      return `${check} pos = H.f32(buf, pos, ${v});`;
    case ScalarType.INT32:
      return `${check} pos = ${v} < 0 ? H.varint64(buf, pos, ${v} >>> 0, 0xffffffff) : H.varint(buf, pos, ${v});`;
    case ScalarType.SINT32:
      return `${check} pos = H.varint(buf, pos, ((${v} << 1) ^ (${v} >> 31)) >>> 0);`;
    case ScalarType.UINT32:
      return `${check} pos = H.varint(buf, pos, ${v});`;
    case ScalarType.SFIXED32:
    case ScalarType.FIXED32:
      return `${check} pos = H.fixed32(buf, pos, ${v} >>> 0);`;
    case ScalarType.INT64:
    case ScalarType.UINT64:
      return `${check} pos = H.varint64(buf, pos, H.lo, H.hi);`;
    case ScalarType.SINT64:
      return `${check} H.zigzag(); pos = H.varint64(buf, pos, H.lo, H.hi);`;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return `${check} pos = H.fixed32(buf, pos, H.lo); pos = H.fixed32(buf, pos, H.hi);`;
  }
}

/** The implicit-presence test of toBinary: the field is written when the value is not its zero. */
function notZero(f: DescField, v: string): string {
  if (f.fieldKind === "enum") return `${v} !== ${f.enum.values[0]!.number}`;
  switch (f.scalar) {
    case ScalarType.BOOL:
      return `${v} !== false`;
    case ScalarType.STRING:
      return `${v} !== ""`;
    case ScalarType.BYTES:
      return `${v}.length > 0`;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return `!Object.is(${v}, 0)`;
    default:
      // Loose, as toBinary's: 0 and 0n.
      return `${v} != 0`;
  }
}

function scalarKind(g: Gen, f: DescField, kind: "enum" | "scalar" | "message" | "map" | "list" | undefined): ScalarKind {
  if (kind === "enum") {
    if (f.enum!.open) return { t: ScalarType.INT32 };
    g.enums.push(new Set(f.enum!.values.map((e) => e.number)));
    return { t: ScalarType.INT32, closed: g.enums.length - 1 };
  }
  return { t: f.scalar! };
}

/** A length-delimited value: its length reserved as one byte at `at`, fixed up after (H.join). */
function delimited(body: string): string {
  return `{ const at = pos++; ${body} pos = H.join(buf, at, pos); }`;
}

/** A nested message (`x`) of type W[i], with its tag, length-delimited. */
function nested(g: Gen, desc: DescMessage, no: number, x: string): string {
  const i = g.index.get(desc)!;
  return `${tag(no, WIRE_LEN).write} ${delimited(`pos = W[${i}](${x}, buf, pos); if (pos < 0) return -1;`)}`;
}

function generate(d: DescMessage, index: ReadonlyMap<DescMessage, number>, enums: ReadonlySet<number>[]): string {
  const g: Gen = { enums, index, tmp: 0 };
  const fields = [...d.fields].sort((a, b) => a.number - b.number);
  // Own keys a message of the type holds, besides explicit fields that are set: $typeName, implicit fields, oneofs.
  let own = 1 + d.oneofs.length;
  const out: string[] = [];
  const oneofsSeen = new Set<string>();
  for (const f of fields) {
    const key = JSON.stringify(f.localName);
    const get = `m[${key}]`;
    if (f.oneof) {
      const o = JSON.stringify(f.oneof.localName);
      if (!oneofsSeen.has(o)) {
        oneofsSeen.add(o);
        const cases = f.oneof.fields.map((x) => `c !== ${JSON.stringify(x.localName)}`).join(" && ");
        out.push(`{ const o = m[${o}]; if (typeof o !== "object" || o === null || Array.isArray(o) || o instanceof Uint8Array) return -1; const c = o.case; if (c !== undefined && ${cases}) return -1; }`);
      }
      out.push(`if (m[${o}].case === ${key}) { const v = m[${o}].value; ${singular(g, f)} }`);
      continue;
    }
    if (f.fieldKind === "list") {
      own++;
      out.push(`{ const v = ${get}; if (!Array.isArray(v)) return -1; ${list(g, f)} }`);
      continue;
    }
    if (f.fieldKind === "map") {
      own++;
      out.push(`{ const v = ${get}; if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) return -1; ${map(g, f)} }`);
      continue;
    }
    if (f.presence === EXPLICIT || f.presence === LEGACY_REQUIRED) {
      // Written when an own property that is not undefined (toBinary's test). An inherited value (proto2 keeps
      // defaults on the prototype) is checked as validate checks it, not written; null is not sure: generic path.
      // A required field not set is toBinary's error to raise: generic path too.
      const required = f.presence === LEGACY_REQUIRED ? `if (!has || v === undefined) return -1;` : "";
      const inherited = f.fieldKind === "message" ? "return -1;" : checkScalar(scalarKind(g, f, f.fieldKind), "v");
      out.push(`{ const v = ${get}; const has = H.own(m, ${key}); if (has) k++; ${required} if (v === null) return -1; if (v !== undefined) { if (has) { ${singular(g, f)} } else { ${inherited} } } }`);
      continue;
    }
    own++;
    // Implicit presence: the value is checked even at its zero, which is not written.
    const k = scalarKind(g, f, f.fieldKind === "enum" ? "enum" : "scalar");
    const v = `v${g.tmp++}`;
    const zeroCheck = k.t === ScalarType.STRING || k.t === ScalarType.BYTES || k.t === ScalarType.BOOL || k.t === ScalarType.DOUBLE ? checkScalar(k, v) : `{ ${checkScalar(k, v)} }`;
    out.push(`{ const ${v} = ${get}; if (${notZero(f, v)}) { const v = ${v}; ${singular(g, f)} } else { ${zeroCheck} } }`);
  }
  const typeName = JSON.stringify(d.typeName);
  return `return function write(m, buf, pos) {
  if (typeof m !== "object" || m === null || m.$typeName !== ${typeName}) return -1;
  let k = ${own};
  ${out.join("\n  ")}
  const u = m.$unknown;
  if (u !== undefined) { if (!H.own(m, "$unknown")) return -1; k++; pos = H.unknown(buf, pos, u); if (pos < 0) return -1; }
  if (H.keyCount(m) !== k) return -1;
  return pos;
};`;
}

/** A singular value `v` with its tag: a scalar, an enum or a message. */
function singular(g: Gen, f: DescField): string {
  if (f.fieldKind === "message") return nested(g, f.message!, f.number, "v");
  const k = scalarKind(g, f, f.fieldKind === "enum" ? "enum" : "scalar");
  return `${tag(f.number, wireType(k.t)).write} ${writeScalar(k, "v")}`;
}

function list(g: Gen, f: Extract<DescField, { fieldKind: "list" }>): string {
  if (f.listKind === "message") return `for (let i = 0; i < v.length; i++) { ${nested(g, f.message, f.number, "v[i]")} }`;
  const k = scalarKind(g, f, f.listKind);
  if (f.packed) {
    return `if (v.length > 0) { ${tag(f.number, WIRE_LEN).write} ${delimited(`for (let i = 0; i < v.length; i++) { const x = v[i]; ${writeScalar(k, "x")} }`)} }`;
  }
  return `for (let i = 0; i < v.length; i++) { const x = v[i]; ${tag(f.number, wireType(k.t)).write} ${writeScalar(k, "x")} }`;
}

function map(g: Gen, f: Extract<DescField, { fieldKind: "map" }>): string {
  const keyKind: ScalarKind = { t: f.mapKey };
  const value =
    f.mapKind === "message"
      ? nested(g, f.message, 2, "x")
      : (() => {
          const k = scalarKind(g, f, f.mapKind);
          return `${tag(2, wireType(k.t)).write} ${writeScalar(k, "x")}`;
        })();
  // Keys are object keys, strings: converted as toBinary converts them, and only when canonical.
  const entry = `${tag(1, wireType(keyKind.t)).write} ${writeScalar(keyKind, "key")} ${value}`;
  return `const ks = Object.keys(v); for (let j = 0; j < ks.length; j++) { const key = H.mapKey(ks[j], ${keyKind.t}); if (key === undefined) return -1; const x = v[ks[j]]; ${tag(f.number, WIRE_LEN).write} ${delimited(entry)} }`;
}

// ---- run-time helpers of the generated code ----

const f64 = new Float64Array(1);
const f32 = new Float32Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32Bytes = new Uint8Array(f32.buffer);
const TWO_32 = 0x100000000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
/** A canonical decimal integer, as String(n) prints it. */
const DECIMAL = /^(?:0|-?[1-9]\d*)$/;

const HELPERS = {
  /** The low and high 32 bits (two's complement) of the last 64-bit value split(). */
  lo: 0,
  hi: 0,
  own: (m: object, key: string): boolean => Object.prototype.hasOwnProperty.call(m, key),
  /**
   * The number of own enumerable keys. for-in allocates no array (about half the time of Object.keys
   * on the bench's order), but it also counts inherited keys: only where the prototype is Object's
   * (an enumerable key added to Object.prototype makes the count too high: the generic path then).
   */
  keyCount(m: object): number {
    if (Object.getPrototypeOf(m) !== Object.prototype) return Object.keys(m).length;
    let n = 0;
    for (const _ in m) n++;
    return n;
  },
  vsize(n: number): number {
    return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
  },
  /** UTF-8 length of a well-formed string; -1 for a lone surrogate (validate refuses it). */
  strLen(s: string): number {
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) return isWellFormed(s) ? Buffer.byteLength(s, "utf8") : -1;
    }
    return s.length;
  },
  /** Splits a 64-bit value into lo and hi; false when it is not one validate accepts as it stands (strings go generic). */
  split(v: unknown, unsigned: boolean): boolean {
    let n: number;
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v) || (unsigned && v < 0)) return false;
      n = v;
    } else if (typeof v === "bigint") {
      if (unsigned ? v < 0n || v > UINT64_MAX : v < INT64_MIN || v > INT64_MAX) return false;
      if (v > 0x1fffffffffffffn || v < -0x1fffffffffffffn) {
        HELPERS.lo = Number(BigInt.asUintN(32, v));
        HELPERS.hi = Number(BigInt.asUintN(32, v >> 32n));
        return true;
      }
      n = Number(v);
    } else return false;
    const hi = Math.floor(n / TWO_32);
    HELPERS.lo = (n - hi * TWO_32) >>> 0;
    HELPERS.hi = hi >>> 0;
    return true;
  },
  /** sint64: the zigzag of the halves split() just set. */
  zigzag(): void {
    const { lo, hi } = HELPERS;
    const sign = hi >> 31;
    HELPERS.lo = ((lo << 1) ^ sign) >>> 0;
    HELPERS.hi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  },
  varint(buf: Buffer, pos: number, n: number): number {
    while (n > 0x7f) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    return pos;
  },
  varint64(buf: Buffer, pos: number, lo: number, hi: number): number {
    if (hi === 0) return HELPERS.varint(buf, pos, lo);
    for (let i = 0; i < 4; i++) {
      buf[pos++] = ((lo >>> (7 * i)) & 0x7f) | 0x80;
    }
    // bits 28..34: four of lo, three of hi
    let rest = hi >>> 3;
    const split = ((lo >>> 28) & 0x0f) | ((hi & 0x07) << 4);
    if (rest === 0) {
      buf[pos++] = split;
      return pos;
    }
    buf[pos++] = split | 0x80;
    while (rest > 0x7f) {
      buf[pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    buf[pos++] = rest;
    return pos;
  },
  /**
   * The length of the bytes from `at + 1` to `end` into the byte reserved at `at`; when it takes
   * more than one byte, the bytes move right to make room. The position after them.
   */
  join(buf: Buffer, at: number, end: number): number {
    const len = end - at - 1;
    if (len < 0x80) {
      buf[at] = len;
      return end;
    }
    const extra = HELPERS.vsize(len) - 1;
    // Past the end of the buffer nothing is kept, and the caller writes again: copyWithin clamps.
    buf.copyWithin(at + 1 + extra, at + 1, end);
    HELPERS.varint(buf, at, len);
    return end + extra;
  },
  fixed32(buf: Buffer, pos: number, n: number): number {
    buf[pos] = n;
    buf[pos + 1] = n >>> 8;
    buf[pos + 2] = n >>> 16;
    buf[pos + 3] = n >>> 24;
    return pos + 4;
  },
  f64(buf: Buffer, pos: number, v: number): number {
    f64[0] = v;
    for (let i = 0; i < 8; i++) buf[pos + i] = f64Bytes[i]!;
    return pos + 8;
  },
  f32(buf: Buffer, pos: number, v: number): number {
    f32[0] = v;
    for (let i = 0; i < 4; i++) buf[pos + i] = f32Bytes[i]!;
    return pos + 4;
  },
  /**
   * A string with its length prefix; -1 for a lone surrogate (validate refuses it). A short ASCII
   * string (the common case) is checked and copied in one loop, behind its one-byte length.
   */
  str(buf: Buffer, pos: number, s: string): number {
    const n = s.length;
    if (n < 0x80) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[pos + 1 + i] = c;
      }
      if (i === n) {
        buf[pos] = n;
        return pos + 1 + n;
      }
    }
    const len = HELPERS.strLen(s);
    if (len < 0) return -1;
    pos = HELPERS.varint(buf, pos, len);
    if (pos + len <= buf.length) buf.write(s, pos, len, "utf8");
    return pos + len;
  },
  bytes(buf: Buffer, pos: number, b: Uint8Array): number {
    if (pos + b.length <= buf.length) buf.set(b, pos);
    return pos + b.length;
  },
  /** A map's object key as the key type's value, as toBinary converts it; undefined when not canonical. */
  mapKey(key: string, t: ScalarType): unknown {
    switch (t) {
      case ScalarType.STRING:
        return key;
      case ScalarType.BOOL:
        return key === "true" ? true : key === "false" ? false : undefined;
      case ScalarType.INT64:
      case ScalarType.UINT64:
      case ScalarType.SINT64:
      case ScalarType.FIXED64:
      case ScalarType.SFIXED64:
        return DECIMAL.test(key) ? BigInt(key) : undefined;
      default:
        return DECIMAL.test(key) && key.length <= 11 ? Number(key) : undefined;
    }
  },
  /** Unknown fields as toBinary writes them (tag, then the raw bytes); -1 for a list that is not one of them. */
  unknown(buf: Buffer, pos: number, u: unknown): number {
    if (!Array.isArray(u)) return -1;
    for (const f of u as unknown[]) {
      if (typeof f !== "object" || f === null) return -1;
      const { no, wireType: wt, data } = f as { no: unknown; wireType: unknown; data: unknown };
      if (typeof no !== "number" || !Number.isInteger(no) || no < 1 || no > 0x1fffffff) return -1;
      if (typeof wt !== "number" || !Number.isInteger(wt) || wt < 0 || wt > 5 || !(data instanceof Uint8Array)) return -1;
      pos = HELPERS.varint(buf, pos, ((no << 3) | wt) >>> 0);
      pos = HELPERS.bytes(buf, pos, data);
    }
    return pos;
  },
};
