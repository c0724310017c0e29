/**
 * The contract validator is ajv's code generated ahead of time
 * (scripts/contract-validator.mjs); it must be what ajv makes of today's
 * schema/contract.schema.json.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
// @ts-expect-error a plain ES module script, without declarations
import { GENERATED, contractValidatorSource } from "../../scripts/contract-validator.mjs";

test("src/contract/contract-validator.generated.ts is up to date with schema/contract.schema.json", () => {
  const fresh = (contractValidatorSource as () => string)();
  assert.ok(readFileSync(GENERATED as string, "utf8") === fresh, "stale: run node scripts/contract-validator.mjs and commit the result");
});
