/**
 * RE2 for `matches()`, memoizing compiled patterns (6x on a regex rule; the
 * standard `matches` compiles the pattern on every call). RE2 runs in time
 * linear in the input, but times the size of the compiled program: patterns
 * whose program exceeds a limit are rejected, as RE2's own max_mem rejects
 * them (a 5 KB alternation is a 5,000-instruction program).
 */
import { RE2JS } from "@bufbuild/re2";
import { DEFAULT_CEL_LIMITS } from "./limits.js";

export interface Matcher {
  test(text: string): boolean;
}

export interface Re2Engine {
  compile(pattern: string): Matcher;
}

/**
 * Patterns longer than this are compiled but not cached: they are usually data,
 * not rule literals, and would crowd the cache.
 */
const MAX_CACHED_PATTERN_LENGTH = 1024;

/** The number of instructions of a compiled pattern's RE2 program. */
function programSize(re: RE2JS): number {
  return re.re2Input.prog.numInst();
}

/** RE2JS.compile, throwing for a program over `maxProgramSize` instructions as for a syntax error. */
export function compileLimited(pattern: string, maxProgramSize: number): RE2JS {
  const re = RE2JS.compile(pattern);
  const size = programSize(re);
  if (size > maxProgramSize) {
    throw new Error(`regular expression too large: its RE2 program has ${size} instructions, the limit is ${maxProgramSize} (CEL limit maxRegexProgramSize)`);
  }
  return re;
}

/** A pattern that does not compile: every use fails with the same error. */
class InvalidPattern implements Matcher {
  constructor(private readonly error: unknown) {}
  test(): boolean {
    throw this.error;
  }
}

/** Whether `m` stands for a pattern that does not compile (or is too large): its every test throws. */
export function isInvalidPattern(m: Matcher): boolean {
  return m instanceof InvalidPattern;
}

/**
 * A memoizing RE2 engine holding at most `size` compiled patterns, each of at
 * most `maxProgramSize` instructions. Two
 * generations approximate LRU without reordering on every hit: lookups promote
 * entries from the old generation, and when the young one is full it becomes
 * the old one.
 */
export function createRe2Engine(size: number, maxProgramSize: number): Re2Engine {
  const half = Math.max(1, Math.ceil(size / 2));
  let young = new Map<string, Matcher>();
  let old = new Map<string, Matcher>();
  function remember(pattern: string, matcher: Matcher): void {
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(pattern, matcher);
  }
  return {
    compile(pattern: string): Matcher {
      const hit = young.get(pattern);
      if (hit !== undefined) return hit;
      const aged = old.get(pattern);
      if (aged !== undefined) {
        if (size > 0) remember(pattern, aged);
        return aged;
      }
      let matcher: Matcher;
      try {
        matcher = compileLimited(pattern, maxProgramSize);
      } catch (e) {
        matcher = new InvalidPattern(e);
      }
      if (size > 0 && pattern.length <= MAX_CACHED_PATTERN_LENGTH) remember(pattern, matcher);
      return matcher;
    },
  };
}

/**
 * Checks that `pattern` is valid RE2 syntax within the program size limit (as
 * `matches()` requires). Returns undefined when valid, else the problem. For the linter.
 */
export function validateRe2(pattern: string, maxProgramSize = DEFAULT_CEL_LIMITS.maxRegexProgramSize): string | undefined {
  try {
    compileLimited(pattern, maxProgramSize);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
