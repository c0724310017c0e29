/**
 * describeType: what a value is, for error messages, never what it holds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeType } from "../../src/util/describe.js";

test("an own `constructor` key is data: it neither shows up nor breaks the description (found by test/fuzz)", () => {
  assert.equal(describeType({ constructor: { name: "4111-1111-1111-1111" } }), "an object");
  assert.equal(describeType({ constructor: { name: { toString: 1 } } }), "an object");
  assert.equal(describeType(Object.create(null)), "an object");
  assert.equal(describeType(new Map()), "an object (Map)");
});
