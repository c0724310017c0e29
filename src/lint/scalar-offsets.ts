/**
 * Where each character of a YAML scalar's value sits in the source text, so a
 * problem found inside an expression (a CEL column, a JSONata offset) is
 * reported at its exact file position, whatever the quoting or folding.
 *
 * The folding rules of YAML are simulated for plain, quoted and block scalars,
 * and the simulation is checked against the parser's value: when they differ
 * (an exotic escape, a tab-indented block), undefined is returned and callers
 * fall back to the scalar's start.
 */
export type ScalarStyle = "plain" | "single" | "double" | "literal" | "folded";

/** A scalar as it sits in the source: its style, its parsed value, and where it is. */
export interface ScalarSpan {
  readonly style: ScalarStyle;
  readonly value: string;
  /** Source offset of the scalar's first character (the quote or block indicator). */
  readonly start: number;
  /** Source offset just past the scalar's value. */
  readonly end: number;
}

/**
 * offsets[i] is the source offset of value character i; offsets[value.length]
 * is just past the last one. Undefined when the mapping cannot be exact.
 */
export function scalarValueOffsets(src: string, scalar: ScalarSpan): number[] | undefined {
  const { style, value, start, end } = scalar;
  let built: Built | undefined;
  switch (style) {
    case "plain":
      built = foldFlow(src, start, end, "plain");
      break;
    case "single":
      built = foldFlow(src, start + 1, end - 1, "single");
      break;
    case "double":
      built = foldFlow(src, start + 1, end - 1, "double");
      break;
    case "literal":
    case "folded":
      built = block(src, start, end, style === "folded");
      break;
  }
  if (!built) return undefined;
  // Block scalars: chomping decides how many trailing newlines belong to the value.
  const exact = style === "literal" || style === "folded" ? built.text.startsWith(value) : built.text === value;
  if (!exact) return undefined;
  const offsets = built.offsets.slice(0, value.length);
  offsets.push(value.length < built.offsets.length ? built.offsets[value.length]! : built.end);
  return offsets;
}

interface Built {
  text: string;
  offsets: number[];
  /** Source offset just past the last character. */
  end: number;
}

const isBlank = (c: string | undefined): boolean => c === " " || c === "\t";

function lineSpans(src: string, from: number, to: number): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let s = from;
  for (let i = from; i < to; i++) {
    if (src[i] === "\n") {
      spans.push({ start: s, end: i > s && src[i - 1] === "\r" ? i - 1 : i });
      s = i + 1;
    }
  }
  spans.push({ start: s, end: to });
  return spans;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  "\t": "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\u0085",
  _: "\u00a0",
  L: "\u2028",
  P: "\u2029",
};

/** Plain and quoted scalars: line folding plus quote escapes. */
function foldFlow(src: string, from: number, to: number, kind: "plain" | "single" | "double"): Built | undefined {
  let text = "";
  const offsets: number[] = [];
  const emit = (s: string, at: number) => {
    text += s;
    for (let k = 0; k < s.length; k++) offsets.push(at);
  };
  const lines = lineSpans(src, from, to);
  const last = lines.length - 1;
  let emptyLines = 0;
  let escapedBreak = false;
  let prevBreakAt = from;
  for (let li = 0; li <= last; li++) {
    let { start: s, end: e } = lines[li]!;
    if (li > 0) while (s < e && isBlank(src[s])) s++;
    if (li < last) while (e > s && isBlank(src[e - 1]) && !(kind === "double" && src[e - 2] === "\\")) e--;
    if (li > 0 && li < last && s === e) {
      emptyLines++;
      continue;
    }
    if (li > 0) {
      if (escapedBreak) {
        if (emptyLines > 0) emit("\n".repeat(emptyLines), prevBreakAt);
      } else if (emptyLines > 0) emit("\n".repeat(emptyLines), prevBreakAt);
      else emit(" ", prevBreakAt);
    }
    emptyLines = 0;
    escapedBreak = false;
    for (let i = s; i < e; ) {
      const c = src[i]!;
      if (kind === "single" && c === "'" && src[i + 1] === "'") {
        emit("'", i);
        i += 2;
      } else if (kind === "double" && c === "\\") {
        const n = src[i + 1];
        if (i + 1 >= e) {
          escapedBreak = true;
          i++;
        } else if (n === "x" || n === "u" || n === "U") {
          const len = n === "x" ? 2 : n === "u" ? 4 : 8;
          const hex = src.slice(i + 2, i + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) return undefined;
          emit(String.fromCodePoint(parseInt(hex, 16)), i);
          i += 2 + len;
        } else if (n !== undefined && SIMPLE_ESCAPES[n] !== undefined) {
          emit(SIMPLE_ESCAPES[n]!, i);
          i += 2;
        } else {
          return undefined;
        }
      } else {
        emit(c, i);
        i++;
      }
    }
    prevBreakAt = lines[li]!.end;
  }
  return { text, offsets, end: to };
}

/** Block scalars (`|` and `>`), with auto-detected indentation. */
function block(src: string, start: number, end: number, folded: boolean): Built | undefined {
  const headerEnd = src.indexOf("\n", start);
  if (headerEnd < 0 || headerEnd >= end) return { text: "", offsets: [], end };
  const lines = lineSpans(src, headerEnd + 1, end);
  const first = lines.find((l) => src.slice(l.start, l.end).trim() !== "");
  if (!first) return { text: "", offsets: [], end };
  let indent = 0;
  while (src[first.start + indent] === " ") indent++;
  let text = "";
  const offsets: number[] = [];
  const emit = (s: string, at: number) => {
    text += s;
    for (let k = 0; k < s.length; k++) offsets.push(at);
  };
  let prev: "none" | "text" | "more" = "none";
  let emptyLines = 0;
  let breakAt = headerEnd;
  for (const line of lines) {
    const contentStart = line.start + indent;
    const empty = line.end - line.start <= indent && src.slice(line.start, line.end).trim() === "";
    if (!folded) {
      if (prev !== "none") emit("\n", breakAt);
      if (!empty) for (let i = contentStart; i < line.end; i++) emit(src[i]!, i);
      prev = "text";
      breakAt = line.end;
      continue;
    }
    if (empty) {
      emptyLines++;
      continue;
    }
    const more = isBlank(src[contentStart]);
    if (prev !== "none") {
      if (prev === "text" && !more && emptyLines === 0) emit(" ", breakAt);
      else emit("\n".repeat(emptyLines + (prev === "more" || more ? 1 : 0) || 1), breakAt);
    } else if (emptyLines > 0) {
      emit("\n".repeat(emptyLines), breakAt);
    }
    emptyLines = 0;
    for (let i = contentStart; i < line.end; i++) emit(src[i]!, i);
    prev = more ? "more" : "text";
    breakAt = line.end;
  }
  // Trailing newline(s): present in the value for clip and keep chomping.
  emit("\n".repeat(Math.max(1, emptyLines + 1)), breakAt);
  return { text, offsets, end };
}
