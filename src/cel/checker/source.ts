/**
 * Positions in the expression text. @bufbuild/cel records one offset per AST
 * node (the start of identifiers, literals and calls; the dot of selections and
 * methods; the whitespace before binary operators). These helpers turn them
 * into ranges: the field name of a selection, the operator token of an
 * operation, the whole extent of a sub-expression.
 */

export interface Range {
  /** Offsets into the text, end exclusive. */
  readonly start: number;
  readonly end: number;
}

export interface LineColumn {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export class SourceText {
  private lineStarts: number[] | undefined;

  constructor(readonly text: string) {}

  /** 1-based line and column (in UTF-16 code units) of both ends of a range. */
  lineColumn(range: Range): LineColumn {
    const a = this.point(range.start);
    const b = this.point(Math.max(range.start, range.end));
    return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  }

  /** The offset where 1-based `line` starts. */
  offsetOfLine(line: number): number {
    const starts = (this.lineStarts ??= computeLineStarts(this.text));
    return starts[Math.max(0, Math.min(line - 1, starts.length - 1))];
  }

  point(offset: number): { line: number; column: number } {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const starts = (this.lineStarts ??= computeLineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - starts[lo] + 1 };
  }
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (c === 10 /* \n */) {
      starts.push(i + 1);
    }
  }
  return starts;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/** The offset of the next character that is not whitespace or inside a `//` comment. */
export function skipTrivia(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      while (i < text.length && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
    } else {
      break;
    }
  }
  return i;
}

/** Skips trivia and closing parentheses (of a parenthesized operand). */
export function skipTriviaAndParens(text: string, i: number): number {
  for (;;) {
    i = skipTrivia(text, i);
    if (text[i] !== ")") return i;
    i++;
  }
}

/**
 * The end of the closing delimiter `close` found after `from` (skipping trivia,
 * commas and closing parentheses of parenthesized arguments), or `from` when
 * there is none.
 */
export function closingAfter(text: string, from: number, close: ")" | "]" | "}"): number {
  let i = from;
  for (;;) {
    i = skipTrivia(text, i);
    const c = text[i];
    if (c === close) return i + 1;
    if (c === "," || c === ")") {
      i++;
      continue;
    }
    return from;
  }
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

export function identifierEnd(text: string, i: number): number {
  if (!IDENT_START.test(text[i] ?? "")) return i;
  let j = i + 1;
  while (j < text.length && IDENT_PART.test(text[j])) j++;
  return j;
}

/**
 * The end of the literal token starting at `i` (a number, string, bytes, or
 * keyword literal), or -1 when none starts there. Unterminated strings end at
 * the end of the text.
 */
export function literalEnd(text: string, i: number): number {
  let j = i;
  if (text[j] === "-") j++;
  const c = text[j];
  if (c === undefined) return -1;
  if (/[0-9.]/.test(c) && (c !== "." || /[0-9]/.test(text[j + 1] ?? ""))) return numberEnd(text, j);
  let k = j;
  // String prefixes: r, b, rb, br (any case).
  while (k < j + 2 && /[rRbB]/.test(text[k] ?? "")) k++;
  if (text[k] === '"' || text[k] === "'") return stringEnd(text, k, /[rR]/.test(text.slice(j, k)));
  if (IDENT_START.test(c)) return identifierEnd(text, j);
  return -1;
}

function numberEnd(text: string, i: number): number {
  let j = i;
  if (text[j] === "0" && (text[j + 1] === "x" || text[j + 1] === "X")) {
    j += 2;
    while (/[0-9a-fA-F]/.test(text[j] ?? "")) j++;
  } else {
    while (/[0-9]/.test(text[j] ?? "")) j++;
    if (text[j] === "." && /[0-9]/.test(text[j + 1] ?? "")) {
      j++;
      while (/[0-9]/.test(text[j] ?? "")) j++;
    }
    if (text[j] === "e" || text[j] === "E") {
      let k = j + 1;
      if (text[k] === "+" || text[k] === "-") k++;
      if (/[0-9]/.test(text[k] ?? "")) {
        j = k;
        while (/[0-9]/.test(text[j] ?? "")) j++;
      }
    }
  }
  if (text[j] === "u" || text[j] === "U") j++;
  return j;
}

/** `i` at the opening quote. */
export function stringEnd(text: string, i: number, raw: boolean): number {
  const q = text[i];
  const triple = text[i + 1] === q && text[i + 2] === q;
  let j = i + (triple ? 3 : 1);
  while (j < text.length) {
    const c = text[j];
    if (c === "\\" && !raw) {
      j += 2;
      continue;
    }
    if (triple) {
      if (c === q && text[j + 1] === q && text[j + 2] === q) return j + 3;
    } else {
      if (c === q) return j + 1;
      if (c === "\n" || c === "\r") return j;
    }
    j++;
  }
  return text.length;
}
