/**
 * From JSON paths to YAML source positions. Validation works on plain JS
 * values; these helpers walk the parsed YAML tree alongside, so every problem
 * can be reported at file:line:col.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from "yaml";
import type { SourcePosition } from "../errors.js";
import type { PathSegment } from "./path.js";

export interface YamlSource {
  readonly file: string;
  readonly lineCounter: LineCounter;
  readonly doc: Document.Parsed;
  /** The file's text, to map offsets inside scalars (e.g. JSON errors in an inline schema). */
  readonly text?: string;
}

export interface LocateOptions {
  /** Point at the key of the last segment (e.g. an unknown property) rather than its value. */
  key?: boolean;
}

export function offsetPosition(source: Pick<YamlSource, "file" | "lineCounter">, start: number, end?: number): SourcePosition {
  const s = source.lineCounter.linePos(start);
  const pos: SourcePosition = { file: source.file, line: s.line, column: s.col };
  if (end !== undefined && end > start) {
    const e = source.lineCounter.linePos(end);
    pos.endLine = e.line;
    pos.endColumn = e.col;
  }
  return pos;
}

/** Position of a node, ending where its value ends (not after trailing comments). */
export function nodePosition(source: YamlSource, node: Node | null | undefined): SourcePosition {
  const range = node?.range;
  if (range) return offsetPosition(source, range[0], range[1]);
  const contents = source.doc.contents;
  if (contents?.range) return offsetPosition(source, contents.range[0], contents.range[1]);
  return offsetPosition(source, source.doc.range[0]);
}

/**
 * The node at `path`, or the deepest existing ancestor when the path leads
 * nowhere (a missing property is reported on the mapping that lacks it).
 */
export function findNode(source: YamlSource, path: readonly PathSegment[], options: LocateOptions = {}): { node: Node | null; exact: boolean } {
  let node: Node | null = resolve(source, source.doc.contents);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = findPair(source, node.items, String(seg));
      if (!pair) return { node, exact: false };
      if (last && options.key && pair.key && typeof pair.key === "object") return { node: pair.key as Node, exact: true };
      const value = resolve(source, pair.value as Node | null);
      if (value === null) return { node: (pair.key as Node | null) ?? node, exact: last };
      node = value;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      const item = resolve(source, node.items[seg] as Node | null);
      if (item === null) return { node, exact: false };
      node = item;
    } else {
      return { node, exact: false };
    }
  }
  return { node, exact: true };
}

export function locate(source: YamlSource, path: readonly PathSegment[], options: LocateOptions = {}): SourcePosition {
  return nodePosition(source, findNode(source, path, options).node);
}

function resolve(source: YamlSource, node: Node | null | undefined): Node | null {
  if (node === undefined || node === null) return null;
  if (isAlias(node)) return (node.resolve(source.doc) as Node | undefined) ?? node;
  return node;
}

function keyOf(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  if (k === null || typeof k !== "object") return k === null ? "" : String(k);
  return undefined;
}

/** A direct key, else one brought in by a `<<` merge key. */
function findPair(source: YamlSource, items: readonly Pair[], key: string): Pair | undefined {
  for (const p of items) if (isPair(p) && keyOf(p) === key && !isMergeKey(p)) return p;
  for (const p of items) {
    if (!isPair(p) || !isMergeKey(p)) continue;
    const value = resolve(source, p.value as Node | null);
    const sources = isSeq(value) ? value.items.map((n) => resolve(source, n as Node)) : [value];
    for (const m of sources) {
      if (isMap(m)) {
        const found = findPair(source, m.items, key);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function isMergeKey(p: Pair): boolean {
  return isScalar(p.key) && p.key.value === "<<";
}
