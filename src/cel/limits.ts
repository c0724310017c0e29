import { KontractError } from "../errors.js";

/**
 * Compile-time limits. The evaluator has no step counter, so evaluation cost is
 * bounded by bounding the expression: with N AST nodes and comprehensions nested
 * at most K deep, one evaluation performs at most about N * n^K steps for inputs
 * of n elements.
 */
export interface CelLimits {
  /** Maximum expression length in UTF-16 code units. */
  readonly maxExpressionLength: number;
  /** Maximum number of AST nodes after macro expansion. */
  readonly maxAstNodes: number;
  /** Maximum nesting depth of the AST after macro expansion. */
  readonly maxDepth: number;
  /** Maximum nesting of comprehensions (all, exists, exists_one, map, filter). */
  readonly maxComprehensionDepth: number;
  /** Compiled regular expressions kept per runtime (patterns of `matches`). */
  readonly regexCacheSize: number;
}

export const DEFAULT_CEL_LIMITS: CelLimits = Object.freeze({
  maxExpressionLength: 10_000,
  maxAstNodes: 2_000,
  maxDepth: 100,
  maxComprehensionDepth: 3,
  regexCacheSize: 512,
});

export function resolveLimits(partial: Partial<CelLimits> | undefined): CelLimits {
  const limits = { ...DEFAULT_CEL_LIMITS, ...partial };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new KontractError("usage", `CEL limit ${key} must be a non-negative integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}
