/**
 * cel-go's own checker tests (checker/checker_test.go, shipped as
 * @bufbuild/cel-spec/testdata/checking.js) run through kontract's checker:
 * an expected error must give at least one diagnostic, an expected type must
 * check clean with that type. Tests that need what kontract does not have
 * (declared functions, abstract types, containers, type-parameter inference)
 * are skipped, each with its reason; the pass count is printed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tests as checking } from "@bufbuild/cel-spec/testdata/checking.js";
import { CHECK_TYPES as T, checkCel, formatCheckType } from "../../../src/cel/checker/index.js";
import { renameTestPackages, specRegistry, specVariables } from "./spec-env.js";
import type { SpecDecl } from "./spec-env.js";

interface CheckingTest {
  original: { expr: string; container?: string; typeEnv?: SpecDecl[] };
  type?: string;
  error?: string;
}

/** The variables checker_test.go declares for every test. */
const DEFAULTS = { is: T.string, ii: T.int, iu: T.uint, iz: T.bool, id: T.double, ix: T.null, ib: T.bytes };

/** Skipped by expression, with the reason. */
const SKIP: Record<string, string> = {
  "1 <= 1.0 && 1u <= 1.0 && 1.0 <= 1 && 1.0 <= 1u && 1 <= 1u && 1u <= 1":
    "the runtime registers cross-type numeric comparisons (cel-go accepts them only with an option); the checker follows the runtime",
  "1 < 1.0 && 1u < 1.0 && 1.0 < 1 && 1.0 < 1u && 1 < 1u && 1u < 1": "cross-type numeric comparisons, as above",
  "1 > 1.0 && 1u > 1.0 && 1.0 > 1 && 1.0 > 1u && 1 > 1u && 1u > 1": "cross-type numeric comparisons, as above",
  "1 >= 1.0 && 1u >= 1.0 && 1.0 >= 1 && 1.0 >= 1u && 1 >= 1u && 1u >= 1": "cross-type numeric comparisons, as above",
  "x.single_int32 != null": "declares a variable of a message type missing from the registry (an environment error in cel-go); kontract types it dyn",
  "[].map(x, [].map(y, x in y && y in x))": "the error comes from type-parameter inference, which gradual typing does not do",
  "[{}.map(c,c,c)]+[{}.map(c,c,c)]": "the expected list(list(bool)) comes from type-parameter inference; kontract says list(list(dyn))",
  "type(testAllTypes.nestedgroup.nested_id) == int":
    "cel-go's test proto has NestedGroup.nested_id; the cel-spec proto in the registry has single_id, so the unknown-field error is right",
};

function reasonToSkip(t: CheckingTest): string | undefined {
  const expr = t.original.expr;
  if (SKIP[expr] !== undefined) return SKIP[expr];
  if (t.original.container) return "uses a container (kontract evaluates in the root namespace)";
  if (/\bf[gi]_s/.test(expr)) return "calls functions declared only in cel-go's test environment";
  return undefined;
}

/** cel-go's spelling of a type, in kontract's. */
function expectedType(t: string): string {
  return renameTestPackages(t)
    .replace(/^type\(.*\)$/, "type")
    .replace(/wrapper\((\w+)\)/g, "nullable($1)");
}

test("cel-go checker tests (checking.js): expected errors are reported, expected types are inferred", () => {
  const tests = (checking as { tests: CheckingTest[] }).tests;
  let passed = 0;
  let run = 0;
  const skipped: string[] = [];
  const failures: string[] = [];
  for (const t of tests) {
    const reason = reasonToSkip(t);
    const vars = specVariables(t.original.typeEnv, DEFAULTS);
    if (reason !== undefined || typeof vars === "string") {
      skipped.push(`${t.original.expr.replace(/\s+/g, " ")}: ${reason ?? vars}`);
      continue;
    }
    run++;
    const expr = renameTestPackages(t.original.expr);
    const result = checkCel(expr, vars, { registry: specRegistry });
    if (t.error !== undefined) {
      if (result.diagnostics.length > 0) passed++;
      else failures.push(`${expr}: expected an error (${t.error.split("\n")[0]}), got ${result.type && formatCheckType(result.type)}`);
      continue;
    }
    const want = expectedType(t.type ?? "");
    const got = result.type === undefined ? undefined : formatCheckType(result.type);
    if (result.diagnostics.length === 0 && got === want) passed++;
    else failures.push(`${expr}: expected ${want}, got ${got ?? "-"} ${result.diagnostics.map((d) => `${d.code}@${d.line}:${d.column} ${d.message}`).join("; ")}`);
  }
  console.log(`cel-go checking.js: ${passed}/${run} passed, ${skipped.length} skipped of ${tests.length}`);
  for (const s of skipped) console.log(`  skipped: ${s}`);
  assert.deepEqual(failures, []);
});
