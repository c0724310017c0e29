import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { wildcardMatch } from "../../../src/contract/tags.js";
import { patternMatchesTemplate } from "../../../src/format/json-schema/tags.js";

describe("wildcard patterns against index templates", () => {
  const cases: [pattern: string, template: string, expected: boolean][] = [
    ["$.items[*].sku", "$.items[*].sku", true],
    ["$.items[0].sku", "$.items[*].sku", true],
    ["$.items[12].sku", "$.items[*].sku", true],
    ["$.items[a].sku", "$.items[*].sku", false],
    ["$.items[].sku", "$.items[*].sku", false], // an index has at least one digit
    ["$.items?0].sku", "$.items[*].sku", true], // ? takes the "["
    ["$.items[?].sku", "$.items[*].sku", true],
    ["$.items[??].sku", "$.items[*].sku", true],
    ["$.items.sku", "$.items[*].sku", false],
    ["$.*.sku", "$.items[*].sku", true], // "items[3]" has no dot
    ["$.*", "$.items[*].sku", false],
    ["**", "$.items[*].sku", true],
    ["**.sku", "$.a[*].b[*].sku", true],
    ["$.a[1].b[*].sku", "$.a[*].b[*].sku", true],
    ["$.a[1]*", "$.a[*].b", false],
    ["$.a*", "$.a[*]", true],
    ["$.id", "$.id", true],
    ["$.i?", "$.id", true],
    ["$.i", "$.id", false],
  ];
  for (const [pattern, template, expected] of cases) {
    it(`${pattern} ${expected ? "matches" : "does not match"} ${template}`, () => {
      assert.equal(patternMatchesTemplate(pattern, template), expected);
    });
  }

  it("agrees with wildcardMatch over concrete indexes 0..120", () => {
    const patterns = ["$.items[*].sku", "$.items[1?].*", "**.sku", "$.*.sku", "$.items[3].sku", "$.i*[?]*", "$.items[1??].sku", "*.*.sku", "$.items[*]"];
    for (const template of ["$.items[*].sku", "$.items[*]"]) {
      for (const pattern of patterns) {
        let some = false;
        for (let i = 0; i <= 120 && !some; i++) some = wildcardMatch(template.replace("[*]", `[${i}]`), pattern);
        assert.equal(patternMatchesTemplate(pattern, template), some, `${pattern} vs ${template}`);
      }
    }
  });
});
