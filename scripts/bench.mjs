#!/usr/bin/env node
// Runs a benchmark on compiled JavaScript, as the published package runs: the
// bench and kontract's sources bundled by esbuild (dependencies stay in
// node_modules: the reference client runs its own published build). Not through
// tsx: its loader keeps function names (esbuild keepNames), which makes
// kontract's hot path measurably slower than the build users get.
// Usage: node scripts/bench.mjs bench/<name>.bench.ts [bench options...]
import { spawnSync } from "node:child_process";
import { basename, join } from "node:path";
import { build } from "esbuild";
import { platformaticNode, runsPlatformatic } from "./lib/node22.mjs";

const root = join(import.meta.dirname, "..");
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node scripts/bench.mjs bench/<name>.bench.ts [options...]");
  process.exit(2);
}
// Two levels below the root, as bench/<dir>/ files are: they find scripts/ relative to themselves.
const outfile = join(root, ".cache", "bench", basename(entry).replace(/\.ts$/, ".mjs"));
await build({
  entryPoints: [join(root, entry)],
  outfile,
  bundle: true,
  plugins: [externalPackagesButJson()],
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
});
/**
 * Dependencies stay in node_modules, except JSON files, which are inlined:
 * esbuild would drop the `with { type: "json" }` that Node needs to import them.
 */
function externalPackagesButJson() {
  return {
    name: "external-packages-but-json",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.endsWith(".json") ? undefined : { path: args.path, external: true }));
    },
  };
}

// The Kafka bench's @platformatic/kafka contenders need Node >= 22.22 (and the Confluent client's binding
// is built for this Node): on an older Node they run in a second process, on the Node of versions.env.
const clientsAt = args.indexOf("--clients");
const clients = clientsAt >= 0 ? args[clientsAt + 1].split(",") : basename(entry) === "kafka.bench.ts" ? ["kafkajs", "confluent", "platformatic"] : [];
// Without --clients (clientsAt -1), every option passes: filtering index clientsAt + 1 dropped the first one.
const rest = clientsAt >= 0 ? args.filter((_, i) => i !== clientsAt && i !== clientsAt + 1) : args;
const withClients = (list) => [...rest, ...(list.length > 0 ? ["--clients", list.join(",")] : [])];
const apart = clients.includes("platformatic") && !runsPlatformatic();
const here = apart ? clients.filter((c) => c !== "platformatic") : clients;

let status = 0;
if (!apart || here.length > 0) status = spawnSync(process.execPath, ["--expose-gc", outfile, ...withClients(here)], { cwd: root, stdio: "inherit" }).status ?? 1;
if (apart && status === 0) {
  const node22 = platformaticNode(root);
  console.log(`\n== @platformatic/kafka on Node ${node22.version} (a second process: it needs Node >= 22.22)\n`);
  status = spawnSync(node22.path, ["--expose-gc", outfile, ...withClients(["platformatic"])], { cwd: root, stdio: "inherit" }).status ?? 1;
}
process.exit(status);
