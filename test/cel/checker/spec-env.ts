/**
 * Test support: declarations of the cel-spec test data (`typeEnv` in
 * proto3-JSON form) as checker variables. Returns a reason instead when a
 * declaration has no equivalent in kontract (function declarations, abstract
 * types, optional types).
 */
import { getTestRegistry } from "@bufbuild/cel-spec/testdata/registry.js";
import { CHECK_TYPES as T, listOf, mapOf, messageCheckType, nullable } from "../../../src/cel/checker/index.js";
import type { CheckType } from "../../../src/cel/checker/index.js";

export const specRegistry = getTestRegistry();

/** cel-go's checker tests name the test protos by their cel-go packages. */
export function renameTestPackages(s: string): string {
  return s.replaceAll("google.expr.proto3.test", "cel.expr.conformance.proto3").replaceAll("google.expr.proto2.test", "cel.expr.conformance.proto2");
}

const PRIMITIVES: Record<string, CheckType> = {
  BOOL: T.bool,
  INT64: T.int,
  UINT64: T.uint,
  DOUBLE: T.double,
  STRING: T.string,
  BYTES: T.bytes,
};

export type TypeJson = Record<string, unknown>;

export function specType(t: TypeJson): CheckType | string {
  if (typeof t.primitive === "string") return PRIMITIVES[t.primitive] ?? `primitive ${t.primitive}`;
  if (typeof t.messageType === "string") return messageCheckType(renameTestPackages(t.messageType));
  if (t.listType !== undefined) {
    const e = specType(((t.listType as TypeJson).elemType ?? {}) as TypeJson);
    return typeof e === "string" ? e : listOf(e);
  }
  if (t.mapType !== undefined) {
    const m = t.mapType as TypeJson;
    const k = specType(m.keyType as TypeJson);
    const v = specType(m.valueType as TypeJson);
    if (typeof k === "string") return k;
    if (typeof v === "string") return v;
    return mapOf(k, v);
  }
  if (t.dyn !== undefined) return T.dyn;
  if (t.null !== undefined) return T.null;
  if (typeof t.wellKnown === "string") {
    switch (t.wellKnown) {
      case "ANY":
        return T.dyn;
      case "TIMESTAMP":
        return T.timestamp;
      case "DURATION":
        return T.duration;
    }
  }
  if (typeof t.wrapper === "string") {
    const p = PRIMITIVES[t.wrapper];
    return p === undefined ? `wrapper ${t.wrapper}` : nullable(p);
  }
  // A type parameter is unknown: dyn under gradual typing.
  if (typeof t.typeParam === "string") return T.dyn;
  if (t.abstractType !== undefined) return "abstract types (no equivalent in kontract)";
  return `type ${JSON.stringify(t)}`;
}

export interface SpecDecl {
  name: string;
  ident?: { type?: TypeJson };
  function?: unknown;
}

/** Variables for a typeEnv, or the reason it cannot be expressed. */
export function specVariables(decls: readonly SpecDecl[] | undefined, defaults: Record<string, CheckType> = {}): Record<string, CheckType> | string {
  const vars: Record<string, CheckType> = { ...defaults };
  for (const d of decls ?? []) {
    if (d.function !== undefined) return "declares functions (kontract's functions are the runtime's)";
    const t = specType(d.ident?.type ?? { dyn: {} });
    if (typeof t === "string") return t;
    vars[d.name] = t;
  }
  return vars;
}
