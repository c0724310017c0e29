/**
 * Compile-time checks over the parsed AST, before planning: limits (nodes,
 * depth, comprehension nesting), references (every identifier must be a declared
 * variable, a comprehension variable or a type/enum name), and calls (every
 * function must exist with that arity). @bufbuild/cel would accept all of these
 * and fail only when evaluating; Java's cel-java rejects them when compiling.
 */
import type { CelEnv } from "@bufbuild/cel";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { CelCompileError } from "./errors.js";
import type { CelLimits } from "./limits.js";

type Position = { line: number; column: number } | undefined;

export interface CheckContext {
  readonly limits: CelLimits;
  /** Declared variables, plus `now` when the runtime supplies it. */
  readonly variables: ReadonlySet<string>;
  /** Name the runtime supplies itself (`now`), unless declared as a variable. */
  readonly implicitNow: boolean;
  readonly container: string;
  readonly env: CelEnv;
  readonly position: (id: bigint) => Position;
}

export interface CheckResult {
  /** The expression reads the runtime's `now`. */
  readonly usesNow: boolean;
}

/** Operators the planner evaluates itself rather than through the function table. */
const PLANNER_OPERATORS = new Set(["_[_]", "_?_:_", "_&&_", "_||_", "@not_strictly_false", "__not_strictly_false__"]);
const OPTIONAL_OPERATORS = new Set(["_?._", "_[?_]"]);
const OPTIONAL_METHODS = new Set(["hasValue", "orValue", "value", "or", "optMap", "optFlatMap"]);
const TWO_VARIABLE_MACROS = new Set(["all", "exists", "existsOne", "exists_one", "transformList", "transformMap", "transformMapEntry"]);
const TYPE_NAMES = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"]);

export const UNSUPPORTED_OPTIONAL = "optional values (optional.of, .?field, [?i], {?k: v}) are not supported";

export function checkExpr(expr: Expr, ctx: CheckContext): CheckResult {
  return new Checker(ctx).run(expr);
}

/** Name resolution candidates in a container, as the CEL spec orders them. */
function candidateNames(container: string, name: string): string[] {
  if (name.startsWith(".")) return [name.slice(1)];
  if (container === "") return [name];
  const out: string[] = [];
  for (let ns = container; ; ) {
    out.push(`${ns}.${name}`);
    const i = ns.lastIndexOf(".");
    if (i < 0) break;
    ns = ns.slice(0, i);
  }
  out.push(name);
  return out;
}

/** `a.b.c` as ["a","b","c"] when `e` is an identifier or a chain of field selections on one. */
function qualifiedParts(e: Expr): string[] | undefined {
  const parts: string[] = [];
  let cur: Expr | undefined = e;
  while (cur !== undefined) {
    const kind: Expr["exprKind"] = cur.exprKind;
    if (kind.case === "identExpr") {
      parts.push(kind.value.name);
      return parts.reverse();
    }
    if (kind.case !== "selectExpr" || kind.value.testOnly) return undefined;
    parts.push(kind.value.field);
    cur = kind.value.operand;
  }
  return undefined;
}

class Checker {
  private nodes = 0;
  private usesNow = false;

  constructor(private readonly ctx: CheckContext) {}

  run(expr: Expr): CheckResult {
    this.walk(expr, 1, 0, new Set());
    return { usesNow: this.usesNow };
  }

  private fail(e: Expr, reason: string): never {
    throw new CelCompileError(reason, this.ctx.position(e.id));
  }

  private count(e: Expr, depth: number): void {
    const { maxAstNodes, maxDepth } = this.ctx.limits;
    if (++this.nodes > maxAstNodes) this.fail(e, `expression too large: more than ${maxAstNodes} nodes`);
    if (depth > maxDepth) this.fail(e, `expression nested too deeply: more than ${maxDepth} levels`);
  }

  private walk(e: Expr, depth: number, comprehensions: number, scope: ReadonlySet<string>): void {
    this.count(e, depth);
    const kind = e.exprKind;
    switch (kind.case) {
      case "constExpr":
        return;
      case "identExpr":
        this.reference(e, [kind.value.name], scope);
        return;
      case "selectExpr": {
        const select = kind.value;
        if (select.operand === undefined) this.fail(e, "invalid field selection");
        const parts = select.testOnly ? undefined : qualifiedParts(e);
        if (parts !== undefined) {
          // The whole chain resolves as one name (a variable plus fields, or a type).
          let cur: Expr | undefined = select.operand;
          let d = depth;
          while (cur !== undefined && cur.exprKind.case === "selectExpr") {
            this.count(cur, ++d);
            cur = cur.exprKind.value.operand;
          }
          if (cur !== undefined) this.count(cur, d + 1);
          this.reference(e, parts, scope);
          return;
        }
        this.walk(select.operand, depth + 1, comprehensions, scope);
        return;
      }
      case "callExpr":
        this.call(e, depth, comprehensions, scope);
        return;
      case "listExpr":
        if (kind.value.optionalIndices.length > 0) this.fail(e, UNSUPPORTED_OPTIONAL);
        for (const el of kind.value.elements) this.walk(el, depth + 1, comprehensions, scope);
        return;
      case "structExpr": {
        const typeName = kind.value.messageName;
        if (typeName !== "" && !candidateNames(this.ctx.container, typeName).some((n) => this.ctx.env.registry.getMessage(n))) {
          this.fail(e, `unknown message type ${typeName}`);
        }
        for (const entry of kind.value.entries) {
          if (entry.optionalEntry) this.fail(e, UNSUPPORTED_OPTIONAL);
          if (entry.keyKind.case === "mapKey") this.walk(entry.keyKind.value, depth + 1, comprehensions, scope);
          if (entry.value !== undefined) this.walk(entry.value, depth + 1, comprehensions, scope);
        }
        return;
      }
      case "comprehensionExpr": {
        const c = kind.value;
        if (c.iterVar2 !== "") this.fail(e, "two-variable comprehensions are not supported");
        if (comprehensions + 1 > this.ctx.limits.maxComprehensionDepth) {
          this.fail(e, `comprehensions nested too deeply: more than ${this.ctx.limits.maxComprehensionDepth} levels`);
        }
        const parts = [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result];
        if (parts.some((p) => p === undefined)) this.fail(e, "invalid comprehension");
        const [range, init, cond, step, result] = parts as Expr[];
        this.walk(range, depth + 1, comprehensions, scope);
        this.walk(init, depth + 1, comprehensions, scope);
        const loopScope = new Set(scope).add(c.iterVar).add(c.accuVar);
        this.walk(cond, depth + 1, comprehensions + 1, loopScope);
        this.walk(step, depth + 1, comprehensions + 1, loopScope);
        this.walk(result, depth + 1, comprehensions, new Set(scope).add(c.accuVar));
        return;
      }
      default:
        this.fail(e, "invalid expression");
    }
  }

  private call(e: Expr, depth: number, comprehensions: number, scope: ReadonlySet<string>): void {
    if (e.exprKind.case !== "callExpr") return;
    const call = e.exprKind.value;
    const fn = call.function;
    const walkArgs = () => {
      for (const arg of call.args) this.walk(arg, depth + 1, comprehensions, scope);
    };
    if (OPTIONAL_OPERATORS.has(fn)) this.fail(e, UNSUPPORTED_OPTIONAL);
    if (PLANNER_OPERATORS.has(fn)) {
      if (call.target !== undefined) this.walk(call.target, depth + 1, comprehensions, scope);
      walkArgs();
      return;
    }
    if (call.target === undefined) {
      if (!this.hasOverload(fn, false, call.args.length)) {
        if (fn === "has") this.fail(e, "has() needs a field selection, as in has(message.field)");
        this.fail(e, this.unknownFunction(fn, false, call.args.length));
      }
      walkArgs();
      return;
    }
    // A qualified global function such as strings.quote(x): the planner tries
    // that before treating the call as a method on a value.
    const qualifier = qualifiedParts(call.target);
    if (qualifier !== undefined) {
      const name = `${qualifier.join(".")}.${fn}`;
      const found = candidateNames(this.ctx.container, name).find((n) => this.ctx.env.funcs.find(n) !== undefined);
      if (found !== undefined) {
        if (!this.hasOverload(found, false, call.args.length)) this.fail(e, this.unknownFunction(found, false, call.args.length));
        // The target names the function; it is not evaluated.
        this.count(call.target, depth + 1);
        walkArgs();
        return;
      }
      if (!this.isVariableRoot(qualifier[0], scope)) {
        if (name.startsWith("cel.")) this.fail(e, `${name}() is not supported (no cel.bind or cel.block)`);
        if (name.startsWith("optional.")) this.fail(e, UNSUPPORTED_OPTIONAL);
        if (name.startsWith("math.")) this.fail(e, `${name}() is not available: the CEL math extension is not supported`);
      }
    }
    if (!this.hasOverload(fn, true, call.args.length)) {
      if (call.args.length === 3 && TWO_VARIABLE_MACROS.has(fn)) {
        this.fail(e, `two-variable macros such as ${fn}(k, v, ...) are not supported`);
      }
      if (OPTIONAL_METHODS.has(fn) && !this.hasAnyOverload(fn)) this.fail(e, UNSUPPORTED_OPTIONAL);
      this.fail(e, this.unknownFunction(fn, true, call.args.length));
    }
    this.walk(call.target, depth + 1, comprehensions, scope);
    walkArgs();
  }

  private hasAnyOverload(name: string): boolean {
    return this.ctx.env.funcs.find(name) !== undefined;
  }

  private hasOverload(name: string, method: boolean, arity: number): boolean {
    const group = this.ctx.env.funcs.find(name);
    if (group === undefined) return false;
    for (const f of group) {
      if ((f.target !== undefined) === method && f.arguments.length === arity) return true;
    }
    return false;
  }

  private unknownFunction(name: string, method: boolean, arity: number): string {
    const what = method ? `method ${name}()` : `function ${name}()`;
    const group = this.ctx.env.funcs.find(name);
    if (group === undefined) return `unknown ${what}`;
    const kinds = new Set([...group].map((f) => f.target !== undefined));
    if (!kinds.has(method)) {
      return method
        ? `${name}() is a function, not a method: call it as ${name}(x)`
        : `${name}() is a method: call it as x.${name}()`;
    }
    return `no overload of ${what} takes ${arity} argument${arity === 1 ? "" : "s"}`;
  }

  private isVariableRoot(first: string, scope: ReadonlySet<string>): boolean {
    if (scope.has(first)) return true;
    return candidateNames(this.ctx.container, first).some((n) => this.ctx.variables.has(n));
  }

  /** Checks that an identifier (with field selections) resolves as the planner will resolve it. */
  private reference(e: Expr, parts: readonly string[], scope: ReadonlySet<string>): void {
    if (scope.has(parts[0])) return;
    const { variables, container } = this.ctx;
    for (let i = parts.length; i >= 1; i--) {
      const name = parts.slice(0, i).join(".");
      for (const candidate of candidateNames(container, name)) {
        if (variables.has(candidate)) {
          if (candidate === "now" && this.ctx.implicitNow) this.usesNow = true;
          return;
        }
        if (i === parts.length && this.isTypeOrEnum(candidate)) return;
      }
    }
    this.fail(e, `undeclared reference to '${parts.join(".")}'`);
  }

  private isTypeOrEnum(name: string): boolean {
    if (TYPE_NAMES.has(name)) return true;
    const registry = this.ctx.env.registry;
    if (registry.getMessage(name) !== undefined) return true;
    const dot = name.lastIndexOf(".");
    if (dot > 1) {
      const enumType = registry.getEnum(name.slice(0, dot));
      const valueName = name.slice(dot + 1);
      if (enumType?.values.some((v) => v.name === valueName)) return true;
    }
    return false;
  }
}
