/**
 * The docs cite only what ships: every relative Markdown link in README.md and
 * docs/ resolves to a file in the repo, and no doc points outside it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const DOCS = [join(ROOT, "README.md"), ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(ROOT, "docs", f))];

test("every relative link in README.md and docs/ resolves to a file in the repo", () => {
  const broken: string[] = [];
  for (const file of DOCS) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!.split("#")[0]!;
      if (target === "" || /^[a-z]+:/.test(target)) continue;
      const path = resolve(dirname(file), target);
      if (!existsSync(path) || relative(ROOT, path).startsWith("..")) broken.push(`${relative(ROOT, file)}: ${m[1]}`);
    }
  }
  assert.deepEqual(broken, []);
});

test("no doc cites a path outside the repo (such as the authors' shared reference folder)", () => {
  const outside = DOCS.flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(/(?:\/work\/|\/shared\/reference|\.\.\/shared\/)[^\s`)]*/g)].map((m) => `${relative(ROOT, file)}: ${m[0]}`),
  );
  assert.deepEqual(outside, []);
});
