/**
 * No false positives on the cel-spec conformance suites: every test that
 * expects a value, that kontract's runtime compiles and evaluates without an
 * error, must check clean. Those marked `disableCheck` are ill-typed on
 * purpose (cel-go's checker rejects them; they test evaluation only): for them
 * the count of clean checks is printed, not asserted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { celUint } from "@bufbuild/cel";
import { conformanceTests, type ValueJson } from "../../helpers/cel-spec.js";
import { fromJson } from "@bufbuild/protobuf";
import { AnySchema, anyUnpack } from "@bufbuild/protobuf/wkt";
import { CHECK_TYPES as T, checkCel } from "../../../src/cel/checker/index.js";
import type { CheckType } from "../../../src/cel/checker/index.js";
import { createCelRuntime, isCelFailure } from "../../../src/cel/index.js";
import { specRegistry as registry, specVariables } from "./spec-env.js";
import type { SpecDecl } from "./spec-env.js";



class Unrepresentable extends Error {}

function toInput(v: ValueJson): unknown {
  if ("nullValue" in v) return null;
  if ("boolValue" in v) return v.boolValue;
  if ("int64Value" in v) return BigInt(v.int64Value as string);
  if ("uint64Value" in v) return celUint(BigInt(v.uint64Value as string));
  if ("doubleValue" in v) return typeof v.doubleValue === "number" ? v.doubleValue : Number(v.doubleValue);
  if ("stringValue" in v) return v.stringValue;
  if ("bytesValue" in v) return new Uint8Array(Buffer.from(v.bytesValue as string, "base64"));
  if ("listValue" in v) return ((v.listValue as { values?: ValueJson[] }).values ?? []).map(toInput);
  if ("mapValue" in v) {
    const entries = (v.mapValue as { entries?: { key: ValueJson; value: ValueJson }[] }).entries ?? [];
    return new Map(entries.map((e) => [toInput(e.key), toInput(e.value)]));
  }
  if ("enumValue" in v) return BigInt((v.enumValue as { value?: number }).value ?? 0);
  if ("objectValue" in v) {
    const msg = anyUnpack(fromJson(AnySchema, v.objectValue as never, { registry }), registry);
    if (msg === undefined) throw new Unrepresentable("cannot unpack message");
    return msg;
  }
  throw new Unrepresentable(JSON.stringify(v));
}

const runtime = createCelRuntime({ registry });

test("conformance tests that evaluate to a value check clean (no false positives)", () => {
  let checked = 0;
  let unchecked = 0;
  let uncheckedClean = 0;
  const falsePositives: string[] = [];
  for (const [path, t] of conformanceTests()) {
    const name = [...path, t.name].join("/");
    if (t.evalError !== undefined || t.anyEvalErrors !== undefined || t.checkOnly || (t.container ?? "") !== "") continue;
    const bindingNames = Object.keys(t.bindings ?? {});
    const declared = specVariables(t.typeEnv as SpecDecl[] | undefined);
    if (typeof declared === "string") continue;
    const vars: Record<string, CheckType> = { ...declared };
    for (const b of bindingNames) vars[b] ??= T.dyn;
    // Only what kontract's runtime accepts and evaluates without an error.
    let result: unknown;
    try {
      const bindings = Object.fromEntries(bindingNames.map((b) => [b, toInput(t.bindings![b].value ?? {})]));
      result = runtime.compile(t.expr, Object.keys(vars)).run(bindings);
    } catch {
      continue;
    }
    if (isCelFailure(result)) continue;
    const r = checkCel(t.expr, vars, { registry });
    if (t.disableCheck) {
      unchecked++;
      if (r.diagnostics.length === 0) uncheckedClean++;
      else console.log(`  flagged, as cel-go would: ${t.expr}: ${r.diagnostics.map((d) => d.message).join("; ")}`);
      continue;
    }
    checked++;
    if (r.diagnostics.length > 0) {
      falsePositives.push(`${name}: ${t.expr} -> ${r.diagnostics.map((d) => `${d.code}@${d.line}:${d.column} ${d.message}`).join("; ")}`);
    }
  }
  console.log(`conformance, type-checked tests: ${checked - falsePositives.length}/${checked} check clean`);
  console.log(`conformance, disableCheck tests (ill-typed on purpose): ${uncheckedClean}/${unchecked} check clean`);
  assert.ok(checked > 1000, `only ${checked} tests ran`);
  assert.deepEqual(falsePositives, []);
});
