#!/usr/bin/env node
// The CLI runs the compiled build, as users get it: dist/cli/kontract.cjs, one
// bundle of the CLI and its dependencies (scripts/build.mjs says why). `npm
// install` and `npm ci` build it through `prepare`, `npm test` rebuilds it first.
//
// The bundle is compiled from V8's code cache beside it (kontract.cjs.<build
// id>.<node version>-<arch>.cache) when one fits: the bytecode of every function
// an earlier run compiled, so start-up skips compiling them. When the cache is
// missing or V8 rejects it (another V8, other flags), this run writes a new one
// at exit, if it can: a read-only install only goes without. The build id (the
// bundle's first line, a hash of it) is in the name because V8 checks a cache
// against the source's length only. The cache sits beside the code it caches,
// so whoever can change it can change the code.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const bundle = fileURLToPath(new URL("../dist/cli/kontract.cjs", import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write("kontract: the compiled build is missing (dist/cli/kontract.cjs); run `npm run build`\n");
  process.exit(2);
}
const source = readFileSync(bundle, "utf8");
const buildId = /^\/\/ kontract-build ([0-9a-f]+)\n/.exec(source)?.[1];
const cacheFile = buildId === undefined ? undefined : `${bundle}.${buildId}.${process.version}-${process.arch}.cache`;
const cachedData = cacheFile === undefined ? undefined : readIfThere(cacheFile);
// Wrapped as Node wraps a CommonJS module, so the bundle sees the same five names, and a sixth:
// its import() of a Kafka client by name runs here (scripts/build.mjs rewrites it), as code from
// the cache cannot import() on Node 20. Package names resolve from here as from dist/cli/.
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __kontractImport) {${source}\n})`, { filename: bundle, cachedData });
const cjs = { exports: {} };
script.runInThisContext()(cjs.exports, createRequire(bundle), cjs, bundle, dirname(bundle), (specifier) => import(specifier));
process.exitCode = await cjs.exports.main(process.argv.slice(2));
if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected)) writeCache(cacheFile);

function readIfThere(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Written whole under another name, then renamed: a run started meanwhile reads the old cache or none, never half of one. */
function writeCache(file) {
  const part = `${file}.${process.pid}.part`;
  try {
    writeFileSync(part, script.createCachedData());
    renameSync(part, file);
  } catch {
    // Read-only install or full disk: the next run compiles the bundle again, as without a cache.
    rmSync(part, { force: true });
  }
}
