/**
 * The type checker proper: one walk over @bufbuild/cel's parsed AST (the same
 * parse the runtime plans), computing a type per node and reporting what is
 * known to fail. Macros arrive expanded into comprehensions; sourceInfo's
 * macroCalls tell which macro each one was.
 */
import type { Registry } from "@bufbuild/protobuf";
import type { Constant, Expr, Expr_Call, Expr_Comprehension, Expr_CreateStruct } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { closest } from "../../util/suggest.js";
import { forEachChild } from "../ast.js";
import { validateRe2 } from "../regex.js";
import type { FunctionTable, Overload } from "./functions.js";
import { messageCheckType, messageFields } from "./schema-types.js";
import { UNSUPPORTED_OPTIONAL } from "./syntax.js";
import { closingAfter, identifierEnd, literalEnd, skipTrivia, skipTriviaAndParens } from "./source.js";
import type { Range, SourceText } from "./source.js";
import {
  EMPTY,
  T,
  formatCheckType,
  isAssignable,
  isComparable,
  joinTypes,
  listOf,
  mapOf,
  nonNull,
  sameType,
} from "./types.js";
import type { CheckType } from "./types.js";

export type DiagnosticCode =
  | "syntax"
  | "unknown-field"
  | "unknown-variable"
  | "unknown-function"
  | "no-matching-overload"
  | "type-mismatch"
  | "unsupported"
  | "limit"
  | "regex"
  | "enum-symbol"
  | "has-always-true";

/** Findings that do not make the expression wrong: it still has a type. */
export const ADVISORY_CODES: ReadonlySet<DiagnosticCode> = new Set(["has-always-true"]);

export interface Finding extends Range {
  readonly code: DiagnosticCode;
  readonly message: string;
}

export interface CheckContext {
  readonly source: SourceText;
  readonly positions: { readonly [id: string]: number };
  readonly macroCalls: { readonly [id: string]: Expr };
  readonly funcs: FunctionTable;
  /** The registry the runtime resolves types in (with the well-known types). */
  readonly registry: Registry;
  readonly variables: Readonly<Record<string, CheckType>>;
}

/** Identifiers the runtime resolves to type values (src/cel/check.ts accepts the same). */
const TYPE_NAMES = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"]);
const TWO_VARIABLE_MACROS = new Set(["all", "exists", "existsOne", "exists_one", "transformList", "transformMap", "transformMapEntry"]);
const MACROS = new Set(["all", "exists", "exists_one", "existsOne", "map", "filter"]);
const OPTIONAL_METHODS = new Set(["hasValue", "orValue", "value", "or", "optMap", "optFlatMap"]);

/** How operators read in messages. */
const OPERATOR_TEXT: Readonly<Record<string, string>> = {
  "_+_": "+",
  "_-_": "-",
  "_*_": "*",
  "_/_": "/",
  "_%_": "%",
  "-_": "-",
  "!_": "!",
  "_<_": "<",
  "_<=_": "<=",
  "_>_": ">",
  "_>=_": ">=",
  "_==_": "==",
  "_!=_": "!=",
  "_&&_": "&&",
  "_||_": "||",
  "@in": "in",
  "_[_]": "[",
  "_?_:_": "?",
};

type Scope = { readonly name: string; readonly type: CheckType; readonly parent: Scope } | undefined;

function lookup(scope: Scope, name: string): CheckType | undefined {
  for (let s = scope; s !== undefined; s = s.parent) if (s.name === name) return s.type;
  return undefined;
}

function bind(scope: Scope, name: string, type: CheckType): Scope {
  return { name, type: type === EMPTY ? T.dyn : type, parent: scope };
}

/** `a.b.c` as ["a","b","c"] (and the nodes: ident, then each select) when `e` is a chain of selections on an identifier. */
export function qualifiedChain(e: Expr): { parts: string[]; nodes: Expr[] } | undefined {
  const parts: string[] = [];
  const nodes: Expr[] = [];
  let cur: Expr | undefined = e;
  while (cur !== undefined) {
    const kind: Expr["exprKind"] = cur.exprKind;
    if (kind.case === "identExpr") {
      parts.push(kind.value.name);
      nodes.push(cur);
      return { parts: parts.reverse(), nodes: nodes.reverse() };
    }
    if (kind.case !== "selectExpr" || kind.value.testOnly) return undefined;
    parts.push(kind.value.field);
    nodes.push(cur);
    cur = kind.value.operand;
  }
  return undefined;
}

function boolish(t: CheckType): boolean {
  const n = nonNull(t);
  return n.kind === "bool" || n.kind === "dyn";
}

function typeList(types: readonly CheckType[]): string {
  return `(${types.map(formatCheckType).join(", ")})`;
}

/** " (did you mean 'x'?)" for the nearest candidate: within a third of the name's length, 1 to 2 edits. */
function didYouMean(name: string, candidates: Iterable<string>): string {
  const best = closest(name, candidates, Math.min(2, Math.max(1, Math.floor(name.length / 3))));
  return best === undefined ? "" : ` (did you mean '${best}'?)`;
}

export class Checker {
  readonly findings: Finding[] = [];
  /** The types of the branches of every `?:`, for alternatives(). */
  private readonly branchTypes = new Map<Expr, CheckType>();
  private readonly spans = new Map<bigint, Range>();
  private nodesById: Map<bigint, Expr> | undefined;
  private root: Expr | undefined;
  private readonly text: string;

  constructor(private readonly ctx: CheckContext) {
    this.text = ctx.source.text;
  }

  run(root: Expr): CheckType {
    this.root = root;
    return this.check(root, undefined);
  }

  /**
   * The types `e` (a node of the checked tree) may yield: one per leaf branch
   * of nested `?:`, where the join would blur different types into dyn.
   */
  alternatives(e: Expr, type: CheckType): CheckType[] {
    const kind = e.exprKind;
    if (kind.case === "callExpr" && kind.value.function === "_?_:_" && kind.value.target === undefined && kind.value.args.length === 3) {
      const [, a, b] = kind.value.args as [Expr, Expr, Expr];
      return [...this.alternatives(a, this.branchTypes.get(a) ?? T.dyn), ...this.alternatives(b, this.branchTypes.get(b) ?? T.dyn)];
    }
    return [type];
  }

  // ---- reporting ----

  private report(code: DiagnosticCode, range: Range, message: string): void {
    this.findings.push({ code, message, start: range.start, end: range.end });
  }

  private pos(e: Expr): number {
    return this.ctx.positions[e.id.toString()] ?? 0;
  }

  /** The whole extent of a sub-expression in the text. */
  span(e: Expr): Range {
    let s = this.spans.get(e.id);
    if (s === undefined) {
      s = this.computeSpan(e);
      this.spans.set(e.id, s);
    }
    return s;
  }

  private computeSpan(e: Expr): Range {
    const text = this.text;
    const pos = this.pos(e);
    const kind = e.exprKind;
    switch (kind.case) {
      case "constExpr": {
        const end = literalEnd(text, pos);
        return { start: pos, end: end < 0 ? pos : end };
      }
      case "identExpr": {
        const name = kind.value.name;
        if (name.startsWith("@")) return { start: pos, end: pos };
        if (text.startsWith(name, pos)) return { start: pos, end: pos + name.length };
        const i = skipTrivia(text, pos + (text[pos] === "." ? 1 : 0));
        return { start: pos, end: Math.max(pos, identifierEnd(text, i)) };
      }
      case "selectExpr": {
        const operand = kind.value.operand;
        if (operand === undefined) return { start: pos, end: pos };
        const field = this.fieldRange(e, operand, kind.value.field);
        if (kind.value.testOnly) return { start: pos, end: closingAfter(text, field.end, ")") };
        return { start: Math.min(this.span(operand).start, pos), end: field.end };
      }
      case "callExpr":
        return this.callSpan(e, kind.value, pos);
      case "listExpr": {
        const last = kind.value.elements[kind.value.elements.length - 1];
        return { start: pos, end: closingAfter(text, last === undefined ? pos + 1 : this.span(last).end, "]") };
      }
      case "structExpr": {
        const last = kind.value.entries[kind.value.entries.length - 1];
        const from = last?.value !== undefined ? this.span(last.value).end : text.indexOf("{", pos) + 1;
        return { start: pos, end: closingAfter(text, Math.max(from, pos), "}") };
      }
      case "comprehensionExpr": {
        const range = kind.value.iterRange;
        const start = range === undefined ? pos : this.span(range).start;
        const macro = this.ctx.macroCalls[e.id.toString()];
        const args = macro?.exprKind.case === "callExpr" ? macro.exprKind.value.args : [];
        const last = args.length > 0 ? this.nodeById(args[args.length - 1].id) : undefined;
        const from = last === undefined ? pos : this.span(last).end;
        return { start, end: closingAfter(text, from, ")") };
      }
      default:
        return { start: pos, end: pos };
    }
  }

  private callSpan(e: Expr, call: Expr_Call, pos: number): Range {
    const text = this.text;
    const fn = call.function;
    const args = call.args;
    if (call.target === undefined && fn in OPERATOR_TEXT) {
      if (fn === "_[_]" && args.length === 2) {
        return { start: this.span(args[0]).start, end: closingAfter(text, this.span(args[1]).end, "]") };
      }
      if ((fn === "!_" || fn === "-_") && args.length === 1) {
        return { start: Math.min(skipTrivia(text, pos), this.span(args[0]).start), end: this.span(args[0]).end };
      }
      if (args.length > 0) return { start: this.span(args[0]).start, end: this.span(args[args.length - 1]).end };
    }
    if (fn === "@not_strictly_false" && args.length === 1) return this.span(args[0]);
    const start = call.target === undefined ? pos : this.span(call.target).start;
    const name = this.nameRange(e, call);
    const last = args[args.length - 1];
    const from = last === undefined ? skipTrivia(text, name.end) + 1 : this.span(last).end;
    return { start, end: closingAfter(text, from, ")") };
  }

  private nodeById(id: bigint): Expr | undefined {
    if (this.nodesById === undefined) {
      const index = new Map<bigint, Expr>();
      const visit = (e: Expr): void => {
        index.set(e.id, e);
        forEachChild(e, visit);
      };
      if (this.root !== undefined) visit(this.root);
      this.nodesById = index;
    }
    return this.nodesById.get(id);
  }

  /** The field name of a selection (also of has(x.f), whose node sits at `has`). */
  private fieldRange(e: Expr, operand: Expr, field: string): Range {
    const text = this.text;
    let i = skipTriviaAndParens(text, this.span(operand).end);
    if (text[i] === ".") i = skipTrivia(text, i + 1);
    if (text.startsWith(field, i)) return { start: i, end: i + field.length };
    const pos = this.pos(e);
    const j = skipTrivia(text, text[pos] === "." ? pos + 1 : pos);
    return { start: j, end: j + field.length };
  }

  /** The function or method name of a call. */
  private nameRange(e: Expr, call: Expr_Call): Range {
    const text = this.text;
    const pos = this.pos(e);
    const fn = call.function;
    if (call.target !== undefined) {
      let i = skipTriviaAndParens(text, this.span(call.target).end);
      if (text[i] === ".") i = skipTrivia(text, i + 1);
      if (text.startsWith(fn, i)) return { start: i, end: i + fn.length };
      const j = skipTrivia(text, text[pos] === "." ? pos + 1 : pos);
      return { start: j, end: j + fn.length };
    }
    const i = text[pos] === "." ? pos + 1 : pos;
    return { start: pos, end: text.startsWith(fn, i) ? i + fn.length : identifierEnd(text, i) };
  }

  /** The operator token of an operation. */
  private operatorRange(e: Expr, call: Expr_Call): Range {
    const text = this.text;
    const op = OPERATOR_TEXT[call.function] ?? "";
    const args = call.args;
    let i: number;
    if (call.function === "!_" || call.function === "-_") i = skipTrivia(text, this.pos(e));
    else if (args.length > 0) i = skipTriviaAndParens(text, this.span(args[0]).end);
    else i = this.pos(e);
    if (!text.startsWith(op, i)) i = skipTrivia(text, this.pos(e));
    return { start: i, end: i + (text.startsWith(op, i) ? op.length : 1) };
  }

  // ---- walking ----

  private check(e: Expr, scope: Scope): CheckType {
    const kind = e.exprKind;
    switch (kind.case) {
      case "constExpr":
        return constantType(kind.value);
      case "identExpr":
        return this.identifier(e, kind.value.name, scope);
      case "selectExpr": {
        const { operand, field, testOnly } = kind.value;
        if (operand === undefined) return T.dyn;
        if (!testOnly) {
          const chain = qualifiedChain(e);
          if (chain !== undefined) return this.qualified(chain.parts, chain.nodes, scope);
        }
        return this.select(e, operand, this.check(operand, scope), field, testOnly);
      }
      case "callExpr":
        return this.call(e, kind.value, scope);
      case "listExpr": {
        let element: CheckType = EMPTY;
        for (const el of kind.value.elements) element = joinTypes(element, this.check(el, scope));
        return listOf(element);
      }
      case "structExpr":
        return kind.value.messageName === "" ? this.mapLiteral(kind.value, scope) : this.messageLiteral(e, kind.value, scope);
      case "comprehensionExpr":
        return this.comprehension(e, kind.value, scope);
      default:
        return T.dyn;
    }
  }

  private variable(name: string): CheckType | undefined {
    const vars = this.ctx.variables;
    if (Object.prototype.hasOwnProperty.call(vars, name)) return vars[name];
    // The runtime binds `now` itself unless a variable of that name is declared.
    if (name === "now") return T.timestamp;
    return undefined;
  }

  /**
   * Resolves the longest prefix of a dotted name that names something: a
   * comprehension variable, a declared variable, a type, or an enum value.
   */
  private resolve(parts: readonly string[], scope: Scope): { type: CheckType; consumed: number } | undefined {
    const local = lookup(scope, parts[0]);
    if (local !== undefined) return { type: local, consumed: 1 };
    const names = parts[0].startsWith(".") ? [parts[0].slice(1), ...parts.slice(1)] : parts;
    for (let i = names.length; i >= 1; i--) {
      const name = names.slice(0, i).join(".");
      const v = this.variable(name);
      if (v !== undefined) return { type: v, consumed: i };
      if (i === names.length) {
        const t = this.typeOrEnum(name);
        if (t !== undefined) return { type: t, consumed: i };
      }
    }
    return undefined;
  }

  private typeOrEnum(name: string): CheckType | undefined {
    if (TYPE_NAMES.has(name)) return T.type;
    const registry = this.ctx.registry;
    if (registry.getMessage(name) !== undefined || registry.getEnum(name) !== undefined) return T.type;
    const dot = name.lastIndexOf(".");
    if (dot > 0) {
      const e = registry.getEnum(name.slice(0, dot));
      const value = name.slice(dot + 1);
      if (e?.values.some((v) => v.name === value)) return T.int;
    }
    return undefined;
  }

  private identifier(e: Expr, name: string, scope: Scope): CheckType {
    const r = this.resolve([name], scope);
    if (r !== undefined) return r.type;
    this.unknownVariable(e, name, scope);
    return T.dyn;
  }

  private unknownVariable(e: Expr, name: string, scope: Scope, more = ""): void {
    const known = new Set(Object.keys(this.ctx.variables));
    for (let s = scope; s !== undefined; s = s.parent) known.add(s.name);
    const range = this.span(e);
    this.report("unknown-variable", range, `undeclared reference to '${name}'${didYouMean(name, known)}${more}`);
  }

  private qualified(parts: string[], nodes: Expr[], scope: Scope): CheckType {
    const r = this.resolve(parts, scope);
    if (r === undefined) {
      this.unknownVariable(nodes[0], parts[0], scope);
      return T.dyn;
    }
    let t = r.type;
    for (let k = r.consumed; k < parts.length; k++) t = this.select(nodes[k], nodes[k - 1], t, parts[k], false);
    return t;
  }

  /** `operand.field`, or has(operand.field) when testOnly. */
  private select(e: Expr, operand: Expr, operandType: CheckType, field: string, testOnly: boolean): CheckType {
    const result = (t: CheckType) => (testOnly ? T.bool : t);
    const t = nonNull(operandType);
    switch (t.kind) {
      case "dyn":
        return result(T.dyn);
      case "record": {
        const f = t.fields.get(field);
        if (f === undefined) {
          this.unknownField(e, operand, field, t.fields.keys(), formatCheckType(t));
          return result(T.dyn);
        }
        if (testOnly && t.required?.has(field) === true) {
          const nullHint = f.kind === "optional-null" ? `; to test for null, write ${this.text.slice(this.span(operand).start, this.span(operand).end)}.${field} != null` : "";
          this.report("has-always-true", this.span(e), `has() is always true here: every ${formatCheckType(t)} holds '${field}'${nullHint}`);
        }
        return result(f);
      }
      case "message": {
        const desc = this.ctx.registry.getMessage(t.typeName);
        if (desc === undefined) return result(T.dyn);
        const fields = messageFields(desc);
        const f = fields.get(field);
        if (f === undefined) {
          this.unknownField(e, operand, field, fields.keys(), t.typeName);
          return result(T.dyn);
        }
        return result(f);
      }
      case "map":
        if (t.key.kind !== "string" && t.key.kind !== "dyn") {
          this.report("type-mismatch", this.fieldRange(e, operand, field), `cannot select '${field}' of ${formatCheckType(t)}: only maps with string keys have fields`);
          return result(T.dyn);
        }
        return result(t.value === EMPTY ? T.dyn : t.value);
      default: {
        const what = testOnly ? `has() needs a field of a message, record or map, but ${formatCheckType(operandType)} has no fields` : `type ${formatCheckType(operandType)} has no fields (selecting '${field}')`;
        this.report("type-mismatch", this.fieldRange(e, operand, field), what);
        return result(T.dyn);
      }
    }
  }

  private unknownField(e: Expr, operand: Expr, field: string, known: Iterable<string>, owner: string): void {
    this.report("unknown-field", this.fieldRange(e, operand, field), `unknown field '${field}' in ${owner}${didYouMean(field, known)}`);
  }

  // ---- literals ----

  private mapLiteral(s: Expr_CreateStruct, scope: Scope): CheckType {
    let key: CheckType = EMPTY;
    let value: CheckType = EMPTY;
    for (const entry of s.entries) {
      if (entry.keyKind.case === "mapKey") key = joinTypes(key, this.check(entry.keyKind.value, scope));
      if (entry.value !== undefined) value = joinTypes(value, this.check(entry.value, scope));
    }
    return mapOf(key, value);
  }

  private messageLiteral(e: Expr, s: Expr_CreateStruct, scope: Scope): CheckType {
    const name = s.messageName.replace(/^\./, "");
    const desc = this.ctx.registry.getMessage(name);
    const nameRange = { start: this.pos(e), end: this.pos(e) + s.messageName.length };
    if (desc === undefined) {
      if (TYPE_NAMES.has(name) || this.variable(name) !== undefined) {
        this.report("type-mismatch", nameRange, `'${name}' is not a message type`);
      } else {
        this.report("unknown-variable", nameRange, `unknown message type '${name}'`);
      }
      for (const entry of s.entries) if (entry.value !== undefined) this.check(entry.value, scope);
      return T.dyn;
    }
    const fields = messageFields(desc);
    for (const entry of s.entries) {
      const valueType = entry.value === undefined ? T.dyn : this.check(entry.value, scope);
      if (entry.keyKind.case !== "fieldKey") continue;
      const field = entry.keyKind.value;
      const fieldType = fields.get(field);
      const at = this.ctx.positions[entry.id.toString()] ?? nameRange.start;
      if (fieldType === undefined) {
        this.report("unknown-field", { start: at, end: at + field.length }, `unknown field '${field}' in ${desc.typeName}${didYouMean(field, fields.keys())}`);
        continue;
      }
      if (!isAssignable(valueType, fieldType)) {
        this.report(
          "type-mismatch",
          entry.value === undefined ? { start: at, end: at } : this.span(entry.value),
          `field '${field}' of ${desc.typeName} is ${formatCheckType(fieldType)}, but the value is ${formatCheckType(valueType)}`,
        );
      }
    }
    return messageCheckType(desc);
  }

  // ---- comprehensions (macros) ----

  /** The type an iteration variable takes over `range`, or undefined when it cannot be iterated. */
  private iterationType(range: CheckType): CheckType | undefined {
    const t = nonNull(range);
    switch (t.kind) {
      case "dyn":
        return T.dyn;
      case "list":
        return t.element;
      case "map":
        return t.key;
      case "record":
        return T.string;
      default:
        return undefined;
    }
  }

  private comprehension(e: Expr, c: Expr_Comprehension, scope: Scope): CheckType {
    const macro = this.ctx.macroCalls[e.id.toString()];
    const fn = macro?.exprKind.case === "callExpr" ? macro.exprKind.value.function : "";
    const argc = macro?.exprKind.case === "callExpr" ? macro.exprKind.value.args.length : 0;
    if (c.iterRange === undefined) return T.dyn;
    const rangeType = this.check(c.iterRange, scope);
    let element = this.iterationType(rangeType);
    if (element === undefined) {
      this.report(
        "type-mismatch",
        this.span(c.iterRange),
        `${fn === "" ? "a comprehension" : `${fn}()`} cannot iterate over ${formatCheckType(rangeType)}: expected a list or a map`,
      );
      element = T.dyn;
    }
    const inner = bind(scope, c.iterVar, element);
    const step = c.loopStep;
    const call = (x: Expr | undefined) => (x?.exprKind.case === "callExpr" ? x.exprKind.value : undefined);
    const listElement = (x: Expr | undefined) => {
      const add = call(x);
      const list = add?.function === "_+_" ? add.args[1] : undefined;
      return list?.exprKind.case === "listExpr" ? list.exprKind.value.elements[0] : undefined;
    };
    switch (fn) {
      case "all":
      case "exists": {
        const test = call(step)?.args[1];
        if (test === undefined) break;
        this.predicate(test, inner, fn);
        return T.bool;
      }
      case "exists_one":
      case "existsOne": {
        const test = call(step)?.args[0];
        if (test === undefined) break;
        this.predicate(test, inner, fn);
        return T.bool;
      }
      case "map": {
        const ternary = argc === 3 ? call(step) : undefined;
        if (argc === 3) {
          const test = ternary?.args[0];
          const transform = listElement(ternary?.args[1]);
          if (test === undefined || transform === undefined) break;
          this.predicate(test, inner, fn);
          return listOf(this.check(transform, inner));
        }
        const transform = listElement(step);
        if (transform === undefined) break;
        return listOf(this.check(transform, inner));
      }
      case "filter": {
        const test = call(step)?.args[0];
        if (test === undefined) break;
        this.predicate(test, inner, fn);
        return listOf(element);
      }
    }
    return this.genericComprehension(c, scope, element);
  }

  private predicate(test: Expr, scope: Scope, macro: string): void {
    const t = this.check(test, scope);
    if (!boolish(t)) this.report("type-mismatch", this.span(test), `the condition of ${macro}() must be bool, not ${formatCheckType(t)}`);
  }

  private genericComprehension(c: Expr_Comprehension, scope: Scope, element: CheckType): CheckType {
    const init = c.accuInit === undefined ? T.dyn : this.check(c.accuInit, scope);
    const loop = bind(bind(scope, c.iterVar, element), c.accuVar, init);
    if (c.loopCondition !== undefined) this.check(c.loopCondition, loop);
    const step = c.loopStep === undefined ? init : this.check(c.loopStep, loop);
    const accu = joinTypes(init, step);
    return c.result === undefined ? accu : this.check(c.result, bind(scope, c.accuVar, accu));
  }

  // ---- calls ----

  private call(e: Expr, call: Expr_Call, scope: Scope): CheckType {
    const fn = call.function;
    if (call.target === undefined) {
      switch (fn) {
        case "_&&_":
        case "_||_":
          return this.logical(e, call, scope);
        case "_?_:_":
          return this.conditional(call, scope);
        case "_[_]":
          return this.index(e, call, scope);
        case "_==_":
        case "_!=_":
          return this.equality(e, call, scope);
        case "@in":
          return this.membership(e, call, scope);
        case "@not_strictly_false":
          for (const a of call.args) this.check(a, scope);
          return T.bool;
        case "has":
          this.report("syntax", this.span(e), "has() takes a field selection, as in has(message.field)");
          return T.bool;
      }
      return this.resolveCall(e, call, fn, undefined, call.args.map((a) => this.check(a, scope)));
    }
    // A qualified function name such as strings.quote(x), unless the target is a value.
    const chain = qualifiedChain(call.target);
    if (chain !== undefined && this.resolve(chain.parts, scope) === undefined) {
      const name = `${chain.parts.join(".")}.${fn}`;
      const range = { start: this.span(call.target).start, end: this.nameRange(e, call).end };
      if (this.ctx.funcs.find(name) !== undefined) {
        return this.resolveCall(e, call, name, undefined, call.args.map((a) => this.check(a, scope)), range);
      }
      // Unsupported: the arguments are not checked (cel.bind's first one is a new name).
      if (name.startsWith("cel.")) {
        this.report("unsupported", range, `${name}() is not supported by kontract's CEL runtime (no cel.bind or cel.block)`);
      } else if (name.startsWith("optional.")) {
        this.report("unsupported", range, UNSUPPORTED_OPTIONAL);
      } else if (name.startsWith("math.")) {
        this.report("unsupported", range, `${name}() is not available: kontract's CEL runtime has no math extension`);
      } else {
        if (chain.parts.length === 1) this.unknownVariable(chain.nodes[0], chain.parts[0], scope, ` (and there is no function ${name}())`);
        else this.report("unknown-function", range, `unknown function ${name}()`);
        for (const a of call.args) this.check(a, scope);
      }
      return T.dyn;
    }
    const targetType = this.check(call.target, scope);
    if (TWO_VARIABLE_MACROS.has(fn) && call.args.length >= 3 && this.ctx.funcs.find(fn) === undefined) {
      // Its variables are new names: the arguments are not checked.
      this.report("unsupported", this.nameRange(e, call), `two-variable comprehensions such as ${fn}(k, v, ...) are not supported by kontract's CEL runtime`);
      return T.dyn;
    }
    const argTypes = call.args.map((a) => this.check(a, scope));
    const type = this.resolveCall(e, call, fn, targetType, argTypes);
    if (fn === "matches") this.checkRegex(call);
    return type;
  }

  private checkRegex(call: Expr_Call): void {
    const pattern = call.args[0];
    if (pattern?.exprKind.case !== "constExpr" || pattern.exprKind.value.constantKind.case !== "stringValue") return;
    const problem = re2Problem(pattern.exprKind.value.constantKind.value);
    if (problem !== undefined) this.report("regex", this.span(pattern), `invalid RE2 regular expression: ${problem}`);
  }

  private displayName(fn: string): string {
    return OPERATOR_TEXT[fn] === undefined ? fn : `'${OPERATOR_TEXT[fn] === "[" ? "[]" : OPERATOR_TEXT[fn]}'`;
  }

  private resolveCall(e: Expr, call: Expr_Call, fn: string, receiver: CheckType | undefined, args: CheckType[], nameRange?: Range): CheckType {
    const isOperator = call.target === undefined && fn in OPERATOR_TEXT;
    const at = nameRange ?? (isOperator ? this.operatorRange(e, call) : this.nameRange(e, call));
    const method = receiver !== undefined;
    const group = this.ctx.funcs.find(fn);
    if (group === undefined) {
      this.unknownFunction(at, fn, method, call);
      return T.dyn;
    }
    const candidates = method ? group.methods : group.functions;
    if (candidates.length === 0) {
      this.report(
        "no-matching-overload",
        at,
        method ? `${fn}() is a function, not a method: call it as ${fn}(x)` : `${fn}() is a method: call it as x.${fn}()`,
      );
      return T.dyn;
    }
    const sameArity = candidates.filter((o) => o.params.length === args.length);
    if (sameArity.length === 0) {
      const arities = [...new Set(candidates.map((o) => o.params.length))].sort();
      this.report(
        "no-matching-overload",
        at,
        `${fn}() takes ${arities.join(" or ")} argument${arities.length === 1 && arities[0] === 1 ? "" : "s"}, not ${args.length}`,
      );
      return T.dyn;
    }
    const matching = sameArity.filter((o) => (o.receiver === undefined || argMatches(receiver!, o.receiver)) && o.params.every((p, i) => argMatches(args[i], p)));
    const applied = () => typeList(args);
    if (matching.length === 0) {
      const name = method ? `${formatCheckType(nonNull(receiver))}.${fn}()` : isOperator ? this.displayName(fn) : `${fn}()`;
      this.report("no-matching-overload", at, `no matching overload for ${name} applied to ${applied()}${hint(fn, args)}`);
      return T.dyn;
    }
    const refined = this.refine(fn, receiver, args, matching);
    if (refined === "mismatch") {
      this.report("no-matching-overload", at, `no matching overload for ${isOperator ? this.displayName(fn) : `${fn}()`} applied to ${applied()}`);
      return T.dyn;
    }
    return refined;
  }

  /** Result types of the generic overloads the runtime types loosely (list(dyn) and the like). */
  private refine(fn: string, receiver: CheckType | undefined, args: CheckType[], matching: Overload[]): CheckType | "mismatch" {
    if (fn === "_+_" && args.length === 2) {
      const [a, b] = args.map(nonNull);
      if (a.kind === "list" && b.kind === "list") {
        const x = a.element;
        const y = b.element;
        // As cel-go: list(A) + list(A); dyn and empty lists join anything.
        if (x !== EMPTY && y !== EMPTY && !isAssignable(x, y) && !isAssignable(y, x)) return "mismatch";
        return listOf(joinTypes(x, y));
      }
    }
    if (fn === "split" && receiver !== undefined) return listOf(T.string);
    if (fn === "join" && receiver !== undefined) {
      const r = nonNull(receiver);
      if (r.kind === "list" && r.element !== EMPTY && !isAssignable(r.element, T.string)) return "mismatch";
    }
    const first = matching[0].result;
    return matching.every((o) => sameType(o.result, first)) ? first : T.dyn;
  }

  private unknownFunction(at: Range, fn: string, method: boolean, call: Expr_Call): void {
    if (method && TWO_VARIABLE_MACROS.has(fn) && call.args.length >= 3) {
      this.report("unsupported", at, `two-variable comprehensions such as ${fn}(k, v, ...) are not supported by kontract's CEL runtime`);
      return;
    }
    if (method && MACROS.has(fn)) {
      const first = call.args[0];
      if (first !== undefined && first.exprKind.case !== "identExpr") {
        this.report("syntax", this.span(first), `the first argument of ${fn}() must be a variable name, as in x.${fn}(e, ...)`);
      } else {
        this.report("no-matching-overload", at, `${fn}() takes a variable and an expression, as in x.${fn}(e, ...)${fn === "map" ? " or x.map(e, condition, e2)" : ""}`);
      }
      return;
    }
    if (method && OPTIONAL_METHODS.has(fn)) {
      this.report("unsupported", at, UNSUPPORTED_OPTIONAL);
      return;
    }
    this.report("unknown-function", at, `unknown ${method ? "method" : "function"} ${fn}()`);
  }

  private logical(e: Expr, call: Expr_Call, scope: Scope): CheckType {
    const types = call.args.map((a) => this.check(a, scope));
    if (!types.every(boolish)) {
      this.report("no-matching-overload", this.operatorRange(e, call), `no matching overload for ${this.displayName(call.function)} applied to ${typeList(types)}: both sides must be bool`);
    }
    return T.bool;
  }

  private conditional(call: Expr_Call, scope: Scope): CheckType {
    const [cond, a, b] = call.args;
    if (cond === undefined || a === undefined || b === undefined) return T.dyn;
    const c = this.check(cond, scope);
    if (!boolish(c)) this.report("type-mismatch", this.span(cond), `the condition of ?: must be bool, not ${formatCheckType(c)}`);
    const ta = this.check(a, scope);
    const tb = this.check(b, scope);
    this.branchTypes.set(a, ta);
    this.branchTypes.set(b, tb);
    const t = joinTypes(ta, tb);
    return t === EMPTY ? T.dyn : t;
  }

  private equality(e: Expr, call: Expr_Call, scope: Scope): CheckType {
    const types = call.args.map((a) => this.check(a, scope));
    if (types.length === 2 && !isComparable(types[0], types[1])) {
      this.report("no-matching-overload", this.operatorRange(e, call), `no matching overload for ${this.displayName(call.function)} applied to ${typeList(types)}`);
    } else if (types.length === 2) {
      this.enumSymbol(types[0]!, call.args[1]!);
      this.enumSymbol(types[1]!, call.args[0]!);
    }
    return T.bool;
  }

  /** A string literal compared with an enum value must be one of its symbols: anything else never matches. */
  private enumSymbol(t: CheckType, literal: Expr): void {
    const n = nonNull(t);
    if (n.kind !== "string" || !("enum" in n)) return;
    const k = literal.exprKind;
    if (k.case !== "constExpr" || k.value.constantKind.case !== "stringValue") return;
    const symbol = k.value.constantKind.value;
    if (n.enum.symbols.includes(symbol)) return;
    const listed = n.enum.symbols.length <= 8 ? ` (symbols: ${n.enum.symbols.join(", ")})` : "";
    this.report("enum-symbol", this.span(literal), `'${symbol}' is not a symbol of ${n.enum.name}: the comparison never matches${didYouMean(symbol, n.enum.symbols)}${listed}`);
  }

  private membership(e: Expr, call: Expr_Call, scope: Scope): CheckType {
    const types = call.args.map((a) => this.check(a, scope));
    if (types.length !== 2) return T.bool;
    const [x, container] = types;
    const c = nonNull(container);
    let ok: boolean;
    switch (c.kind) {
      case "dyn":
        ok = true;
        break;
      case "list": {
        ok = isComparable(x, c.element);
        const list = call.args[1]!.exprKind;
        if (ok && list.case === "listExpr") for (const el of list.value.elements) this.enumSymbol(x!, el);
        break;
      }
      case "map":
        ok = isComparable(x, c.key);
        break;
      case "record":
        ok = isComparable(x, T.string);
        break;
      default:
        ok = false;
    }
    if (!ok) this.report("no-matching-overload", this.operatorRange(e, call), `no matching overload for 'in' applied to ${typeList(types)}`);
    return T.bool;
  }

  private index(e: Expr, call: Expr_Call, scope: Scope): CheckType {
    const [operand, key] = call.args;
    if (operand === undefined || key === undefined) return T.dyn;
    const ot = this.check(operand, scope);
    const kt = this.check(key, scope);
    const o = nonNull(ot);
    const k = nonNull(kt);
    const fail = () => {
      this.report("no-matching-overload", this.operatorRange(e, call), `no matching overload for '[]' applied to ${typeList([ot, kt])}`);
      return T.dyn;
    };
    switch (o.kind) {
      case "dyn":
        return T.dyn;
      case "list":
        if (k.kind !== "int" && k.kind !== "dyn") return fail();
        return o.element === EMPTY ? T.dyn : o.element;
      case "map":
        if (!isComparable(k, o.key)) return fail();
        return o.value === EMPTY ? T.dyn : o.value;
      case "record": {
        if (k.kind !== "string" && k.kind !== "dyn") return fail();
        const literal = key.exprKind.case === "constExpr" && key.exprKind.value.constantKind.case === "stringValue" ? key.exprKind.value.constantKind.value : undefined;
        if (literal === undefined) return T.dyn;
        const f = o.fields.get(literal);
        if (f === undefined) {
          this.report("unknown-field", this.span(key), `unknown field '${literal}' in ${formatCheckType(o)}${didYouMean(literal, o.fields.keys())}`);
          return T.dyn;
        }
        return f;
      }
      default:
        return fail();
    }
  }
}

const ARITHMETIC = new Set(["_+_", "_-_", "_*_", "_/_", "_%_"]);

/** A hint for the usual mistakes behind a failed overload. */
function hint(fn: string, args: readonly CheckType[]): string {
  const kinds = args.map((a) => nonNull(a).kind);
  if (ARITHMETIC.has(fn) && kinds.length === 2 && kinds.every((k) => k === "int" || k === "uint" || k === "double") && kinds[0] !== kinds[1]) {
    return ": CEL does not mix int, uint and double in arithmetic; write the literal as 2.0 or 2u, or convert with double(), int() or uint()";
  }
  for (const time of ["timestamp", "duration"] as const) {
    if (kinds.includes(time) && kinds.includes("string")) return `: convert the string with ${time}('...')`;
  }
  return "";
}

/** Rules repeat their patterns across contracts: validate each once. */
const re2Problems = new Map<string, string | undefined>();

function re2Problem(pattern: string): string | undefined {
  if (re2Problems.has(pattern)) return re2Problems.get(pattern);
  const problem = validateRe2(pattern);
  if (re2Problems.size >= 512) re2Problems.clear();
  re2Problems.set(pattern, problem);
  return problem;
}

function constantType(c: Constant): CheckType {
  switch (c.constantKind.case) {
    case "int64Value":
      return T.int;
    case "uint64Value":
      return T.uint;
    case "doubleValue":
      return T.double;
    case "stringValue":
      return T.string;
    case "bytesValue":
      return T.bytes;
    case "boolValue":
      return T.bool;
    case "nullValue":
      return T.null;
    default:
      return T.dyn;
  }
}

/** Whether an argument of type `actual` may be passed where the overload declares `param`. */
function argMatches(actual: CheckType, param: CheckType): boolean {
  if (param.kind === "dyn" || actual.kind === "dyn") return true;
  if (actual.kind === "optional-null") return param.kind === "null" || argMatches(actual.inner, param);
  switch (param.kind) {
    case "list":
      return actual.kind === "list" && argMatches(actual.element, param.element);
    case "map":
      if (actual.kind === "record") return argMatches(T.string, param.key);
      return actual.kind === "map" && argMatches(actual.key, param.key) && argMatches(actual.value, param.value);
    case "message":
      return actual.kind === "message" && actual.typeName === param.typeName;
    case "optional-null":
      return actual.kind === "null" || argMatches(actual, param.inner);
    default:
      return actual.kind === param.kind;
  }
}
