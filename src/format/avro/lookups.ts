/**
 * avsc looks enum symbols and wrapped-union branch names up in plain objects,
 * so the members of Object.prototype match too: an enum value "constructor"
 * validated and was written as the first symbol (a silently different
 * message), and a wrapped union value `{"toString": …}` threw a TypeError.
 * avsc freezes its types, not these lookup tables: they get a null prototype.
 * Enums also check that the value is a string before the lookup, which would
 * otherwise turn any object into a key (and throw for one that has no string form).
 */
import { EnumTypeClass, isArrayType, isMapType, isRecordType, isUnionType, mapValues, type AvroType } from "./avsc.js";

type Lookup = Record<string, number>;

class OwnSymbolEnumType extends EnumTypeClass {
  constructor(schema: unknown, opts: unknown) {
    super(schema, opts);
    Object.setPrototypeOf((this as unknown as { _indices: Lookup })._indices, null);
  }
  _check(val: unknown, flags: unknown, hook?: (val: unknown, type: AvroType) => void): boolean {
    const ok = typeof val === "string" && (this as unknown as { _indices: Lookup })._indices[val] !== undefined;
    if (!ok && hook) hook(val, this as unknown as AvroType);
    return ok;
  }
}

/** avsc's `typeHook` part for enums: see the module comment. */
export function ownSymbolEnum(schema: unknown, opts: unknown): AvroType | undefined {
  if (typeof schema !== "object" || schema === null || (schema as { type?: unknown }).type !== "enum") return undefined;
  return new OwnSymbolEnumType(schema, opts) as unknown as AvroType;
}

/** Gives every union's branch-name table under `root` a null prototype. Unions are built by avsc itself (no hook). */
export function ownBranchNames(root: AvroType, seen = new Set<AvroType>()): void {
  if (seen.has(root)) return;
  seen.add(root);
  if (isUnionType(root)) {
    Object.setPrototypeOf((root as unknown as { _branchIndices: Lookup })._branchIndices, null);
    for (const t of root.types) ownBranchNames(t, seen);
  } else if (isRecordType(root)) {
    for (const f of root.fields) ownBranchNames(f.type, seen);
  } else if (isArrayType(root)) {
    ownBranchNames(root.itemsType, seen);
  } else if (isMapType(root)) {
    ownBranchNames(mapValues(root), seen);
  }
}
