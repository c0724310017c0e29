/**
 * A Protobuf binary encoder compiled per message type, for the serializer's
 * hot path. protobuf-es's `toBinary` costs about 2.4 µs for the bench's order,
 * a fifth of it allocating (a BinaryWriter per message, grown by copies, sliced,
 * then copied again behind the wire prefix), and kontract's generic check
 * (validate.ts) another 0.8 µs before it. Here one generated pass per type
 * checks the message and sizes it, and a second writes it in place in the
 * message slab behind the caller's headroom: one allocation, no copy.
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
import { messageBuffer } from "../../util/message-buffers.js";
import { isWellFormed } from "../../util/unicode.js";
import { isJsonStruct, isUnboxedWrapper } from "./fields.js";

/** The payload behind `headroom` unwritten bytes, or undefined: take the generic path. */
export type FastEncoder = (value: unknown, headroom: number) => Uint8Array | undefined;

// google.protobuf.FeatureSet.FieldPresence
const EXPLICIT = 1;
const LEGACY_REQUIRED = 3;
const FLOAT_MAX = 3.4028234663852886e38;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * What the sizing pass hands the writing pass, in the order both visit the
 * message: the length of every nested message, packed list, map entry and
 * string, and the two 32-bit halves of every 64-bit integer. Reused: encoding
 * is synchronous and never re-enters.
 */
interface Slots {
  a: number[];
  /** Next free slot (sizing). */
  n: number;
  /** Next slot to read (writing). */
  r: number;
  /** The strings measured, written as measured: a getter cannot make the writer's string another. */
  s: string[];
  ns: number;
  rs: number;
}

type Sizer = (m: unknown) => number;
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
  // Every message type reachable from the root, numbered: generated code calls S[i] / W[i].
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
  const st: Slots = { a: [], n: 0, r: 0, s: [], ns: 0, rs: 0 };
  const S: Sizer[] = [];
  const W: Writer[] = [];
  const E: ReadonlySet<number>[] = [];
  for (const d of types) {
    const code = generate(d, index, E);
    S.push(new Function("H", "st", "S", "W", "E", code.size)(HELPERS, st, S, W, E) as Sizer);
    W.push(new Function("H", "st", "S", "W", "E", code.write)(HELPERS, st, S, W, E) as Writer);
  }
  const size = S[0]!;
  const write = W[0]!;
  return (value, headroom) => {
    // Values are read twice, sizing then writing (validate and toBinary read twice too). Strings are written
    // as measured; another value that changes in between (a getter) is caught when it changes the length.
    try {
      st.n = 0;
      st.ns = 0;
      const n = size(value);
      if (n < 0) return undefined;
      const buf = messageBuffer(headroom + n);
      st.r = 0;
      st.rs = 0;
      return write(value, buf, headroom) === buf.length ? buf : undefined;
    } catch {
      // Nested deeper than the stack, or a value that changed between the passes: the generic path tells.
      return undefined;
    } finally {
      // The strings must not stay alive here after the call.
      for (let i = 0; i < st.ns; i++) st.s[i] = "";
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
  /** Closed enums: the index of the set of declared numbers in H.enums. */
  readonly closed?: number;
}

interface Gen {
  /** The declared numbers of closed enums, E[i] in generated code. */
  readonly enums: ReadonlySet<number>[];
  readonly index: ReadonlyMap<DescMessage, number>;
  tmp: number;
}

/**
 * Statements that check `v` (bail with -1 when it does not fit), then add its
 * encoded size (without tag) to `n`, storing what the writer needs in slots.
 */
function sizeScalar(k: ScalarKind, v: string): string {
  switch (k.t) {
    case ScalarType.STRING:
      return `if (typeof ${v} !== "string") return -1; { const l = H.strLen(${v}); if (l < 0) return -1; st.a[st.n++] = l; st.s[st.ns++] = ${v}; n += H.vsize(l) + l; }`;
    case ScalarType.BYTES:
      return `if (!(${v} instanceof Uint8Array)) return -1; n += H.vsize(${v}.length) + ${v}.length;`;
    case ScalarType.BOOL:
      return `if (typeof ${v} !== "boolean") return -1; n += 1;`;
    case ScalarType.DOUBLE:
      return `if (typeof ${v} !== "number") return -1; n += 8;`;
    case ScalarType.FLOAT:
      return `if (typeof ${v} !== "number" || (Math.abs(${v}) > ${FLOAT_MAX} && ${v} !== Infinity && ${v} !== -Infinity)) return -1; n += 4;`;
    case ScalarType.INT32:
      return `if (typeof ${v} !== "number" || (${v} | 0) !== ${v}) return -1;${closedCheck(k, v)} n += ${v} < 0 ? 10 : H.vsize(${v});`;
    case ScalarType.SINT32:
      return `if (typeof ${v} !== "number" || (${v} | 0) !== ${v}) return -1; n += H.vsize(((${v} << 1) ^ (${v} >> 31)) >>> 0);`;
    case ScalarType.SFIXED32:
      return `if (typeof ${v} !== "number" || (${v} | 0) !== ${v}) return -1; n += 4;`;
    case ScalarType.UINT32:
      return `if (typeof ${v} !== "number" || (${v} >>> 0) !== ${v}) return -1; n += H.vsize(${v});`;
    case ScalarType.FIXED32:
      return `if (typeof ${v} !== "number" || (${v} >>> 0) !== ${v}) return -1; n += 4;`;
    case ScalarType.INT64:
      return `if (!H.split(${v}, false, st)) return -1; n += H.vsize64(st.a[st.n - 2], st.a[st.n - 1]);`;
    case ScalarType.UINT64:
      return `if (!H.split(${v}, true, st)) return -1; n += H.vsize64(st.a[st.n - 2], st.a[st.n - 1]);`;
    case ScalarType.SINT64:
      return `if (!H.split(${v}, false, st)) return -1; H.zigzag(st); n += H.vsize64(st.a[st.n - 2], st.a[st.n - 1]);`;
    case ScalarType.FIXED64:
      return `if (!H.split(${v}, true, st)) return -1; n += 8;`;
    case ScalarType.SFIXED64:
      return `if (!H.split(${v}, false, st)) return -1; n += 8;`;
  }
}

function closedCheck(k: ScalarKind, v: string): string {
  return k.closed === undefined ? "" : ` if (!E[${k.closed}].has(${v})) return -1;`;
}

/** Statements writing `v` (without tag) at `pos`, reading the slots the sizer stored. */
function writeScalar(k: ScalarKind, v: string): string {
  switch (k.t) {
    case ScalarType.STRING:
      return `{ const l = st.a[st.r++]; pos = H.varint(buf, pos, l); pos = H.str(buf, pos, st.s[st.rs++], l); }`;
    case ScalarType.BYTES:
      return `pos = H.varint(buf, pos, ${v}.length); buf.set(${v}, pos); pos += ${v}.length;`;
    case ScalarType.BOOL:
      return `buf[pos++] = ${v} ? 1 : 0;`;
    case ScalarType.DOUBLE:
      return `pos = H.f64(buf, pos, ${v});`;
    case ScalarType.FLOAT:
      return `pos = H.f32(buf, pos, ${v});`;
    case ScalarType.INT32:
      return `pos = ${v} < 0 ? H.varint64(buf, pos, ${v} >>> 0, 0xffffffff) : H.varint(buf, pos, ${v});`;
    case ScalarType.SINT32:
      return `pos = H.varint(buf, pos, ((${v} << 1) ^ (${v} >> 31)) >>> 0);`;
    case ScalarType.UINT32:
      return `pos = H.varint(buf, pos, ${v});`;
    case ScalarType.SFIXED32:
    case ScalarType.FIXED32:
      return `pos = H.fixed32(buf, pos, ${v} >>> 0);`;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
      return `pos = H.varint64(buf, pos, st.a[st.r], st.a[st.r + 1]); st.r += 2;`;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return `pos = H.fixed32(buf, pos, st.a[st.r]); pos = H.fixed32(buf, pos, st.a[st.r + 1]); st.r += 2;`;
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

function generate(d: DescMessage, index: ReadonlyMap<DescMessage, number>, enums: ReadonlySet<number>[]): { size: string; write: string } {
  const g: Gen = { enums, index, tmp: 0 };
  const fields = [...d.fields].sort((a, b) => a.number - b.number);
  // Own keys a message of the type holds, besides explicit fields that are set: $typeName, implicit fields, oneofs.
  let own = 1 + d.oneofs.length;
  const size: string[] = [];
  const write: string[] = [];
  const oneofsSeen = new Set<string>();
  for (const f of fields) {
    const key = JSON.stringify(f.localName);
    const get = `m[${key}]`;
    if (f.oneof) {
      const o = JSON.stringify(f.oneof.localName);
      if (!oneofsSeen.has(o)) {
        oneofsSeen.add(o);
        const cases = f.oneof.fields.map((x) => `c !== ${JSON.stringify(x.localName)}`).join(" && ");
        size.push(`{ const o = m[${o}]; if (typeof o !== "object" || o === null || Array.isArray(o) || o instanceof Uint8Array) return -1; const c = o.case; if (c !== undefined && ${cases}) return -1; }`);
      }
      const body = singular(g, f);
      size.push(`if (m[${o}].case === ${key}) { const v = m[${o}].value; ${body.size} }`);
      write.push(`if (m[${o}].case === ${key}) { const v = m[${o}].value; ${body.write} }`);
      continue;
    }
    if (f.fieldKind === "list") {
      own++;
      const l = list(g, f);
      size.push(`{ const v = ${get}; if (!Array.isArray(v)) return -1; ${l.size} }`);
      write.push(`{ const v = ${get}; ${l.write} }`);
      continue;
    }
    if (f.fieldKind === "map") {
      own++;
      const mp = map(g, f);
      size.push(`{ const v = ${get}; if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) return -1; ${mp.size} }`);
      write.push(`{ const v = ${get}; ${mp.write} }`);
      continue;
    }
    const body = singular(g, f);
    if (f.presence === EXPLICIT || f.presence === LEGACY_REQUIRED) {
      // Written when an own property that is not undefined (toBinary's test); checked, as validate does, whenever
      // it holds a value, own or inherited (proto2 keeps defaults on the prototype). null is not sure: generic path.
      // A required field not set is toBinary's error to raise: the generic path.
      const required = f.presence === LEGACY_REQUIRED ? `if (!has || v === undefined) return -1;` : "";
      // An inherited value is only checked: its size and slots are dropped, or the writer's reads would shift.
      size.push(
        `{ const v = ${get}; const has = H.own(m, ${key}); if (has) k++; ${required} if (v === null) return -1; if (v !== undefined) { if (has) { ${body.size} } else { const n0 = n, s0 = st.n, t0 = st.ns; ${body.size} n = n0; st.n = s0; st.ns = t0; } } }`,
      );
      write.push(`{ const v = ${get}; if (v !== undefined && H.own(m, ${key})) { ${body.write} } }`);
      continue;
    }
    own++;
    const tmp = `v${g.tmp++}`;
    size.push(`{ const ${tmp} = ${get}; ${checkOnly(g, f, tmp)} if (${notZero(f, tmp)}) { const v = ${tmp}; ${body.size} } }`);
    write.push(`{ const v = ${get}; if (${notZero(f, "v")}) { ${body.write} } }`);
  }
  const typeName = JSON.stringify(d.typeName);
  const sizeFn = `return function size(m) {
  if (typeof m !== "object" || m === null || m.$typeName !== ${typeName}) return -1;
  const slot = st.n++;
  let n = 0, k = ${own};
  ${size.join("\n  ")}
  const u = m.$unknown;
  if (u !== undefined) { if (!H.own(m, "$unknown")) return -1; k++; const us = H.unknownSize(u); if (us < 0) return -1; n += us; }
  if (H.keyCount(m) !== k) return -1;
  st.a[slot] = n;
  return n;
};`;
  const writeFn = `return function write(m, buf, pos) {
  st.r++;
  ${write.join("\n  ")}
  const u = m.$unknown;
  if (u !== undefined) pos = H.unknown(buf, pos, u);
  return pos;
};`;
  return { size: sizeFn, write: writeFn };
}

/**
 * The check alone of an implicit-presence scalar: its type is checked even at
 * its zero value, which is not written. Messages are never implicit.
 */
function checkOnly(g: Gen, f: DescField, v: string): string {
  const k = scalarKind(g, f, f.fieldKind === "enum" ? "enum" : "scalar");
  // The size statements check first, then add to n; at the zero they add the size of a value never written,
  // so run them on a throwaway total and keep only the check (strings store their length: only when written).
  if (k.t === ScalarType.STRING) return `if (typeof ${v} !== "string") return -1;`;
  if (k.t === ScalarType.BYTES) return `if (!(${v} instanceof Uint8Array)) return -1;`;
  if (k.t === ScalarType.INT64 || k.t === ScalarType.SINT64 || k.t === ScalarType.SFIXED64) return `if (!H.isLong(${v}, false)) return -1;`;
  if (k.t === ScalarType.UINT64 || k.t === ScalarType.FIXED64) return `if (!H.isLong(${v}, true)) return -1;`;
  return `{ const n0 = n, s0 = st.n, t0 = st.ns; ${sizeScalar(k, v)} n = n0; st.n = s0; st.ns = t0; }`;
}

/** A singular value with its tag: a scalar, an enum or a message. `v` holds the value. */
function singular(g: Gen, f: DescField): { size: string; write: string } {
  if (f.fieldKind === "message") {
    const i = g.index.get(f.message!)!;
    const t = tag(f.number, WIRE_LEN);
    return {
      size: `{ const c = S[${i}](v); if (c < 0) return -1; n += ${t.size} + H.vsize(c) + c; }`,
      write: `${t.write} pos = H.varint(buf, pos, st.a[st.r]); pos = W[${i}](v, buf, pos);`,
    };
  }
  const k = scalarKind(g, f, f.fieldKind === "enum" ? "enum" : "scalar");
  const t = tag(f.number, wireType(k.t));
  return { size: `${sizeScalar(k, "v")} n += ${t.size};`, write: `${t.write} ${writeScalar(k, "v")}` };
}

function list(g: Gen, f: Extract<DescField, { fieldKind: "list" }>): { size: string; write: string } {
  if (f.listKind === "message") {
    const i = g.index.get(f.message!)!;
    const t = tag(f.number, WIRE_LEN);
    return {
      size: `for (let i = 0; i < v.length; i++) { const c = S[${i}](v[i]); if (c < 0) return -1; n += ${t.size} + H.vsize(c) + c; }`,
      write: `for (let i = 0; i < v.length; i++) { ${t.write} pos = H.varint(buf, pos, st.a[st.r]); pos = W[${i}](v[i], buf, pos); }`,
    };
  }
  const k = scalarKind(g, f, f.listKind);
  if (f.packed) {
    const t = tag(f.number, WIRE_LEN);
    // The body's length goes to a slot taken before the elements' own slots (64-bit halves).
    return {
      size: `if (v.length > 0) { const slot = st.n++; const n0 = n; n = 0; for (let i = 0; i < v.length; i++) { const x = v[i]; ${sizeScalar(k, "x")} } st.a[slot] = n; n = n0 + ${t.size} + H.vsize(st.a[slot]) + st.a[slot]; }`,
      write: `if (v.length > 0) { ${t.write} pos = H.varint(buf, pos, st.a[st.r++]); for (let i = 0; i < v.length; i++) { const x = v[i]; ${writeScalar(k, "x")} } }`,
    };
  }
  const t = tag(f.number, wireType(k.t));
  return {
    size: `for (let i = 0; i < v.length; i++) { const x = v[i]; ${sizeScalar(k, "x")} n += ${t.size}; }`,
    write: `for (let i = 0; i < v.length; i++) { const x = v[i]; ${t.write} ${writeScalar(k, "x")} }`,
  };
}

function map(g: Gen, f: Extract<DescField, { fieldKind: "map" }>): { size: string; write: string } {
  const entry = tag(f.number, WIRE_LEN);
  const keyKind: ScalarKind = { t: f.mapKey! };
  const keyTag = tag(1, wireType(keyKind.t));
  let valueSize: string;
  let valueWrite: string;
  if (f.mapKind === "message") {
    const i = g.index.get(f.message!)!;
    const t = tag(2, WIRE_LEN);
    valueSize = `{ const c = S[${i}](x); if (c < 0) return -1; n += ${t.size} + H.vsize(c) + c; }`;
    valueWrite = `${t.write} pos = H.varint(buf, pos, st.a[st.r]); pos = W[${i}](x, buf, pos);`;
  } else {
    const k = scalarKind(g, f, f.mapKind);
    const t = tag(2, wireType(k.t));
    valueSize = `${sizeScalar(k, "x")} n += ${t.size};`;
    valueWrite = `${t.write} ${writeScalar(k, "x")}`;
  }
  // Keys are object keys, strings: converted as toBinary converts them, and only when canonical.
  const keyValue = `const key = H.mapKey(ks[j], ${keyKind.t}); if (key === undefined) return -1;`;
  return {
    size: `const ks = Object.keys(v); for (let j = 0; j < ks.length; j++) { ${keyValue} const x = v[ks[j]]; const slot = st.n++; const n0 = n; n = ${keyTag.size}; { const v = key; ${sizeScalar(keyKind, "v")} } ${valueSize} st.a[slot] = n; n = n0 + ${entry.size} + H.vsize(st.a[slot]) + st.a[slot]; }`,
    write: `const ks = Object.keys(v); for (let j = 0; j < ks.length; j++) { const key = H.mapKey(ks[j], ${keyKind.t}); const x = v[ks[j]]; ${entry.write} pos = H.varint(buf, pos, st.a[st.r++]); ${keyTag.write} { const v = key; ${writeScalar(keyKind, "v")} } ${valueWrite} }`,
  };
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
  own: (m: object, key: string): boolean => Object.prototype.hasOwnProperty.call(m, key),
  keyCount: (m: object): number => Object.keys(m).length,
  vsize(n: number): number {
    return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
  },
  vsize64(lo: number, hi: number): number {
    if (hi === 0) return HELPERS.vsize(lo);
    // bits above 32: each 7 more bits take a byte
    const bits = 64 - Math.clz32(hi);
    return Math.ceil(bits / 7);
  },
  /** UTF-8 length of a well-formed string; -1 for a lone surrogate (validate refuses it). */
  strLen(s: string): number {
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) return isWellFormed(s) ? Buffer.byteLength(s, "utf8") : -1;
    }
    return s.length;
  },
  isLong(v: unknown, unsigned: boolean): boolean {
    if (typeof v === "number") return Number.isSafeInteger(v) && (!unsigned || v >= 0);
    if (typeof v === "bigint") return unsigned ? v >= 0n && v <= UINT64_MAX : v >= INT64_MIN && v <= INT64_MAX;
    return false;
  },
  /** Stores the low and high 32 bits (two's complement) of a 64-bit value in two slots; false when not sure of it. */
  split(v: unknown, unsigned: boolean, st: Slots): boolean {
    let n: number;
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v) || (unsigned && v < 0)) return false;
      n = v;
    } else if (typeof v === "bigint") {
      if (unsigned ? v < 0n || v > UINT64_MAX : v < INT64_MIN || v > INT64_MAX) return false;
      if (v > 0x1fffffffffffffn || v < -0x1fffffffffffffn) {
        st.a[st.n++] = Number(BigInt.asUintN(32, v));
        st.a[st.n++] = Number(BigInt.asUintN(32, v >> 32n));
        return true;
      }
      n = Number(v);
    } else return false;
    const hi = Math.floor(n / TWO_32);
    st.a[st.n++] = (n - hi * TWO_32) >>> 0;
    st.a[st.n++] = hi >>> 0;
    return true;
  },
  /** sint64: the zigzag of the two halves split() just stored. */
  zigzag(st: Slots): void {
    const lo = st.a[st.n - 2]!;
    const hi = st.a[st.n - 1]!;
    const sign = hi >> 31;
    st.a[st.n - 2] = ((lo << 1) ^ sign) >>> 0;
    st.a[st.n - 1] = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
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
  /** `len` is the UTF-8 length: equal to the string's length only when it is ASCII. */
  str(buf: Buffer, pos: number, s: string, len: number): number {
    if (len === s.length && len <= 64) {
      for (let i = 0; i < len; i++) buf[pos + i] = s.charCodeAt(i);
      return pos + len;
    }
    return pos + buf.write(s, pos, len, "utf8");
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
  unknownSize(u: unknown): number {
    if (!Array.isArray(u)) return -1;
    let n = 0;
    for (const f of u as { no: unknown; wireType: unknown; data: unknown }[]) {
      if (typeof f !== "object" || f === null) return -1;
      const { no, wireType: wt, data } = f;
      if (typeof no !== "number" || !Number.isInteger(no) || no < 1 || no > 0x1fffffff) return -1;
      if (typeof wt !== "number" || !Number.isInteger(wt) || wt < 0 || wt > 5 || !(data instanceof Uint8Array)) return -1;
      n += HELPERS.vsize(((no << 3) | wt) >>> 0) + data.length;
    }
    return n;
  },
  unknown(buf: Buffer, pos: number, u: readonly { no: number; wireType: number; data: Uint8Array }[]): number {
    for (const { no, wireType: wt, data } of u) {
      pos = HELPERS.varint(buf, pos, ((no << 3) | wt) >>> 0);
      buf.set(data, pos);
      pos += data.length;
    }
    return pos;
  },
};
