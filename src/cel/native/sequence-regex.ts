/**
 * A matcher for the most common shape of validation pattern: a sequence of
 * single-character atoms (literal, `.`, class, `\d` `\w` `\s`), each with an
 * optional quantifier, optionally anchored by `^` and `$`. For example
 * `^[^@]+@[^@]+$`, `^[A-Z]{3}-\d{4}$`, `^\S+$`.
 *
 * It matches as RE2 does (the same language, decided by the same leftmost
 * search), in time linear in the input: it simulates the pattern's NFA, one
 * set of positions per input character, and never backtracks. RE2's lazy DFA
 * is the general engine; for these patterns this one avoids its per-call
 * input object and its cache lookups, several times faster on short strings.
 *
 * Only a conservatively recognized, ASCII-only subset of the syntax is taken.
 * Anything else (groups, alternation, flags, Unicode classes, non-ASCII
 * pattern characters, repetition counts above MAX_COUNT) is left to RE2, and
 * so is any input holding a surrogate (RE2 decodes those its own way).
 */
import { RE2JS } from "@bufbuild/re2";

/** Whether a code point matches one atom. */
type CharTest = (cp: number) => boolean;

interface Atom {
  readonly test: CharTest;
  /** "one": exactly once; "opt": zero or once; "star": any number of times. */
  readonly repeat: "one" | "opt" | "star";
}

export interface SequenceMatcher {
  /** RE2's `test` (CEL `matches`): whether the pattern matches somewhere in `s`; undefined when `s` holds a surrogate. */
  test(s: string): boolean | undefined;
}

/** Above this, counted repetitions (`{n,m}`) are left to RE2: the expanded sequence would grow large. */
const MAX_COUNT = 16;
/** Above this many atoms after expansion, the pattern is left to RE2: positions are bits of a 32-bit mask. */
const MAX_ATOMS = 30;

const META = new Set([..."\\.[]{}()*+?|^$"]);

/** RE2's Perl classes, ASCII. */
function perlClass(letter: string): Uint8Array | undefined {
  const set = new Uint8Array(128);
  const add = (from: number, to: number) => set.fill(1, from, to + 1);
  switch (letter) {
    case "d":
      add(0x30, 0x39);
      return set;
    case "w":
      add(0x30, 0x39);
      add(0x41, 0x5a);
      add(0x61, 0x7a);
      set[0x5f] = 1;
      return set;
    case "s":
      for (const c of [0x09, 0x0a, 0x0c, 0x0d, 0x20]) set[c] = 1;
      return set;
  }
  return undefined;
}

function classTest(set: Uint8Array, negated: boolean): CharTest {
  return negated ? (cp) => cp >= 128 || set[cp] === 0 : (cp) => cp < 128 && set[cp] === 1;
}

function isPunct(c: string): boolean {
  const code = c.charCodeAt(0);
  return code >= 0x21 && code < 0x7f && !/[0-9A-Za-z]/.test(c);
}

/** One literal character of a class at `j` (plain or escaped punctuation): its code and the index after it. */
function classChar(p: string, j: number): { code: number; end: number } | undefined {
  const c = p[j];
  if (c === undefined) return undefined;
  if (c === "\\") {
    const e = p[j + 1];
    return e !== undefined && isPunct(e) ? { code: e.charCodeAt(0), end: j + 2 } : undefined;
  }
  const code = c.charCodeAt(0);
  // `[` could open a POSIX class; non-ASCII is left to RE2.
  return c === "[" || code >= 0x7f || code < 0x20 ? undefined : { code, end: j + 1 };
}

/** Parses `[...]` at `i` (on the `[`); returns the test and the index after `]`, or undefined. */
function parseClass(p: string, i: number): { test: CharTest; end: number } | undefined {
  let j = i + 1;
  let negated = false;
  if (p[j] === "^") {
    negated = true;
    j++;
  }
  const set = new Uint8Array(128);
  // A `]` right after `[` or `[^` is a member.
  for (let first = true; ; first = false) {
    if (p[j] === "]" && !first) return { test: classTest(set, negated), end: j + 1 };
    const perl = p[j] === "\\" && p[j + 1] !== undefined ? perlClass(p[j + 1]!) : undefined;
    if (perl) {
      for (let k = 0; k < 128; k++) set[k]! |= perl[k]!;
      j += 2;
      continue;
    }
    const lo = classChar(p, j);
    if (!lo) return undefined;
    j = lo.end;
    if (p[j] === "-" && p[j + 1] !== "]" && p[j + 1] !== undefined) {
      const hi = classChar(p, j + 1);
      if (!hi || hi.code < lo.code) return undefined;
      set.fill(1, lo.code, hi.code + 1);
      j = hi.end;
    } else {
      set[lo.code] = 1;
    }
  }
}

/** Parses one atom at `i`; undefined when it is outside the subset. */
function parseAtom(p: string, i: number): { test: CharTest; end: number } | undefined {
  const c = p[i]!;
  if (c === ".") return { test: (cp) => cp !== 0x0a, end: i + 1 };
  if (c === "[") return parseClass(p, i);
  if (c === "\\") {
    const e = p[i + 1];
    if (e === undefined) return undefined;
    const lower = e.toLowerCase();
    const perl = e === lower || e === "D" || e === "W" || e === "S" ? perlClass(lower) : undefined;
    if (perl) return { test: classTest(perl, e !== lower), end: i + 2 };
    if (!isPunct(e)) return undefined;
    const code = e.charCodeAt(0);
    return { test: (cp) => cp === code, end: i + 2 };
  }
  const code = c.charCodeAt(0);
  if (META.has(c) || code < 0x20 || code >= 0x7f) return undefined;
  return { test: (cp) => cp === code, end: i + 1 };
}

/** Parses a quantifier at `i`: repetition bounds and the index after it (a trailing lazy `?` included). */
function parseQuantifier(p: string, i: number): { min: number; max: number; end: number } | undefined {
  let q: { min: number; max: number; end: number } | undefined;
  const c = p[i];
  if (c === "*") q = { min: 0, max: Infinity, end: i + 1 };
  else if (c === "+") q = { min: 1, max: Infinity, end: i + 1 };
  else if (c === "?") q = { min: 0, max: 1, end: i + 1 };
  else if (c === "{") {
    const m = /^\{(\d{1,2})(,(\d{0,2}))?\}/.exec(p.slice(i));
    if (!m) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
    if (min > MAX_COUNT || (max !== Infinity && (max > MAX_COUNT || max < min))) return undefined;
    q = { min, max, end: i + m[0].length };
  } else {
    return { min: 1, max: 1, end: i };
  }
  // Laziness does not change whether there is a match; a second quantifier is an RE2 error.
  if (p[q.end] === "?") q.end++;
  const next = p[q.end];
  if (next === "*" || next === "+" || next === "?" || next === "{") return undefined;
  return q;
}

/** The matcher for `pattern`, or undefined when it is outside the subset (or not a valid RE2 pattern at all). */
export function sequenceMatcher(pattern: string): SequenceMatcher | undefined {
  try {
    // Whatever RE2 rejects must keep failing as RE2 fails.
    RE2JS.compile(pattern);
  } catch {
    return undefined;
  }
  let i = 0;
  let end = pattern.length;
  const anchoredStart = pattern[0] === "^";
  if (anchoredStart) i = 1;
  // A final `$` anchors unless escaped (an odd run of backslashes before it).
  let anchoredEnd = false;
  if (end > i && pattern[end - 1] === "$") {
    let backslashes = 0;
    for (let k = end - 2; k >= i && pattern[k] === "\\"; k--) backslashes++;
    if (backslashes % 2 === 0) {
      anchoredEnd = true;
      end--;
    }
  }
  const body = pattern.slice(0, end);
  const atoms: Atom[] = [];
  while (i < end) {
    const atom = parseAtom(body, i);
    if (!atom) return undefined;
    const q = parseQuantifier(body, atom.end);
    if (!q || q.end > end) return undefined;
    for (let k = 0; k < q.min; k++) atoms.push({ test: atom.test, repeat: "one" });
    if (q.max === Infinity) atoms.push({ test: atom.test, repeat: "star" });
    else for (let k = q.min; k < q.max; k++) atoms.push({ test: atom.test, repeat: "opt" });
    if (atoms.length > MAX_ATOMS) return undefined;
    i = q.end;
  }
  return compile(atoms, anchoredStart, anchoredEnd);
}

/** Above this many DFA states, a pattern runs on its NFA simulation: the table would grow large. */
const MAX_STATES = 256;

/**
 * NFA simulation over positions 0..n (position k: the atoms before k are
 * matched), the set of live positions as a bitmask. Skipping an "opt" or
 * "star" atom is an empty move; `reach[k]` is k with every position empty
 * moves lead to from it. The sets reachable from the start are few for the
 * usual patterns, so they are numbered up front as DFA states (subset
 * construction), with one table lookup per character.
 */
function compile(atoms: readonly Atom[], anchoredStart: boolean, anchoredEnd: boolean): SequenceMatcher {
  const n = atoms.length;
  const tests = atoms.map((a) => a.test);
  const reach = new Array<number>(n + 1);
  reach[n] = 1 << n;
  for (let k = n - 1; k >= 0; k--) reach[k] = (1 << k) | (atoms[k]!.repeat === "one" ? 0 : reach[k + 1]!);
  // After matching atom k: stay on a "star", else move past it.
  const after = atoms.map((a, k) => (a.repeat === "star" ? reach[k]! : reach[k + 1]!));
  const start = reach[0]!;
  const accept = 1 << n;
  const restart = anchoredStart ? 0 : start;
  // For ASCII input, which atoms accept each character, as a bitmask: one lookup per character instead of a test per atom.
  const ascii = new Int32Array(128);
  for (let cp = 0; cp < 128; cp++) for (let k = 0; k < n; k++) if (tests[k]!(cp)) ascii[cp]! |= 1 << k;
  const step = (live: number, accepted: number): number => {
    let m = live & accepted;
    let next = restart;
    while (m !== 0) {
      const bit = m & -m;
      m ^= bit;
      next |= after[31 - Math.clz32(bit)]!;
    }
    return next;
  };
  const dfa = subsets(tests, ascii, start, accept, anchoredEnd, step);
  if (dfa !== undefined) return dfa;
  return {
    test(s) {
      let live = start;
      if (!anchoredEnd && live & accept) return true;
      for (let i = 0; i < s.length; i++) {
        const cp = s.charCodeAt(i);
        let m: number;
        if (cp < 128) {
          m = ascii[cp]!;
        } else {
          // Astral code points are one RE2 character, and lone surrogates decode RE2's way: RE2 decides.
          if (cp >= 0xd800 && cp <= 0xdfff) return undefined;
          m = 0;
          for (let k = 0; k < n; k++) if ((live >> k) & 1 && tests[k]!(cp)) m |= 1 << k;
        }
        const next = step(live, m);
        if (next === 0) return false;
        live = next;
        if (!anchoredEnd && live & accept) return true;
      }
      return (live & accept) !== 0;
    },
  };
}

/** Table entries that end the match: no live position left, or (unanchored end) a match found. */
const DEAD = -1;
const FOUND = -2;

/**
 * The DFA of the NFA above: characters grouped into classes that every atom
 * treats alike (the ASCII ones by their atom mask, and one class for the rest
 * of the BMP, which atoms of the subset all treat as one), states numbered as
 * they are reached. Undefined when there would be more than MAX_STATES states.
 */
function subsets(
  tests: readonly CharTest[],
  ascii: Int32Array,
  start: number,
  accept: number,
  anchoredEnd: boolean,
  step: (live: number, accepted: number) => number,
): SequenceMatcher | undefined {
  const masks: number[] = [];
  const classOf = new Uint8Array(128);
  for (let cp = 0; cp < 128; cp++) {
    let c = masks.indexOf(ascii[cp]!);
    if (c < 0) c = masks.push(ascii[cp]!) - 1;
    classOf[cp] = c;
  }
  // Non-ASCII, non-surrogate code points: a class of their own, which only holds if the atoms agree on all of them.
  const wide = (cp: number) => tests.reduce((m, t, k) => (t(cp) ? m | (1 << k) : m), 0);
  const wideMask = wide(0x80);
  if ([0xa0, 0xe9, 0x2028, 0x4e00, 0xfffd, 0xffff].some((cp) => wide(cp) !== wideMask)) return undefined;
  const wideClass = masks.push(wideMask) - 1;
  const classes = masks.length;

  const states = new Map<number, number>([[start, 0]]);
  const sets = [start];
  const table: number[] = [];
  for (let st = 0; st < sets.length; st++) {
    for (let c = 0; c < classes; c++) {
      const next = step(sets[st]!, masks[c]!);
      let to: number;
      if (next === 0) to = DEAD;
      else if (!anchoredEnd && next & accept) to = FOUND;
      else {
        const known = states.get(next);
        if (known !== undefined) to = known;
        else if (sets.length === MAX_STATES) return undefined;
        else {
          to = sets.push(next) - 1;
          states.set(next, to);
        }
      }
      table[st * classes + c] = to;
    }
  }
  const transitions = Int16Array.from(table);
  const accepting = Uint8Array.from(sets, (set) => ((set & accept) !== 0 ? 1 : 0));
  const foundAtStart = !anchoredEnd && (start & accept) !== 0;
  return {
    test(s) {
      if (foundAtStart) return true;
      // Locals, not the closure's context: the loop then keeps them in registers.
      const table = transitions;
      const byChar = classOf;
      const width = classes;
      const length = s.length;
      let st = 0;
      for (let i = 0; i < length; i++) {
        const cp = s.charCodeAt(i);
        let c: number;
        if (cp < 128) c = byChar[cp]!;
        else if (cp >= 0xd800 && cp <= 0xdfff) return undefined;
        else c = wideClass;
        st = table[st * width + c]!;
        if (st < 0) return st === FOUND;
      }
      return accepting[st] === 1;
    },
  };
}
