/**
 * The checker's functions are the runtime's: every overload the checker
 * accepts compiles in kontract's runtime, and what the runtime lacks the
 * checker rejects.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { celEnv } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { checkCel, CHECK_TYPES as T } from "../../../src/cel/checker/index.js";
import { CelCompileError, createCelRuntime } from "../../../src/cel/index.js";
import { CONFLUENT_FUNCS } from "../../../src/cel/funcs.js";

const runtime = createCelRuntime();

/** A call of `name` with `arity` arguments, all `x` (dyn), as a method when `method`. */
function call(name: string, method: boolean, arity: number): string {
  const args = Array.from({ length: arity }, () => "x").join(", ");
  if (name.includes(".") && !method) return `${name}(${args})`;
  return method ? `x.${name}(${args})` : `${name}(${args})`;
}

test("every named function and method the checker knows compiles in the runtime", () => {
  const env = celEnv({ funcs: [...strings, ...CONFLUENT_FUNCS] });
  let n = 0;
  for (const f of env.funcs) {
    if (!/^[A-Za-z]/.test(f.name)) continue; // operators
    const expr = call(f.name, f.target !== undefined, f.arguments.length);
    const checked = checkCel(expr, { x: T.dyn });
    assert.deepEqual(checked.diagnostics, [], expr);
    assert.doesNotThrow(() => runtime.compile(expr, ["x"]), expr);
    n++;
  }
  assert.ok(n > 60, `only ${n} functions`);
});

test("what the runtime lacks, the checker rejects", () => {
  // cel-go has these; kontract's runtime does not.
  for (const expr of ["matches(x, 'a')", "x.sort()", "math.least(1, 2)", "sets.contains([1], [1])", "lists.range(3)", "base64.encode(b'a')", "x.reverse()", "optional.none()", "cel.bind(a, 1, a)"]) {
    const checked = checkCel(expr, { x: T.dyn });
    assert.ok(checked.diagnostics.length > 0, `checker accepted ${expr}`);
    assert.throws(() => runtime.compile(expr, ["x"]), CelCompileError, `runtime accepted ${expr}`);
  }
});
