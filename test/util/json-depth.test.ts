import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jsonDeeperThan } from "../../src/util/json-depth.js";
import { mulberry32 } from "../helpers/random.js";

function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (typeof v === "object" && v !== null) return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

describe("jsonDeeperThan", () => {
  it("counts brackets, not the ones inside strings or after escapes", () => {
    assert.equal(jsonDeeperThan("[[1]]", 1), true);
    assert.equal(jsonDeeperThan("[[1]]", 2), false);
    assert.equal(jsonDeeperThan('["[[[[", "\\"[[[["]', 1), false);
    assert.equal(jsonDeeperThan('{"a\\\\":[{}]}', 2), true);
  });

  it("agrees with the depth of the parsed value on seeded random JSON (seed 10, 500 values)", () => {
    const random = mulberry32(10);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const gen = (budget: number): unknown => {
      const r = random();
      if (budget === 0 || r < 0.3) return pick([1, "x", '"[{', "\\]}", null, true, "\u2028"]);
      const n = Math.floor(random() * 3);
      if (r < 0.65) return Array.from({ length: n }, () => gen(budget - 1));
      return Object.fromEntries(Array.from({ length: n }, (_, i) => [pick(["k", "[", "}\\", `"${i}`]) + i, gen(budget - 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const value = gen(12);
      const text = JSON.stringify(value);
      const depth = depthOf(value);
      // max 0 forces the scan even for short text
      for (const max of [0, 1, depth - 1, depth, depth + 1].filter((m) => m >= 0)) {
        if (text.length > 2 * max) assert.equal(jsonDeeperThan(text, max), depth > max, `${text} max ${max}`);
      }
    }
  });
});
