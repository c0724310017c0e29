/**
 * Functions every kontract program has beyond the standard library and the
 * strings extension: Confluent's string helpers from the Java client, so a
 * contract gives the same verdict in Java and Node.
 */
import { CelScalar, celEnv, celFunc, celMethod, isCelError, objectType } from "@bufbuild/cel";
import type { CelFunc } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { create } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import type { ReflectMessage } from "@bufbuild/protobuf/reflect";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import { isEmail, isHostname, isIpv4, isIpv6, isUri, isUriRef, isUuid } from "./validators.js";

const { STRING, BOOL } = CelScalar;
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
 * Every function a kontract program may call beyond the standard library.
 * The runtime's env and the static checker both take this list, so the checker
 * never accepts a call the runtime cannot make.
 */
export function runtimeFuncs(timeParseCacheSize: number): CelFunc[] {
  return [...strings, ...CONFLUENT_FUNCS, ...memoizedTimeParsers(timeParseCacheSize)];
}
