/**
 * A few lines of source around a position, with the range underlined, as
 * compilers print them.
 */
export interface FrameOptions {
  /** Lines shown before the first line of the range. */
  readonly context?: number;
  /** Most lines of the range shown. */
  readonly maxLines?: number;
  readonly color?: boolean;
}

const RED = "\x1b[31m";
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

export function codeFrame(text: string, line: number, column: number, endLine: number, endColumn: number, options: FrameOptions = {}): string {
  const lines = text.split(/\r?\n/);
  if (line < 1 || line > lines.length) return "";
  const context = options.context ?? 1;
  // A range over many lines (a whole mapping) shows its first two.
  const last = Math.min(lines.length, endLine, line + (options.maxLines ?? 2) - 1);
  const first = Math.max(1, line - context);
  const width = String(last).length;
  const paint = (code: string, s: string) => (options.color ? code + s + RESET : s);
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const src = lines[n - 1]!.replace(/\t/g, " ");
    const marker = n >= line && n <= last ? paint(RED, ">") : " ";
    out.push(`${marker} ${paint(DIM, `${String(n).padStart(width)} |`)}${src === "" ? "" : " " + src}`);
    if (n >= line) {
      const from = n === line ? column : firstNonSpace(src);
      const to = n === endLine ? endColumn : src.length + 1;
      const length = Math.max(1, to - from);
      if (from <= src.length + 1) out.push(`  ${paint(DIM, `${" ".repeat(width)} |`)} ${" ".repeat(Math.max(0, from - 1))}${paint(RED, "^".repeat(length))}`);
    }
  }
  return out.join("\n");
}

function firstNonSpace(s: string): number {
  const m = /\S/.exec(s);
  return m ? m.index + 1 : 1;
}
