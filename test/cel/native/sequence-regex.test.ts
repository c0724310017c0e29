/**
 * The sequence matcher decides exactly what RE2 decides: random patterns of
 * its subset (and near misses outside it) against random strings, compared
 * with RE2JS's own answer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RE2JS } from "@bufbuild/re2";
import { sequenceMatcher } from "../../../src/cel/native/sequence-regex.js";
import { mulberry32 } from "../../helpers/random.js";

const ATOMS = [
  "a", "b", "@", "-", "_", "\\.", "\\-", "\\_", "\\\\", "\\$", "\\^", "\\[", "\\{", ".",
  "\\d", "\\w", "\\s", "\\D", "\\W", "\\S",
  "[ab]", "[^@]", "[a-c]", "[^a-c\\d]", "[]a]", "[^]a]", "[a-]", "[\\-a]", "[\\]]", "[\\w.]", "[^\\s]", "[.]", "[$^]", "[!-/]",
];
const QUANTIFIERS = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{2,}", "{0,1}", "*?", "+?", "??", "{0}"];
// \s is [\t\n\f\r ] in RE2 (no \v); . is anything but \n.
const ALPHABET = ["a", "b", "c", "@", ".", "-", "_", "1", "9", " ", "\n", "\t", "\r", "\f", "\v", "Z", "$", "^", "]", "\\", "[", "{", "é", "\u00a0", "\u0000", "\u007f"];

function randomPattern(rnd: () => number): string {
  let p = rnd() < 0.6 ? "^" : "";
  const n = 1 + Math.floor(rnd() * 5);
  for (let i = 0; i < n; i++) p += ATOMS[Math.floor(rnd() * ATOMS.length)]! + QUANTIFIERS[Math.floor(rnd() * QUANTIFIERS.length)]!;
  return p + (rnd() < 0.6 ? "$" : "");
}

function randomString(rnd: () => number): string {
  const len = Math.floor(rnd() * 10);
  let s = "";
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}

test("the sequence matcher agrees with RE2 on random patterns of its subset", () => {
  const rnd = mulberry32(11);
  let patterns = 0;
  let checked = 0;
  let matched = 0;
  for (let n = 0; n < 1500; n++) {
    const pattern = randomPattern(rnd);
    const ours = sequenceMatcher(pattern);
    assert.ok(ours !== undefined, `${pattern} is in the subset`);
    const re2 = RE2JS.compile(pattern);
    patterns++;
    for (let k = 0; k < 150; k++) {
      const s = randomString(rnd);
      const expected = re2.test(s);
      assert.equal(ours.test(s), expected, `${pattern} on ${JSON.stringify(s)}`);
      if (expected) matched++;
      checked++;
    }
  }
  assert.ok(checked >= 200_000 && matched > checked / 10, `${patterns} patterns, ${checked} inputs, ${matched} matches`);
});

test("the usual validation patterns are in the subset and match as RE2 does", () => {
  const cases: [string, string, boolean][] = [
    ["^[^@]+@[^@]+$", "user1@example.com", true],
    ["^[^@]+@[^@]+$", "user1@@example.com", false],
    ["^[^@]+@[^@]+$", "üser@example.com", true],
    ["^[A-Z]{3}-\\d{4}$", "ABC-1234", true],
    ["^[A-Z]{3}-\\d{4}$", "ABC-12345", false],
    ["^\\S+$", "no-spaces", true],
    ["^\\S+$", "a b", false],
    ["^.*$", "a\nb", false],
    ["\\d", "abc1", true],
    ["^$", "", true],
    ["", "anything", true],
    ["^a\\$", "a$", true],
    ["^a\\\\$", "a\\", true],
  ];
  for (const [pattern, s, expected] of cases) {
    const ours = sequenceMatcher(pattern);
    assert.ok(ours, pattern);
    assert.equal(ours.test(s), expected, `${pattern} on ${JSON.stringify(s)}`);
    assert.equal(RE2JS.compile(pattern).test(s), expected, `RE2 agrees: ${pattern} on ${JSON.stringify(s)}`);
  }
});

test("inputs with surrogates are left to RE2", () => {
  assert.equal(sequenceMatcher("^.$")!.test("😀"), undefined);
  assert.equal(sequenceMatcher("a")!.test("\uD800a"), undefined);
  // A match found before the surrogate stands: nothing after it can change that.
  assert.equal(sequenceMatcher("a")!.test("a\uD800"), true);
});

test("anything outside the subset, or invalid for RE2, is left to RE2", () => {
  for (const pattern of [
    "^(a|b)+$", "^a|b$", "(?i)abc", "^\\pL+$", "^[[:alpha:]]+$", "^\\bfoo$", "^a\\z", "^\\x41$", "^\\n$",
    "^é$", "^a{17}$", "^a{2,1}$", "^a**$", "^a{,3}$", "a{b", "^a^b$", "^a$b$", "*a", "^[a-\\d]$", "[\\n]", "a{1000}", "^(a$",
    "x".repeat(31),
  ]) {
    assert.equal(sequenceMatcher(pattern), undefined, pattern);
  }
});

test("patterns whose DFA would be too big run on the NFA, and both agree with RE2", () => {
  // [ab]*a[ab]{n}$: the DFA must remember the last n+1 characters, 2^(n+1) states; 9 is past the table's bound, 3 within it.
  const rnd = mulberry32(5);
  for (const pattern of ["[ab]*a[ab]{9}$", "^[ab]*a[ab]{9}", "[ab]*a[ab]{3}$", "a[ab]{9}"]) {
    const ours = sequenceMatcher(pattern)!;
    const re2 = RE2JS.compile(pattern);
    for (let k = 0; k < 3000; k++) {
      let s = "";
      for (let len = Math.floor(rnd() * 24); len > 0; len--) s += "abcé"[Math.floor(rnd() * (rnd() < 0.9 ? 2 : 4))];
      assert.equal(ours.test(s), re2.test(s), `${pattern} on ${JSON.stringify(s)}`);
    }
  }
});
