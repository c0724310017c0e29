/**
 * CEL expressions are untrusted. Where test/cel/native/fuzz.test.ts compares
 * the native path with the interpreter on well-typed expressions over a
 * hand-written shape, this one throws random *syntax* at the runtime: token
 * soup from a small grammar (unbalanced brackets, odd literals, macros with
 * wrong arity, deep nesting, unknown functions and fields), and mutations of
 * the shipped rules' expressions, over the shapes the format adapters derive
 * from the shipped schemas (Avro, JSON Schema, Protobuf), on valid and
 * mis-shaped messages. compile throws only CelCompileError; run never throws
 * (a value or a CelFailure); the native path and the interpreter agree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CelCompileError, createCelRuntime, type CelProgram, type CelShape } from "../../src/cel/index.js";
import { createEngine, splitGuard, type MessageContext } from "../../src/engine/index.js";
import type { Contract, Rule } from "../../src/contract/model.js";
import { RuleCompileError } from "../../src/errors.js";
import type { CompiledSchema } from "../../src/format/types.js";
import { canon } from "../cel/native/canon.js";
import { JSON_MESSAGES, loadCorpus } from "./corpus.js";
import { forAll, shrinkString, type Rng } from "./property.js";

const MAX_MESSAGE = 10_000;

const corpus = await loadCorpus();
interface Target {
  subject: string;
  contract: Contract;
  schema: CompiledSchema;
  shape: CelShape;
  messages: unknown[];
  fields: string[];
}
const targets: Target[] = [];
for (const subject of ["orders-value", "customers-value", "all-avro-value", "all-json-value", "payments-value"]) {
  const { contract, plan } = await corpus.store.latest(subject);
  const schema = plan.schema;
  const valid = JSON_MESSAGES[subject]!.flatMap((j) => {
    try {
      return [schema.fromJson(j)];
    } catch {
      return [];
    }
  });
  // Mis-shaped: what a transform or a producer without a schema check might hand over.
  const misfit = [{}, { items: "x", address: null, s: 5 }, Object.assign(Object.create(null) as object, { amount: "1" })];
  const fields = schema.fields.map((f) => f.name);
  targets.push({ subject, contract: { schema: contract.schema, schemaType: contract.schemaType }, schema, shape: schema.celShape, messages: [...valid.slice(0, 3), ...misfit], fields });
}

/** The CEL expressions of the shipped rules (guard and body apart, as the engine splits them). */
const SHIPPED = corpus.registry
  .all()
  .flatMap((c) => [...(c.ruleSet?.domainRules ?? []), ...(c.ruleSet?.migrationRules ?? [])])
  .filter((r) => r.type === "CEL" || r.type === "CEL_FIELD")
  .flatMap((r) => {
    const { guard, body } = splitGuard(r.expr ?? "");
    return guard === undefined ? [body] : [guard, body];
  });

// ---- random syntax ----

const LITERALS = ["0", "1", "-1", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551615u", "1u", "0x7f", "0xffffffffffffffffff", "1.5", "1e308", "1e999", "-0.0", ".5", "'a'", '"b"', "''", "'\\u00e9'", "'\\x41'", "'\\z'", "r'\\d'", "'''x'''", "b'\\xff'", "true", "false", "null", "'😀'"];
const FUNCS = ["size", "int", "uint", "double", "string", "bytes", "bool", "type", "dyn", "has", "matches", "timestamp", "duration", "nosuch", "exists"];
const METHODS = ["size", "contains", "startsWith", "endsWith", "matches", "lowerAscii", "upperAscii", "trim", "substring", "split", "replace", "indexOf", "join", "isEmail", "isHostname", "isIpv4", "isUri", "isUuid", "getFullYear", "nosuch"];
const MACROS = ["all", "exists", "exists_one", "map", "filter"];
const OPS = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"];
const PATTERNS = ["'^a+$'", "'(a+)+$'", "'[0-9]{3}'", "'(?i)x'", "'a(?=b)'", "'('", "'\\\\d'", "'.{0,1000}'"];
/** What CEL_FIELD rules see besides `message`. */
const FIELD_VARIABLES = ["value", "typeName", "name", "fullName", "tags"];
const JUNK = ["(", ")", "[", "]", "{", "}", ",", ".", "?", ":", "!", "-", "`", "'", '"', "\\", ";", "$", "@", "#", "..", ".?", "\n", "\u0000", "\ud800"];

function ident(r: Rng, t: Target, vars: string[]): string {
  const roots = ["message", "message", ...vars, ...FIELD_VARIABLES, "now", "nosuch"];
  let e = r.pick(roots);
  for (let k = r.int(3); k > 0; k--) e += r.chance(0.8) ? `.${r.pick([...t.fields, "x", "size"])}` : `[${r.pick(["0", "-1", "'k'", "99"])}]`;
  return e;
}

function expr(r: Rng, t: Target, depth: number, vars: string[]): string {
  if (depth > 5 || r.chance(0.25)) return r.chance(0.5) ? r.pick(LITERALS) : ident(r, t, vars);
  const d = depth + 1;
  const sub = (): string => expr(r, t, d, vars);
  switch (r.int(12)) {
    case 0:
      return `${sub()} ${r.pick(OPS)} ${sub()}`;
    case 1:
      return `${r.pick(["!", "-", "!!", "--"])}${sub()}`;
    case 2:
      return `(${sub()})`;
    case 3:
      return `${sub()} ? ${sub()} : ${sub()}`;
    case 4:
      return `${r.pick(FUNCS)}(${Array.from({ length: r.int(3) }, sub).join(", ")})`;
    case 5:
      return `${sub()}.${r.pick(METHODS)}(${Array.from({ length: r.int(3) }, () => (r.chance(0.3) ? r.pick(PATTERNS) : sub())).join(", ")})`;
    case 6: {
      const v = r.pick(["x", "i", "message", "__result__", "@it"]);
      const arity = r.chance(0.85) ? 2 : r.pick([0, 1, 3]);
      const args = [v, expr(r, t, d, [...vars, v]), sub()].slice(0, arity);
      return `${r.chance(0.7) ? ident(r, t, vars) : sub()}.${r.pick(MACROS)}(${args.join(", ")})`;
    }
    case 7:
      return `[${Array.from({ length: r.int(4) }, sub).join(", ")}]`;
    case 8:
      return `{${Array.from({ length: r.int(3) }, () => `${sub()}: ${sub()}`).join(", ")}}`;
    case 9:
      return `${sub()}[${sub()}]`;
    case 10: // nested far beyond the limits
      return r.chance(0.5) ? "(".repeat(150) + "1" + ")".repeat(150) : Array.from({ length: 400 }, () => "1").join(" + ");
    default:
      return `has(${ident(r, t, vars)})`;
  }
}

function mutate(r: Rng, s: string): string {
  const at = r.int(s.length + 1);
  switch (r.int(4)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1 + r.int(3));
    case 1:
      return s.slice(0, at) + r.pick(JUNK) + s.slice(at);
    case 2:
      return s.slice(0, at) + r.pick([...OPS, ...LITERALS, "message", ".size()", ".all(x, x)"]) + s.slice(at);
    default: {
      const other = r.int(s.length + 1);
      return s.slice(0, Math.min(at, other)) + s.slice(Math.max(at, other)) + s.slice(Math.min(at, other), Math.max(at, other));
    }
  }
}

interface Input {
  target: number;
  expr: string;
}

function generate(r: Rng): Input {
  const target = r.int(targets.length);
  let e = r.chance(0.3) ? r.pick(SHIPPED) : expr(r, targets[target]!, 0, []);
  for (let k = r.chance(0.5) ? 1 + r.int(3) : 0; k > 0; k--) e = mutate(r, e);
  return { target, expr: e };
}

// ---- the check ----

const native = createCelRuntime({ native: true });
const interpreter = createCelRuntime({ native: false });
const outcomes = new Map<string, number>();
const count = (what: string): void => void outcomes.set(what, (outcomes.get(what) ?? 0) + 1);

function compile(runtime: ReturnType<typeof createCelRuntime>, e: string): CelProgram | CelCompileError {
  try {
    return runtime.compile(e, ["message"]);
  } catch (error) {
    if (!(error instanceof CelCompileError)) throw error; // as is: the report shows where it came from
    assert.ok(error.message.length <= MAX_MESSAGE, `compile error message of ${error.message.length} chars`);
    return error;
  }
}

function check({ target, expr: e }: Input): void {
  const t = targets[target]!;
  const a = compile(native, e);
  const b = compile(interpreter, e);
  assert.equal(a instanceof CelCompileError, b instanceof CelCompileError, "both runtimes compile it, or neither");
  if (a instanceof CelCompileError || b instanceof CelCompileError) return count("compile error");
  count("compiled");
  const shapes = { message: t.shape };
  const typedA = a.typed(shapes);
  const typedB = b.typed(shapes);
  if (typedA.native) count("native");
  for (const [i, message] of t.messages.entries()) {
    b.run({ message }); // untyped, on a native value: must not throw (its result may differ: no shape)
    const fast = canon(typedA.run({ message }));
    const slow = canon(typedB.run({ message }));
    assert.equal(fast, slow, `native and interpreter differ on ${t.subject} message #${i}`);
    if (typedA.test) assert.equal(typedA.test(message), slow === "bool:true", "test() is true exactly when run() is true");
    count(slow === "error" ? "failure" : "value");
  }
}

test("random and mutated CEL syntax: compile throws only CelCompileError, run never throws, native and interpreter agree", { timeout: 120_000 }, async () => {
  await forAll({ seed: 0x5eed_0004, count: 1000, generate, check, shrink: (i) => [...shrinkString(i.expr)].map((expr) => ({ ...i, expr })), show: (i) => `${targets[i.target]!.subject}: ${JSON.stringify(i.expr)}` });
  for (const outcome of ["compile error", "compiled", "native", "failure", "value"]) assert.ok((outcomes.get(outcome) ?? 0) > 0, `no expression ended ${outcome}: ${JSON.stringify([...outcomes])}`);
});

// ---- the same syntax as rules, through the engine ----

const engine = createEngine();
const CTX: MessageContext = { topic: "fuzz", isKey: false };
const TYPE_GUARDS = ["typeName == 'STRING' ; ", "typeName == 'INT' ; ", "typeName == 'DOUBLE' ; ", "'PII' in tags ; ", ""];

interface RuleInput extends Input {
  type: "CEL" | "CEL_FIELD";
  kind: "CONDITION" | "TRANSFORM";
}

async function checkRule({ target, expr: e, type, kind }: RuleInput): Promise<void> {
  const t = targets[target]!;
  const rule: Rule = { name: "fuzz", kind, mode: "WRITE", type, expr: e, onFailure: "ERROR" };
  const plan = engine.compile(t.subject, { ...t.contract, ruleSet: { domainRules: [rule] } }, t.schema);
  for (const error of plan.compileErrors) assert.ok(error instanceof RuleCompileError, `compile: a ${(error as Error).name}`);
  count(plan.compileErrors.length > 0 ? "rule compile error" : "rule compiled");
  for (const message of t.messages.slice(0, 3)) {
    const o = await plan.write.run(message, CTX);
    assert.ok(o.kind === "passed" || o.kind === "failed", `outcome ${(o as { kind: unknown }).kind}`);
    for (const v of o.violations) assert.ok(v.message.length <= MAX_MESSAGE, `violation message of ${v.message.length} chars`);
    // What a transform hands on fits the schema: the executors check a new message (CEL) and a
    // null in a field that takes none (CEL_FIELD), so it encodes as the serializer would.
    if (o.kind === "passed" && o.transformed) {
      t.schema.encode(t.schema.coerce(o.value));
      count("transform encoded");
    }
    count(`rule ${o.kind}`);
  }
}

test("random and mutated CEL and CEL_FIELD rules through the engine: RuleCompileError or an outcome; what transforms hand on encodes", { timeout: 120_000 }, async () => {
  await forAll<RuleInput>({
    seed: 0x5eed_0006,
    count: 1200,
    generate: (r) => {
      const input = generate(r);
      const type = r.chance(0.5) ? "CEL" : "CEL_FIELD";
      const expr = type === "CEL_FIELD" && r.chance(0.6) ? r.pick(TYPE_GUARDS) + input.expr : input.expr;
      return { ...input, expr, type, kind: r.chance(0.5) ? "CONDITION" : "TRANSFORM" };
    },
    check: checkRule,
    shrink: (i) => [...shrinkString(i.expr)].map((expr) => ({ ...i, expr })),
    show: (i) => `${targets[i.target]!.subject} ${i.type} ${i.kind}: ${JSON.stringify(i.expr)}`,
  });
  for (const outcome of ["rule compile error", "rule compiled", "rule passed", "rule failed", "transform encoded"]) assert.ok((outcomes.get(outcome) ?? 0) > 0, `no rule ended ${outcome}: ${JSON.stringify([...outcomes])}`);
});
