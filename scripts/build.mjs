#!/usr/bin/env node
// The compiled build: tsc emits the library into dist/src (what `import "kontract"`
// loads), then esbuild bundles the CLI from that output, dependencies included,
// into dist/cli (what bin/kontract.mjs runs).
//
// Why a bundle: loading the CLI as some 500 files (ajv, yaml, protobuf, CEL...)
// cost about half of `kontract check`'s start-up in module resolution, file
// reads and the CommonJS export scan, not in kontract's own work (node --cpu-prof
// on a one-message check: 0.50 s of CPU unbundled, 0.27 s bundled). Each command
// other than check stays a chunk of its own, loaded when asked for (main.ts
// imports them dynamically). Kafka clients are not bundled: src/kafka requires
// them at run time, from the user's node_modules.
//
// Usage: node scripts/build.mjs   (npm run build)
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");

export async function buildAll() {
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  if (tsc.status !== 0) return tsc.status ?? 1;
  await bundleCli();
  return 0;
}

export async function bundleCli() {
  const outdir = join(root, "dist/cli");
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [join(root, "dist/src/cli/main.js")],
    outdir,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Bundled CommonJS dependencies call require() for Node's built-ins (and protobufjs
    // for optional modules); an ES module has none, so each chunk makes one.
    banner: { js: 'import { createRequire as __kontractCreateRequire } from "node:module"; const require = __kontractCreateRequire(import.meta.url);' },
    sourcemap: false,
    logLevel: "warning",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await buildAll();
