/**
 * A RegExp stand-in backed by RE2 (linear time), for JSONata's RegexEngine option,
 * so a rule's regex can never hang a consumer (Java's JSONata executor uses RE2 too).
 */
import { RE2JS } from "re2js";
import { DEFAULT_CEL_LIMITS } from "../../cel/index.js";

/** The program size limit of CEL's `matches` (RE2's max_mem, in instructions): matching costs input × program size. */
const MAX_PROGRAM_SIZE = DEFAULT_CEL_LIMITS.maxRegexProgramSize;

const compiled = new Map<string, RE2JS>();
const MAX_CACHED = 512;

export function compileRe2(source: string, flags: string): RE2JS {
  const key = flags + "/" + source;
  let re = compiled.get(key);
  if (!re) {
    let f = 0;
    if (flags.includes("i")) f |= RE2JS.CASE_INSENSITIVE;
    if (flags.includes("m")) f |= RE2JS.MULTILINE;
    if (flags.includes("s")) f |= RE2JS.DOTALL;
    re = RE2JS.compile(source, f);
    const size = re.programSize();
    if (size > MAX_PROGRAM_SIZE) throw new Error(`regular expression too large: its RE2 program has ${size} instructions, the limit is ${MAX_PROGRAM_SIZE}`);
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, re);
  }
  return re;
}

type Match = string[] & { index: number; input: string };

/** The subset of RegExp that JSONata uses: `lastIndex` and `exec`. */
export class Re2RegExp {
  lastIndex = 0;
  private readonly re: RE2JS;
  constructor(pattern: RegExp | string, flags?: string) {
    const source = typeof pattern === "string" ? pattern : pattern.source;
    this.re = compileRe2(source, typeof pattern === "string" ? (flags ?? "") : pattern.flags);
  }
  exec(input: string): Match | null {
    const m = this.re.matcher(input);
    if (this.lastIndex > input.length || !m.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: string[] = [];
    for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? (undefined as unknown as string));
    const match = groups as Match;
    match.index = m.start();
    match.input = input;
    this.lastIndex = m.end();
    return match;
  }
  test(input: string): boolean {
    return this.exec(input) !== null;
  }
}
