/**
 * The CEL runtime: one @bufbuild/cel environment per runtime (standard library,
 * strings extension, Confluent helpers, memoized RE2), programs parsed, checked
 * and planned once, then run per message without throwing.
 */
import { CelScalar, celEnv, celMethod, isCelError, parse, plan } from "@bufbuild/cel";
import type { CelEnv, CelError } from "@bufbuild/cel";
import type { Registry } from "@bufbuild/protobuf";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { UNSUPPORTED_OPTIONAL, checkExpr } from "./check.js";
import { CelCompileError } from "./errors.js";
import { charge, chargeFunc, createMeter, matchCost, spent, withCharges } from "./cost.js";
import type { Meter } from "./cost.js";
import { celFailure } from "./failure.js";
import type { CelFailure } from "./failure.js";
import { runtimeFuncs } from "./funcs.js";
import { resolveLimits } from "./limits.js";
import type { CelLimits } from "./limits.js";
import { createRe2Engine } from "./regex.js";
import type { Re2Engine } from "./regex.js";
import { compileNative } from "./native/index.js";
import type { CelShape } from "./shape.js";
import { celView, timestampValue } from "./view.js";

export interface CelRuntimeOptions {
  /** Protobuf types that programs may read or build (protobuf-es messages). */
  registry?: Registry;
  /** Overrides of DEFAULT_CEL_LIMITS. */
  limits?: Partial<CelLimits>;
  /** Protobuf package in which names resolve (CEL "container"); "" by default. */
  container?: string;
  /** The clock behind `now`, in epoch milliseconds. Defaults to Date.now. */
  clock?: () => number;
  /**
   * Compile typed programs (CelProgram.typed) to native JS closures when the
   * expression is within the fast path's subset. False runs everything on the
   * interpreter, e.g. to compare both (docs/cel.md, "Native fast path").
   * Defaults to true, unless the environment variable KONTRACT_CEL_NATIVE is "off".
   */
  native?: boolean;
}

export interface CelRuntime {
  readonly limits: CelLimits;
  /**
   * Parses, checks and plans `expr` once. `variables` are the names programs
   * may read (besides `now`). Throws CelCompileError.
   */
  compile(expr: string, variables: readonly string[]): CelProgram;
}

export interface CelProgram {
  readonly expression: string;
  readonly variables: readonly string[];
  /**
   * Evaluates with the given variables (native values wrapped with celView, or
   * values @bufbuild/cel accepts). Returns the CEL result, or a CelFailure.
   * Never throws.
   */
  run(bindings: Readonly<Record<string, unknown>>): unknown;
  /**
   * The program for variables held natively, as `shapes` describe them (one
   * shape per variable). Runs on the native fast path when the expression is
   * within its subset (and the runtime allows it), else on the interpreter
   * over celView(value, shape) bindings; the results are the same.
   */
  typed(shapes: Readonly<Record<string, CelShape>>): CelTypedProgram;
}

export interface CelTypedProgram {
  /** True when the native fast path evaluates this program. */
  readonly native: boolean;
  /**
   * Evaluates with native values, one per variable. Returns what run() returns
   * for the celView(value, shape) of each binding: the CEL result, or a
   * CelFailure. Never throws.
   */
  run(bindings: Readonly<Record<string, unknown>>): unknown;
  /**
   * On the native path, for a program of at most one variable: whether run()
   * with that variable bound to `value` returns exactly `true`, without a
   * bindings object (the shortcut for conditions that pass). Undefined
   * otherwise. Never throws.
   */
  readonly test: ((value: unknown) => boolean) | undefined;
}

type Position = { line: number; column: number } | undefined;

/** Maps AST ids of one expression to 1-based line/column. */
function positionsOf(expr: string, offsets: { readonly [id: string]: number }): (id: bigint | undefined) => Position {
  let lineStarts: number[] | undefined;
  return (id) => {
    if (id === undefined) return undefined;
    const offset = offsets[id.toString()];
    if (offset === undefined) return undefined;
    lineStarts ??= [0, ...[...expr.matchAll(/\r\n?|\n/g)].map((m) => m.index + m[0].length)];
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= offset) line++;
    return { line: line + 1, column: offset - lineStarts[line] + 1 };
  };
}

/** `.?field`, `[?elem]`, `{?key: v}`, `, ?elem`, or the `?` itself. */
const OPTIONAL_SYNTAX = /^([.[{,]\s*)?\?/;

/** A parse error as a CelCompileError with a short message and the parser's position. */
function parseError(expr: string, e: unknown): CelCompileError {
  if (e instanceof RangeError) {
    return new CelCompileError("expression nested too deeply to parse", undefined, { cause: e });
  }
  const err = e as { rawMessage?: unknown; message?: unknown; location?: { start?: { line?: number; column?: number; offset?: number } } };
  const start = err.location?.start;
  const at = typeof start?.line === "number" && typeof start.column === "number" ? { line: start.line, column: start.column } : undefined;
  // What follows the error position tells the unsupported syntax apart.
  const rest = typeof start?.offset === "number" ? expr.slice(start.offset, start.offset + 8) : "";
  if (/^\.?\s*`/.test(rest)) return new CelCompileError("quoted field names (`...`) are not supported", at, { cause: e });
  if (OPTIONAL_SYNTAX.test(rest)) {
    return new CelCompileError(UNSUPPORTED_OPTIONAL, at, { cause: e });
  }
  let reason = String(err.rawMessage ?? err.message ?? e);
  // Peggy lists every token it would have accepted; keep the message readable.
  const expecting = reason.indexOf(" but expecting ");
  if (expecting >= 0 && reason.length > expecting + 80) reason = reason.slice(0, expecting);
  return new CelCompileError(`syntax error: ${reason}`, at, { cause: e });
}

/** Distinct timestamp/duration strings whose parse is kept per runtime. */
const TIME_PARSE_CACHE_SIZE = 256;

const BINDINGS = Symbol("bindings");
const NOW = Symbol("now");

/**
 * Wraps bindings so that `now` is a timestamp taken at its first read and then
 * fixed for the rest of the evaluation, as Java's NowVariable does.
 */
function nowBinder(variables: readonly string[], clock: () => number): (b: Readonly<Record<string, unknown>>) => object {
  const proto: Record<string | symbol, unknown> = Object.create(null);
  for (const name of variables) {
    Object.defineProperty(proto, name, {
      get(this: Record<symbol, Record<string, unknown>>) {
        return this[BINDINGS][name];
      },
    });
  }
  Object.defineProperty(proto, "now", {
    get(this: Record<symbol, unknown>) {
      return (this[NOW] ??= nowTimestamp(clock()));
    },
  });
  return (bindings) => {
    const o = Object.create(proto) as Record<symbol, unknown>;
    o[BINDINGS] = bindings;
    return o;
  };
}

function nowTimestamp(ms: number): unknown {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  return timestampValue(BigInt(seconds), nanos);
}

/** What typed programs need from their runtime. */
interface NativeSupport {
  readonly enabled: boolean;
  /**
   * Whether the runtime has a type registry. Without one the interpreter cannot read protobuf
   * messages (it fails), so the fast path, which would read them, leaves them to it.
   */
  readonly messages: boolean;
  readonly env: CelEnv;
  readonly re2: Re2Engine;
}

class Program implements CelProgram {
  constructor(
    readonly expression: string,
    readonly variables: readonly string[],
    private readonly evaluate: (bindings: Record<string, unknown>) => unknown,
    private readonly bind: ((b: Readonly<Record<string, unknown>>) => object) | undefined,
    private readonly position: (id: bigint | undefined) => Position,
    private readonly root: Expr,
    private readonly native: NativeSupport,
    private readonly meter: Meter,
  ) {}

  typed(shapes: Readonly<Record<string, CelShape>>): CelTypedProgram {
    // `now` is a timestamp, which the fast path does not handle.
    const readsMessages = Object.values(shapes).some((s) => s.kind === "native" && s.message !== undefined);
    if (this.native.enabled && this.bind === undefined && (this.native.messages || !readsMessages)) {
      const position = this.position;
      let fast: ReturnType<typeof compileNative>;
      try {
        fast = compileNative(this.root, shapes, { env: this.native.env, re2: this.native.re2, position: (id) => position(id), meter: this.meter });
      } catch {
        // A fault in the fast path's compiler must not break the rule: the interpreter is always right.
        fast = undefined;
      }
      if (fast !== undefined) {
        const fastRun = fast.run;
        const interpreted = this.interpreted(shapes);
        // undefined: a message the fast path defers to the interpreter (native/values.ts, DEFERRED).
        return {
          native: true,
          run: (b) => {
            const r = fastRun(b);
            return r === undefined ? interpreted(b) : r;
          },
          test: fast.test,
        };
      }
    }
    return { native: false, test: undefined, run: this.interpreted(shapes) };
  }

  /** Evaluation on the interpreter, over views of the native values. */
  private interpreted(shapes: Readonly<Record<string, CelShape>>): (b: Readonly<Record<string, unknown>>) => unknown {
    const names = this.variables;
    const views: Record<string, unknown> = {};
    return (b) => {
      for (const name of names) {
        const shape = shapes[name];
        views[name] = shape === undefined ? b[name] : celView(b[name], shape);
      }
      return this.run(views);
    };
  }

  run(bindings: Readonly<Record<string, unknown>>): unknown {
    const meter = this.meter;
    meter.left = meter.budget;
    let result: unknown;
    try {
      result = this.evaluate((this.bind === undefined ? bindings : this.bind(bindings)) as Record<string, unknown>);
    } catch (e) {
      return meter.left < 0 ? spent(meter) : celFailure(e instanceof Error ? e.message : String(e), undefined, e);
    }
    if (meter.left < 0) return spent(meter);
    if (typeof result === "object" && result !== null && isCelError(result)) return this.failure(result);
    return result;
  }

  private failure(error: CelError): CelFailure {
    return celFailure(error.message, this.position(error.exprId), error);
  }
}

/** The kill switch for the fast path, for operators: KONTRACT_CEL_NATIVE=off. */
function nativeByDefault(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.KONTRACT_CEL_NATIVE !== "off";
}

export function createCelRuntime(options: CelRuntimeOptions = {}): CelRuntime {
  const limits = resolveLimits(options.limits);
  const container = options.container ?? "";
  const clock = options.clock ?? Date.now;
  const re2 = createRe2Engine(limits.regexCacheSize, limits.maxRegexProgramSize);
  const meter = createMeter(limits.maxCost);
  // `matches` on the memoized, size-limited RE2, charging cel-go's cost (not celEnv's `re2` option, which cannot charge).
  const matches = celMethod("matches", CelScalar.STRING, [CelScalar.STRING], CelScalar.BOOL, function (this: string, pattern: string) {
    charge(meter, matchCost(this.length, pattern.length));
    return re2.compile(pattern).test(this);
  });
  const env: CelEnv = celEnv({
    registry: options.registry,
    namespace: container,
    funcs: [...runtimeFuncs(TIME_PARSE_CACHE_SIZE, meter), matches, chargeFunc(meter)],
  });
  // Name resolution in a container is the interpreter's alone.
  const native: NativeSupport = { enabled: (options.native ?? nativeByDefault()) && container === "", messages: options.registry !== undefined, env, re2 };
  return {
    limits,
    compile(expr: string, variables: readonly string[]): CelProgram {
      if (expr.length > limits.maxExpressionLength) {
        throw new CelCompileError(`expression too long: ${expr.length} characters, the limit is ${limits.maxExpressionLength}`);
      }
      let parsed: ReturnType<typeof parse>;
      try {
        parsed = parse(expr);
      } catch (e) {
        throw parseError(expr, e);
      }
      const root = parsed.expr as Expr | undefined;
      if (root === undefined) throw new CelCompileError("empty expression");
      const offsets = parsed.sourceInfo?.positions ?? {};
      const position = positionsOf(expr, offsets);
      const declared = new Set(variables);
      const implicitNow = !declared.has("now");
      if (implicitNow) declared.add("now");
      const { usesNow } = checkExpr(root, { limits, variables: declared, implicitNow, container, env, position });
      let evaluate: (bindings: Record<string, unknown>) => unknown;
      try {
        evaluate = plan(env, withCharges(root)) as (bindings: Record<string, unknown>) => unknown;
      } catch (e) {
        throw new CelCompileError(`cannot plan expression: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
      }
      const names = Object.freeze([...variables]);
      return new Program(expr, names, evaluate, usesNow ? nowBinder(names, clock) : undefined, position, root, native, meter);
    },
  };
}
