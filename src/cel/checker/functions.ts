/**
 * The functions the checker knows: read from the same @bufbuild/cel
 * environment the runtime builds (standard library, strings extension,
 * Confluent helpers), so the checker cannot accept a call the runtime lacks.
 */
import { celEnv } from "@bufbuild/cel";
import type { CelEnv, CelFunc, CelType } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { Registry } from "@bufbuild/protobuf";
import { CONFLUENT_FUNCS, memoizedTimeParsers } from "../funcs.js";
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

/** The function list of kontract's runtime (src/cel/runtime.ts builds its env from the same lists). */
function runtimeFuncs(): CelFunc[] {
  return [...strings, ...CONFLUENT_FUNCS, ...memoizedTimeParsers(0)];
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
  return (table ??= tableOf(celEnv({ funcs: runtimeFuncs() })));
}

const registries = new WeakMap<Registry, Registry>();
let defaultRegistry: Registry | undefined;

/** The registry the runtime resolves types in: the given one plus the well-known types. */
export function runtimeRegistry(registry: Registry | undefined): Registry {
  if (registry === undefined) return (defaultRegistry ??= celEnv().registry);
  let r = registries.get(registry);
  if (r === undefined) {
    r = celEnv({ registry }).registry;
    registries.set(registry, r);
  }
  return r;
}
