/**
 * Functions every kontract program has beyond the standard library and the
 * strings extension: Confluent's string helpers from the Java client, so a
 * contract gives the same verdict in Java and Node.
 */
import { CelScalar, celEnv, celFunc, celMethod, isCelError, isCelList, listType, objectType } from "@bufbuild/cel";
import type { CelInput, CelList, CelValue } from "@bufbuild/cel";
import { PREDICATE_COSTS, charge, traversalCost } from "./cost.js";
import { concatLists } from "./list.js";
import type { Meter } from "./cost.js";
import type { CelFunc } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { create } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import type { ReflectMessage } from "@bufbuild/protobuf/reflect";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import { isEmail, isHostname, isIpv4, isIpv6, isUri, isUriRef, isUuid } from "./validators.js";

const { STRING, BOOL, INT } = CelScalar;
const TIMESTAMP = objectType(TimestampSchema);
const DURATION = objectType(DurationSchema);

function stringCheck(name: string, check: (s: string) => boolean): CelFunc {
  return celMethod(name, STRING, [], BOOL, function (this: string) {
    return check(this);
  });
}

/** `string.isEmail()` and friends; each is false for the empty string. */
export const CONFLUENT_FUNCS: readonly CelFunc[] = [
  stringCheck("isEmail", isEmail),
  stringCheck("isHostname", isHostname),
  stringCheck("isIpv4", isIpv4),
  stringCheck("isIpv6", isIpv6),
  stringCheck("isUri", isUri),
  stringCheck("isUriRef", isUriRef),
  stringCheck("isUuid", isUuid),
];

/**
 * `timestamp(string)` and `duration(string)` with their parses memoized: rules
 * compare against literals such as timestamp('2024-01-01T00:00:00Z'), which
 * @bufbuild/cel would parse again on every evaluation. Same ids as the standard
 * overloads, so these replace them. Each call returns a fresh value.
 */
export function memoizedTimeParsers(size: number): CelFunc[] {
  const std = celEnv().funcs;
  const memo = (name: "timestamp" | "duration"): CelFunc => {
    const group = std.find(name)!;
    const cache = new Map<string, { seconds: bigint; nanos: number }>();
    return celFunc(name, [STRING], name === "timestamp" ? TIMESTAMP : DURATION, (s: string) => {
      const hit = cache.get(s);
      const schema = name === "timestamp" ? TimestampSchema : DurationSchema;
      if (hit !== undefined) return reflect(schema, create(schema, hit), false);
      const r = group.call(0, undefined, [s]);
      // A new Error, so that the failure points at this call, not at the one of the standard group.
      if (r === undefined || isCelError(r)) throw new Error(r?.message ?? `no ${name}(string) overload`);
      const message = (r as ReflectMessage).message as Timestamp | Duration;
      if (size > 0) {
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(s, { seconds: message.seconds, nanos: message.nanos });
      }
      return r as ReflectMessage;
    });
  };
  return [memo("timestamp"), memo("duration")];
}

/**
 * Where `old` occurs in `s`, left to right without overlaps, at most `limit`
 * times (all when negative), as Go's strings.Replace finds them: an empty
 * `old` matches at the start and after every code point.
 */
function occurrences(s: string, old: string, limit: number): number[] {
  const at: number[] = [];
  if (limit === 0) return at;
  if (old === "") {
    for (let i = 0; i <= s.length && at.length !== limit; i++) {
      at.push(i);
      // A surrogate pair is one code point: no match between its halves.
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
    }
    return at;
  }
  for (let i = s.indexOf(old); i >= 0 && at.length !== limit; i = s.indexOf(old, i + old.length)) at.push(i);
  return at;
}

/**
 * `s.replace(old, new[, limit])` as cel-go's (Go's strings.Replace), in one
 * pass: @bufbuild/cel's rebuilds the string after every match (quadratic),
 * inserts a run at the start for an empty `old`, and replaces nothing for a
 * negative limit. The result's size is charged before it is built, so
 * `s.replace('', s)` cannot allocate |s|² characters.
 */
function replaceFuncs(meter: Meter | undefined): CelFunc[] {
  function replace(this: string, old: string, repl: string, limit?: bigint): string {
    const at = occurrences(this, old, limit === undefined || limit < 0n ? -1 : limit > BigInt(this.length + 1) ? this.length + 1 : Number(limit));
    if (meter !== undefined) charge(meter, traversalCost(this.length + this.length + at.length * (repl.length - old.length)));
    if (at.length === 0) return this;
    const parts = new Array<string>(at.length * 2 + 1);
    let from = 0;
    for (let i = 0; i < at.length; i++) {
      parts[2 * i] = this.slice(from, at[i]);
      parts[2 * i + 1] = repl;
      from = at[i]! + old.length;
    }
    parts[at.length * 2] = this.slice(from);
    return parts.join("");
  }
  return [celMethod("replace", STRING, [STRING, STRING], STRING, replace), celMethod("replace", STRING, [STRING, STRING, INT], STRING, replace)];
}

/**
 * The standard functions whose work grows with their operands, charging
 * cel-go's cost before they run: contains, startsWith, endsWith, and `in` on
 * a list (its size). Same ids as the standard overloads, so these replace
 * them; each delegates to the standard implementation.
 */
function chargedStandardFuncs(meter: Meter): CelFunc[] {
  const std = celEnv().funcs;
  const predicate = (name: keyof typeof PREDICATE_COSTS): CelFunc => {
    const group = std.find(name)!;
    const cost = PREDICATE_COSTS[name];
    return celMethod(name, STRING, [STRING], BOOL, function (this: string, arg: string) {
      charge(meter, cost(this, arg));
      return group.call(0, this, [arg]) as boolean;
    });
  };
  const inGroup = std.find("@in")!;
  const inList = celFunc("@in", [CelScalar.DYN, listType(CelScalar.DYN)], BOOL, (value: unknown, list: CelList) => {
    charge(meter, list.size);
    return inGroup.call(0, undefined, [value, list] as never) as boolean;
  });
  return [predicate("contains"), predicate("startsWith"), predicate("endsWith"), inList];
}

/** `list + list` without @bufbuild/cel's nesting (list.ts). Same id as the standard overload. */
const LIST_CONCAT: CelFunc = celFunc("_+_", [listType(CelScalar.DYN), listType(CelScalar.DYN)], listType(CelScalar.DYN), concatLists);

/** Characters in a string operand, or in the strings of a list operand (join's receiver); 0 for the rest. */
function characters(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (!isCelList(v)) return 0;
  let n = 0;
  for (const x of v) if (typeof x === "string") n += x.length;
  return n;
}

/**
 * The strings extension, each function charging the traversal of its string
 * operands (ceil(0.1 * characters), cel-go's factor) before it runs, then
 * delegating to @bufbuild/cel's implementation. replace is ours (replaceFuncs).
 */
function chargedStrings(meter: Meter): CelFunc[] {
  return strings
    .filter((f) => f.name !== "replace")
    .map((f) => {
      const impl = function (this: CelValue | undefined, ...args: CelValue[]): CelInput {
        let size = characters(this);
        for (const a of args) size += characters(a);
        charge(meter, traversalCost(size));
        const r = f.call(0, this, args);
        // A new Error, so that the failure points at this call (as memoizedTimeParsers).
        if (r === undefined || isCelError(r)) throw new Error(r?.message ?? `no ${f.name} overload`);
        return r as CelInput;
      };
      return f.target === undefined ? celFunc(f.name, f.arguments, f.result, impl) : celMethod(f.name, f.target, f.arguments, f.result, impl);
    });
}

/**
 * Every function a kontract program may call beyond the standard library.
 * The runtime's env and the static checker both take this list, so the checker
 * never accepts a call the runtime cannot make. `meter` is the runtime's cost
 * meter, which functions whose work grows with their operands charge.
 */
export function runtimeFuncs(timeParseCacheSize: number, meter?: Meter): CelFunc[] {
  const charged = meter === undefined ? [...strings] : [...chargedStrings(meter), ...chargedStandardFuncs(meter)];
  return [...charged, ...replaceFuncs(meter), LIST_CONCAT, ...CONFLUENT_FUNCS, ...memoizedTimeParsers(timeParseCacheSize)];
}
