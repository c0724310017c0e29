/**
 * A bound on how deeply untrusted JSON may nest. Parsing is iterative, but
 * everything after it (schema conversion, rule views, walkers, redaction,
 * JSON.stringify with a replacer) recurses once per level, and about 3,000
 * levels overflow the stack. 1,000 is Jackson's default maximum nesting depth
 * (StreamReadConstraints), so the Java client refuses such messages too.
 */
export const MAX_JSON_DEPTH = 1000;

/** Whether JSON text nests arrays and objects more than `max` levels deep. Does not validate the text. */
export function jsonDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  // Each level takes at least two characters: text this short cannot be too deep, so skip the scan.
  if (text.length <= 2 * max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
