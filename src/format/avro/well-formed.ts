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
    // Recursive records reach this stand-in while their fields compile.
    let compiled: Check | undefined;
    const recursive: Check = (value) => compiled!(value);
    records.set(type, recursive);
    const checks: Check[] = [];
    const lines: string[] = [];
    for (const f of type.fields) {
      const c = compile(f.type, records);
      if (!c) continue;
      lines.push(`x = v[${JSON.stringify(f.name)}]; if (x !== undefined && !c${checks.length}(x)) return false;`);
      checks.push(c);
    }
    // Straight-line code per record, as avsc's own checkers: a call site per field, each seeing one check.
    const names = checks.map((_, i) => `c${i}`);
    compiled = new Function(...names, `return function wellFormed(v) {\nlet x;\n${lines.join("\n")}\nreturn true;\n};`)(...checks) as Check;
    records.set(type, compiled);
    return compiled;
  }
  return undefined; // numbers, booleans, null, enums (written as an index), bytes and fixed
}

/**
 * V8 answers a one-byte string (most are) without looking at its chars, which
 * no scan in JS can match.
 */
function wellFormedString(s: unknown): boolean {
  return isWellFormed(s as string);
}
