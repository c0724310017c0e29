import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_ERROR_TEXT, capList, capText } from "../../src/util/cap.js";

describe("capText", () => {
  it("keeps short texts as they are", () => {
    assert.equal(capText("short"), "short");
    assert.equal(capText("x".repeat(MAX_ERROR_TEXT)), "x".repeat(MAX_ERROR_TEXT));
  });

  it("cuts long texts, with an ellipsis and the original length", () => {
    assert.equal(capText("abcdefghij", 4), "abcd… (10 chars)");
    const big = capText("y".repeat(1_350_000));
    assert.ok(big.length < MAX_ERROR_TEXT + 30);
    assert.ok(big.endsWith("… (1350000 chars)"));
  });

  it("never cuts a surrogate pair in half", () => {
    const capped = capText("ab😀cd", 3);
    assert.equal(capped, "ab… (6 chars)");
    assert.doesNotThrow(() => encodeURIComponent(capped), "well-formed UTF-16");
  });
});

describe("capList", () => {
  it("shows short lists whole and long ones by their first items and count", () => {
    assert.equal(capList([0, 1], "indexes"), "[0, 1]");
    assert.equal(capList([1, 2, 3, 4], "indexes", 2), "[1, 2, …] (4 indexes)");
  });
});
