/**
 * `matches('^X$')` runs as RE2's whole-input match of X. Proof that the two
 * agree: tricky patterns against many random strings over each pattern's
 * alphabet, and the shapes that must keep the pattern as written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RE2JS } from "@bufbuild/re2";
import { anchoredBody, wholeInputMatcher } from "../../../src/cel/native/regex.js";
import { mulberry32 } from "../../helpers/random.js";

const REWRITTEN = [
  "^[^@]+@[^@]+$",
  "^$",
  "^.{3}$",
  "^.*$",
  "^[A-Z]{3}$",
  "^\\d+(\\.\\d{1,2})?$",
  "^(a|b)+c?$",
  "^(?:ab|a)*b$",
  "^(?P<year>\\d{4})-(?<m>\\d\\d)$",
  "^[]a]+$",
  "^[^]a]*$",
  "^[\\]\\-^$]+$",
  "^a\\\\$",
  "^\\$\\^+$",
  "^\\p{L}+\\s?\\pN*$",
  "^(a*)*$",
  "^a+?b??$",
  "^\\x{1F600}?ü.$",
];

const KEPT = [
  "^a|b$", // the anchors bind to one alternative each
  "a$",
  "^a",
  "^a$|^b$",
  "^(?m)a$", // flags could change what the outer anchors mean
  "^(?s).$",
  "^(?i)abc$",
  "^a\\$", // an escaped $, not an anchor
  "^a\\Q|\\E$",
  "^a^b$",
  "^a$b$",
  "^\\Aa$",
  "^a\\z$",
  "^\\bfoo$",
  "^[[:alpha:]]+$",
  "^(a$",
  "^a)$",
];

test("^X$ patterns match exactly the inputs RE2 finds for the pattern as written", () => {
  const rnd = mulberry32(7);
  // Characters the patterns care about, plus line breaks, astral and lone surrogates.
  const alphabet = ["a", "b", "c", "A", "Z", "@", ".", "1", "2", "-", "$", "^", "]", "\\", " ", "\n", "\r", "ü", "😀", "\uD800", "é", "x"];
  let checked = 0;
  for (const pattern of REWRITTEN) {
    const whole = wholeInputMatcher(pattern);
    assert.ok(whole !== undefined, `${pattern} should be rewritten`);
    const re2 = RE2JS.compile(pattern);
    for (let n = 0; n < 3000; n++) {
      const len = Math.floor(rnd() * 8);
      let s = "";
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      assert.equal(whole.test(s), re2.test(s), `${pattern} on ${JSON.stringify(s)}`);
      checked++;
    }
    // Inputs that match too, not only random misses.
    for (const s of ["a@b", "abc", "ABC", "12.5", "abbc", "b", "2024-06", "]a]", "a\\", "$^^", "üa", "😀üx", "", "aaab"]) {
      assert.equal(whole.test(s), re2.test(s), `${pattern} on ${JSON.stringify(s)}`);
    }
  }
  assert.ok(checked > 50_000);
});

test("patterns whose anchors are not a plain ^…$ pair keep the pattern as written", () => {
  for (const pattern of KEPT) assert.equal(anchoredBody(pattern), undefined, pattern);
  assert.equal(wholeInputMatcher("^a(?=b)$"), undefined, "a pattern RE2 rejects is not rewritten either");
});
