// A node:test reporter that writes nothing to its stream. It appends to the file named by
// KONTRACT_TEST_FINISHED a line per test started ("+file") and finished ("-file"), and "!file" for a
// file that reported no test of its own (the runner then passes the file itself, by its path).
// Node's runner can lose the end of a file's output when the file's process exits before flushing
// (--test-force-exit): the file then counts as passed with its last results missing, which
// scripts/run-tests.mjs does not accept (see unfinishedFiles). Lines are written as events come, not
// at the end, because under --test-force-exit the runner may exit before its reporters end.
import { appendFileSync, existsSync, readFileSync } from "node:fs";

export default async function* finishedReporter(source) {
  const path = process.env.KONTRACT_TEST_FINISHED;
  for await (const event of source) {
    const { file, name } = event.data ?? {};
    if (path === undefined || file === undefined) continue;
    const whole = name === file;
    if (event.type === "test:start" && !whole) appendFileSync(path, `+${file}\n`);
    else if ((event.type === "test:pass" || event.type === "test:fail") && !whole) appendFileSync(path, `-${file}\n`);
    else if (event.type === "test:pass" && whole) appendFileSync(path, `!${file}\n`);
  }
}

/** The files of `files` (absolute paths) that a run's KONTRACT_TEST_FINISHED file shows cut short: a test started and never finished, no test of their own, or no line at all. */
export function unfinishedFiles(path, files) {
  const open = new Map();
  const cut = new Set();
  for (const line of existsSync(path) ? readFileSync(path, "utf8").split("\n") : []) {
    const file = line.slice(1);
    if (line[0] === "+") open.set(file, (open.get(file) ?? 0) + 1);
    else if (line[0] === "-") open.set(file, (open.get(file) ?? 0) - 1);
    else if (line[0] === "!") cut.add(file);
  }
  return files.filter((f) => cut.has(f) || (open.get(f) ?? 1) !== 0);
}
