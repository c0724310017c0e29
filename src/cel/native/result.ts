/**
 * Native results back to CEL values: the program's result must be exactly what
 * the interpreter returns for the same input seen through views (ints as
 * bigint, uints as CelUint, record/list/map values of the message as views of
 * the same objects), so callers (fromCel, the executors) cannot tell the paths apart.
 */
import { celError, celMap, celUint } from "@bufbuild/cel";
import type { CelError } from "@bufbuild/cel";
import { isCelFailure } from "../failure.js";
import { ListView, MapView, RecordView, celView } from "../view.js";
import type { NType } from "./types.js";
import { isFail, mapGet, mapKeys, plainBytes, readerOf } from "./values.js";
import type { NFail } from "./values.js";

export function toCel(v: unknown, t: NType): unknown {
  if (isFail(v)) return v;
  if (v === null) return null;
  switch (t.k) {
    case "bool":
    case "string":
    case "double":
    case "null":
    case "empty":
      return v;
    case "int":
      return typeof v === "number" ? BigInt(v) : v;
    case "uint":
      return celUint(typeof v === "number" ? BigInt(v) : (v as bigint));
    case "bytes":
      return plainBytes(v as Uint8Array);
    case "nullable":
      return toCel(v, t.inner);
    case "record":
      return celView(v, t.shape);
    case "list": {
      if (t.shape !== undefined) return celView(v, t.shape);
      const read = readerOf(t.elem);
      return new ResultList((v as unknown[]).map((e) => element(read(e), t.elem)));
    }
    case "map": {
      if (t.shape !== undefined) return celView(v, t.shape);
      const read = readerOf(t.value);
      const out = new Map<unknown, unknown>();
      if (t.key.k === "string") {
        for (const k of mapKeys(v as object)) out.set(k, element(read(mapGet(v as object, k as string)), t.value));
      } else {
        for (const [k, x] of v as Map<unknown, unknown>) out.set(toCel(k, t.key), element(read(x), t.value));
      }
      return celMap(out as never);
    }
  }
}

const LIST_BRAND = Symbol.for("@bufbuild/cel/list");

/**
 * A list the expression built, as a CEL list. Unlike celList, it may hold error
 * values: elements of the message that do not fit their type stay errors
 * inside the list, as they do in a view.
 */
class ResultList {
  declare readonly [LIST_BRAND]: unknown;
  constructor(private readonly items: readonly unknown[]) {}
  get size(): number {
    return this.items.length;
  }
  get(index: number): unknown {
    return Number.isInteger(index) && index >= 0 && index < this.items.length ? this.items[index] : undefined;
  }
  values(): IterableIterator<unknown> {
    return this.items.values();
  }
  [Symbol.iterator](): IterableIterator<unknown> {
    return this.items.values();
  }
}
(ResultList.prototype as unknown as Record<symbol, unknown>)[LIST_BRAND] = {};

/** An element that does not fit its type stays an error value inside the list, as in a view. */
function element(v: unknown, t: NType): unknown {
  return isFail(v) ? celErrorOf(v) : toCel(v, t);
}

function celErrorOf(f: NFail): CelError {
  return celError(f.message);
}

/**
 * Whether a result is the binding it was computed from, unchanged: the native
 * value itself, a view of it, or its int/bytes form. Executors use it to keep
 * an identity transform's message untouched, as they do for `result === view`.
 */
export function isSameValue(result: unknown, native: unknown): boolean {
  if (result === native) return true;
  if (isCelFailure(result)) return false;
  if (result === null) return native === undefined;
  if (typeof result === "bigint") return typeof native === "number" && Number.isInteger(native) && result === BigInt(native);
  if (result instanceof RecordView || result instanceof ListView || result instanceof MapView) return result.native === native;
  if (result instanceof Uint8Array && native instanceof Uint8Array) {
    return result.buffer === native.buffer && result.byteOffset === native.byteOffset && result.byteLength === native.byteLength;
  }
  return false;
}
