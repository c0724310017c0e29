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

const r = spawnSync(process.execPath, ["--expose-gc", outfile, ...args], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
