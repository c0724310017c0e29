/** `kontract diff` on folders and git refs: the printed changes, --fail-on, --json, and usage errors. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { diffCommand } from "../../src/cli/diff.js";
import { main } from "../../src/cli/main.js";
import { capture, project } from "../helpers/cli.js";

const contract = (expr: string, onFailure = "ERROR") => `subject: orders-value
schema:
  type: record
  name: Order
  fields:
    - {name: id, type: string}
    - {name: amount, type: double}
ruleSet:
  domainRules:
    - {name: positive, kind: CONDITION, mode: WRITE, type: CEL, expr: "${expr}", onFailure: ${onFailure}}
`;

const FIXTURE = `subject: orders-value
cases:
  - name: a small order
    message: {id: a, amount: 5.0}
    expect: pass
`;

function repo(): string {
  const dir = project({ "rules/orders.yaml": contract("message.amount > 0.0"), "fixtures/orders.test.yaml": FIXTURE });
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: dir, stdio: "pipe" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-q", "-m", "v1");
  return dir;
}

describe("kontract diff", () => {
  test("against the committed rules: the edited condition is tightening, proved by the fixture case that now fails", async () => {
    const dir = repo();
    writeFileSync(join(dir, "rules/orders.yaml"), contract("message.amount > 10.0"));
    const r = await capture(diffCommand, dir, ["git:main:rules", "rules"]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Diff git:main:rules -> rules/);
    assert.match(r.out, /orders-value {2}v1: tightening/);
    assert.match(r.out, /\+ tightening {2}rule positive in domainRules: expr changed/);
    assert.match(r.out, /fixtures: 1 case run on both sides, 1 changes outcome/);
    assert.match(r.out, /fixtures\/orders.test.yaml:3 "a small order" \(WRITE v1\): passes -> fails positive \(ERROR\)/);
  });

  test("--fail-on exits 1 only for the classes named; any is every class", async () => {
    const dir = repo();
    writeFileSync(join(dir, "rules/orders.yaml"), contract("message.amount > 0.0", "NONE"));
    assert.equal((await capture(diffCommand, dir, ["git:main", "rules", "--fail-on", "tightening,breaking"])).code, 0);
    const r = await capture(diffCommand, dir, ["git:main", "rules", "--fail-on", "loosening"]);
    assert.equal(r.code, 1);
    assert.match(r.out, /Failing: loosening changes \(--fail-on\)/);
    assert.equal((await capture(diffCommand, dir, ["git:main", "rules", "--fail-on", "any"])).code, 1);
    assert.equal((await capture(diffCommand, dir, ["rules", "rules", "--fail-on", "any"])).code, 0);
  });

  test("--json gives the classes, and --no-fixtures leaves the proof out", async () => {
    const dir = repo();
    writeFileSync(join(dir, "rules/orders.yaml"), contract("message.amount > 10.0"));
    const r = await capture(diffCommand, dir, ["git:main:rules", "rules", "--json", "--no-fixtures", "--fail-on", "tightening"]);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.out);
    assert.equal(json.from, "git:main:rules");
    assert.deepEqual(json.failed, ["tightening"]);
    assert.deepEqual(json.subjects[0].changes.map((c: { class: string; rule: { name: string } }) => [c.class, c.rule.name]), [["tightening", "positive"]]);
    assert.equal(json.subjects[0].fixtures, undefined);
  });

  test("usage errors exit 2 with the lint error style: one source, an unknown class, an unknown git ref", async () => {
    const dir = repo();
    await assert.rejects(capture(diffCommand, dir, ["rules"]), /diff takes two sources/);
    await assert.rejects(capture(diffCommand, dir, ["rules", "rules", "--fail-on", "stricter"]), /unknown class "stricter"/);
    await assert.rejects(capture(diffCommand, dir, ["git:nope:rules", "rules"]), /git ls-tree failed: .*nope/);
    await assert.rejects(capture(diffCommand, dir, ["git:-x:rules", "rules"]), /not a git ref/);
    await assert.rejects(capture(diffCommand, dir, ["git:main:../..", "rules"]), /outside the repository/);
    const stderr: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => (stderr.push(String(s)), true)) as typeof process.stderr.write;
    try {
      assert.equal(await main(["diff", "rules"]), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.match(stderr.join(""), /^kontract: diff takes two sources/);
  });
});
