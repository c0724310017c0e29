/**
 * Guards: an expression `guard ; body` runs the body only when the guard is true.
 *
 * Java splits at the first `;` anywhere, so a `;` inside a string literal breaks
 * the rule there. CEL has no `;` token, so kontract splits at the first `;`
 * outside string literals: every expression Java splits correctly splits the
 * same way here, and literals containing `;` keep working.
 */
export interface GuardedExpr {
  readonly guard: string | undefined;
  readonly body: string;
}

export function splitGuard(expr: string, ignoreSeparator = false): GuardedExpr {
  if (ignoreSeparator) return { guard: undefined, body: expr };
  const at = firstTopLevelSemicolon(expr);
  if (at < 0) return { guard: undefined, body: expr };
  const guard = expr.slice(0, at);
  // Java: an empty guard is no guard.
  return { guard: guard.trim() === "" ? undefined : guard, body: expr.slice(at + 1) };
}

function firstTopLevelSemicolon(s: string): number {
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ";") return i;
    if (c === "'" || c === '"') {
      const raw = i > 0 && (s[i - 1] === "r" || s[i - 1] === "R") && (i < 2 || !/[A-Za-z0-9_]/.test(s[i - 2]!) || /[bB]/.test(s[i - 2]!));
      i = skipString(s, i, c, raw);
      continue;
    }
    i++;
  }
  return -1;
}

/** Returns the index just past the string literal starting at `start`. */
function skipString(s: string, start: number, quote: string, raw: boolean): number {
  const triple = s.startsWith(quote.repeat(3), start);
  const close = triple ? quote.repeat(3) : quote;
  let i = start + close.length;
  while (i < s.length) {
    if (!raw && s[i] === "\\") {
      i += 2;
      continue;
    }
    if (s.startsWith(close, i)) return i + close.length;
    if (!triple && s[i] === "\n") return i; // unterminated: let the parser report it
    i++;
  }
  return s.length;
}
