// @platformatic/kafka needs Node >= 22.22 (its engines); the project runs on Node 20. Its tests and
// bench run on the Node of scripts/versions.env (NODE22_VERSION): the npm `node` package through npx,
// fetched once and then taken from npm's cache.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Whether this Node can run @platformatic/kafka. */
export function runsPlatformatic(version = process.versions.node) {
  const [major, minor] = version.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 22);
}

/** The Node binary for @platformatic/kafka: { version, path }. Exits the process when npx cannot provide it. */
export function platformaticNode(root) {
  const line = readFileSync(join(root, "scripts/versions.env"), "utf8").match(/^NODE22_VERSION=(\S+)$/m);
  if (!line) throw new Error("scripts/versions.env: missing NODE22_VERSION");
  const version = line[1];
  const r = spawnSync("npx", ["--yes", "--prefer-offline", "--package", `node@${version}`, "node", "--print", "process.execPath"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) {
    console.error(r.stderr);
    console.error(`could not get Node ${version} through npx (npm package node@${version}), which @platformatic/kafka needs`);
    process.exit(1);
  }
  return { version, path: r.stdout.trim() };
}
