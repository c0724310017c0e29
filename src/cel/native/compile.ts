/**
 * The native compiler: one typed walk over @bufbuild/cel's parsed AST (the
 * parse the runtime already made and checked) that turns every node into a JS
 * closure over a frame of variable slots. Closures read the native message
 * directly and return domain values (types.ts) or NFail values; they never
 * throw. Each closure reproduces what the interpreter's Eval* node does on
 * views of the same input, including evaluation order, error absorption by
 * && and ||, and the error cases of every operator.
 *
 * Whatever is outside the subset throws Unsupported, and the whole expression
 * runs on the interpreter instead.
 */
import { celUint, isCelError, isCelList, isCelUint } from "@bufbuild/cel";
import type { CelEnv } from "@bufbuild/cel";
import type { Constant, Expr, Expr_Call, Expr_Comprehension, Expr_CreateList, Expr_CreateStruct, Expr_Select } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { functionTable } from "../checker/functions.js";
import type { CheckType } from "../checker/types.js";
import type { Re2Engine } from "../regex.js";
import { OVER_BUDGET, PREDICATE_COSTS, iterationCost, matchCost, traversalCost } from "../cost.js";
import { isInvalidPattern } from "../regex.js";
import type { Meter } from "../cost.js";
import { wholeInputMatcher } from "./regex.js";
import { sequenceMatcher } from "./sequence-regex.js";
import type { CelShape, MessageFieldShape } from "../shape.js";
import { isEmail, isHostname, isIpv4, isIpv6, isUri, isUriRef, isUuid } from "../validators.js";
import { N, Unsupported, celTypeName, fieldType, isNumeric, joinTypes, messageFieldType, nonNull, sameType, typeOfShape, unsupported } from "./types.js";
import type { ListType, MapType, NType, RecordType } from "./types.js";
import * as values from "./values.js";
import type { Int, Position, Reader } from "./values.js";

// Module-local copies: under loaders that compile imports to live-binding
// getters (tsx), reading an imported name in a hot closure costs a call.
const {
  TWO_63,
  DEFERRED,
  NFail,
  big,
  codePoints,
  compareBytes,
  concatBytes,
  equalBytes,
  fieldReader,
  intAdd,
  intConst,
  intDiv,
  intMod,
  intMul,
  intNeg,
  intSub,
  mapGet,
  mapKeys,
  mapSize,
  normInt,
  plainBytes,
  readerOf,
  uintAdd,
  uintDiv,
  uintMod,
  uintMul,
  uintSub,
} = values;
type NFail = values.NFail;

export type Frame = unknown[];
export type Ev = (f: Frame) => unknown;

export interface Node {
  readonly t: NType;
  readonly ev: Ev;
  /** Set for literals: their value, so operators can inline it. */
  readonly constant?: { readonly value: unknown };
  /**
   * Set for a variable read as it is (a declared variable or a comprehension's): its frame slot,
   * so a field read on it takes the value from the frame instead of calling `ev`.
   */
  readonly slot?: number;
  /** Set for an int or double field of a variable (`message.amount`, `i.qty`): how to read it without a call (comparedTo). */
  readonly number?: NumberField;
}

interface NumberField {
  readonly slot: number;
  readonly get: (o: object) => unknown;
  readonly double: boolean;
  readonly wideInts: boolean;
}

interface Scope {
  readonly name: string;
  readonly slot: number;
  readonly t: NType;
  readonly parent: Scope | undefined;
  /**
   * The accumulator of a map or filter (initialized to []): the lists it holds
   * are made by its own `accu + [x]` steps and seen by nothing else until the
   * fold returns, so the step may append in place.
   */
  readonly owned?: boolean;
}

export interface CompileContext {
  /** The runtime's environment: functions the fast path calls as the interpreter would. */
  readonly env: CelEnv;
  /** The runtime's memoized RE2, for matches(). */
  readonly re2: Re2Engine;
  readonly position: (id: bigint) => Position;
  /** The runtime's cost meter: loops charge it as the interpreter's do (cost.ts). */
  readonly meter: Meter;
}

export interface Input {
  readonly name: string;
  readonly slot: number;
  readonly read: Reader;
}

export interface Compiled {
  readonly root: Node;
  readonly slots: number;
  /** The declared variables the expression reads. */
  readonly inputs: readonly Input[];
}

/** Compiles `root`; throws Unsupported when any part of it is outside the native subset. */
export function compileExpr(root: Expr, variables: ReadonlyMap<string, CelShape>, ctx: CompileContext): Compiled {
  const c = new Compiler(variables, ctx);
  const node = c.compile(root, undefined);
  return { root: node, slots: c.slotCount, inputs: c.inputList() };
}

export { Unsupported };

const COMPARISONS = new Set(["_<_", "_<=_", "_>_", "_>=_"]);
const ARITHMETIC = new Set(["_+_", "_-_", "_*_", "_/_", "_%_"]);
const STRING_PREDICATES: Readonly<Record<keyof typeof PREDICATE_COSTS, (s: string, arg: string) => boolean>> = {
  contains: (s, a) => s.includes(a),
  startsWith: (s, a) => s.startsWith(a),
  endsWith: (s, a) => s.endsWith(a),
};
const CONFLUENT_CHECKS: Readonly<Record<string, (s: string) => boolean>> = {
  isEmail,
  isHostname,
  isIpv4,
  isIpv6,
  isUri,
  isUriRef,
  isUuid,
};
const EMPTY_LIST: readonly unknown[] = Object.freeze([]);

function canBeNull(t: NType): boolean {
  return t.k === "nullable" || t.k === "null";
}

function isBoolish(t: NType): boolean {
  return nonNull(t).k === "bool";
}

/** `a.b.c` as "a.b.c" when `e` is a chain of selections on an identifier. */
function qualifiedName(e: Expr): string | undefined {
  const k = e.exprKind;
  if (k.case === "identExpr") return k.value.name;
  if (k.case === "selectExpr" && !k.value.testOnly && k.value.operand !== undefined) {
    const parent = qualifiedName(k.value.operand);
    return parent === undefined ? undefined : `${parent}.${k.value.field}`;
  }
  return undefined;
}

class Compiler {
  slotCount = 0;
  private readonly inputs = new Map<string, Input & { t: NType }>();

  constructor(
    private readonly variables: ReadonlyMap<string, CelShape>,
    private readonly ctx: CompileContext,
  ) {}

  inputList(): Input[] {
    return [...this.inputs.values()];
  }

  private slot(): number {
    return this.slotCount++;
  }

  private pos(e: Expr): Position {
    return this.ctx.position(e.id);
  }

  compile(e: Expr, scope: Scope | undefined): Node {
    const k = e.exprKind;
    switch (k.case) {
      case "constExpr":
        return constant(k.value);
      case "identExpr":
        return this.ident(k.value.name, scope);
      case "selectExpr":
        return k.value.testOnly ? this.has(e, k.value, scope) : this.select(e, k.value, scope);
      case "callExpr":
        return this.call(e, k.value, scope);
      case "listExpr":
        return this.list(k.value, scope);
      case "structExpr":
        return this.mapLiteral(e, k.value, scope);
      case "comprehensionExpr":
        return this.fold(e, k.value, scope);
      default:
        return unsupported("expression kind");
    }
  }

  // ---- names ----

  private ident(name: string, scope: Scope | undefined): Node {
    for (let s = scope; s !== undefined; s = s.parent) {
      if (s.name === name) {
        const slot = s.slot;
        return { t: s.t, ev: (f) => f[slot], slot };
      }
    }
    let input = this.inputs.get(name);
    if (input === undefined) {
      const shape = this.variables.get(name);
      if (shape === undefined || name.includes(".")) return unsupported(`identifier ${name}`);
      const t = typeOfShape(shape) ?? unsupported(`variable ${name} has no native type`);
      input = { name, slot: this.slot(), read: readerOf(t), t };
      this.inputs.set(name, input);
    }
    const slot = input.slot;
    return { t: input.t, ev: (f) => f[slot], slot };
  }

  // ---- fields ----

  private select(e: Expr, sel: Expr_Select, scope: Scope | undefined): Node {
    if (sel.operand === undefined) return unsupported("select");
    const op = this.compile(sel.operand, scope);
    const ot = nonNull(op.t);
    if (ot.k === "record") {
      const ft = fieldType(ot, sel.field) ?? unsupported(`field ${sel.field}`);
      return fieldNode(op, sel.field, ft, this.pos(e));
    }
    if (ot.k === "map" && ot.key.k === "string") return { t: ot.value, ev: mapEntry(op.ev, sel.field, ot.value, this.pos(e)) };
    if (op.t.k === "message") {
      const mf = messageFieldType(op.t, sel.field) ?? unsupported(`field ${sel.field}`);
      return { t: mf.t, ev: messageField(op.ev, mf.field, mf.t) };
    }
    return unsupported("select on a non-record");
  }

  private has(e: Expr, sel: Expr_Select, scope: Scope | undefined): Node {
    if (sel.operand === undefined) return unsupported("has");
    const op = this.compile(sel.operand, scope);
    const ot = nonNull(op.t);
    const field = sel.field;
    const opEv = op.ev;
    if (ot.k === "record") {
      if (!ot.shape.fields.has(field)) return unsupported(`has() of unknown field ${field}`);
      const get = fieldReader(field);
      return {
        t: N.bool,
        ev: (f) => {
          const o = opEv(f);
          if (o instanceof NFail) return o;
          return o === null ? false : get(o as object) !== undefined;
        },
      };
    }
    if (ot.k === "map" && ot.key.k === "string") {
      if (ot.shape !== undefined) {
        return {
          t: N.bool,
          ev: (f) => {
            const o = opEv(f);
            if (o instanceof NFail) return o;
            return o === null ? false : mapGet(o as object, field) !== undefined;
          },
        };
      }
      // A map the expression built: an entry whose value is null counts as absent (NativeMap.has).
      return {
        t: N.bool,
        ev: (f) => {
          const o = opEv(f);
          if (o instanceof NFail) return o;
          return o === null ? false : (o as Map<unknown, unknown>).get(field) != null;
        },
      };
    }
    if (op.t.k === "message") {
      const isSet = (op.t.shape.fields.get(field) ?? unsupported(`has() of unknown field ${field}`)).isSet;
      return {
        t: N.bool,
        ev: (f) => {
          const o = opEv(f);
          return o instanceof NFail ? o : isSet(o as object);
        },
      };
    }
    return unsupported("has() on a non-record");
  }

  // ---- calls ----

  private call(e: Expr, call: Expr_Call, scope: Scope | undefined): Node {
    const fn = call.function;
    if (call.target !== undefined) {
      const q = qualifiedName(call.target);
      if (q !== undefined && this.ctx.env.funcs.find(`${q}.${fn}`) !== undefined) return unsupported("qualified function");
      const target = this.compile(call.target, scope);
      const args = call.args.map((a) => this.compile(a, scope));
      return this.method(e, fn, target, args, call);
    }
    switch (fn) {
      case "_&&_":
      case "_||_":
        return this.logical(fn === "_&&_", call.args.map((a) => this.compile(a, scope)));
      case "_?_:_":
        return this.conditional(e, call.args.map((a) => this.compile(a, scope)));
      case "@not_strictly_false":
      case "__not_strictly_false__": {
        const a = this.compile(call.args[0] ?? unsupported("arity"), scope).ev;
        return { t: N.bool, ev: (f) => a(f) !== false };
      }
      case "_[_]":
        return this.index(e, call, scope);
    }
    const args = call.args.map((a) => this.compile(a, scope));
    if (fn === "!_" && args.length === 1) return this.not(e, args[0]);
    if (fn === "-_" && args.length === 1) return this.negate(e, args[0]);
    if ((fn === "_==_" || fn === "_!=_") && args.length === 2) return this.equality(fn === "_!=_", args[0], args[1]);
    if (COMPARISONS.has(fn) && args.length === 2) return this.comparison(e, fn, args[0], args[1]);
    if (ARITHMETIC.has(fn) && args.length === 2) return this.arithmetic(e, fn, args[0], args[1], fn === "_+_" && ownedAccumulator(call.args[0], scope));
    if (fn === "@in" && args.length === 2) return this.membership(e, args[0], args[1]);
    if (fn === "size" && args.length === 1) return this.size(e, "size", args[0], false);
    return this.generic(e, fn, undefined, args);
  }

  private method(e: Expr, fn: string, target: Node, args: Node[], call: Expr_Call): Node {
    if (fn === "size" && args.length === 0) return this.size(e, fn, target, true);
    const tt = nonNull(target.t);
    if (tt.k === "string") {
      if (Object.prototype.hasOwnProperty.call(STRING_PREDICATES, fn) && args.length === 1 && args[0].t.k === "string") {
        const name = fn as keyof typeof STRING_PREDICATES;
        const predicate = STRING_PREDICATES[name];
        const cost = PREDICATE_COSTS[name];
        const meter = this.ctx.meter;
        const pos = this.pos(e);
        // Charged before the search, as the interpreter's (funcs.ts).
        return this.strict(e, fn, [target, args[0]], true, (s, a) => ((meter.left -= cost(s as string, a as string)) < 0 ? new NFail(OVER_BUDGET, pos) : predicate(s as string, a as string)), N.bool);
      }
      const check = Object.prototype.hasOwnProperty.call(CONFLUENT_CHECKS, fn) ? CONFLUENT_CHECKS[fn] : undefined;
      if (check !== undefined && args.length === 0) return this.strict(e, fn, [target], true, (s) => check(s as string), N.bool);
      if (fn === "matches" && args.length === 1 && args[0].t.k === "string") return this.matches(e, target, args[0], call);
      const extension = this.stringsExtension(e, fn, target, args);
      if (extension !== undefined) return extension;
    }
    return this.generic(e, fn, target, args);
  }

  /**
   * The strings extension's substring, lowerAscii, upperAscii and trim, which
   * transforms use most, without the runtime's generic call (ints converted to
   * bigint, overloads resolved, arrays built on every call): the same results
   * and errors as @bufbuild/cel's, charged first as funcs.ts charges them
   * (the receiver's traversal; int operands cost nothing).
   */
  private stringsExtension(e: Expr, fn: string, target: Node, args: Node[]): Node | undefined {
    const meter = this.ctx.meter;
    const pos = this.pos(e);
    const spent = (s: string): boolean => (meter.left -= traversalCost(s.length)) < 0;
    const overBudget = (): NFail => new NFail(OVER_BUDGET, pos);
    if (args.length === 0) {
      const impl = fn === "lowerAscii" ? lowerAscii : fn === "upperAscii" ? upperAscii : fn === "trim" ? trimUnicode : undefined;
      if (impl === undefined) return undefined;
      return this.strict(e, fn, [target], true, (s) => (spent(s as string) ? overBudget() : impl(s as string)), N.string);
    }
    if (fn !== "substring" || args.length > 2 || !args.every((a) => a.t.k === "int")) return undefined;
    const cut = (s: string, start: Int, end: Int | undefined): unknown => {
      if (spent(s)) return overBudget();
      const r = substring(s, start, end);
      return typeof r === "string" ? r : new NFail(r.message, pos);
    };
    // Constant bounds, as in value.substring(0, 2): one operand to evaluate, nothing to allocate.
    const [from, to] = args;
    if (from!.constant !== undefined && (to === undefined || to.constant !== undefined)) {
      const start = from!.constant.value as Int;
      const end = to?.constant?.value as Int | undefined;
      return this.strict(e, fn, [target], true, (s) => cut(s as string, start, end), N.string);
    }
    return this.strict(e, fn, [target, ...args], true, (s, start, end) => cut(s as string, start as Int, end as Int | undefined), N.string);
  }

  /**
   * A call that evaluates its operands in order and fails on the first
   * failure; a null operand whose type allows null matches no overload.
   */
  private strict(e: Expr, name: string, nodes: Node[], method: boolean, impl: (...v: unknown[]) => unknown, t: NType): Node {
    const pos = this.pos(e);
    const evs = nodes.map((n) => n.ev);
    const types = nodes.map((n) => n.t);
    const nullable = types.some(canBeNull);
    const noOverload = (vals: unknown[]) => new NFail(noOverloadMessage(name, method, types, vals), pos);
    if (evs.length === 1) {
      const [a] = evs;
      if (!nullable) {
        return {
          t,
          ev: (f) => {
            const x = a(f);
            return x instanceof NFail ? x : impl(x);
          },
        };
      }
      return {
        t,
        ev: (f) => {
          const x = a(f);
          if (x instanceof NFail) return x;
          return x === null ? noOverload([x]) : impl(x);
        },
      };
    }
    if (evs.length === 2) {
      const [a, b] = evs;
      const bConst = nodes[1].constant;
      if (!nullable && bConst !== undefined) {
        const c = bConst.value;
        return {
          t,
          ev: (f) => {
            const x = a(f);
            return x instanceof NFail ? x : impl(x, c);
          },
        };
      }
      if (!nullable) {
        return {
          t,
          ev: (f) => {
            const x = a(f);
            if (x instanceof NFail) return x;
            const y = b(f);
            return y instanceof NFail ? y : impl(x, y);
          },
        };
      }
      return {
        t,
        ev: (f) => {
          const x = a(f);
          if (x instanceof NFail) return x;
          const y = b(f);
          if (y instanceof NFail) return y;
          return x === null || y === null ? noOverload([x, y]) : impl(x, y);
        },
      };
    }
    return {
      t,
      ev: (f) => {
        const vals = new Array<unknown>(evs.length);
        for (let i = 0; i < evs.length; i++) {
          const v = evs[i](f);
          if (v instanceof NFail) return v;
          vals[i] = v;
        }
        if (nullable && vals.some((v) => v === null)) return noOverload(vals);
        return impl(...vals);
      },
    };
  }

  private logical(isAnd: boolean, args: Node[]): Node {
    if (!args.every((a) => isBoolish(a.t))) return unsupported("&& or || on non-bool");
    const mismatch = (v: unknown, t: NType) => (v instanceof NFail ? v : new NFail(`type mismatch: expected bool, got ${celTypeName(t, v)}`));
    const stop = !isAnd; // the value that short-circuits
    if (args.length === 2) {
      const [a, b] = args.map((n) => n.ev);
      const [ta, tb] = args.map((n) => n.t);
      // A variable (the accumulator of all() and exists(), whose step is `accu && p` or `accu || p`) is read from the frame.
      const slotA = args[0]!.slot ?? -1;
      return {
        t: N.bool,
        ev: (f) => {
          const x = slotA >= 0 ? f[slotA] : a(f);
          if (x === stop) return stop;
          const y = b(f);
          if (y === stop) return stop;
          if (x === !stop) return y === !stop ? !stop : mismatch(y, tb);
          return mismatch(x, ta);
        },
      };
    }
    const evs = args.map((n) => n.ev);
    const types = args.map((n) => n.t);
    return {
      t: N.bool,
      ev: (f) => {
        let first: NFail | undefined;
        for (let i = 0; i < evs.length; i++) {
          const v = evs[i](f);
          if (v === stop) return stop;
          if (v !== !stop && first === undefined) first = mismatch(v, types[i]);
        }
        return first ?? !stop;
      },
    };
  }

  private conditional(e: Expr, args: Node[]): Node {
    if (args.length !== 3) return unsupported("arity");
    const [c, a, b] = args;
    if (!isBoolish(c.t)) return unsupported("?: on a non-bool");
    const t = joinTypes(a.t, b.t) ?? unsupported("?: branches of different types");
    const pos = this.pos(e);
    const cond = c.ev;
    const yes = a.ev;
    const no = b.ev;
    return {
      t,
      ev: (f) => {
        const v = cond(f);
        if (v === true) return yes(f);
        if (v === false) return no(f);
        return v instanceof NFail ? v : new NFail(`found no matching overload for _?_:_ applied to '(${celTypeName(c.t, v)})'`, pos);
      },
    };
  }

  private not(e: Expr, a: Node): Node {
    if (!isBoolish(a.t)) return unsupported("! on a non-bool");
    return this.strict(e, "!_", [a], false, (x) => !x, N.bool);
  }

  private negate(e: Expr, a: Node): Node {
    const t = nonNull(a.t);
    if (t.k === "int") return this.strict(e, "-_", [a], false, (x) => intNeg(x as Int), N.int);
    if (t.k === "double") return this.strict(e, "-_", [a], false, (x) => -(x as number), N.double);
    return unsupported("negation");
  }

  private equality(negated: boolean, a: Node, b: Node): Node {
    const eq = equalsFn(a.t, b.t) ?? unsupported("equality of these types");
    const x = a.ev;
    const bConst = b.constant;
    const ta = nonNull(a.t).k;
    if (bConst !== undefined && !canBeNull(a.t)) {
      const c = bConst.value;
      // The common rule shapes, `field == 'literal'` and `field == 3`, inline the comparison.
      if ((ta === "string" || ta === "bool") && typeof c === (ta === "string" ? "string" : "boolean")) {
        return {
          t: N.bool,
          ev: negated
            ? (f) => {
                const v = x(f);
                return v instanceof NFail ? v : v !== c;
              }
            : (f) => {
                const v = x(f);
                return v instanceof NFail ? v : v === c;
              },
        };
      }
      return {
        t: N.bool,
        ev: (f) => {
          const v = x(f);
          return v instanceof NFail ? v : eq(v, c) !== negated;
        },
      };
    }
    const y = b.ev;
    return {
      t: N.bool,
      ev: (f) => {
        const v = x(f);
        if (v instanceof NFail) return v;
        const w = y(f);
        return w instanceof NFail ? w : eq(v, w) !== negated;
      },
    };
  }

  private comparison(e: Expr, fn: string, a: Node, b: Node): Node {
    const ta = nonNull(a.t);
    const tb = nonNull(b.t);
    const cmp = compareFn(fn, ta, tb) ?? unsupported(`${fn} on these types`);
    const against = b.constant === undefined || canBeNull(a.t) ? undefined : constantOperand(ta, tb, b.constant.value);
    return against === undefined ? this.strict(e, fn, [a, b], false, cmp, N.bool) : { t: N.bool, ev: comparedTo(fn, a, against) };
  }

  /** `inPlace`: `a` is an owned accumulator (Scope.owned), which `+` may extend instead of copying. */
  private arithmetic(e: Expr, fn: string, a: Node, b: Node, inPlace: boolean): Node {
    const ta = nonNull(a.t);
    const tb = nonNull(b.t);
    const op = fn;
    let impl: ((x: unknown, y: unknown) => unknown) | undefined;
    let t: NType = ta;
    if (ta.k === "int" && tb.k === "int") {
      impl = ({ "_+_": intAdd, "_-_": intSub, "_*_": intMul, "_/_": intDiv, "_%_": intMod } as Record<string, (x: Int, y: Int) => unknown>)[op] as (x: unknown, y: unknown) => unknown;
    } else if (ta.k === "uint" && tb.k === "uint") {
      impl = ({ "_+_": uintAdd, "_-_": uintSub, "_*_": uintMul, "_/_": uintDiv, "_%_": uintMod } as Record<string, (x: Int, y: Int) => unknown>)[op] as (x: unknown, y: unknown) => unknown;
    } else if (ta.k === "double" && tb.k === "double") {
      impl = (
        {
          "_+_": (x: number, y: number) => x + y,
          "_-_": (x: number, y: number) => x - y,
          "_*_": (x: number, y: number) => x * y,
          "_/_": (x: number, y: number) => x / y,
        } as Record<string, (x: number, y: number) => number>
      )[op] as ((x: unknown, y: unknown) => unknown) | undefined;
    } else if (op === "_+_" && ta.k === "string" && tb.k === "string") {
      impl = (x, y) => (x as string) + (y as string);
    } else if (op === "_+_" && ta.k === "bytes" && tb.k === "bytes") {
      impl = (x, y) => concatBytes(x as Uint8Array, y as Uint8Array);
    } else if (op === "_+_" && ta.k === "list" && tb.k === "list") {
      t = joinTypes(ta, tb) ?? unsupported("+ on lists of different types");
      if (t.k === "list" && (ta.shape !== undefined || tb.shape !== undefined)) t = { ...t, shape: undefined };
      // map and filter build their result with `accu + [x]`: copying accu each step would make them quadratic.
      impl = inPlace ? appendInPlace : (x, y) => ((x as unknown[]).length === 0 ? y : (y as unknown[]).length === 0 ? x : (x as unknown[]).concat(y));
    }
    if (impl === undefined) return unsupported(`${fn} on these types`);
    return this.strict(e, fn, [a, b], false, impl, t);
  }

  private membership(e: Expr, x: Node, container: Node): Node {
    const ct = nonNull(container.t);
    if (ct.k === "list") {
      const eq = equalsFn(ct.elem, x.t) ?? unsupported("in on these types");
      return this.inList(e, x, container, eq, readerOf(ct.elem));
    }
    const has = keyTest(ct, nonNull(x.t)) ?? unsupported("in on these types");
    return this.strict(e, "@in", [x, container], false, (v, m) => has(m as object, v), N.bool);
  }

  /** `x in list`: x may be null (in matches any value against the list), the list may not. */
  private inList(e: Expr, x: Node, container: Node, eq: (a: unknown, b: unknown) => boolean, read: Reader): Node {
    const pos = this.pos(e);
    const xe = x.ev;
    const le = container.ev;
    const types = [x.t, container.t];
    const listNullable = canBeNull(container.t);
    const meter = this.ctx.meter;
    return {
      t: N.bool,
      ev: (f) => {
        const v = xe(f);
        if (v instanceof NFail) return v;
        const l = le(f);
        if (l instanceof NFail) return l;
        if (listNullable && l === null) return new NFail(noOverloadMessage("@in", false, types, [v, l]), pos);
        const list = l as unknown[];
        // cel-go charges the list's size, before the scan (as the interpreter's `in`, funcs.ts).
        if ((meter.left -= list.length) < 0) return new NFail(OVER_BUDGET, pos);
        for (let i = 0; i < list.length; i++) {
          const el = read(list[i]);
          if (!(el instanceof NFail) && eq(el, v)) return true;
        }
        return false;
      },
    };
  }

  private index(e: Expr, call: Expr_Call, scope: Scope | undefined): Node {
    if (call.args.length !== 2) return unsupported("arity");
    const [operandExpr, keyExpr] = call.args;
    const op = this.compile(operandExpr, scope);
    const key = this.compile(keyExpr, scope);
    const ot = nonNull(op.t);
    const kt = key.t;
    const pos = this.pos(e);
    const opEv = op.ev;
    const keyEv = key.ev;
    if (ot.k === "record") {
      // message['field'] reads like message.field.
      const name = key.constant?.value;
      if (typeof name !== "string") return unsupported("record index by a computed key");
      const ft = fieldType(ot, name) ?? unsupported(`field ${name}`);
      return fieldNode(op, name, ft, pos);
    }
    if (ot.k === "list") {
      if (kt.k !== "int" && kt.k !== "uint") return unsupported("list index of this type");
      const read = readerOf(ot.elem);
      return {
        t: ot.elem,
        ev: (f) => {
          const l = opEv(f);
          if (l instanceof NFail) return l;
          const k = keyEv(f);
          if (k instanceof NFail) return k;
          const i = Number(k);
          if (l === null || i < 0 || i >= (l as unknown[]).length) return new NFail(`index ${i} out of bounds [0, -1)`, pos);
          return read((l as unknown[])[i]);
        },
      };
    }
    if (ot.k === "map") {
      const lookup = keyLookup(ot, kt) ?? unsupported("map index of this type");
      const read = readerOf(ot.value);
      const missing = kt.k === "int" || kt.k === "uint" ? (k: unknown) => `index ${String(k)} out of bounds [0, -1)` : (k: unknown) => `field not found: ${String(k)}`;
      return {
        t: ot.value,
        ev: (f) => {
          const m = opEv(f);
          if (m instanceof NFail) return m;
          const k = keyEv(f);
          if (k instanceof NFail) return k;
          const raw = m === null ? undefined : lookup(m as object, k);
          return raw === undefined ? new NFail(missing(k), pos) : read(raw);
        },
      };
    }
    return unsupported("index");
  }

  private size(e: Expr, name: string, a: Node, method: boolean): Node {
    const t = nonNull(a.t);
    let impl: (v: unknown) => unknown;
    switch (t.k) {
      case "string":
        impl = (v) => codePoints(v as string);
        break;
      case "bytes":
        impl = (v) => (v as Uint8Array).length;
        break;
      case "list":
        impl = (v) => (v as unknown[]).length;
        break;
      case "map":
        impl = t.shape !== undefined ? (v) => mapSize(v as object) : (v) => (v as Map<unknown, unknown>).size;
        break;
      case "record": {
        const getters = [...t.shape.fields.keys()].map(fieldReader);
        impl = (v) => {
          let n = 0;
          for (const get of getters) if (get(v as object) !== undefined) n++;
          return n;
        };
        break;
      }
      default:
        return unsupported("size of this type");
    }
    return this.strict(e, name, [a], method, impl, N.int);
  }

  private matches(e: Expr, target: Node, pattern: Node, call: Expr_Call): Node {
    const re2 = this.ctx.re2;
    const meter = this.ctx.meter;
    const pos = this.pos(e);
    const guarded = (test: () => boolean): unknown => {
      try {
        return test();
      } catch (err) {
        return new NFail(err instanceof Error ? err.message : String(err), pos, err);
      }
    };
    // The interpreter's `matches` charges cel-go's cost before it matches (runtime.ts).
    const spent = (s: string, p: string): boolean => (meter.left -= matchCost(s.length, p.length)) < 0;
    const overBudget = (): NFail => new NFail(OVER_BUDGET, pos);
    const literal = pattern.constant?.value;
    if (typeof literal === "string" && call.args[0]?.exprKind.case === "constExpr") {
      // Compiled once: the same (memoized) RE2 matcher the interpreter would fetch on every call,
      // or for `^X$`, RE2's whole-input match of X, which means the same and runs faster (regex.ts).
      // A pattern the runtime's RE2 rejects (invalid or too large) keeps failing as there.
      const checked = re2.compile(literal);
      const valid = !isInvalidPattern(checked);
      const general = (valid ? wholeInputMatcher(literal) : undefined) ?? checked;
      // Most validation patterns are a plain sequence of character atoms: a linear matcher of their own, RE2 for the rest.
      const sequence = valid ? sequenceMatcher(literal) : undefined;
      if (sequence) {
        return this.strict(e, "matches", [target], true, (s) => (spent(s as string, literal) ? overBudget() : (sequence.test(s as string) ?? guarded(() => general.test(s as string)))), N.bool);
      }
      return this.strict(e, "matches", [target], true, (s) => (spent(s as string, literal) ? overBudget() : guarded(() => general.test(s as string))), N.bool);
    }
    return this.strict(e, "matches", [target, pattern], true, (s, p) => (spent(s as string, p as string) ? overBudget() : guarded(() => re2.compile(p as string).test(s as string))), N.bool);
  }

  /**
   * Any other function on scalars: the runtime's own implementation, called
   * with CEL values as the interpreter would (ints as bigint). The result type
   * comes from the function table the static checker uses.
   */
  private generic(e: Expr, fn: string, target: Node | undefined, args: Node[]): Node {
    const group = this.ctx.env.funcs.find(fn) ?? unsupported(`function ${fn}`);
    const table = functionTable().find(fn) ?? unsupported(`function ${fn}`);
    const candidates = target === undefined ? table.functions : table.methods;
    const matching = candidates.filter(
      (o) =>
        o.params.length === args.length &&
        (target === undefined || (o.receiver !== undefined && scalarMatch(o.receiver, target.t))) &&
        o.params.every((p, i) => scalarMatch(p, args[i].t)),
    );
    if (matching.length !== 1) return unsupported(`overload of ${fn}`);
    const t = fn === "split" && target !== undefined ? ({ k: "list", elem: N.string } as NType) : (nTypeOfCheck(matching[0].result) ?? unsupported(`result of ${fn}`));
    const nodes = target === undefined ? args : [target, ...args];
    const types = nodes.map((n) => n.t);
    const id = Number(e.id);
    const pos = this.pos(e);
    const method = target !== undefined;
    const impl = (...vals: unknown[]): unknown => {
      const cel = vals.map((v, i) => toCelArg(v, types[i]));
      const r = method ? group.call(id, cel[0] as never, cel.slice(1) as never) : group.call(id, undefined, cel as never);
      if (r === undefined) return new NFail(noOverloadMessage(fn, method, types, vals), pos);
      if (isCelError(r)) return new NFail(r.message, r.exprId === undefined ? undefined : this.ctx.position(r.exprId), r);
      return fromCelResult(r);
    };
    // Null operands are left to the function group, which finds no overload for them (as the interpreter).
    const evs = nodes.map((n) => n.ev);
    return {
      t,
      ev: (f) => {
        const vals = new Array<unknown>(evs.length);
        for (let i = 0; i < evs.length; i++) {
          const v = evs[i](f);
          if (v instanceof NFail) return v;
          vals[i] = v;
        }
        return impl(...vals);
      },
    };
  }

  // ---- literals ----

  private list(l: Expr_CreateList, scope: Scope | undefined): Node {
    if (l.optionalIndices.length > 0) return unsupported("optional list elements");
    const elements = l.elements.map((x) => this.compile(x, scope));
    let elem: NType = N.empty;
    for (const x of elements) elem = joinTypes(elem, x.t) ?? unsupported("list of mixed types");
    const t: NType = { k: "list", elem };
    if (elements.length === 0) return { t, ev: () => EMPTY_LIST };
    const evs = elements.map((x) => x.ev);
    return {
      t,
      ev: (f) => {
        const out = new Array<unknown>(evs.length);
        for (let i = 0; i < evs.length; i++) {
          const v = evs[i](f);
          if (v instanceof NFail) return v;
          out[i] = v;
        }
        return out;
      },
    };
  }

  private mapLiteral(e: Expr, s: Expr_CreateStruct, scope: Scope | undefined): Node {
    if (s.messageName !== "") return unsupported("message literal");
    const keys: Node[] = [];
    const values: Node[] = [];
    for (const entry of s.entries) {
      if (entry.optionalEntry || entry.keyKind.case !== "mapKey" || entry.value === undefined) return unsupported("map entry");
      keys.push(this.compile(entry.keyKind.value, scope));
      values.push(this.compile(entry.value, scope));
    }
    let key: NType = N.empty;
    let value: NType = N.empty;
    for (const k of keys) key = joinTypes(key, k.t) ?? unsupported("map keys of mixed types");
    for (const v of values) value = joinTypes(value, v.t) ?? unsupported("map values of mixed types");
    if (key.k !== "empty" && key.k !== "string" && key.k !== "int" && key.k !== "uint" && key.k !== "bool") return unsupported("map key type");
    const t: NType = { k: "map", key, value };
    const pos = this.pos(e);
    const numeric = key.k === "int" || key.k === "uint";
    const kevs = keys.map((k) => k.ev);
    const vevs = values.map((v) => v.ev);
    return {
      t,
      ev: (f) => {
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < kevs.length; i++) {
          const k = kevs[i](f);
          if (k instanceof NFail) return k;
          const v = vevs[i](f);
          if (v instanceof NFail) return v;
          const nk = numeric ? big(k as Int) : k;
          if (m.has(nk)) return new NFail(`map key conflict: ${String(k)}`, pos);
          m.set(nk, v);
        }
        return m;
      },
    };
  }

  // ---- comprehensions ----

  private fold(e: Expr, c: Expr_Comprehension, scope: Scope | undefined): Node {
    if (c.iterVar2 !== "") return unsupported("two-variable comprehension");
    if (c.iterRange === undefined || c.accuInit === undefined || c.loopCondition === undefined || c.loopStep === undefined || c.result === undefined) {
      return unsupported("comprehension");
    }
    const range = this.compile(c.iterRange, scope);
    const rt = nonNull(range.t);
    let iterT: NType;
    let items: (r: unknown) => readonly unknown[];
    let read: Reader;
    switch (rt.k) {
      case "list":
        iterT = rt.elem;
        items = (r) => r as unknown[];
        read = readerOf(rt.elem);
        break;
      case "map":
        iterT = rt.key;
        items = rt.key.k === "string" ? (r) => mapKeys(r as object) : (r) => [...(r as Map<unknown, unknown>).keys()];
        read = (v) => v;
        break;
      case "record": {
        iterT = N.string;
        const fields = [...rt.shape.fields.keys()].map((name) => [name, fieldReader(name)] as const);
        items = (r) => fields.filter(([, get]) => get(r as object) !== undefined).map(([name]) => name);
        read = (v) => v;
        break;
      }
      default:
        return unsupported("comprehension over this type");
    }
    if (iterT.k === "empty") return unsupported("comprehension over an empty literal");
    const init = this.compile(c.accuInit, scope);
    let accuT = init.t;
    for (let round = 0; ; round++) {
      const accuSlot = this.slot();
      const iterSlot = this.slot();
      const owned = c.accuInit.exprKind.case === "listExpr" && c.accuInit.exprKind.value.elements.length === 0;
      const accuScope: Scope = { name: c.accuVar, slot: accuSlot, t: accuT, parent: scope, owned };
      const loopScope: Scope = { name: c.iterVar, slot: iterSlot, t: iterT, parent: accuScope };
      const cond = this.compile(c.loopCondition, loopScope);
      const step = this.compile(c.loopStep, loopScope);
      const joined = joinTypes(accuT, step.t) ?? unsupported("comprehension accumulator of changing type");
      if (!sameType(joined, accuT)) {
        if (round >= 3) return unsupported("comprehension accumulator type");
        accuT = joined;
        continue;
      }
      const result = this.compile(c.result, accuScope);
      const charge = { meter: this.ctx.meter, units: iterationCost(c) };
      const loop = { cond: cond.ev, stopAt: stopsAt(c.loopCondition, c.accuVar), step: step.ev };
      return { t: result.t, ev: foldEv(init.ev, range.ev, canBeNull(range.t), items, read, loop, result.ev, accuSlot, iterSlot, this.pos(e), charge) };
    }
  }
}

/** Whether `e` names an owned accumulator (Scope.owned). */
function ownedAccumulator(e: Expr | undefined, scope: Scope | undefined): boolean {
  if (e?.exprKind.case !== "identExpr") return false;
  const name = e.exprKind.value.name;
  for (let s = scope; s !== undefined; s = s.parent) if (s.name === name) return s.owned === true;
  return false;
}

/** `accu + y` for an owned accumulator: the first step copies y (accu is the shared empty list), later ones append. */
function appendInPlace(x: unknown, y: unknown): unknown {
  const accu = x as unknown[];
  const items = y as unknown[];
  if (accu.length === 0) return items.slice();
  for (let i = 0; i < items.length; i++) accu.push(items[i]);
  return accu;
}

/**
 * For the loop conditions of the all() and exists() macros, which read only the
 * accumulator: the accumulator value that ends the loop. `@not_strictly_false(accu)`
 * (all) goes on unless it is false, `@not_strictly_false(!accu)` (exists) unless it
 * is true (`!` of anything else, null or an error, is an error, which does not
 * stop it). Undefined for other conditions, which run as compiled.
 */
export function stopsAt(cond: Expr, accuVar: string): boolean | undefined {
  if (cond.exprKind.case !== "callExpr") return undefined;
  const call = cond.exprKind.value;
  if ((call.function !== "@not_strictly_false" && call.function !== "__not_strictly_false__") || call.target !== undefined || call.args.length !== 1) return undefined;
  const isAccu = (x: Expr | undefined) => x?.exprKind.case === "identExpr" && x.exprKind.value.name === accuVar;
  const arg = call.args[0]!;
  if (isAccu(arg)) return false;
  if (arg.exprKind.case !== "callExpr") return undefined;
  const not = arg.exprKind.value;
  return not.function === "!_" && not.target === undefined && not.args.length === 1 && isAccu(not.args[0]) ? true : undefined;
}

function foldEv(
  init: Ev,
  range: Ev,
  rangeNullable: boolean,
  items: (r: unknown) => readonly unknown[],
  read: Reader,
  loop: { readonly cond: Ev; readonly stopAt: boolean | undefined; readonly step: Ev },
  result: Ev,
  accuSlot: number,
  iterSlot: number,
  pos: Position,
  charge: { readonly meter: Meter; readonly units: number },
): Ev {
  const { meter, units } = charge;
  const { cond, stopAt, step } = loop;
  return (f) => {
    const accu = init(f);
    if (accu instanceof NFail) return accu;
    const r = range(f);
    if (r instanceof NFail) return r;
    if (rangeNullable && r === null) return new NFail("type mismatch: iterable vs null_type", pos);
    const list = items(r);
    f[accuSlot] = accu;
    for (let i = 0; i < list.length; i++) {
      // Element errors surface in order, before the loop condition is looked at (EvalFold).
      const item = read(list[i]);
      if (item instanceof NFail) return item;
      // Where the interpreter's @charge(cond, units) spends them: before the loop condition (cost.ts).
      if ((meter.left -= units) < 0) return new NFail(OVER_BUDGET, pos);
      f[iterSlot] = item;
      // all() and exists(): their condition, read from the frame (a call per element less, three for exists).
      if (stopAt !== undefined) {
        if (f[accuSlot] === stopAt) break;
      } else {
        const c = cond(f);
        if (c !== true) {
          if (c instanceof NFail) return c;
          break;
        }
      }
      f[accuSlot] = step(f);
    }
    return result(f);
  };
}

// ---- field access ----

/** A record's field, as a node: with its NumberField when it is an int or double of a variable. */
function fieldNode(op: Node, field: string, ft: NType, pos: Position): Node {
  const ev = recordField(op, field, ft, pos);
  if (op.slot === undefined || (ft.k !== "int" && ft.k !== "double")) return { t: ft, ev };
  return { t: ft, ev, number: { slot: op.slot, get: fieldReader(field), double: ft.k === "double", wideInts: widensInts(ft) } };
}

/** An int beyond 32 bits in a double (a long such as a time in ms) is read as readInt takes it, unless deferred. */
function widensInts(ft: NType): boolean {
  return !("defer" in ft && ft.defer === true);
}

/** Whether a raw field value is the field's value as is: a number of a double field, or an int as readInt takes it. */
function plainNumber(raw: unknown, double: boolean, wideInts: boolean): raw is number {
  return typeof raw === "number" && (double || (raw | 0) === raw || (wideInts && Number.isInteger(raw) && raw >= -TWO_63 && raw < TWO_63));
}

/**
 * A record's field. On a variable (`message.x`, `i.qty`), the record comes
 * straight from the frame: these closures are shared by every rule of the
 * process, so a call to the operand's `ev` cannot be inlined and costs as much
 * as the read itself.
 */
function recordField(op: Node, field: string, ft: NType, pos: Position): Ev {
  const opEv = op.ev;
  const slot = op.slot ?? -1;
  const get = fieldReader(field);
  const read = readerOf(ft);
  const notFound = `field not found: ${field}`;
  const wrap = (v: NFail) => new NFail(`field '${field}': ${v.message}`);
  // Scalars check their JS type inline; anything unusual goes through the reader.
  switch (ft.k) {
    case "string":
    case "bool": {
      const js = ft.k === "string" ? "string" : "boolean";
      return (f) => {
        const o = slot >= 0 ? f[slot] : opEv(f);
        if (o instanceof NFail) return o;
        if (o === null) return new NFail(notFound, pos);
        const raw = get(o as object);
        if (typeof raw === js) return raw;
        if (raw === undefined) return new NFail(notFound, pos);
        return wrap(read(raw) as NFail);
      };
    }
    case "double":
    case "int": {
      const double = ft.k === "double";
      const wideInts = widensInts(ft);
      return (f) => {
        const o = slot >= 0 ? f[slot] : opEv(f);
        if (o instanceof NFail) return o;
        if (o === null) return new NFail(notFound, pos);
        const raw = get(o as object);
        if (plainNumber(raw, double, wideInts)) return raw;
        if (raw === undefined) return new NFail(notFound, pos);
        const v = read(raw);
        return v instanceof NFail ? wrap(v) : v;
      };
    }
    default:
      return (f) => {
        const o = slot >= 0 ? f[slot] : opEv(f);
        if (o instanceof NFail) return o;
        if (o === null) return new NFail(notFound, pos);
        const raw = get(o as object);
        if (raw === undefined) return new NFail(notFound, pos);
        const v = read(raw);
        return v instanceof NFail ? wrap(v) : v;
      };
  }
}

/**
 * A field of a protobuf message, as CEL reads it: its default when not set
 * (an unset message field reads as the type's empty message). A message-typed
 * value is never null here: select on a nullable one is left to the interpreter.
 */
function messageField(opEv: Ev, field: MessageFieldShape, ft: NType): Ev {
  const read = readerOf(ft);
  const dflt = field.default;
  // A value not of the field's representation is the interpreter's to read (DEFERRED).
  const wrap = (): NFail => DEFERRED;
  if (field.oneof !== undefined) {
    const getOneof = fieldReader(field.oneof);
    const member = field.localName;
    return (f) => {
      const o = opEv(f);
      if (o instanceof NFail) return o;
      const c = getOneof(o as object) as { case?: unknown; value?: unknown } | undefined;
      const v = read(typeof c === "object" && c !== null && c.case === member ? c.value : dflt);
      return v instanceof NFail ? wrap() : v;
    };
  }
  const get = fieldReader(field.localName);
  if (ft.k === "double" || ft.k === "string" || ft.k === "bool") {
    const js = ft.k === "double" ? "number" : ft.k === "string" ? "string" : "boolean";
    return (f) => {
      const o = opEv(f);
      if (o instanceof NFail) return o;
      const raw = get(o as object);
      if (typeof raw === js) return raw;
      const v = read(raw === undefined ? dflt : raw);
      return v instanceof NFail ? wrap() : v;
    };
  }
  return (f) => {
    const o = opEv(f);
    if (o instanceof NFail) return o;
    const raw = get(o as object);
    const v = read(raw === undefined ? dflt : raw);
    return v instanceof NFail ? wrap() : v;
  };
}

function mapEntry(opEv: Ev, key: string, vt: NType, pos: Position): Ev {
  const read = readerOf(vt);
  const notFound = `field not found: ${key}`;
  return (f) => {
    const o = opEv(f);
    if (o instanceof NFail) return o;
    if (o === null) return new NFail(notFound, pos);
    const raw = mapGet(o as object, key);
    return raw === undefined ? new NFail(notFound, pos) : read(raw);
  };
}

/** Reads map entries by key: native maps (string keys) or maps the expression built (normalized keys). */
function keyLookup(m: MapType, kt: NType): ((m: object, k: unknown) => unknown) | undefined {
  const key = m.key.k;
  const k = kt.k;
  if (key === "empty") return () => undefined;
  if (key === "string" && k === "string") return (o, x) => mapGet(o, x as string);
  if ((key === "int" || key === "uint") && (k === "int" || k === "uint")) return (o, x) => (o as Map<unknown, unknown>).get(big(x as Int));
  if (key === "bool" && k === "bool") return (o, x) => (o as Map<unknown, unknown>).get(x);
  return undefined;
}

/** `x in map` (and in a record, seen as a map): presence of a key. */
function keyTest(ct: NType, xt: NType): ((m: object, x: unknown) => boolean) | undefined {
  if (ct.k === "record") {
    if (xt.k !== "string") return undefined;
    const getters = new Map([...ct.shape.fields.keys()].map((name) => [name, fieldReader(name)]));
    return (o, x) => {
      const get = getters.get(x as string);
      return get !== undefined && get(o) !== undefined;
    };
  }
  if (ct.k !== "map") return undefined;
  const lookup = keyLookup(ct, xt);
  if (lookup === undefined) return undefined;
  // Native maps: present when defined (MapView.has); built maps: a null value is absent (NativeMap.has).
  return ct.shape !== undefined ? (o, x) => lookup(o, x) !== undefined : (o, x) => lookup(o, x) != null;
}

// ---- equality and ordering ----

type Eq = (a: unknown, b: unknown) => boolean;

/**
 * Equality of values of two static types, as the interpreter's `equals`:
 * numbers across int/uint/double, null only with null, lists element-wise
 * (an element that does not fit its type equals nothing), values of unrelated
 * types never equal. Undefined for what the fast path leaves to the interpreter (maps, records).
 */
function equalsFn(a: NType, b: NType): Eq | undefined {
  if (a.k === "null" && b.k === "null") return () => true;
  if (a.k === "null") return (_x, y) => y === null;
  if (b.k === "null") return (x) => x === null;
  if (a.k === "nullable" || b.k === "nullable") {
    const inner = equalsFn(nonNull(a), nonNull(b));
    if (inner === undefined) return undefined;
    return (x, y) => (x === null || y === null ? x === y : inner(x, y));
  }
  if (isNumeric(a) && isNumeric(b)) return (x, y) => x == y;
  // Protobuf message equality (field by field, NaN, unknown fields) is the interpreter's.
  if (a.k === "message" || b.k === "message") return undefined;
  const mapLike = (t: NType) => t.k === "map" || t.k === "record";
  if (mapLike(a) || mapLike(b)) return mapLike(a) && mapLike(b) ? undefined : () => false;
  if (a.k === "empty" || b.k === "empty") return () => false;
  if (a.k !== b.k) return () => false;
  switch (a.k) {
    case "string":
    case "bool":
      return (x, y) => x === y;
    case "bytes":
      return (x, y) => equalBytes(x as Uint8Array, y as Uint8Array);
    case "list": {
      const bl = b as ListType;
      const el = equalsFn(a.elem, bl.elem);
      if (el === undefined) return undefined;
      const ra = readerOf(a.elem);
      const rb = readerOf(bl.elem);
      return (x, y) => {
        const l = x as unknown[];
        const r = y as unknown[];
        if (l.length !== r.length) return false;
        for (let i = 0; i < l.length; i++) {
          const u = ra(l[i]);
          const v = rb(r[i]);
          if (u instanceof NFail || v instanceof NFail || !el(u, v)) return false;
        }
        return true;
      };
    }
    default:
      return undefined;
  }
}

function compareFn(fn: string, a: NType, b: NType): ((x: unknown, y: unknown) => boolean) | undefined {
  const test = (c: number): boolean => (fn === "_<_" ? c < 0 : fn === "_<=_" ? c <= 0 : fn === "_>_" ? c > 0 : c >= 0);
  const rel = relation(fn);
  if (isNumeric(a) && isNumeric(b)) {
    // As the interpreter: int/uint against double compares Number(int) (lossy beyond 2^53).
    if (a.k === "double" && b.k !== "double") return (x, y) => rel(x as number, Number(y));
    if (a.k !== "double" && b.k === "double") return (x, y) => rel(Number(x), y as number);
    return rel as (x: unknown, y: unknown) => boolean;
  }
  if (a.k !== b.k) return undefined;
  switch (a.k) {
    case "string":
    case "bool":
      return rel as (x: unknown, y: unknown) => boolean;
    case "bytes":
      return (x, y) => test(compareBytes(x as Uint8Array, y as Uint8Array));
    default:
      return undefined;
  }
}

/**
 * The constant `c` as compareFn's function would compare a value of type `a`
 * with it, where that is JS's own relational operator on the two (numbers,
 * bigints, strings, bools): an int constant against a double as Number(c).
 * Undefined where compareFn does more (an int against a double constant, bytes).
 */
function constantOperand(a: NType, b: NType, c: unknown): number | bigint | string | boolean | undefined {
  if (isNumeric(a) && isNumeric(b)) {
    if (a.k !== "double" && b.k === "double") return undefined;
    return a.k === "double" && b.k !== "double" ? Number(c) : (c as number | bigint);
  }
  return a.k === b.k && (a.k === "string" || a.k === "bool") ? (c as string | boolean) : undefined;
}

/**
 * `a <op> c` for a constant `c` (constantOperand), with the operator in the
 * closure: every comparison of the process shares it, so a call to
 * compareFn's function could not be inlined and would cost as much as the
 * comparison. A variable operand is read from the frame, and an int or double
 * field of a variable (`message.amount > 0.0`, `i.qty > 3`) straight from its
 * record when it is a plain number; anything else goes through the operand's
 * closure. The same results as strict() with compareFn.
 */
function comparedTo(fn: string, operand: Node, c: number | bigint | string | boolean): Ev {
  const a = operand.ev;
  const slot = operand.slot ?? -1;
  const op = fn === "_<_" ? LT : fn === "_<=_" ? LE : fn === "_>_" ? GT : GE;
  const field = operand.number;
  if (field === undefined) {
    return (f) => {
      const x = slot >= 0 ? f[slot] : a(f);
      return x instanceof NFail ? x : relate(op, x, c);
    };
  }
  const { slot: recordSlot, get, double, wideInts } = field;
  return (f) => {
    const o = f[recordSlot];
    if (typeof o === "object" && o !== null && !(o instanceof NFail)) {
      const raw = get(o);
      if (plainNumber(raw, double, wideInts)) return relate(op, raw, c);
    }
    const x = a(f);
    return x instanceof NFail ? x : relate(op, x, c);
  };
}

const LT = 0;
const LE = 1;
const GT = 2;
const GE = 3;

/** JS's relational operators, as `relation`'s functions apply them. */
function relate(op: number, x: unknown, c: unknown): boolean {
  return op === LT ? (x as number) < (c as number) : op === LE ? (x as number) <= (c as number) : op === GT ? (x as number) > (c as number) : (x as number) >= (c as number);
}

function relation(fn: string): (x: unknown, y: unknown) => boolean {
  switch (fn) {
    case "_<_":
      return (x, y) => (x as number) < (y as number);
    case "_<=_":
      return (x, y) => (x as number) <= (y as number);
    case "_>_":
      return (x, y) => (x as number) > (y as number);
    default:
      return (x, y) => (x as number) >= (y as number);
  }
}

// ---- generic calls ----

const SCALARS: ReadonlySet<string> = new Set(["int", "uint", "double", "string", "bytes", "bool"]);

function scalarMatch(p: CheckType, t: NType): boolean {
  const n = nonNull(t);
  return SCALARS.has(p.kind) && p.kind === n.k;
}

function nTypeOfCheck(t: CheckType): NType | undefined {
  return SCALARS.has(t.kind) ? N[t.kind as "int"] : undefined;
}

function toCelArg(v: unknown, t: NType): unknown {
  if (v === null) return null;
  switch (nonNull(t).k) {
    case "int":
      return typeof v === "number" ? BigInt(v) : v;
    case "uint":
      return celUint(big(v as Int));
    case "bytes":
      return plainBytes(v as Uint8Array);
    default:
      return v;
  }
}

function fromCelResult(r: unknown): unknown {
  if (typeof r === "bigint") return normInt(r);
  if (typeof r === "object" && r !== null) {
    if (isCelUint(r)) return normInt(r.value);
    if (isCelList(r)) return Array.from(r as Iterable<unknown>, fromCelResult);
  }
  return r;
}

function noOverloadMessage(name: string, method: boolean, types: readonly NType[], vals: readonly unknown[]): string {
  const names = types.map((t, i) => celTypeName(t, vals[i]));
  if (method) return `found no matching overload for '${name}' applied to '${names[0]}.(${names.slice(1).join(", ")})'`;
  return `found no matching overload for '${name}' applied to '(${names.join(", ")})'`;
}

function constant(c: Constant): Node {
  let t: NType;
  let value: unknown;
  const k = c.constantKind;
  switch (k.case) {
    case "int64Value":
      t = N.int;
      value = intConst(k.value);
      break;
    case "uint64Value":
      t = N.uint;
      value = normInt(k.value);
      break;
    case "doubleValue":
      t = N.double;
      value = k.value;
      break;
    case "stringValue":
      t = N.string;
      value = k.value;
      break;
    case "bytesValue":
      t = N.bytes;
      value = k.value;
      break;
    case "boolValue":
      t = N.bool;
      value = k.value;
      break;
    case "nullValue":
      t = N.null;
      value = null;
      break;
    default:
      return unsupported("constant kind");
  }
  return { t, ev: () => value, constant: { value } };
}

export type { RecordType };

// ---- the strings extension, as @bufbuild/cel's ext/strings.js computes it ----

function lowerAscii(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

function upperAscii(s: string): string {
  return /[a-z]/.test(s) ? s.replace(/[a-z]+/g, (m) => m.toUpperCase()) : s;
}

/** Unicode white space, by UTF-16 code unit, as the extension's trim tests it. */
const WHITE_SPACE = new Set([
  0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f,
  0x205f, 0x3000,
]);

function trimUnicode(s: string): string {
  let start = 0;
  let end = s.length - 1;
  while (start < s.length && WHITE_SPACE.has(s.charCodeAt(start))) start++;
  while (end > start && WHITE_SPACE.has(s.charCodeAt(end))) end--;
  return s.substring(start, end + 1);
}

/** UTF-16 indexes, as the extension's substring; an Error for bounds it refuses, with its message. */
function substring(s: string, start: Int, end: Int | undefined): string | Error {
  const i = Number(start);
  if (i < 0 || i > s.length) return new Error(`index ${i} out of bounds [0, ${s.length})`);
  if (end === undefined) return s.substring(i);
  const j = Number(end);
  if (j < 0 || j > s.length) return new Error(`index ${j} out of bounds [0, ${s.length})`);
  if (i > j) return new Error("invalid argument to function substring: start > end");
  return s.substring(i, j);
}
