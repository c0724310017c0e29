/**
 * Metadata tag wildcards, as in Confluent's WildcardMatcher:
 * `?` is one non-dot character, `*` any run of non-dot characters, `**` anything.
 * The match is on the field's full name.
 */
import type { Metadata } from "./model.js";

const cache = new Map<string, RegExp>();

export function wildcardToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re) return re;
  let src = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        src += ".*";
        i++;
      } else {
        src += "[^.]*";
      }
    } else if (c === "?") {
      src += "[^.]";
    } else {
      src += c.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
    }
  }
  re = new RegExp(src + "$", "s");
  cache.set(pattern, re);
  return re;
}

export function wildcardMatch(fullName: string, pattern: string): boolean {
  return wildcardToRegExp(pattern).test(fullName);
}

/** The field's inline tags plus every metadata tag whose wildcard matches `fullName`. */
export function fieldTags(fullName: string, inline: Iterable<string>, metadata: Metadata | undefined): Set<string> {
  const tags = new Set(inline);
  const byPattern = metadata?.tags;
  if (byPattern) {
    for (const pattern of Object.keys(byPattern)) {
      if (wildcardMatch(fullName, pattern)) for (const t of byPattern[pattern] ?? []) tags.add(t);
    }
  }
  return tags;
}
