/**
 * Type checks of JSONata migration rules against both versions of their edge
 * (src/engine/migrate.ts): an UPGRADE rule of version N turns the JSON of
 * N-1 into N, a DOWNGRADE rule the JSON of N into N-1, UPDOWN both.
 *
 * - Reads: field paths from the message root must exist in the version read.
 * - Result: an object the expression builds statically (an object
 *   constructor, `$merge`, `$sift($, …)`, the `~> |$|…|` transform) must hold
 *   the target version's required fields, with the right JSON types.
 *
 * Types come from the CEL checker's model of each schema (schemaContext), so
 * there is one description of a schema's fields. Whatever is not known
 * statically (variables, lambdas, nullable unions, which Avro's JSON wraps,
 * maps) is not checked: no false errors. Protobuf fields go by their JSON
 * names, as the JSON form writes them.
 */
import jsonata from "jsonata";
import { defaultKind, type Rule } from "../contract/model.js";
import { parseAvro } from "../format/avro/parse.js";
import { isRecordType } from "../format/avro/avsc.js";
import { ScalarType, type DescMessage } from "@bufbuild/protobuf";
import { T, listOf, mapOf, scalarCheckType, type CheckType } from "./cel-check.js";
import type { VersionSchema } from "./compat.js";
import type { LoadedDocument, RawDiagnostic } from "./load.js";
import { schemaContext } from "./schema-context.js";
import { exprLocator, positionOf } from "./where.js";

type RecordCheckType = Extract<CheckType, { kind: "record" }>;
type JsonKind = "string" | "number" | "boolean" | "object" | "array" | "null";

/** One version as a migration sees it: its JSON root record and the fields a result must hold. */
interface JsonView {
  readonly version: number;
  readonly root: RecordCheckType;
  readonly required: readonly string[];
}

/** What an expression statically yields: an object with known keys, a JSON scalar kind, or unknown. */
type Yield = ObjectYield | { readonly kind: "scalar"; readonly json: JsonKind } | undefined;
interface ObjectYield {
  readonly kind: "object";
  /** Keys it holds, with their JSON kind when known. */
  readonly fields: Map<string, JsonKind | undefined>;
  /** Keys it may lack (e.g. `$sift` with a filter we cannot read). */
  readonly maybe: Set<string>;
  /** It may hold other keys, of any type, overriding the known ones. */
  open: boolean;
}

interface AstNode {
  readonly type: string;
  readonly value?: unknown;
  readonly position?: number;
  readonly steps?: readonly AstNode[];
  readonly lhs?: AstNode | readonly (readonly [AstNode, AstNode])[];
  readonly rhs?: AstNode;
  readonly expressions?: readonly AstNode[];
  readonly arguments?: readonly AstNode[];
  readonly procedure?: AstNode;
  readonly body?: AstNode;
  readonly condition?: AstNode;
  readonly then?: AstNode;
  readonly else?: AstNode;
  readonly pattern?: AstNode;
  readonly update?: AstNode;
  readonly delete?: AstNode;
  readonly stages?: unknown;
  readonly predicate?: unknown;
  readonly focus?: unknown;
  readonly index?: unknown;
  readonly tuple?: unknown;
  readonly group?: unknown;
  readonly expression?: AstNode;
}

const NUMBER_FUNCTIONS = new Set(["number", "round", "floor", "ceil", "abs", "sum", "count", "max", "min", "average", "power", "sqrt", "length", "toMillis", "random"]);
const STRING_FUNCTIONS = new Set(["string", "uppercase", "lowercase", "substring", "substringBefore", "substringAfter", "trim", "pad", "join", "replace", "formatNumber", "formatBase", "formatInteger", "base64encode", "base64decode", "encodeUrl", "encodeUrlComponent", "decodeUrl", "decodeUrlComponent", "fromMillis", "now", "type"]);
const BOOLEAN_FUNCTIONS = new Set(["boolean", "not", "exists", "contains"]);
const ARITHMETIC = new Set(["+", "-", "*", "/", "%"]);
const BOOLEAN_OPERATORS = new Set(["=", "!=", "<", "<=", ">", ">=", "and", "or", "in"]);

/** Checks the migration rules of `newer`, the version that owns both directions of the edge. */
export function checkMigrationTypes(
  older: { readonly doc: LoadedDocument; readonly schema: VersionSchema },
  newer: { readonly doc: LoadedDocument; readonly schema: VersionSchema },
  report: (d: RawDiagnostic) => void,
): void {
  const list = newer.doc.doc.contract.ruleSet?.migrationRules;
  if (!Array.isArray(list) || list.length === 0) return;
  const olderView = jsonView(older.doc.doc.version, older.schema);
  const newerView = jsonView(newer.doc.doc.version, newer.schema);
  if (!olderView || !newerView) return;
  const indexed = list.map((rule, index) => ({ rule, index })).filter(({ rule }) => isObject(rule) && rule.disabled !== true && typeof rule.type === "string");
  const runs = (mode: string) => indexed.filter(({ rule }) => rule.mode === mode || rule.mode === "UPDOWN");
  checkDirection("UPGRADE", runs("UPGRADE"), olderView, newerView, newer.doc, report);
  checkDirection("DOWNGRADE", runs("DOWNGRADE").reverse(), newerView, olderView, newer.doc, report);
}

/** The JSON view of a version; undefined when it is not checked (a non-record root). */
function jsonView(version: number, schema: VersionSchema): JsonView | undefined {
  // proto3 JSON: fields by their JSON names, every one optional.
  const desc = (schema.compiled as { desc?: DescMessage }).desc;
  if (schema.compiled.type === "PROTOBUF") return desc === undefined ? undefined : { version, root: protobufJsonRecord(desc), required: [] };
  const root = schemaContext(schema.compiled).messageType;
  if (root.kind !== "record") return undefined;
  const required = requiredFields(schema);
  return required ? { version, root, required } : undefined;
}

/**
 * A Protobuf message as its JSON form names and types it: fields under their
 * JSON names; what that form writes in more than one way (64-bit integers as
 * strings or numbers, enums as names or numbers) and well-known types are dyn.
 */
function protobufJsonRecord(desc: DescMessage, seen = new Map<DescMessage, RecordCheckType>()): RecordCheckType {
  const known = seen.get(desc);
  if (known) return known;
  const fields = new Map<string, CheckType>();
  const record: RecordCheckType = { kind: "record", name: desc.typeName, fields };
  seen.set(desc, record);
  const valueType = (kind: "scalar" | "enum" | "message", scalar: ScalarType | undefined, message: DescMessage | undefined): CheckType => {
    if (kind === "enum") return T.dyn;
    if (kind === "message") return message === undefined || message.typeName.startsWith("google.protobuf.") ? T.dyn : protobufJsonRecord(message, seen);
    return scalar === undefined || LONG_SCALARS.has(scalar) ? T.dyn : scalarCheckType(scalar);
  };
  for (const f of desc.fields) {
    let t: CheckType;
    switch (f.fieldKind) {
      case "scalar":
        t = valueType("scalar", f.scalar, undefined);
        break;
      case "enum":
        t = T.dyn;
        break;
      case "message":
        t = valueType("message", undefined, f.message);
        break;
      case "list":
        t = listOf(valueType(f.listKind, f.scalar, f.message));
        break;
      case "map":
        t = mapOf(T.string, valueType(f.mapKind, f.scalar, f.message));
        break;
    }
    fields.set(f.jsonName, t);
  }
  return record;
}

const LONG_SCALARS: ReadonlySet<ScalarType> = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);

/** Root fields a JSON message must hold to convert: Avro fields without a default, JSON Schema `required`. */
function requiredFields(schema: VersionSchema): readonly string[] | undefined {
  if (schema.compiled.type === "AVRO") {
    try {
      const root = parseAvro(schema.contract, schema.references).root;
      return isRecordType(root) ? root.fields.filter((f) => f.defaultValue() === undefined).map((f) => f.name) : undefined;
    } catch {
      return undefined;
    }
  }
  try {
    const node = JSON.parse(schema.contract.schema) as unknown;
    if (!isObject(node) || node.$ref !== undefined) return undefined;
    return Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === "string") : [];
  } catch {
    return undefined;
  }
}

interface Indexed {
  readonly rule: Rule;
  readonly index: number;
}

/**
 * `runs` in execution order. The rules up to the first TRANSFORM read the
 * source version; the last TRANSFORM's result must fit the target.
 */
function checkDirection(direction: "UPGRADE" | "DOWNGRADE", runs: readonly Indexed[], source: JsonView, target: JsonView, doc: LoadedDocument, report: (d: RawDiagnostic) => void): void {
  const firstTransform = runs.findIndex(({ rule }) => defaultKind(rule) === "TRANSFORM");
  const lastTransform = runs.findLastIndex(({ rule }) => defaultKind(rule) === "TRANSFORM");
  runs.forEach(({ rule, index }, i) => {
    if (rule.type.toUpperCase() !== "JSONATA" || typeof rule.expr !== "string") return;
    const readsSource = firstTransform < 0 || i <= firstTransform;
    const isLast = i === lastTransform;
    if (!readsSource && !isLast) return;
    let ast: AstNode;
    try {
      ast = jsonata(rule.expr).ast() as AstNode;
    } catch {
      return; // jsonata-syntax, from the rule checks
    }
    const path = ["ruleSet", "migrationRules", index, "expr"] as const;
    const label = rule.name ? JSON.stringify(rule.name) : `#${index} of migrationRules`;
    const base = { subject: doc.doc.subject, version: doc.doc.version, path: `ruleSet.migrationRules[${index}].expr`, ...(rule.name ? { rule: rule.name } : {}) };
    if (readsSource) {
      const locator = exprLocator(doc, path, rule.expr);
      checkReads(ast, source.root, source.root, (name, at, record) => {
        const end = rule.expr!.charAt(at - 1) === "`" ? at - 1 : at;
        const start = Math.max(0, end - name.length);
        report({
          ...base,
          code: "migration-field-unknown",
          message: `rule ${label} reads field ${JSON.stringify(name)}, which v${source.version} does not have (${direction} rules read v${source.version}'s JSON)`,
          position: locator.at(start, end),
          hint: `fields of ${record.name || "the record"}: ${[...record.fields.keys()].join(", ")}`,
        });
      });
    }
    if (isLast) {
      const context = readsSource ? source.root : undefined;
      for (const problem of resultProblems(yieldOf(ast, context), target)) {
        report({ ...base, code: "migration-result-invalid", message: `rule ${label} (${direction}) ${problem}`, position: positionOf(doc, path) });
      }
    }
  });
}

// --- Reads ------------------------------------------------------------------

/** `end` is the parser's position: the offset just past the name (and its closing backquote). */
type UnknownField = (name: string, end: number, record: RecordCheckType) => void;

/** Reports names read from `context` (a known record) that it does not have. */
function checkReads(node: AstNode | undefined, context: CheckType | undefined, root: CheckType, unknown: UnknownField): void {
  if (!node || typeof node !== "object") return;
  switch (node.type) {
    case "path":
      pathType(node, context, root, unknown);
      return;
    case "unary":
      if (node.value === "{") for (const [k, v] of pairs(node)) (checkReads(k, context, root, unknown), checkReads(v, context, root, unknown));
      else if (node.value === "[") for (const e of node.expressions ?? []) checkReads(e, context, root, unknown);
      else checkReads(node.expression, context, root, unknown);
      return;
    case "binary":
      checkReads(node.lhs as AstNode, context, root, unknown);
      checkReads(node.rhs, context, root, unknown);
      return;
    case "apply":
      checkReads(node.lhs as AstNode, context, root, unknown);
      if (node.rhs?.type === "transform") {
        // The update runs on what the pattern matched: the input itself for `|$|`.
        checkReads(node.rhs.update, isContext(node.rhs.pattern) ? context : undefined, root, unknown);
      } else if (node.rhs?.type === "function") {
        for (const a of node.rhs.arguments ?? []) checkReads(a, context, root, unknown);
      }
      return;
    case "function":
    case "partial":
      for (const a of node.arguments ?? []) checkReads(a, context, root, unknown);
      return;
    case "condition":
      checkReads(node.condition, context, root, unknown);
      checkReads(node.then, context, root, unknown);
      checkReads(node.else, context, root, unknown);
      return;
    case "block":
      for (const e of node.expressions ?? []) checkReads(e, context, root, unknown);
      return;
    case "bind":
      checkReads(node.rhs, context, root, unknown);
      return;
    default:
      // Lambdas (their context is the caller's), regexes, sorts, literals.
      return;
  }
}

/**
 * The type a path yields, reporting unknown names on the way. Steps after
 * anything but a known record (or a list of them) are not followed.
 */
function pathType(node: AstNode, context: CheckType | undefined, root: CheckType, unknown: UnknownField | undefined): CheckType | undefined {
  let t: CheckType | undefined = context;
  const steps = node.steps ?? [];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    // Tuple bindings (@, #), predicates and groups change the context in ways not followed here.
    const plain = step.stages === undefined && step.predicate === undefined && step.focus === undefined && step.index === undefined && step.tuple === undefined && step.group === undefined;
    if (i === 0 && step.type === "variable" && (step.value === "" || step.value === "$")) {
      t = step.value === "" ? context : root;
    } else if (step.type === "name" && typeof step.value === "string") {
      const record = recordOf(t);
      if (record === undefined) {
        t = undefined;
      } else {
        t = record.fields.get(step.value);
        if (t === undefined && unknown) unknown(step.value, typeof step.position === "number" ? step.position : 0, record);
      }
    } else {
      if (unknown) checkReads(step, recordOf(t) ?? undefined, root, unknown);
      t = undefined;
    }
    if (!plain) t = undefined;
  }
  return t;
}

/** A record a name step can look into: the record itself, or the element of a list of records. */
function recordOf(t: CheckType | undefined): RecordCheckType | undefined {
  if (t?.kind === "record") return t;
  if (t?.kind === "list" && t.element.kind === "record") return t.element;
  return undefined;
}

// --- Results ----------------------------------------------------------------

/** What `node` yields when evaluated on a message of type `context` (undefined: not known). */
function yieldOf(node: AstNode | undefined, context: CheckType | undefined): Yield {
  if (!node || typeof node !== "object") return undefined;
  switch (node.type) {
    case "string":
      return scalar("string");
    case "number":
      return scalar("number");
    case "value":
      return node.value === null ? scalar("null") : typeof node.value === "boolean" ? scalar("boolean") : undefined;
    case "variable":
      return node.value === "" ? yieldOfType(context) : undefined;
    case "path":
      return yieldOfType(pathType(node, context, context ?? { kind: "dyn" }, undefined));
    case "unary":
      if (node.value === "{") return objectConstructor(node, context);
      if (node.value === "[") return scalar("array");
      if (node.value === "-") return scalar("number");
      return undefined;
    case "binary":
      if (ARITHMETIC.has(String(node.value))) return scalar("number");
      if (node.value === "&") return scalar("string");
      if (BOOLEAN_OPERATORS.has(String(node.value))) return scalar("boolean");
      return undefined;
    case "function":
      return functionYield(node, context);
    case "apply":
      return node.rhs?.type === "transform" && isContext(node.rhs.pattern) ? transformYield(yieldOf(node.lhs as AstNode, context), node.rhs, context) : undefined;
    case "block": {
      const last = node.expressions?.[node.expressions.length - 1];
      return last?.type === "bind" ? undefined : yieldOf(last, context);
    }
    default:
      return undefined;
  }
}

function scalar(json: JsonKind): Yield {
  return { kind: "scalar", json };
}

function yieldOfType(t: CheckType | undefined): Yield {
  if (t?.kind === "record") {
    const fields = new Map<string, JsonKind | undefined>();
    for (const [name, ft] of t.fields) fields.set(name, jsonKindOf(ft));
    return { kind: "object", fields, maybe: new Set(), open: false };
  }
  const json = t ? jsonKindOf(t) : undefined;
  return json ? scalar(json) : undefined;
}

/**
 * The JSON kind of a value of type `t` in the JSON form migrations see, when
 * it is certain. Nullable values are left out: Avro's JSON wraps them.
 */
function jsonKindOf(t: CheckType): JsonKind | undefined {
  switch (t.kind) {
    case "int":
    case "uint":
    case "double":
      return "number";
    case "string":
    case "bytes": // Avro's JSON encoding: one char per byte
      return "string";
    case "bool":
      return "boolean";
    case "null":
      return "null";
    case "record":
    case "map":
    case "message":
      return "object";
    case "list":
      return "array";
    default:
      // timestamp (a number in Avro, a string in JSON Schema), optional-null, dyn
      return undefined;
  }
}

function kindOf(y: Yield): JsonKind | undefined {
  return y === undefined ? undefined : y.kind === "object" ? "object" : y.json;
}

function objectConstructor(node: AstNode, context: CheckType | undefined): Yield {
  const out: ObjectYield = { kind: "object", fields: new Map(), maybe: new Set(), open: false };
  for (const [k, v] of pairs(node)) {
    if (k.type === "string" && typeof k.value === "string") out.fields.set(k.value, kindOf(yieldOf(v, context)));
    else out.open = true;
  }
  return out;
}

function functionYield(node: AstNode, context: CheckType | undefined): Yield {
  const name = node.procedure?.type === "variable" ? String(node.procedure.value) : undefined;
  if (name === undefined) return undefined;
  const args = node.arguments ?? [];
  if (name === "merge" && args.length === 1 && args[0]!.type === "unary" && args[0]!.value === "[") {
    return merge((args[0]!.expressions ?? []).map((e) => yieldOf(e, context)));
  }
  if (name === "sift" && args.length === 2) return sift(yieldOf(args[0], context), args[1]!);
  if (NUMBER_FUNCTIONS.has(name)) return scalar("number");
  if (STRING_FUNCTIONS.has(name)) return scalar("string");
  if (BOOLEAN_FUNCTIONS.has(name)) return scalar("boolean");
  return undefined;
}

/** `$merge`: later objects win; anything not known to be an object may add or override any key. */
function merge(parts: readonly Yield[]): Yield {
  const out: ObjectYield = { kind: "object", fields: new Map(), maybe: new Set(), open: false };
  for (const part of parts) {
    if (part?.kind !== "object" || part.open) {
      out.open = true;
      for (const k of out.fields.keys()) out.fields.set(k, undefined);
      if (part?.kind !== "object") continue;
    }
    for (const [k, kind] of part.fields) {
      const had = out.fields.has(k) && !out.maybe.has(k);
      out.fields.set(k, kind);
      if (part.maybe.has(k) && !had) out.maybe.add(k);
      else out.maybe.delete(k);
    }
  }
  return out;
}

/** `$sift(o, function($v, $k) { $k != 'a' and $k != 'b' })` drops a and b; another filter may drop anything. */
function sift(input: Yield, fn: AstNode): Yield {
  if (input?.kind !== "object") return undefined;
  const keyParam = fn.type === "lambda" ? fn.arguments?.[1]?.value : undefined;
  const dropped = typeof keyParam === "string" ? droppedKeys(fn.body, keyParam) : undefined;
  const fields = new Map([...input.fields].filter(([k]) => !dropped?.has(k)));
  const maybe = dropped ? new Set(input.maybe) : new Set(fields.keys());
  return { kind: "object", fields, maybe, open: input.open };
}

function droppedKeys(body: AstNode | undefined, keyParam: string): Set<string> | undefined {
  if (!body) return undefined;
  if (body.type === "binary" && body.value === "and") {
    const l = droppedKeys(body.lhs as AstNode, keyParam);
    const r = droppedKeys(body.rhs, keyParam);
    return l && r ? new Set([...l, ...r]) : undefined;
  }
  const lhs = body.lhs as AstNode | undefined;
  if (body.type === "binary" && body.value === "!=" && lhs?.type === "variable" && lhs.value === keyParam && body.rhs?.type === "string") {
    return new Set([String(body.rhs.value)]);
  }
  return undefined;
}

/** `o ~> |$| {updates}, [deletes] |`: a copy of o with the updates merged in and the deletes removed. */
function transformYield(input: Yield, transform: AstNode, context: CheckType | undefined): Yield {
  if (input?.kind !== "object") return undefined;
  const update = transform.update?.type === "unary" && transform.update.value === "{" ? objectConstructor(transform.update, context) : undefined;
  const merged = merge([input, update]);
  if (merged?.kind !== "object") return undefined;
  const del = transform.delete;
  if (del === undefined) return merged;
  if (del.type === "string") merged.fields.delete(String(del.value));
  else if (del.type === "unary" && del.value === "[" && (del.expressions ?? []).every((e) => e.type === "string")) {
    for (const e of del.expressions ?? []) merged.fields.delete(String(e.value));
  } else {
    for (const k of merged.fields.keys()) merged.maybe.add(k);
  }
  return merged;
}

/** What keeps the result from converting to the target version. */
function resultProblems(result: Yield, target: JsonView): string[] {
  if (result === undefined) return [];
  if (result.kind === "scalar") {
    // null keeps the message as it is (Java's rule); arrays and scalars cannot be a record.
    return result.json === "null" ? [] : [`yields ${article(result.json)}, but v${target.version} messages are objects`];
  }
  const problems: string[] = [];
  for (const name of target.required) {
    if (!result.fields.has(name) && !result.open) problems.push(`yields no field ${JSON.stringify(name)}, which v${target.version} requires (it has no default)`);
  }
  for (const [name, kind] of result.fields) {
    const declared = target.root.fields.get(name);
    const expected = declared ? jsonKindOf(declared) : undefined;
    if (kind && expected && kind !== expected) problems.push(`yields field ${JSON.stringify(name)} as ${article(kind)}, but v${target.version} declares it ${article(expected)}`);
  }
  return problems;
}

function article(kind: JsonKind): string {
  return kind === "null" ? "null" : kind === "array" || kind === "object" ? `an ${kind}` : `a ${kind}`;
}

function isContext(node: AstNode | undefined): boolean {
  return node?.type === "variable" && node.value === "";
}

function pairs(node: AstNode): readonly (readonly [AstNode, AstNode])[] {
  return Array.isArray(node.lhs) ? (node.lhs as readonly (readonly [AstNode, AstNode])[]) : [];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
