/**
 * scripts/lib/finished-reporter.mjs: the guard of scripts/run-tests.mjs against a test file whose
 * output was cut short (its process exited before flushing, as once under --test-force-exit): a file
 * with a test started and never finished, a file the runner passed by its path because it reported
 * no test of its own, and a file with no line at all are cut short; a file whose every test finished
 * (passed or failed) is not.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
// @ts-expect-error: a plain .mjs script, without types
import finishedReporter, { unfinishedFiles } from "../../scripts/lib/finished-reporter.mjs";

type Event = { type: string; data: { file?: string; name?: string; nesting?: number } };

/** The files of `files` that the reporter, fed `events`, shows cut short. */
async function cutShort(events: Event[], files: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "finished-"));
  const path = join(dir, "report.lines");
  const before = process.env.KONTRACT_TEST_FINISHED;
  process.env.KONTRACT_TEST_FINISHED = path;
  try {
    async function* source() {
      yield* events;
    }
    for await (const _ of (finishedReporter as (s: AsyncIterable<Event>) => AsyncIterable<string>)(source())) assert.fail("the reporter writes nothing to its stream");
    return (unfinishedFiles as (path: string, files: string[]) => string[])(path, files);
  } finally {
    if (before === undefined) delete process.env.KONTRACT_TEST_FINISHED;
    else process.env.KONTRACT_TEST_FINISHED = before;
    rmSync(dir, { recursive: true, force: true });
  }
}

const start = (file: string, name: string, nesting = 0): Event => ({ type: "test:start", data: { file, name, nesting } });
const pass = (file: string, name: string, nesting = 0): Event => ({ type: "test:pass", data: { file, name, nesting } });
const fail = (file: string, name: string, nesting = 0): Event => ({ type: "test:fail", data: { file, name, nesting } });

describe("the test runner's guard against output cut short", () => {
  it("a suite started and never finished (its last results lost) is cut short; a file whose tests all finished is not", async () => {
    const events = [start("/a.ts", "suite"), start("/a.ts", "one", 1), pass("/a.ts", "one", 1), pass("/a.ts", "suite"), start("/b.ts", "isAssignable"), start("/b.ts", "case 14", 1), pass("/b.ts", "case 14", 1), { type: "test:plan", data: { nesting: 0 } }];
    assert.deepEqual(await cutShort(events, ["/a.ts", "/b.ts"]), ["/b.ts"]);
  });

  it("a file passed by its path (no test of its own reported) and a file never heard of are cut short", async () => {
    const events = [start("/c.ts", "/c.ts"), pass("/c.ts", "/c.ts"), start("/a.ts", "x"), pass("/a.ts", "x")];
    assert.deepEqual(await cutShort(events, ["/a.ts", "/c.ts", "/d.ts"]), ["/c.ts", "/d.ts"]);
  });

  it("a failed test is finished, and a file that failed as a whole is the runner's to report", async () => {
    const events = [start("/c.ts", "x"), fail("/c.ts", "x"), start("/e.ts", "/e.ts"), fail("/e.ts", "/e.ts")];
    assert.deepEqual(await cutShort(events, ["/c.ts"]), []);
  });
});
