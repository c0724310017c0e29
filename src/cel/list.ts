/**
 * List concatenation for the interpreter. @bufbuild/cel's `+` on lists nests
 * a lazy ConcatList per call, so the `accu + [x]` step of map and filter
 * builds a chain as deep as the list: iterating it recurses once per level
 * (a stack overflow past about 10,000 elements) and indexing it walks the
 * chain. Here a concatenation copies the left list once and then appends in
 * place to lists it made, each result a prefix view of a shared array: the
 * step costs the right operand's size, and every list stays a value.
 */
import type { CelList, CelValue } from "@bufbuild/cel";

const LIST_BRAND = Symbol.for("@bufbuild/cel/list");

/** The first `size` items of `items`; later items belong to longer views of the same array. */
class PrefixList {
  declare readonly [LIST_BRAND]: unknown;
  constructor(
    readonly items: CelValue[],
    readonly size: number,
  ) {}
  get(index: number): CelValue | undefined {
    return Number.isInteger(index) && index >= 0 && index < this.size ? this.items[index] : undefined;
  }
  *values(): IterableIterator<CelValue> {
    for (let i = 0; i < this.size; i++) yield this.items[i]!;
  }
  [Symbol.iterator](): IterableIterator<CelValue> {
    return this.values();
  }
}
(PrefixList.prototype as unknown as Record<symbol, unknown>)[LIST_BRAND] = {};

/** `l + r`. Appends to l's array when l is the longest view of it, so no other view changes. */
export function concatLists(l: CelList, r: CelList): CelList {
  if (r.size === 0) return l;
  if (l.size === 0) return r;
  let items: CelValue[];
  if (l instanceof PrefixList && l.items.length === l.size) {
    items = l.items;
  } else {
    items = [];
    for (const v of l) items.push(v);
  }
  for (const v of r) items.push(v);
  return new PrefixList(items, items.length) as unknown as CelList;
}
