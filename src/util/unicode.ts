/** Unicode checks on JS strings. */

interface WellFormed {
  isWellFormed(): boolean;
}

/**
 * False when `s` holds a lone surrogate. UTF-8 cannot carry one: encoders write
 * U+FFFD or bytes that do not decode, and the string reads back as another.
 * (String.prototype.isWellFormed, ES2024: in Node 20, not yet in the TS lib here.)
 */
export function isWellFormed(s: string): boolean {
  return (s as unknown as WellFormed).isWellFormed();
}

export const LONE_SURROGATE = "a string holds a lone surrogate (not well-formed UTF-16), which UTF-8 cannot carry";
