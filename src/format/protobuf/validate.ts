/**
 * Structural check of a protobuf-es message, or of a plain init object as
 * `create()` accepts it: unknown keys, JS types and integer ranges per field.
 * protobuf-es does not check these itself (toBinary would write a number given
 * for a string field as its decimal text), so encode runs this first.
 * Paths use the proto field names ("items[2].sku"); unknown keys appear as given.
 */
import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { describeType } from "../../util/describe.js";
import { LONE_SURROGATE, isWellFormed } from "../../util/unicode.js";
import type { SchemaProblem } from "../types.js";
import { isJsonStruct, isUnboxedWrapper, wrapperScalar } from "./fields.js";
import { isPlainObject } from "./descriptor.js";

export function validateMessage(desc: DescMessage, value: unknown): SchemaProblem[] | undefined {
  const problems: SchemaProblem[] = [];
  checkMessage(desc, value, "", problems);
  return problems.length ? problems : undefined;
}

const memberNames = new WeakMap<DescMessage, ReadonlySet<string>>();

function membersOf(desc: DescMessage): ReadonlySet<string> {
  let names = memberNames.get(desc);
  if (!names) {
    names = new Set(desc.members.map((m) => m.localName));
    memberNames.set(desc, names);
  }
  return names;
}

function checkMessage(desc: DescMessage, value: unknown, path: string, problems: SchemaProblem[]): void {
  if (!isPlainObject(value)) {
    problems.push({ path, message: `expected a ${desc.typeName} message, got ${describe(value)}` });
    return;
  }
  const typeName = value.$typeName;
  if (typeName !== undefined && typeName !== desc.typeName) {
    problems.push({ path, message: `expected a ${desc.typeName} message, got ${typeNameOf(typeName)}` });
    return;
  }
  const names = membersOf(desc);
  for (const key of Object.keys(value)) {
    if (key !== "$typeName" && key !== "$unknown" && !names.has(key)) {
      problems.push({ path: join(path, key), message: `unknown field "${key}" in ${desc.typeName}` });
    }
  }
  for (const member of desc.members) {
    const v = value[member.localName];
    // null and undefined are "not set", as create() reads them
    if (v === undefined || v === null) continue;
    if (member.kind === "field") {
      checkField(member, v, join(path, member.name), problems);
      continue;
    }
    const p = join(path, member.name);
    if (!isPlainObject(v)) {
      problems.push({ path: p, message: `oneof ${member.name}: expected { case, value }, got ${describe(v)}` });
      continue;
    }
    if (v.case === undefined) continue;
    const field = member.fields.find((f) => f.localName === v.case);
    if (!field) {
      // The case comes from the caller: String() would throw on an object whose toString is not callable,
      // and a long string would be repeated whole. A field name fits TYPE_NAME.
      problems.push({ path: p, message: typeof v.case === "string" && TYPE_NAME.test(v.case) ? `oneof ${member.name} has no case "${v.case}"` : `oneof ${member.name} has no case: got ${describe(v.case)}` });
      continue;
    }
    checkField(field, v.value, join(path, field.name), problems);
  }
}

function checkField(field: DescField, v: unknown, path: string, problems: SchemaProblem[]): void {
  switch (field.fieldKind) {
    case "scalar":
      return checkScalar(field.scalar, v, path, problems);
    case "enum":
      return checkEnum(field.enum, v, path, problems);
    case "message":
      if (isUnboxedWrapper(field)) return checkScalar(wrapperScalar(field.message), v, path, problems);
      return checkMessageValue(field, field.message, v, path, problems);
    case "list": {
      if (!Array.isArray(v)) {
        problems.push({ path, message: `expected a list, got ${describe(v)}` });
        return;
      }
      for (let i = 0; i < v.length; i++) {
        const p = `${path}[${i}]`;
        if (field.listKind === "message") checkMessageValue(field, field.message, v[i], p, problems);
        else if (field.listKind === "enum") checkEnum(field.enum, v[i], p, problems);
        else checkScalar(field.scalar, v[i], p, problems);
      }
      return;
    }
    case "map": {
      if (!isPlainObject(v)) {
        problems.push({ path, message: `expected a map (plain object), got ${describe(v)}` });
        return;
      }
      for (const key of Object.keys(v)) {
        const p = `${path}[${JSON.stringify(key)}]`;
        if (!validMapKey(field.mapKey, key)) problems.push({ path: p, message: `invalid ${ScalarType[field.mapKey].toLowerCase()} map key` });
        const x = v[key];
        if (field.mapKind === "message") checkMessageValue(field, field.message, x, p, problems);
        else if (field.mapKind === "enum") checkEnum(field.enum, x, p, problems);
        else checkScalar(field.scalar, x, p, problems);
      }
      return;
    }
  }
}

function checkMessageValue(field: DescField, message: DescMessage, v: unknown, path: string, problems: SchemaProblem[]): void {
  if (!isJsonStruct(field)) return checkMessage(message, v, path, problems);
  if (!isPlainObject(v) || v.$typeName !== undefined || !isJson(v)) {
    problems.push({ path, message: `expected a JSON object (google.protobuf.Struct), got ${describe(v)}` });
  }
}

function isJson(v: unknown): boolean {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJson);
  return isPlainObject(v) && Object.values(v).every(isJson);
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const FLOAT_MAX = 3.4028234663852886e38;

function checkScalar(scalar: ScalarType, v: unknown, path: string, problems: SchemaProblem[]): void {
  const problem = scalarProblem(scalar, v);
  if (problem) problems.push({ path, message: problem });
}

function scalarProblem(scalar: ScalarType, v: unknown): string | undefined {
  switch (scalar) {
    case ScalarType.STRING:
      if (typeof v !== "string") return `expected a string, got ${describe(v)}`;
      // protobuf-es would write U+FFFD for a lone surrogate: a string that reads back as another.
      return isWellFormed(v) ? undefined : LONE_SURROGATE;
    case ScalarType.BOOL:
      return typeof v === "boolean" ? undefined : `expected a boolean, got ${describe(v)}`;
    case ScalarType.BYTES:
      return v instanceof Uint8Array ? undefined : `expected bytes (Uint8Array), got ${describe(v)}`;
    case ScalarType.DOUBLE:
      return typeof v === "number" ? undefined : `expected a number, got ${describe(v)}`;
    case ScalarType.FLOAT:
      if (typeof v !== "number") return `expected a number, got ${describe(v)}`;
      return Number.isFinite(v) && Math.abs(v) > FLOAT_MAX ? `${v} is out of float range` : undefined;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return intProblem(v, INT32_MIN, INT32_MAX, "int32");
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return intProblem(v, 0, UINT32_MAX, "uint32");
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return longProblem(v, INT64_MIN, INT64_MAX, "int64");
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return longProblem(v, 0n, UINT64_MAX, "uint64");
  }
}

function intProblem(v: unknown, min: number, max: number, type: string): string | undefined {
  if (typeof v !== "number" || !Number.isInteger(v)) return `expected an integer (${type}), got ${describe(v)}`;
  return v < min || v > max ? `${v} is out of ${type} range` : undefined;
}

/** protobuf-es accepts bigint, and also integral numbers and decimal strings, for 64-bit fields. */
function longProblem(v: unknown, min: bigint, max: bigint, type: string): string | undefined {
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === "string" && /^-?\d+$/.test(v)) n = BigInt(v);
  else return `expected an integer (${type}, bigint), got ${describe(v)}`;
  return n < min || n > max ? `${String(v)} is out of ${type} range` : undefined;
}

function checkEnum(desc: DescEnum, v: unknown, path: string, problems: SchemaProblem[]): void {
  const problem = intProblem(v, INT32_MIN, INT32_MAX, `enum ${desc.typeName}`);
  if (problem) problems.push({ path, message: problem });
  // closed (proto2) enums only hold declared numbers
  else if (!desc.open && !desc.values.some((e) => e.number === v)) {
    problems.push({ path, message: `${String(v)} is not a value of enum ${desc.typeName}` });
  }
}

function validMapKey(key: ScalarType, k: string): boolean {
  switch (key) {
    case ScalarType.STRING:
      return isWellFormed(k);
    case ScalarType.BOOL:
      return k === "true" || k === "false";
    default:
      return /^-?\d+$/.test(k) && longProblem(k, -(2n ** 63n), 2n ** 64n - 1n, "") === undefined;
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

const describe = describeType;

/** A Protobuf full name, of a length a schema could declare. */
const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,511}$/;

/**
 * A `$typeName` as given when it is a type name, else what it is: it is the
 * caller's data (String() throws on some objects, and a long string would be repeated whole).
 */
export function typeNameOf(typeName: unknown): string {
  return typeof typeName === "string" && TYPE_NAME.test(typeName) ? typeName : describeType(typeName);
}
