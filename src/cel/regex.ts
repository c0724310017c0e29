/**
 * RE2 for `matches()`. @bufbuild/cel compiles the pattern on every call unless
 * given a `re2` engine; this one memoizes compiled patterns (6x on a regex rule).
 * RE2 runs in linear time, so no pattern can hang the consumer.
 */
import { RE2JS } from "@bufbuild/re2";

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

/** A pattern that does not compile: every use fails with the same error. */
class InvalidPattern implements Matcher {
  constructor(private readonly error: unknown) {}
  test(): boolean {
    throw this.error;
  }
}

/**
 * A memoizing RE2 engine holding at most `size` compiled patterns. Two
 * generations approximate LRU without reordering on every hit: lookups promote
 * entries from the old generation, and when the young one is full it becomes
 * the old one.
 */
export function createRe2Engine(size: number): Re2Engine {
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
        matcher = RE2JS.compile(pattern);
      } catch (e) {
        matcher = new InvalidPattern(e);
      }
      if (size > 0 && pattern.length <= MAX_CACHED_PATTERN_LENGTH) remember(pattern, matcher);
      return matcher;
    },
  };
}

/**
 * Checks that `pattern` is valid RE2 syntax (as `matches()` requires).
 * Returns undefined when valid, else the parser's message. For the linter.
 */
export function validateRe2(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
