/**
 * The cel-spec conformance suites through the native fast path: every test
 * whose expression the fast path accepts (and whose bindings a JSON/Avro-like
 * message can hold) must give the interpreter's verdict: the same value, or a
 * failure where the interpreter fails. Prints how many tests the fast path covered.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { conformanceTests, type ValueJson } from "../../helpers/cel-spec.js";
import { CelCompileError, createCelRuntime } from "../../../src/cel/index.js";
import type { CelShape } from "../../../src/cel/index.js";
import { canon } from "./canon.js";



/** A binding as a native value with its shape, or undefined when no Avro/JSON-like message could hold it. */
function nativeBinding(v: ValueJson): { value: unknown; shape: CelShape } | undefined {
  if ("nullValue" in v) return { value: null, shape: { kind: "null" } };
  if ("boolValue" in v) return { value: v.boolValue, shape: { kind: "bool" } };
  if ("int64Value" in v) return { value: BigInt(v.int64Value as string), shape: { kind: "int", bigint: true } };
  if ("uint64Value" in v) return { value: BigInt(v.uint64Value as string), shape: { kind: "uint", bigint: true } };
  if ("doubleValue" in v) {
    const d = v.doubleValue;
    return { value: typeof d === "number" ? d : d === "NaN" ? NaN : d === "Infinity" ? Infinity : d === "-Infinity" ? -Infinity : Number(d), shape: { kind: "double" } };
  }
  if ("stringValue" in v) return { value: v.stringValue, shape: { kind: "string" } };
  if ("bytesValue" in v) return { value: new Uint8Array(Buffer.from(v.bytesValue as string, "base64")), shape: { kind: "bytes" } };
  if ("listValue" in v) {
    const items = ((v.listValue as { values?: ValueJson[] }).values ?? []).map(nativeBinding);
    if (items.length === 0 || items.some((i) => i === undefined)) return undefined;
    const kinds = new Set(items.map((i) => JSON.stringify(i!.shape)));
    if (kinds.size !== 1) return undefined;
    return { value: items.map((i) => i!.value), shape: { kind: "list", element: items[0]!.shape } };
  }
  if ("mapValue" in v) {
    const entries = (v.mapValue as { entries?: { key: ValueJson; value: ValueJson }[] }).entries ?? [];
    if (entries.length === 0 || entries.some((e) => !("stringValue" in e.key))) return undefined;
    const values = entries.map((e) => nativeBinding(e.value));
    if (values.some((x) => x === undefined) || new Set(values.map((x) => JSON.stringify(x!.shape))).size !== 1) return undefined;
    const out: Record<string, unknown> = {};
    entries.forEach((e, i) => (out[e.key.stringValue as string] = values[i]!.value));
    return { value: out, shape: { kind: "map", value: values[0]!.shape } };
  }
  return undefined;
}

test("the native fast path gives the interpreter's result on every cel-spec conformance test it accepts", () => {
  const fast = createCelRuntime({ native: true });
  const interpreter = createCelRuntime({ native: false });
  let total = 0;
  let covered = 0;
  let agreeWithSpec = 0;
  const perSuite = new Map<string, number>();
  const mismatches: string[] = [];
  for (const [path, t] of conformanceTests()) {
    total++;
    if (t.checkOnly || (t.container ?? "") !== "") continue;
    const bindings: Record<string, unknown> = {};
    const shapes: Record<string, CelShape> = {};
    let representable = true;
    for (const [name, b] of Object.entries(t.bindings ?? {})) {
      const n = b.value === undefined ? undefined : nativeBinding(b.value);
      if (n === undefined) {
        representable = false;
        break;
      }
      bindings[name] = n.value;
      shapes[name] = n.shape;
    }
    const declared = (t.typeEnv ?? []).filter((d) => d.ident !== undefined).map((d) => d.name);
    if (!representable || declared.some((d) => !(d in shapes))) continue;
    let program;
    let reference;
    try {
      program = fast.compile(t.expr, Object.keys(shapes)).typed(shapes);
      reference = interpreter.compile(t.expr, Object.keys(shapes)).typed(shapes);
    } catch (e) {
      if (e instanceof CelCompileError) continue;
      throw e;
    }
    if (!program.native) continue;
    assert.equal(reference.native, false);
    covered++;
    const suite = path[0] ?? "";
    perSuite.set(suite, (perSuite.get(suite) ?? 0) + 1);
    const got = canon(program.run(bindings));
    const want = canon(reference.run(bindings));
    if (got !== want) mismatches.push(`${[...path, t.name].join("/")}: ${t.expr} -> native ${got}, interpreter ${want}`);
    const expectError = t.evalError !== undefined || t.anyEvalErrors !== undefined;
    if (expectError ? got === "error" : got !== "error") agreeWithSpec++;
  }
  const rows = [...perSuite].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} ${n}`).join(", ");
  console.log(`native fast path: ${covered} of ${total} conformance tests covered (${agreeWithSpec} with the spec's verdict); by suite: ${rows}`);
  assert.deepEqual(mismatches, [], "conformance tests where the fast path and the interpreter disagree");
  // The fast path must cover a real share of the suites, not pass by covering nothing.
  assert.ok(covered >= 500, `only ${covered} tests covered`);
});
