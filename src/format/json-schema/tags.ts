/**
 * Field tags when full names contain array indexes. Java names a field inside
 * array items with the index ("$.items[2].sku"), so a metadata wildcard may
 * match some indexes and not others. Statically a field is known by its
 * template ("$.items[*].sku"); these helpers tell which patterns can match
 * some instance of a template, which is what pruning needs.
 */
import type { Metadata } from "../../contract/model.js";

export const INDEX = "[*]";

// Pattern and template tokens: char codes, or one of these negative markers.
const Tok = {
  Star: -1, // *  : any run of non-dot characters
  DoubleStar: -2, // ** : anything
  Any: -3, // ?  : one non-dot character
  Digits: -4, // one or more digits (an array index in a template)
} as const;
const DOT = 46;

function patternTokens(pattern: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (pattern[i] === "*") {
      if (pattern[i + 1] === "*") {
        out.push(Tok.DoubleStar);
        i++;
      } else out.push(Tok.Star);
    } else if (pattern[i] === "?") out.push(Tok.Any);
    else out.push(c);
  }
  return out;
}

function templateTokens(template: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < template.length; i++) {
    if (template.startsWith(INDEX, i)) {
      out.push(91, Tok.Digits, 93); // [ digits ]
      i += INDEX.length - 1;
    } else out.push(template.charCodeAt(i));
  }
  return out;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Whether the wildcard `pattern` matches the template with some digits in
 * place of every `[*]`. A small dynamic program over (pattern position,
 * template position, inside-an-index).
 */
export function patternMatchesTemplate(pattern: string, template: string): boolean {
  const p = patternTokens(pattern);
  const t = templateTokens(template);
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number, inDigits: boolean): boolean => {
    const key = ((i * (t.length + 1) + j) << 1) | (inDigits ? 1 : 0);
    const known = memo.get(key);
    if (known !== undefined) return known;
    memo.set(key, false); // consuming a digit inside an index loops back here
    let ok = false;
    const atIndex = j < t.length && t[j] === Tok.Digits;
    if (atIndex && inDigits && go(i, j + 1, false)) ok = true; // the index ends
    else if (i === p.length) ok = j === t.length;
    else {
      const pc = p[i]!;
      const tc = j < t.length ? t[j]! : undefined;
      if (pc === Tok.Star || pc === Tok.DoubleStar) {
        ok =
          go(i + 1, j, inDigits) ||
          (atIndex ? go(i, j, true) : tc !== undefined && (pc === Tok.DoubleStar || tc !== DOT) && go(i, j + 1, false));
      } else if (pc === Tok.Any) {
        ok = atIndex ? go(i + 1, j, true) : tc !== undefined && tc !== DOT && go(i + 1, j + 1, false);
      } else {
        ok = atIndex ? isDigit(pc) && go(i + 1, j, true) : tc === pc && go(i + 1, j + 1, false);
      }
    }
    memo.set(key, ok);
    return ok;
  };
  return go(0, 0, false);
}

/** Inline tags plus the tags of every metadata pattern that matches some instance of the template. */
export function templateTags(template: string, inline: Iterable<string>, metadata: Metadata | undefined): Set<string> {
  const tags = new Set(inline);
  const byPattern = metadata?.tags;
  if (byPattern) {
    for (const [pattern, list] of Object.entries(byPattern)) {
      if (patternMatchesTemplate(pattern, template)) for (const t of list ?? []) tags.add(t);
    }
  }
  return tags;
}

/** Every tag any metadata pattern can add. */
export function allMetadataTags(metadata: Metadata | undefined): Set<string> {
  const tags = new Set<string>();
  for (const list of Object.values(metadata?.tags ?? {})) for (const t of list ?? []) tags.add(t);
  return tags;
}
