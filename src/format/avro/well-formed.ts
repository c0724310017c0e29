/**
 * Whether every string an Avro value would be written with (string values and
 * map keys) is well-formed UTF-16: the one refusal of the writer (tap.ts) that
 * avsc's isValid does not make. Compiled once per type, so a caller that only
 * needs the verdict (`kontract check`) can skip writing the bytes.
 *
 * Only for values that passed `type.isValid`: the walk trusts their shape,
 * and visits exactly what the writer writes (a record's declared fields, the
 * union branch avsc picks; an undefined field's default is pre-encoded by avsc
 * and never passes through the tap).
 */
import { isWellFormed } from "../../util/unicode.js";
import { type AvroType, branchIndexByName, isArrayType, isMapType, isRecordType, isUnionType, isWrappedUnion, mapValues, unwrappedBranchIndex, wrappedBranchIndex } from "./avsc.js";

type Check = (value: unknown) => boolean;

export function compileWellFormed(root: AvroType): Check {
  return compile(root, new Map()) ?? (() => true);
}

/** Undefined for a type that holds no string. */
function compile(type: AvroType, records: Map<AvroType, Check>): Check | undefined {
  if (type.typeName === "string") return wellFormedString;
  if (isArrayType(type)) {
    const item = compile(type.itemsType, records);
    if (item === undefined) return undefined;
    return (value) => {
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) if (!item(list[i])) return false;
      return true;
    };
  }
  if (isMapType(type)) {
    const entry = compile(mapValues(type), records);
    return (value) => {
      const map = value as Record<string, unknown>;
      for (const key of Object.keys(map)) if (!wellFormedString(key) || (entry !== undefined && !entry(map[key]))) return false;
      return true;
    };
  }
  if (isUnionType(type)) {
    const branches = type.types.map((b) => compile(b, records));
    if (branches.every((b) => b === undefined)) return undefined;
    if (!isWrappedUnion(type)) {
      return (value) => {
        const check = branches[unwrappedBranchIndex(type, value)];
        return check === undefined || check(value);
      };
    }
    const byName = branchIndexByName(type);
    return (value) => {
      const i = wrappedBranchIndex(value, byName);
      const check = branches[i];
      return check === undefined || check((value as Record<string, unknown>)[type.types[i]!.branchName!]);
    };
  }
  if (isRecordType(type)) {
    const known = records.get(type);
    if (known) return known;
    const fields: { name: string; check: Check }[] = [];
    const check: Check = (value) => {
      const record = value as Record<string, unknown>;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const v = record[f.name];
        if (v !== undefined && !f.check(v)) return false;
      }
      return true;
    };
    records.set(type, check); // before the fields: recursive records reuse it
    for (const f of type.fields) {
      const c = compile(f.type, records);
      if (c) fields.push({ name: f.name, check: c });
    }
    return check;
  }
  return undefined; // numbers, booleans, null, enums (written as an index), bytes and fixed
}

/** Short strings in JS: scanning a few chars costs less than a native call; a surrogate found defers to the exact check. */
function wellFormedString(s: unknown): boolean {
  const str = s as string;
  if (str.length > 64) return isWellFormed(str);
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return isWellFormed(str);
  }
  return true;
}
