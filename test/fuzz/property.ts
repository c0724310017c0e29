/**
 * A small property runner for the fuzz tests: a fixed seed and a fixed count
 * (never a time budget), so every run replays the same inputs. On the first
 * failing input it shrinks greedily and fails with the seed, the iteration,
 * the minimal input and what went wrong.
 */
import { inspect } from "node:util";
import { mulberry32 } from "../helpers/random.js";

export interface Rng {
  /** A float in [0, 1). */
  (): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

export function rng(seed: number): Rng {
  const next = mulberry32(seed);
  const r = (() => next()) as Rng;
  r.int = (n) => Math.floor(next() * n);
  r.pick = (xs) => xs[Math.floor(next() * xs.length)]!;
  r.chance = (p) => next() < p;
  return r;
}

export interface Property<T> {
  readonly seed: number;
  readonly count: number;
  generate(r: Rng, iteration: number): T;
  /** Throws (or rejects) when the property does not hold for `input`. */
  check(input: T): void | Promise<void>;
  /** Smaller variants of a failing input, tried in order. */
  shrink?(input: T): Iterable<T>;
  show?(input: T): string;
}

/** Shrink steps tried at most, so a slow failing check cannot stall the report. */
const MAX_SHRINK_ATTEMPTS = 300;

export async function forAll<T>(p: Property<T>): Promise<void> {
  const r = rng(p.seed);
  for (let i = 0; i < p.count; i++) {
    const input = p.generate(r, i);
    const error = await failure(p, input);
    if (error === undefined) continue;
    const [minimal, minimalError] = await shrink(p, input, error);
    const show = p.show ?? ((x: T) => inspect(x, { depth: 6, maxStringLength: 300, maxArrayLength: 64, breakLength: 120 }));
    throw new Error(`property failed (seed ${p.seed}, iteration ${i})\nminimal input: ${show(minimal)}\n${describe(minimalError)}`, { cause: minimalError });
  }
}

async function failure<T>(p: Property<T>, input: T): Promise<unknown> {
  try {
    await p.check(input);
    return undefined;
  } catch (e) {
    return e ?? new Error(`threw ${String(e)}`);
  }
}

async function shrink<T>(p: Property<T>, input: T, error: unknown): Promise<[T, unknown]> {
  if (!p.shrink) return [input, error];
  let best = input;
  let bestError = error;
  let attempts = 0;
  let progress = true;
  try {
    while (progress && attempts < MAX_SHRINK_ATTEMPTS) {
      progress = false;
      for (const candidate of p.shrink(best)) {
        if (++attempts > MAX_SHRINK_ATTEMPTS) break;
        const e = await failure(p, candidate);
        if (e !== undefined) {
          best = candidate;
          bestError = e;
          progress = true;
          break;
        }
      }
    }
  } catch {
    // A shrinker that cannot handle the input (one nested deeper than the stack): report what we have.
  }
  return [best, bestError];
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}${(e as { code?: unknown }).code ? ` [${String((e as { code?: unknown }).code)}]` : ""}: ${e.message.slice(0, 2000)}\n${e.stack?.split("\n").slice(1, 6).join("\n") ?? ""}`;
  return `threw a non-Error: ${inspect(e)}`;
}

/** Shrinks a sequence by dropping halves, then quarters, ... then single elements. */
export function* shrinkSequence<S extends { length: number; slice(a: number, b?: number): S }>(xs: S, concat: (a: S, b: S) => S): Iterable<S> {
  for (let size = Math.floor(xs.length / 2); size >= 1; size = Math.floor(size / 2)) {
    for (let at = 0; at + size <= xs.length; at += size) yield concat(xs.slice(0, at), xs.slice(at + size));
  }
}

export const shrinkBytes = (b: Uint8Array): Iterable<Uint8Array> => shrinkSequence(b, (x, y) => Buffer.concat([x, y]));
export const shrinkString = (s: string): Iterable<string> => shrinkSequence(s, (x, y) => x + y);
