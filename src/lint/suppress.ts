/**
 * Inline suppression comments in contract YAML:
 *
 *   # kontract-disable-next-line cel-unknown-field, rule-disabled -- why
 *   # kontract-disable-line <codes>     (at the end of the offending line)
 *   # kontract-disable-file <codes>     (anywhere: the whole file)
 *
 * Without codes a comment suppresses every code. `disable-next-line` covers the
 * YAML node that starts on the next line that is not blank or a comment: above
 * `expr:` it covers the expression (all of a block scalar), above `- name:` the
 * whole rule. Comments that suppress nothing are reported.
 */
import { LineCounter, Lexer, parseAllDocuments, visit, type Node } from "yaml";
import { isLintCode } from "./codes.js";
import type { RawDiagnostic } from "./load.js";

export interface Directive {
  readonly kind: "next-line" | "line" | "file";
  /** Empty: every code. */
  readonly codes: readonly string[];
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
  /** Lines covered (inclusive); the whole file for `file`. */
  readonly from: number;
  readonly to: number;
  /** Codes (or "*") that suppressed at least one diagnostic. */
  readonly used: Set<string>;
}

const DIRECTIVE = /^#\s*kontract-disable(-next-line|-line|-file)\b(.*)$/;

export function parseDirectives(text: string): Directive[] {
  const comments = commentsOf(text);
  if (comments.length === 0) return [];
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  const nodeSpans = spansByStartLine(docs, lc);
  const lines = text.split(/\r?\n/);
  const out: Directive[] = [];
  for (const c of comments) {
    const m = DIRECTIVE.exec(c.text);
    if (!m) continue;
    const kind = m[1] === "-next-line" ? "next-line" : m[1] === "-line" ? "line" : "file";
    const rest = m[2]!.split(/\s--\s/)[0]!;
    const codes = rest.split(/[\s,]+/).filter((s) => s !== "");
    const pos = lc.linePos(c.offset);
    let from = pos.line;
    let to = pos.line;
    if (kind === "file") {
      from = 1;
      to = Number.MAX_SAFE_INTEGER;
    } else if (kind === "next-line") {
      let target = pos.line + 1;
      while (target <= lines.length && /^\s*(#.*)?$/.test(lines[target - 1]!)) target++;
      from = target;
      to = Math.max(target, nodeSpans.get(target) ?? target);
    }
    out.push({ kind, codes, line: pos.line, column: pos.col, endColumn: pos.col + c.text.length, from, to, used: new Set() });
  }
  return out;
}

/** The comments of a YAML text with their offsets (never `#` inside scalars). */
function commentsOf(text: string): { text: string; offset: number }[] {
  if (!text.includes("kontract-disable")) return [];
  const out: { text: string; offset: number }[] = [];
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    // Control tokens of the lexer (document start, scalar marker...) take no room in the text.
    if (token.length === 1 && (token === "\x02" || token === "\x18" || token === "\x1f")) continue;
    if (token.startsWith("#")) out.push({ text: token, offset });
    offset += token.length;
  }
  return out;
}

/**
 * For each line, the last line of the largest `key: value` pair or list item
 * starting on it: a rule (`- name: ...`), an `expr: |` block, a `tags:` list.
 * Whole lists and documents are not targets: a comment above the first item
 * or key means that item or key.
 */
function spansByStartLine(docs: ReturnType<typeof parseAllDocuments>, lc: LineCounter): Map<number, number> {
  const spans = new Map<number, number>();
  const note = (start: number, end: number) => {
    const s = lc.linePos(start).line;
    const e = lc.linePos(Math.max(start, end - 1)).line;
    spans.set(s, Math.max(spans.get(s) ?? s, e));
  };
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    visit(doc, {
      Pair(_, pair) {
        const k = (pair.key as Node | null)?.range;
        const v = (pair.value as Node | null)?.range;
        if (k) note(k[0], v ? v[1] : k[1]);
      },
      Seq(_, seq) {
        for (const item of seq.items) {
          const r = (item as Node | null)?.range;
          if (r) note(r[0], r[1]);
        }
      },
    });
  }
  return spans;
}

/**
 * Drops suppressed diagnostics of one file and reports directives that
 * suppressed nothing or name unknown codes.
 */
export function applyDirectives(file: string, directives: readonly Directive[], diagnostics: readonly RawDiagnostic[]): RawDiagnostic[] {
  const kept: RawDiagnostic[] = [];
  for (const d of diagnostics) {
    const line = d.position.line;
    const by = d.position.file === file ? directives.find((x) => line >= x.from && line <= x.to && (x.codes.length === 0 || x.codes.includes(d.code))) : undefined;
    if (by) by.used.add(by.codes.length === 0 ? "*" : d.code);
    else kept.push(d);
  }
  for (const x of directives) {
    const where = { file, line: x.line, column: x.column, endLine: x.line, endColumn: x.endColumn };
    for (const code of x.codes) {
      if (!isLintCode(code)) {
        kept.push({ code: "suppression-unknown-code", message: `kontract-disable-${x.kind} names unknown code ${JSON.stringify(code)}`, position: where, hint: "see docs/lint.md for the list of codes" });
      } else if (!x.used.has(code)) {
        kept.push({ code: "suppression-unused", message: `kontract-disable-${x.kind} ${code}: no ${code} diagnostic here to suppress`, position: where, hint: "remove the comment" });
      }
    }
    if (x.codes.length === 0 && !x.used.has("*")) {
      kept.push({ code: "suppression-unused", message: `kontract-disable-${x.kind}: no diagnostic here to suppress`, position: where, hint: "remove the comment" });
    }
  }
  return kept;
}
