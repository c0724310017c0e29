/**
 * The cel-spec conformance data shipped in @bufbuild/cel-spec, typed for the
 * tests that run it (the runtime, the native fast path and the checker).
 */
import { tests as conformance } from "@bufbuild/cel-spec/testdata/conformance.js";

/** A cel.expr.Value in proto3 JSON form. */
export interface ValueJson {
  [k: string]: unknown;
}

/** A declaration of the test's type environment (cel.expr.Decl in JSON form). */
export interface SpecDeclJson {
  name: string;
  ident?: { type?: unknown };
  function?: unknown;
}

/** cel.expr.conformance.test.SimpleTest in proto3 JSON form. */
export interface SimpleTest {
  name: string;
  expr: string;
  disableCheck?: boolean;
  container?: string;
  bindings?: Record<string, { value?: ValueJson }>;
  typeEnv?: SpecDeclJson[];
  value?: ValueJson;
  typedResult?: { result?: ValueJson };
  evalError?: unknown;
  anyEvalErrors?: unknown;
  checkOnly?: boolean;
}

interface Suite {
  name: string;
  suites?: Suite[];
  tests?: { original: SimpleTest }[];
}

/** Every conformance test with the names of the suites it is in. */
export function* conformanceTests(suite: Suite = conformance as unknown as Suite, path: string[] = []): Generator<[string[], SimpleTest]> {
  for (const t of suite.tests ?? []) yield [path, t.original];
  for (const s of suite.suites ?? []) yield* conformanceTests(s, [...path, s.name]);
}
