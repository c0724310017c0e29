#!/usr/bin/env node
// The CLI runs the compiled build, as users get it: dist/cli, one bundle of the CLI
// and its dependencies (scripts/build.mjs says why). `npm install` and `npm ci`
// build it through `prepare`, `npm test` rebuilds it first.
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("kontract: the compiled build is missing (dist/cli/main.js); run `npm run build`\n");
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
