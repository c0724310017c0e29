/**
 * Source positions for diagnostics: a node of a contract document (its value,
 * its key, or the whole `key: value` pair), and positions inside expression
 * scalars.
 */
import { isScalar, type Node } from "yaml";
import { findNode, nodePosition, offsetPosition, type YamlSource } from "../contract/locate.js";
import type { PathSegment } from "../contract/path.js";
import type { SourcePosition } from "../errors.js";
import { scalarValueOffsets } from "./scalar-offsets.js";

/** The value at `path` (or its key with `key: true`); the deepest existing ancestor when absent. */
export function positionOf(yaml: YamlSource, path: readonly PathSegment[], options: { key?: boolean } = {}): SourcePosition {
  return nodePosition(yaml, findNode(yaml, path, options).node);
}

/** From the key's start to the value's end: `disabled: true`. */
export function pairPosition(yaml: YamlSource, path: readonly PathSegment[]): SourcePosition {
  const key = findNode(yaml, path, { key: true });
  const value = findNode(yaml, path);
  const k = key.node?.range;
  const v = value.node?.range;
  if (key.exact && value.exact && k && v) return offsetPosition(yaml, k[0], v[1]);
  return nodePosition(yaml, value.node);
}

/** Maps offsets inside an expression's value to file positions. */
export interface ExprLocator {
  /** `start`/`end` are offsets in the expression text (end exclusive). */
  at(start: number, end: number): SourcePosition;
  /** True when positions are exact (the scalar's folding could be replayed). */
  readonly exact: boolean;
}

export function exprLocator(yaml: YamlSource, path: readonly PathSegment[]): ExprLocator {
  const { node, exact } = findNode(yaml, path);
  const offsets = exact && node && isScalar(node) && yaml.text !== undefined ? scalarValueOffsets(yaml.text, node) : undefined;
  if (!offsets) {
    const whole = nodePosition(yaml, node as Node | null);
    return { at: () => whole, exact: false };
  }
  const clamp = (i: number) => Math.max(0, Math.min(offsets.length - 1, i));
  return {
    exact: true,
    at(start, end) {
      const s = offsets[clamp(start)]!;
      // The end is exclusive: past the last character covered.
      const e = end > start ? offsets[clamp(end - 1)]! + 1 : s + 1;
      return offsetPosition(yaml, s, Math.max(e, s + 1));
    },
  };
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
