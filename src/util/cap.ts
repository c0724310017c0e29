/**
 * Error texts that carry input data (a rule's message, a decoder's complaint,
 * a list read from the bytes) are capped: an attacker's input must not grow
 * into megabytes of log lines or DLQ headers.
 */

/** Characters an error text that carries input data keeps. */
export const MAX_ERROR_TEXT = 1024;
/** Characters a piece of input inside a longer error text keeps: a path, a map key, one violation's message. */
export const MAX_INPUT_FRAGMENT = 256;

/**
 * `text`, or its first `max` characters, an ellipsis and the original length.
 * Never cuts a surrogate pair in half, so the result is still well-formed UTF-16.
 */
export function capText(text: string, max: number = MAX_ERROR_TEXT): string {
  if (text.length <= max) return text;
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length} chars)`;
}

/**
 * A list read from input, for an error text: "[1, 2]", or its first `max`
 * items and the count, "[1, 1, 1, …] (450000 indexes)". Joins only what it shows.
 */
export function capList(items: readonly unknown[], noun: string, max = 8): string {
  if (items.length <= max) return `[${items.join(", ")}]`;
  return `[${items.slice(0, max).join(", ")}, …] (${items.length} ${noun})`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
