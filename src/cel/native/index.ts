/**
 * The native fast path: CEL expressions compiled to plain JS closures that
 * read native messages directly (no views, no BigInt unless arithmetic needs
 * it). Only a typed subset compiles; anything else returns undefined and the
 * expression runs on the interpreter. Results are the interpreter's, exactly.
 * See docs/cel.md, "Native fast path".
 */
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import type { CelShape } from "../shape.js";
import { Unsupported, compileExpr } from "./compile.js";
import type { CompileContext } from "./compile.js";
import { toCel } from "./result.js";
import { NFail } from "./values.js";
import { spent } from "../cost.js";
import { holdsMessage, nonNull } from "./types.js";
import { DEFERRED } from "./values.js";
import { compilePass } from "./pass-predicate.js";

export type { CompileContext as NativeCompileContext } from "./compile.js";
export { isSameValue } from "./result.js";

export interface NativeProgram {
  /**
   * Evaluates on native values (one per variable, as its shape describes).
   * Returns what the interpreter returns for celView(value, shape) bindings:
   * the same CEL value, or a CelFailure; undefined when the interpreter must
   * evaluate (a protobuf message holding a value the fast path would read
   * otherwise: see DEFERRED). Never throws.
   */
  run(bindings: Readonly<Record<string, unknown>>): unknown;
  /**
   * For a program of at most one variable: whether run() with that variable
   * bound to `value` returns exactly `true`. No bindings object and no result
   * conversion: the shortcut for conditions that pass. Never throws.
   */
  readonly test: ((value: unknown) => boolean) | undefined;
}

/**
 * Compiles a parsed (and already checked) expression for the given variable
 * shapes. Returns undefined when any part of it is outside the native subset.
 */
export function compileNative(root: Expr, shapes: Readonly<Record<string, CelShape>>, ctx: CompileContext): NativeProgram | undefined {
  let compiled: ReturnType<typeof compileExpr>;
  try {
    compiled = compileExpr(root, new Map(Object.entries(shapes)), ctx);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const { root: node, slots, inputs } = compiled;
  // A result that is or holds a protobuf message, or a list or map read from one: the interpreter's own objects.
  if (holdsMessage(node.t)) return undefined;
  const result = nonNull(node.t).k;
  if ((result === "list" || result === "map") && Object.values(shapes).some((s) => s.kind === "native")) return undefined;
  const ev = node.ev;
  const t = node.t;
  // One frame per program, refilled per run: evaluation is synchronous and never re-enters a program.
  const frame = new Array<unknown>(slots).fill(undefined);
  const only = inputs.length === 1 ? inputs[0] : undefined;
  const clear = (): void => {
    // Drop the message and what was computed from it. A loop: Array.prototype.fill costs more on frames this small.
    for (let i = 0; i < slots; i++) frame[i] = undefined;
  };
  const meter = ctx.meter;
  const evaluate = (): unknown => {
    meter.left = meter.budget;
    try {
      return ev(frame);
    } catch (e) {
      // Closures do not throw; this guards against a bug (or a stack overflow) turning into a crash or a pass.
      return new NFail(e instanceof Error ? e.message : String(e), undefined, e);
    } finally {
      clear();
    }
  };
  return {
    run(bindings) {
      if (only !== undefined) {
        frame[only.slot] = only.read(bindings[only.name]);
      } else {
        for (let i = 0; i < inputs.length; i++) {
          const input = inputs[i]!;
          frame[input.slot] = input.read(bindings[input.name]);
        }
      }
      const r = evaluate();
      // A spent budget wins over whatever && or || made of the interruption.
      if (meter.left < 0) return spent(meter);
      if (r === true || r === false) return r;
      if (r === DEFERRED) return undefined;
      return toCel(r, t);
    },
    test: inputs.length > 1 ? undefined : withPass(root, only, shapes, ctx, (value) => {
      if (only !== undefined) frame[only.slot] = only.read(value);
      return evaluate() === true && meter.left >= 0;
    }),
  };
}

/** `test` with the expression's pass predicate first, when it has one: the closures answer what it leaves open. */
function withPass(root: Expr, only: { readonly name: string } | undefined, shapes: Readonly<Record<string, CelShape>>, ctx: CompileContext, test: (value: unknown) => boolean): (value: unknown) => boolean {
  const shape = only === undefined ? undefined : shapes[only.name];
  const pass = only === undefined || shape === undefined ? undefined : compilePass(root, only.name, shape, ctx);
  return pass === undefined ? test : (value) => pass(value) || test(value);
}
