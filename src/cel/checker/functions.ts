/**
 * The functions the checker knows: read from the same @bufbuild/cel
 * environment the runtime builds (standard library, strings extension,
 * Confluent helpers), so the checker cannot accept a call the runtime lacks.
 */
import { celEnv } from "@bufbuild/cel";
import type { CelEnv, CelType } from "@bufbuild/cel";
import type { Registry } from "@bufbuild/protobuf";
import { runtimeFuncs } from "../funcs.js";
import { messageCheckType } from "./schema-types.js";
import { T, listOf, mapOf } from "./types.js";
import type { CheckType } from "./types.js";

export interface Overload {
  readonly id: string;
  /** The receiver of a method (`x` in `x.f()`); undefined for global functions. */
  readonly receiver: CheckType | undefined;
  readonly params: readonly CheckType[];
  readonly result: CheckType;
}

export interface FunctionGroup {
  readonly name: string;
  readonly functions: readonly Overload[];
  readonly methods: readonly Overload[];
}

export interface FunctionTable {
  find(name: string): FunctionGroup | undefined;
}


export function checkTypeOfCelType(t: CelType): CheckType {
  switch (t.kind) {
    case "scalar":
      switch (t.scalar) {
        case "null_type":
          return T.null;
        default:
          return T[t.scalar];
      }
    case "list":
      return listOf(checkTypeOfCelType(t.element));
    case "map":
      return mapOf(checkTypeOfCelType(t.key), checkTypeOfCelType(t.value));
    case "object":
      return messageCheckType(t.name);
  }
}

function tableOf(env: CelEnv): FunctionTable {
  const groups = new Map<string, { functions: Overload[]; methods: Overload[] }>();
  for (const f of env.funcs) {
    let g = groups.get(f.name);
    if (g === undefined) {
      g = { functions: [], methods: [] };
      groups.set(f.name, g);
    }
    const overload: Overload = {
      id: f.id,
      receiver: f.target === undefined ? undefined : checkTypeOfCelType(f.target),
      params: f.arguments.map(checkTypeOfCelType),
      result: checkTypeOfCelType(f.result),
    };
    (f.target === undefined ? g.functions : g.methods).push(overload);
  }
  const frozen = new Map<string, FunctionGroup>();
  for (const [name, g] of groups) frozen.set(name, { name, ...g });
  return { find: (name) => frozen.get(name) };
}

let table: FunctionTable | undefined;

/** The runtime's functions, read once. */
export function functionTable(): FunctionTable {
  return (table ??= tableOf(runtimeEnv(undefined)));
}

const envs = new WeakMap<Registry, CelEnv>();
let defaultEnv: CelEnv | undefined;

/**
 * An environment like the runtime's (src/cel/runtime.ts): the same functions,
 * and the given registry plus the well-known types. Cached per registry.
 */
export function runtimeEnv(registry: Registry | undefined): CelEnv {
  if (registry === undefined) return (defaultEnv ??= celEnv({ funcs: runtimeFuncs(0) }));
  let env = envs.get(registry);
  if (env === undefined) {
    env = celEnv({ registry, funcs: runtimeFuncs(0) });
    envs.set(registry, env);
  }
  return env;
}
