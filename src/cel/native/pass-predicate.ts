/**
 * Pass predicates: a condition of one variable compiled to a single JavaScript
 * function that tells whether it is exactly `true` on a message, for the most
 * common rules (field reads, numeric comparisons, equality, `!`, `&&`, `||`,
 * `size`, `matches` on a sequence pattern, `exists` and `all` over a list).
 *
 * The closures of compile.ts are shared by every rule of the process, so each
 * call from one node to another is megamorphic and costs as much as the work
 * it does. Here a rule is one function of its own, whose field reads and
 * comparisons V8 compiles inline: the bench's five conditions take about 40%
 * of the closures' time (docs/cel.md, "Native fast path").
 *
 * Sound by construction, never exact by itself: the predicate computes a value
 * only along the path where every value read is well-formed. A missing or
 * ill-typed field, an int outside the safe range, an input with a surrogate for
 * the sequence matcher, a spent budget: anything that would make the closures
 * produce or absorb an error stops it (`bail`), and it answers false. Its
 * caller then asks the closures, which give the exact answer. Where it does not
 * stop, every value it computes is the one the closures compute, in the same
 * order, with the same charges to the cost meter, so the short circuits of
 * `&&`, `||`, `exists` and `all` take the same paths.
 *
 * The generated source holds no text of the expression: field getters,
 * strings and matchers are passed in as values (`k[i]`), and numbers are
 * written by String() of a finite number.
 */
import type { Constant, Expr, Expr_Call, Expr_Comprehension } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { iterationCost, matchCost, type Meter } from "../cost.js";
import { isInvalidPattern, type Re2Engine } from "../regex.js";
import type { CelShape } from "../shape.js";
import { sequenceMatcher, type SequenceMatcher } from "./sequence-regex.js";
import { fieldType, isNumeric, typeOfShape, type NType } from "./types.js";
import { stopsAt } from "./compile.js";
import { codePoints, fieldReader, isPlainObjectLike } from "./values.js";

export interface PassContext {
  /** The runtime's memoized RE2: a pattern it refuses keeps failing as there (compile.ts, matches). */
  readonly re2: Re2Engine;
  /** The runtime's cost meter, charged as the closures charge it. */
  readonly meter: Meter;
}

/** Whether the condition is exactly true on `value`; false when it is not, or when the closures must tell. */
export type PassPredicate = (value: unknown) => boolean;

class OutOfSubset extends Error {}

/** Thrown inside a predicate to stop it: the closures decide. */
const BAIL: unique symbol = Symbol("bail");

const out = (what: string): never => {
  throw new OutOfSubset(what);
};

/** A compiled node: its type and the JS expression of its value. */
interface Gen {
  readonly t: NType;
  readonly code: string;
}

/** Comprehension variables in scope: CEL name → JS name. */
type Scope = ReadonlyMap<string, { readonly js: string; readonly t: NType }>;

const BINARY: Readonly<Record<string, string>> = { "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=", "_==_": "===", "_!=_": "!==" };

/**
 * The pass predicate of `root` over the variable `name` of shape `shape`, or
 * undefined when the expression is outside the subset (or the runtime does not
 * allow generating code: `--disallow-code-generation-from-strings`).
 */
export function compilePass(root: Expr, name: string, shape: CelShape, ctx: PassContext): PassPredicate | undefined {
  const t = typeOfShape(shape);
  if (t === undefined || t.k !== "record") return undefined;
  const constants: unknown[] = [];
  const helpers: string[] = [];
  let names = 0;
  const fresh = (prefix: string) => `${prefix}${names++}`;
  const konst = (v: unknown): string => {
    let i = constants.indexOf(v);
    if (i < 0) i = constants.push(v) - 1;
    return `k[${i}]`;
  };

  /** The check (a helper's name) that a native value of type `t` is one this predicate computes with. */
  const check = (t: NType): string => {
    switch (t.k) {
      case "int":
        return "int_";
      case "double":
        return "dbl";
      case "string":
        return "str";
      case "bool":
        return "bol";
      case "record":
        return "rec";
      case "list":
        return "lst";
      default:
        return out(`a value of type ${t.k}`);
    }
  };
  const plain = (t: NType): NType => ("defer" in t && t.defer !== undefined ? out("a protobuf value") : t);

  const gen = (e: Expr, scope: Scope): Gen => {
    const k = e.exprKind;
    switch (k.case) {
      case "constExpr":
        return constant(k.value);
      case "identExpr": {
        const v = scope.get(k.value.name);
        if (v !== undefined) return { t: v.t, code: v.js };
        return k.value.name === name ? { t, code: "v" } : out(`identifier ${k.value.name}`);
      }
      case "selectExpr": {
        const sel = k.value;
        if (sel.testOnly || sel.operand === undefined) return out("has()");
        const op = gen(sel.operand, scope);
        if (op.t.k !== "record") return out("select on a non-record");
        const ft = plain(fieldType(op.t, sel.field) ?? out(`field ${sel.field}`));
        return { t: ft, code: `${check(ft)}(${konst(fieldReader(sel.field))}(${op.code}))` };
      }
      case "callExpr":
        return call(k.value, scope);
      case "comprehensionExpr":
        return fold(k.value, scope);
      default:
        return out("expression kind");
    }
  };

  const constant = (c: Constant): Gen => {
    const k = c.constantKind;
    switch (k.case) {
      case "int64Value": {
        const n = Number(k.value);
        return Number.isSafeInteger(n) ? { t: { k: "int" }, code: `(${String(n)})` } : out("a large int constant");
      }
      case "doubleValue":
        return Number.isFinite(k.value) ? { t: { k: "double" }, code: `(${String(k.value)})` } : out("a non-finite constant");
      case "stringValue":
        return { t: { k: "string" }, code: konst(k.value) };
      case "boolValue":
        return { t: { k: "bool" }, code: k.value ? "true" : "false" };
      default:
        return out(`constant ${k.case ?? "?"}`);
    }
  };

  const call = (c: Expr_Call, scope: Scope): Gen => {
    const fn = c.function;
    const args = c.args;
    if (c.target !== undefined) {
      const target = gen(c.target, scope);
      if (fn === "size" && args.length === 0) return size(target);
      if (fn === "matches" && args.length === 1 && target.t.k === "string") return matches(target, args[0]!);
      return out(`method ${fn}`);
    }
    if (fn === "size" && args.length === 1) return size(gen(args[0]!, scope));
    if (fn === "!_" && args.length === 1) {
      const a = gen(args[0]!, scope);
      return a.t.k === "bool" ? { t: a.t, code: `(!${a.code})` } : out("! of a non-bool");
    }
    if ((fn === "_&&_" || fn === "_||_") && args.length === 2) {
      const [a, b] = [gen(args[0]!, scope), gen(args[1]!, scope)];
      if (a.t.k !== "bool" || b.t.k !== "bool") return out("a logical operator on non-bools");
      return { t: a.t, code: `(${a.code} ${fn === "_&&_" ? "&&" : "||"} ${b.code})` };
    }
    const op = BINARY[fn];
    if (op !== undefined && args.length === 2) {
      const [a, b] = [gen(args[0]!, scope), gen(args[1]!, scope)];
      const numbers = isNumeric(a.t) && isNumeric(b.t);
      const equality = op === "===" || op === "!==";
      // Strings compare by code point in CEL and by UTF-16 unit in JS: only their equality is the same.
      if (!numbers && !(equality && a.t.k === b.t.k && (a.t.k === "string" || a.t.k === "bool"))) return out(`${fn} on these types`);
      return { t: { k: "bool" }, code: `(${a.code} ${op} ${b.code})` };
    }
    return out(`function ${fn}`);
  };

  const size = (a: Gen): Gen => {
    if (a.t.k === "string") return { t: { k: "int" }, code: `cp(${a.code})` };
    if (a.t.k === "list") return { t: { k: "int" }, code: `(${a.code}).length` };
    return out("size of this type");
  };

  const matches = (target: Gen, pattern: Expr): Gen => {
    const p = pattern.exprKind.case === "constExpr" && pattern.exprKind.value.constantKind.case === "stringValue" ? pattern.exprKind.value.constantKind.value : out("a pattern that is not a literal");
    if (isInvalidPattern(ctx.re2.compile(p))) return out("a pattern RE2 refuses");
    const matcher = sequenceMatcher(p) ?? out("a pattern outside the sequence matcher's subset");
    return { t: { k: "bool" }, code: `mt(${target.code}, ${konst(matcher)}, ${p.length})` };
  };

  /** exists() and all(), recognized by the shape the parser's macros give them; a helper function each. */
  const fold = (c: Expr_Comprehension, scope: Scope): Gen => {
    const accu = c.accuVar;
    const init = c.accuInit?.exprKind;
    const step = c.loopStep?.exprKind;
    const result = c.result?.exprKind;
    if (c.iterVar2 !== "" || c.iterRange === undefined || init?.case !== "constExpr" || init.value.constantKind.case !== "boolValue") return out("comprehension");
    if (step?.case !== "callExpr" || step.value.args.length !== 2 || result?.case !== "identExpr" || result.value.name !== accu) return out("comprehension");
    const exists = step.value.function === "_||_";
    if (!exists && step.value.function !== "_&&_") return out("comprehension");
    if (init.value.constantKind.value !== !exists) return out("comprehension");
    const [first, body] = step.value.args as [Expr, Expr];
    if (first.exprKind.case !== "identExpr" || first.exprKind.value.name !== accu || c.loopCondition === undefined || stopsAt(c.loopCondition, accu) !== exists) return out("comprehension");
    const range = gen(c.iterRange, scope);
    if (range.t.k !== "list") return out("comprehension over a non-list");
    const elem = plain(range.t.elem);
    const item = fresh("i");
    const inner = new Map(scope);
    inner.set(c.iterVar, { js: item, t: elem });
    const b = gen(body, inner);
    if (b.t.k !== "bool") return out("a non-bool comprehension body");
    // The helper sees the variables in scope as parameters of the same names.
    const params = ["v", ...[...scope.values()].map((s) => s.js)];
    const fnName = fresh("fold");
    const units = iterationCost(c);
    // As foldEv: each element read (checked) first, then the charge, then the loop condition on the accumulator.
    helpers.push(
      `function ${fnName}(l, ${params.join(", ")}) {` +
        ` let a = ${!exists}; for (let j = 0; j < l.length; j++) { const ${item} = ${check(elem)}(l[j]);` +
        ` if ((meter.left -= ${units}) < 0) bail(); if (a === ${exists}) return ${exists}; a = ${b.code}; } return a; }`,
    );
    return { t: { k: "bool" }, code: `${fnName}(${range.code}, ${params.join(", ")})` };
  };

  let body: Gen;
  try {
    body = gen(root, new Map());
  } catch (e) {
    if (e instanceof OutOfSubset) return undefined;
    throw e;
  }
  if (body.t.k !== "bool") return undefined;
  const source = `"use strict"; ${helpers.join("\n")}\nreturn function pass(m) { meter.left = meter.budget; const v = rec(m); return ${body.code} === true && meter.left >= 0; };`;
  const h = helpersFor(ctx.meter);
  let inner: PassPredicate;
  try {
    inner = new Function("k", "meter", "bail", "int_", "dbl", "str", "bol", "rec", "lst", "cp", "mt", source)(constants, ctx.meter, h.bail, h.int_, h.dbl, h.str, h.bol, h.rec, h.lst, codePoints, h.mt) as PassPredicate;
  } catch {
    return undefined;
  }
  return (value) => {
    try {
      return inner(value);
    } catch {
      // BAIL, or anything unforeseen: the closures decide.
      return false;
    }
  };
}

/** The checks the generated code calls: each returns the value it is given, or stops the predicate. */
function helpersFor(meter: Meter) {
  const bail = (): never => {
    throw BAIL;
  };
  return {
    bail,
    // Ints as readInt takes them, within the range a double holds exactly.
    int_: (x: unknown): number => (typeof x === "number" && Number.isSafeInteger(x) ? x : bail()),
    dbl: (x: unknown): number => (typeof x === "number" ? x : bail()),
    str: (x: unknown): string => (typeof x === "string" ? x : bail()),
    bol: (x: unknown): boolean => (typeof x === "boolean" ? x : bail()),
    // As the closures' record reader.
    rec: (x: unknown): object => (isPlainObjectLike(x) ? x : bail()),
    lst: (x: unknown): unknown[] => (Array.isArray(x) ? x : bail()),
    /** matches(): charged before the search, as compile.ts charges it; an input the sequence matcher leaves to RE2 stops here. */
    mt: (s: string, matcher: SequenceMatcher, patternLength: number): boolean => {
      if ((meter.left -= matchCost(s.length, patternLength)) < 0) bail();
      return matcher.test(s) ?? bail();
    },
  };
}
