#!/usr/bin/env node
// The CLI runs the compiled build (dist/), as users get it: `npm install` and
// `npm ci` build it through `prepare`, `npm test` rebuilds it first.
import { existsSync } from "node:fs";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("kontract: the compiled build is missing (dist/src/cli/main.js); run `npm run build`\n");
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
