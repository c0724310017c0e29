/**
 * Cost bounds for JSONata evaluation. The jsonata library (2.2.2) checks depth
 * and time only as a node starts, and counts no work: a tail-recursive loop
 * runs as one chain of microtasks that blocks the event loop until the clock
 * runs out, `[1..1e7].[1..1e7]` allocates until the heap is gone, and its
 * merge sort copies `slice(1)` per element, so sorting n items holds about n²
 * slots at once. These hooks, installed on each compiled expression, count
 * every evaluated node and every item it produces, cap sequences and sorts,
 * and abort with a CostExceeded that the executor reports as "rule-cost".
 */
import type jsonata from "jsonata";
import { KontractError } from "../../errors.js";
import type { EngineLimits } from "../types.js";

/** The library's hooks, looked up through the expression's environment on every node. */
const ENTRY = Symbol.for("jsonata.__evaluate_entry");
const EXIT = Symbol.for("jsonata.__evaluate_exit");
/** Per-evaluation state, kept on the evaluation's root frame. */
const BUDGET = Symbol("kontract.jsonata.budget");
/** A string costs a step per 64 characters: doubling one stops at tens of MB, not at the heap's end. */
const CHARS_PER_STEP_LOG2 = 6;

/**
 * Thrown inside the library, which decorates what passes through function
 * calls (position, token): a plain object until the executor wraps it.
 */
export class CostExceeded {
  constructor(readonly reason: string) {}
}

type Sequence = unknown[] & { sequence?: boolean };

interface Budget {
  /** Nodes evaluated plus items they produced. */
  steps: number;
  /** The sequence pushed to last: an order-by's input when its first comparison starts. */
  lastPushed: Sequence | undefined;
  /** Order-by paths running, innermost last. */
  readonly active: OrderByRun[];
  /** How many of them have not checked their input yet; sequences are tracked while any has not. */
  unchecked: number;
  /** The library's sequence factory, put back when every running order-by has checked its input. */
  libraryFactory: RootFrame["createSequence"] | undefined;
}

/** The parts of the library's evaluation frame these hooks use. */
interface RootFrame {
  [BUDGET]?: Budget;
  createSequence: (...item: unknown[]) => Sequence;
}
interface Frame {
  readonly base: RootFrame;
}

function budgetOf(base: RootFrame): Budget {
  return (base[BUDGET] ??= { steps: 0, lastPushed: undefined, active: [], unchecked: 0, libraryFactory: undefined });
}

/**
 * What the library's own bound errors mean, by code: depth, timeout, range
 * size, sequence size. Messages name the limit, never the size reached: a
 * size can come from a message value (`[1..$.ssn]`, `$pad('', $.ssn)`).
 */
const LIBRARY_COST: Readonly<Record<string, (limits: EngineLimits) => string>> = {
  D1011: (l) => `deeper than ${l.jsonataMaxDepth} nested evaluations`,
  D1012: (l) => `longer than ${l.jsonataTimeoutMs} ms`,
  D2014: () => "a range of more than 1e7 items (the library's own bound)",
  // Raised for a range before it is allocated, and by the library's sequences as they grow.
  D2015: (l) => sequenceTooLong(l.jsonataMaxSequence),
};

const sequenceTooLong = (max: number): string => `a sequence or range of more than ${max} items`;

/** The options the library enforces itself; the rest is in installLimits. */
export function libraryOptions(limits: EngineLimits): { timeout: number; stack: number; sequence: number } {
  return { timeout: limits.jsonataTimeoutMs, stack: limits.jsonataMaxDepth, sequence: limits.jsonataMaxSequence };
}

/** Wires the step budget, the sequence cap and the sort bound into one compiled expression. */
export function installLimits(expression: jsonata.Expression, limits: EngineLimits): void {
  const { jsonataMaxSteps: maxSteps, jsonataMaxSortItems: maxSort, jsonataMaxSequence: maxSequence } = limits;
  // `assign` binds in the expression's own frame; the library looks the hooks up by symbol.
  const bind = expression.assign.bind(expression) as unknown as (name: symbol, value: unknown) => void;
  const { terms, paths } = orderBys(expression.ast());
  const orderBy = terms.size > 0;
  // Counting on exit is enough: a node that never exits is bounded by the depth limit.
  bind(EXIT, (node: unknown, _input: unknown, env: Frame, result: unknown) => {
    const budget = budgetOf(env.base);
    budget.steps += Array.isArray(result) ? 1 + result.length : typeof result === "string" ? 1 + (result.length >>> CHARS_PER_STEP_LOG2) : 1;
    if (budget.steps > maxSteps) throw new CostExceeded(`more than ${maxSteps} evaluation steps (items and characters produced count)`);
    if (orderBy && paths.has(node)) endOrderBy(env.base, budget, node);
  });
  expression.registerFunction("sort", boundedSort(maxSort), "<af?:a>");
  expression.registerFunction("pad", boundedPad(maxSteps), "<s-ns?:s>");
  if (!orderBy) return;
  // An order-by's first comparison evaluates a term right after its input was
  // built: its size is checked there, before the quadratic merge starts.
  // Finding that input means tracking the sequences built from the moment its
  // path starts, so only order-by paths pay, and only until they compare.
  bind(ENTRY, (node: unknown, _input: unknown, env: Frame) => {
    const base = env.base;
    const budget = budgetOf(base);
    if (paths.has(node)) {
      if (budget.unchecked++ === 0) track(base, budget, maxSequence);
      budget.active.push({ path: node, checked: false });
      return;
    }
    const path = terms.get(node);
    if (path === undefined) return;
    // The comparing sort is the innermost running instance of its path (a deeper
    // one, started by a term, has ended before this term starts).
    const run = innermost(budget.active, path);
    if (run === undefined || run.checked) return;
    run.checked = true;
    const input = budget.lastPushed;
    budget.lastPushed = undefined;
    if (--budget.unchecked === 0) untrack(base, budget);
    if (input && input.length > maxSort) throw new CostExceeded(`an order-by over more than ${maxSort} items`);
  });
}

/** One running order-by path, and whether its sort's input was checked. */
interface OrderByRun {
  readonly path: unknown;
  checked: boolean;
}

function innermost(active: readonly OrderByRun[], path: unknown): OrderByRun | undefined {
  for (let i = active.length - 1; i >= 0; i--) if (active[i]!.path === path) return active[i];
  return undefined;
}

/** An order-by path ended (with no comparison when its input had fewer than two items). */
function endOrderBy(base: RootFrame, budget: Budget, path: unknown): void {
  const run = innermost(budget.active, path);
  if (run === undefined) return;
  budget.active.splice(budget.active.lastIndexOf(run), 1);
  if (!run.checked && --budget.unchecked === 0) untrack(base, budget);
}

/** Maps what an evaluation rejected with to a typed "rule-cost" error, or undefined for other failures. */
export function costError(e: unknown, limits: EngineLimits): KontractError | undefined {
  const prefix = "JSONata evaluation exceeded its cost limit";
  if (e instanceof CostExceeded) return new KontractError("rule-cost", `${prefix}: ${e.reason}`);
  const code = (e as { code?: unknown } | null | undefined)?.code;
  const explain = typeof code === "string" && Object.hasOwn(LIBRARY_COST, code) ? LIBRARY_COST[code] : undefined;
  if (explain) return new KontractError("rule-cost", `${prefix}: ${explain(limits)} (${code as string})`);
  // Stack overflow, or a string or array longer than the engine allows.
  if (e instanceof RangeError) return new KontractError("rule-cost", `${prefix}: ${e.message}`, { cause: e });
  return undefined;
}

/**
 * Swaps in a sequence factory that enforces the cap, as the library's does,
 * and remembers the last sequence pushed to. The library reads
 * `base.createSequence` anew each time.
 */
function track(base: RootFrame, budget: Budget, maxSequence: number): void {
  budget.libraryFactory ??= base.createSequence;
  // Unnamed on purpose: under tsx (esbuild keepNames) a named function expression costs a defineProperty per call.
  base.createSequence = function (): Sequence {
    const sequence: Sequence = [];
    sequence.push = function (...items: unknown[]): number {
      if (sequence.length + items.length > maxSequence) throw new CostExceeded(sequenceTooLong(maxSequence));
      budget.lastPushed = sequence;
      return Array.prototype.push.apply(sequence, items);
    };
    sequence.sequence = true;
    // As the library: createSequence(x) starts with x, even undefined.
    if (arguments.length === 1) sequence.push(arguments[0]);
    return sequence;
  };
}

function untrack(base: RootFrame, budget: Budget): void {
  if (budget.libraryFactory) base.createSequence = budget.libraryFactory;
}

/**
 * `$pad` as the library defines it (widths and lengths in code points), but
 * the padding is charged to the budget before it is built: the library's
 * `new Array(n + 1).join(char)` for n = 3e8 exhausts the heap.
 */
function boundedPad(maxSteps: number) {
  return function pad(this: jsonata.Focus, str: string | undefined, width: number, char?: string): string | undefined {
    if (str === undefined) return undefined;
    const fill = char === undefined || char.length === 0 ? " " : char;
    const w = Math.trunc(width);
    const padLength = Math.abs(w) - codePoints(str);
    if (padLength <= 0) return str;
    const budget = budgetOf((this.environment as unknown as Frame).base);
    if (budget.steps + (padLength >>> CHARS_PER_STEP_LOG2) > maxSteps) throw new CostExceeded(`$pad to more characters than ${maxSteps} evaluation steps allow`);
    // The first padLength code points of fill repeated, built without repeating a long fill padLength times.
    const unit = Array.from(fill);
    const padding = fill.repeat(Math.floor(padLength / unit.length)) + unit.slice(0, padLength % unit.length).join("");
    return w > 0 ? str + padding : padding + str;
  };
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Every order-by in the AST: each term expression, mapped to the path whose step the sort is. */
function orderBys(ast: unknown): { terms: ReadonlyMap<unknown, unknown>; paths: ReadonlySet<unknown> } {
  const terms = new Map<unknown, unknown>();
  const paths = new Set<unknown>();
  const seen = new Set<unknown>();
  const walk = (node: unknown): void => {
    if (typeof node !== "object" || node === null || seen.has(node)) return;
    seen.add(node);
    const n = node as { type?: unknown; steps?: { type?: unknown; terms?: { expression?: unknown }[] }[] };
    if (n.type === "path" && Array.isArray(n.steps)) {
      for (const step of n.steps) {
        if (step.type !== "sort" || !Array.isArray(step.terms)) continue;
        paths.add(node);
        for (const t of step.terms) terms.set(t.expression, node);
      }
    }
    for (const v of Object.values(node)) walk(v);
  };
  walk(ast);
  return { terms, paths };
}

type Comparator = (a: unknown, b: unknown) => unknown;

/**
 * `$sort` as the library defines it (same splits, same comparisons, so the
 * same result even for an inconsistent comparator), merging by index instead
 * of the library's per-element `slice(1)`, and refusing more than `max` items.
 */
function boundedSort(max: number) {
  return async function sort(arr: Sequence | undefined, comparator?: Comparator): Promise<unknown[] | undefined> {
    if (arr === undefined) return undefined;
    if (arr.length <= 1) return arr;
    if (arr.length > max) throw new CostExceeded(`$sort over more than ${max} items`);
    let swap: Comparator;
    if (comparator === undefined) {
      const numbers = arr.every((x) => typeof x === "number");
      if (!numbers && !arr.every((x) => typeof x === "string")) throw { code: "D3070", index: 1, stack: new Error().stack };
      swap = (a, b) => (a as number) > (b as number);
    } else {
      swap = comparator;
    }
    return mergeSort(arr, swap);
  };
}

async function mergeSort(array: readonly unknown[], swap: Comparator): Promise<unknown[]> {
  if (array.length <= 1) return array as unknown[];
  const middle = Math.floor(array.length / 2);
  const left = await mergeSort(array.slice(0, middle), swap);
  const right = await mergeSort(array.slice(middle), swap);
  const merged = new Array<unknown>(array.length);
  let i = 0;
  let j = 0;
  let k = 0;
  // The comparator returning true means "swap": the right item goes first.
  while (i < left.length && j < right.length) merged[k++] = (await swap(left[i], right[j])) ? right[j++] : left[i++];
  while (i < left.length) merged[k++] = left[i++];
  while (j < right.length) merged[k++] = right[j++];
  return merged;
}
