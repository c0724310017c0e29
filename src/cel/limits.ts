import { KontractError } from "../errors.js";

/**
 * Limits on expressions and on their evaluation. The compile-time limits bound
 * the expression; with N AST nodes and comprehensions nested K deep, one
 * evaluation may still take about N * n^K steps on inputs of n elements, so
 * `maxCost` bounds each evaluation as it runs (cost.ts).
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
  /**
   * Instructions of the RE2 program of one `matches` pattern; larger patterns
   * fail as invalid ones do. RE2's own max_mem limit, in instructions.
   */
  readonly maxRegexProgramSize: number;
  /**
   * Cost units one evaluation may spend (cel-go's units, see cost.ts); past
   * it, the evaluation stops with a failure of code "rule-cost".
   */
  readonly maxCost: number;
}

export const DEFAULT_CEL_LIMITS: CelLimits = Object.freeze({
  maxExpressionLength: 10_000,
  maxAstNodes: 2_000,
  maxDepth: 100,
  maxComprehensionDepth: 3,
  regexCacheSize: 512,
  maxRegexProgramSize: 1_000,
  maxCost: 10_000_000,
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
