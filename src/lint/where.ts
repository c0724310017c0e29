/**
 * Source positions for diagnostics: a node of a contract document (its value,
 * its key, or the whole `key: value` pair), and positions inside expression
 * scalars. Everything goes through the loader's own `source.locate`, so the
 * YAML is not parsed a second time.
 */
import type { ContractDocument } from "../contract/document.js";
import type { PathSegment } from "../contract/path.js";
import type { SourcePosition } from "../errors.js";
import { scalarValueOffsets, type ScalarStyle } from "./scalar-offsets.js";

/** A document and the text of the file it is in. */
export interface DocumentText {
  readonly doc: ContractDocument;
  readonly text: string;
}

/** The value at `path` (or its key with `key: true`); the deepest existing ancestor when absent. */
export function positionOf(d: DocumentText, path: readonly PathSegment[], options: { key?: boolean } = {}): SourcePosition {
  return d.doc.source.locate(path, options);
}

/** From the key's start to the value's end: `disabled: true`. The path must exist. */
export function pairPosition(d: DocumentText, path: readonly PathSegment[]): SourcePosition {
  const key = d.doc.source.locate(path, { key: true });
  const value = d.doc.source.locate(path);
  return { file: key.file, line: key.line, column: key.column, endLine: value.endLine ?? value.line, endColumn: value.endColumn ?? value.column + 1 };
}

/** Maps offsets inside an expression's value to file positions. */
export interface ExprLocator {
  /** `start`/`end` are offsets in the expression text (end exclusive). */
  at(start: number, end: number): SourcePosition;
  /** True when positions are exact (the scalar's folding could be replayed). */
  readonly exact: boolean;
}

/** A locator for the string scalar at `path`, whose value is `value`. */
export function exprLocator(d: DocumentText, path: readonly PathSegment[], value: string): ExprLocator {
  const whole = d.doc.source.locate(path);
  const starts = lineStarts(d.text);
  const offset = (line: number, column: number) => (starts[line - 1] ?? d.text.length) + column - 1;
  const start = offset(whole.line, whole.column);
  const end = whole.endLine !== undefined && whole.endColumn !== undefined ? offset(whole.endLine, whole.endColumn) : start;
  const offsets = whole.file === d.doc.source.file ? scalarValueOffsets(d.text, { style: styleAt(d.text, start), value, start, end }) : undefined;
  if (!offsets) return { at: () => whole, exact: false };
  const clamp = (i: number) => Math.max(0, Math.min(offsets.length - 1, i));
  const position = (at: number): { line: number; column: number } => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - starts[lo]! + 1 };
  };
  return {
    exact: true,
    at(s, e) {
      const from = offsets[clamp(s)]!;
      // The end is exclusive: just past the last character covered.
      const to = Math.max(from + 1, e > s ? offsets[clamp(e - 1)]! + 1 : from + 1);
      const a = position(from);
      const b = position(to);
      return { file: d.doc.source.file, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
    },
  };
}

function styleAt(text: string, offset: number): ScalarStyle {
  switch (text[offset]) {
    case '"':
      return "double";
    case "'":
      return "single";
    case "|":
      return "literal";
    case ">":
      return "folded";
    default:
      return "plain";
  }
}

let lastText: string | undefined;
let lastStarts: number[] = [];

/** Offsets where lines start (cached for the last text: rules of one file are checked together). */
function lineStarts(text: string): number[] {
  if (text === lastText) return lastStarts;
  const out = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) out.push(i + 1);
  lastText = text;
  lastStarts = out;
  return out;
}

/** Offset of 1-based (line, column) in `text`. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  return Math.min(text.length, offset + column - 1);
}
