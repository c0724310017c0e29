#!/usr/bin/env node
// The compiled build: tsc emits the library into dist/src (what `import "kontract"`
// loads), then esbuild bundles the CLI from that output, dependencies included,
// into one CommonJS file, dist/cli/kontract.cjs, which bin/kontract.mjs runs
// from V8's code cache (bin/kontract.mjs says how). Last, one `check` of the
// sample orders writes that cache, so the first run after a build is as fast as
// the next ones.
//
// Why: `kontract check` on one message cost about 0.50 s of CPU, half of it in
// loading some 500 module files (resolution, reads, the CommonJS export scan)
// and most of the rest in compiling code that runs once. One bundle: 0.26 s;
// from the code cache: 0.18 s (node --cpu-prof and /usr/bin/time, 2026-12-05).
// Then (one-message check, median CPU of 12-15 runs, 2026-12-05): without
// whitespace and comments, the source is a third smaller and one-byte ASCII
// (four non-ASCII characters in comments made V8 hold all of it as UTF-16), 152
// to 146 ms; JSON Schema and Protobuf loaded on demand (lazyFormats), 131 to
// 116 ms, after `check` stopped parsing the other contract files. Node alone
// (`node -e ""`) takes 45 ms; most of the rest is the CEL library building its
// protobuf descriptors at import, YAML and CEL parsing, run cold.
// Kafka clients are not bundled: src/kafka requires them at run time, from the
// user's node_modules.
//
// Usage: node scripts/build.mjs   (npm run build)
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
export const CLI_BUNDLE = join(root, "dist/cli/kontract.cjs");

export async function buildAll() {
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  if (tsc.status !== 0) return tsc.status ?? 1;
  await bundleCli();
  warmCodeCache();
  return 0;
}

export async function bundleCli() {
  rmSync(join(root, "dist/cli"), { recursive: true, force: true });
  await build({
    entryPoints: [join(root, "dist/src/cli/main.js")],
    outfile: CLI_BUNDLE,
    bundle: true,
    platform: "node",
    // CommonJS: V8's code cache (vm.Script cachedData) takes scripts, not ES modules.
    format: "cjs",
    target: "node20",
    minifyWhitespace: true,
    legalComments: "none",
    // src/kafka resolves the Kafka clients from where the code is: here, the bundle.
    define: { "import.meta.url": "__kontractBundleUrl" },
    banner: { js: 'const __kontractBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [lazyFormats(), importFromOutside()],
    logLevel: "warning",
  });
  const code = readFileSync(CLI_BUNDLE, "utf8");
  const left = /\bimport\(\s*[\w$]/.exec(code);
  if (left) throw new Error(`dist/cli/kontract.cjs still calls import() on a variable (${left[0]}): bin/kontract.mjs cannot run that from the code cache`);
  // The build's id names its code caches. V8 checks a cache against the source's length only: a
  // cache left by another build of the same length would run that build's bytecode.
  const id = createHash("sha256").update(code).digest("hex").slice(0, 16);
  writeFileSync(CLI_BUNDLE, `// kontract-build ${id}\n${code}`);
}

/**
 * In the bundle, the JSON Schema and Protobuf adapters (ajv, protobufjs and the
 * protobuf descriptors with them) are loaded when a contract first asks
 * FORMATS for one: esbuild makes a require() of a bundled module a lazy
 * initializer. An Avro-only `check` skips loading them (some 8 ms of a 130 ms
 * start-up, measured on the instrumented bundle). The library's
 * src/format/index.ts stays as it is: an ES module cannot load synchronously
 * on demand, and FORMATS[type].compile is synchronous.
 */
function lazyFormats() {
  const lazy = `import { avroFormat } from "./avro/index.js";
let json, protobuf;
export const FORMATS = Object.freeze({
  AVRO: avroFormat,
  get JSON() { return (json ??= require("./json-schema/index.js").jsonSchemaFormat); },
  get PROTOBUF() { return (protobuf ??= require("./protobuf/index.js").protobufFormat); },
});
`;
  return {
    name: "lazy-formats",
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/]src[\\/]format[\\/]index\.js$/ }, (args) => {
        // Refuse to build a bundle that would drop a format or an export added to the module since.
        const text = readFileSync(args.path, "utf8");
        const keys = /FORMATS = \{([^}]*)\}/.exec(text)?.[1]?.match(/\w+(?=:)/g)?.join() ?? "";
        const exported = /export \{([^}]*)\}/.exec(text)?.[1]?.trim() ?? "";
        if (keys !== "AVRO,JSON,PROTOBUF" || exported !== "avroFormat, jsonSchemaFormat, protobufFormat") {
          throw new Error(`dist/src/format/index.js changed (FORMATS keys ${keys}; exports ${exported}): update lazyFormats in scripts/build.mjs`);
        }
        return { contents: lazy, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

/**
 * import() of a name known at run time only (a Kafka client) becomes a call of
 * `__kontractImport`, which bin/kontract.mjs passes in: import() inside code
 * compiled from V8's code cache fails on Node 20 (no dynamic import callback),
 * and vm's main-context loader option prints an experimental warning.
 */
function importFromOutside() {
  return {
    name: "import-from-outside",
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
        const text = readFileSync(args.path, "utf8");
        return { contents: text.replace(/\bimport\((?=\s*[\w$])/g, "__kontractImport("), loader: "js" };
      });
    },
  };
}

/** Runs `check` once on the sample orders, which makes bin/kontract.mjs write the code cache. Not fatal: without it, the first run writes it. */
function warmCodeCache() {
  const dir = mkdtempSync(join(tmpdir(), "kontract-build-"));
  try {
    const r = spawnSync(process.execPath, [join(root, "bin/kontract.mjs"), "check", "orders-value", join(root, "fixtures/orders.jsonl"), "--rules", join(root, "rules"), "--dlq", join(dir, "dlq.jsonl"), "--quiet", "--json", "--exit-zero"], { cwd: root, encoding: "utf8" });
    if (r.status !== 0) process.stderr.write(`build: the warm-up check failed (exit ${r.status}), so the first run will write the code cache\n${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await buildAll();
