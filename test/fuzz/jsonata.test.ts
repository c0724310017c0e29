/**
 * JSONATA rule expressions are untrusted: random expressions from a small
 * grammar (paths, operators, built-in functions, lambdas, bindings, regexes,
 * object and array constructors) and mutations of the shipped migration
 * rules, as CONDITION and TRANSFORM rules compiled by the engine for the
 * shipped schemas and run on their messages. A rule that does not compile is
 * a RuleCompileError; running always settles with an outcome (never a
 * rejection or a throw), and a TRANSFORM that passes hands on a value of the
 * schema (Avro and Protobuf; JSON Schema values are checked on encode), which
 * encodes or gets a typed error. Expressions stay cheap: small ranges and no unbounded recursion.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Contract, Rule } from "../../src/contract/model.js";
import { createEngine, type MessageContext, type Outcome } from "../../src/engine/index.js";
import { RuleCompileError, isKontractError } from "../../src/errors.js";
import type { CompiledSchema } from "../../src/format/types.js";
import { JSON_MESSAGES, loadCorpus } from "./corpus.js";
import { forAll, shrinkString, type Rng } from "./property.js";

const MAX_MESSAGE = 10_000;
const CTX: MessageContext = { topic: "fuzz", isKey: false };

const corpus = await loadCorpus();
interface Target {
  subject: string;
  contract: Contract;
  schema: CompiledSchema;
  messages: unknown[];
  fields: string[];
}
const targets: Target[] = [];
for (const subject of ["orders-value", "customers-value", "payments-value", "all-avro-value", "all-json-value"]) {
  const { contract, plan } = await corpus.store.latest(subject);
  const messages = JSON_MESSAGES[subject]!.flatMap((j) => {
    try {
      return [plan.schema.fromJson(j)];
    } catch {
      return [];
    }
  });
  targets.push({ subject, contract: { schema: contract.schema, schemaType: contract.schemaType }, schema: plan.schema, messages: messages.slice(0, 2), fields: [...new Set(plan.schema.fields.map((f) => f.name))] });
}

const SHIPPED = corpus.registry
  .all()
  .flatMap((c) => [...(c.ruleSet?.domainRules ?? []), ...(c.ruleSet?.migrationRules ?? [])])
  .filter((r) => r.type === "JSONATA")
  .map((r) => r.expr ?? "");

// ---- random expressions ----

const LITERALS = ["0", "1", "-1", "1.5", "1e308", "9007199254740993", '"a"', "'b'", '""', "true", "false", "null", "[]", "{}", "[1, 2, 3]", '"😀"', '"\\u0000"'];
const FUNCS: [string, number][] = [
  ["$string", 1], ["$number", 1], ["$boolean", 1], ["$not", 1], ["$exists", 1], ["$count", 1], ["$sum", 1], ["$max", 1], ["$min", 1], ["$average", 1],
  ["$length", 1], ["$uppercase", 1], ["$lowercase", 1], ["$trim", 1], ["$substring", 3], ["$substringBefore", 2], ["$contains", 2], ["$split", 2],
  ["$join", 2], ["$replace", 3], ["$keys", 1], ["$lookup", 2], ["$merge", 1], ["$spread", 1], ["$append", 2], ["$reverse", 1], ["$sort", 1],
  ["$distinct", 1], ["$zip", 2], ["$type", 1], ["$abs", 1], ["$floor", 1], ["$round", 2], ["$power", 2], ["$sqrt", 1], ["$formatNumber", 2],
  ["$base64encode", 1], ["$encodeUrl", 1], ["$toMillis", 1], ["$fromMillis", 1], ["$match", 2], ["$eval", 1], ["$nosuch", 1], ["$error", 1], ["$assert", 2],
];
const OPS = ["+", "-", "*", "/", "%", "&", "=", "!=", "<", "<=", ">", ">=", "and", "or", "in"];
const REGEXES = ["/a+/", "/^[A-Z]{3}$/i", "/(a+)+$/", "/a(?=b)/", "/\\d+/", "/(/"];
const JUNK = ["(", ")", "[", "]", "{", "}", ",", ".", "?", ":", ";", "$", "$$", "@", "#", "..", ":=", "~>", "|", "^(", "`", "'", '"', "\\", "/", "**", "%", "\n"];

function path(r: Rng, t: Target): string {
  let p = r.pick(["$", "$$", "", "", "*", "**"]);
  for (let k = 1 + r.int(3); k > 0; k--) {
    const step = r.pick([...t.fields, "nosuch", "`odd name`", "*"]);
    p = p === "" ? step : `${p}.${step}`;
    if (r.chance(0.15)) p += `[${r.pick(["0", "-1", "1", "$ > 0", "true", "qty > 1"])}]`;
  }
  return p;
}

function expr(r: Rng, t: Target, depth: number): string {
  if (depth > 4 || r.chance(0.25)) return r.chance(0.5) ? r.pick(LITERALS) : path(r, t);
  const sub = (): string => expr(r, t, depth + 1);
  switch (r.int(12)) {
    case 0:
      return `${sub()} ${r.pick(OPS)} ${sub()}`;
    case 1: {
      const [name, arity] = r.pick(FUNCS);
      const n = r.chance(0.85) ? arity : r.int(4);
      return `${name}(${Array.from({ length: n }, () => (name === "$match" || name === "$replace" || name === "$split") && r.chance(0.5) ? r.pick(REGEXES) : sub()).join(", ")})`;
    }
    case 2:
      return `(${sub()})`;
    case 3:
      return `${sub()} ? ${sub()} : ${sub()}`;
    case 4:
      return `{${Array.from({ length: r.int(3) }, () => `${r.pick(['"a"', '"totalAmount"', '"__proto__"', '"constructor"', sub()])}: ${sub()}`).join(", ")}}`;
    case 5:
      return `[${Array.from({ length: r.int(4) }, sub).join(", ")}]`;
    case 6:
      return `($x := ${sub()}; ${sub()} ${r.pick(OPS)} $x)`;
    case 7:
      return `${r.pick(["$map", "$filter", "$each", "$sift"])}(${sub()}, function($v, $k) { ${sub()} })`;
    case 8:
      return `$reduce([1..${1 + r.int(20)}], function($a, $b) { $a + $b })`;
    case 9:
      return `$merge([$, {${r.pick(['"a"', '"s"', '"orderId"', '"__proto__"'])}: ${sub()}}])`;
    case 10:
      return `${sub()} ~> ${r.pick(["$string", "$uppercase", "$count", "$keys"])}`;
    default:
      return `${path(r, t)}[${sub()}]`;
  }
}

function mutate(r: Rng, s: string): string {
  const at = r.int(s.length + 1);
  switch (r.int(3)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1 + r.int(3));
    case 1:
      return s.slice(0, at) + r.pick(JUNK) + s.slice(at);
    default:
      return s.slice(0, at) + r.pick([...OPS, ...LITERALS, "$", ".amount", "$merge([$, {}])"]) + s.slice(at);
  }
}

interface Input {
  target: number;
  kind: "CONDITION" | "TRANSFORM";
  expr: string;
}

function generate(r: Rng): Input {
  const target = r.int(targets.length);
  let e = r.chance(0.2) ? r.pick(SHIPPED) : expr(r, targets[target]!, 0);
  for (let k = r.chance(0.4) ? 1 + r.int(3) : 0; k > 0; k--) e = mutate(r, e);
  return { target, kind: r.chance(0.5) ? "CONDITION" : "TRANSFORM", expr: e };
}

// ---- the check ----

const engine = createEngine();
const outcomes = new Map<string, number>();
const count = (what: string): void => void outcomes.set(what, (outcomes.get(what) ?? 0) + 1);

async function check({ target, kind, expr: e }: Input): Promise<void> {
  const t = targets[target]!;
  const rule: Rule = { name: "fuzz", kind, mode: "WRITE", type: "JSONATA", expr: e, onFailure: "ERROR" };
  const plan = engine.compile(t.subject, { ...t.contract, ruleSet: { domainRules: [rule] } }, t.schema);
  for (const error of plan.compileErrors) {
    assert.ok(error instanceof RuleCompileError, `compile: a ${(error as Error).name}`);
    assert.ok(error.message.length <= MAX_MESSAGE, `compile error message of ${error.message.length} chars`);
  }
  count(plan.compileErrors.length > 0 ? "compile error" : "compiled");
  for (const message of t.messages) {
    const o: Outcome = await plan.write.run(message, CTX);
    assert.ok(o.kind === "passed" || o.kind === "failed", `outcome ${(o as { kind: unknown }).kind}`);
    for (const v of o.violations) assert.ok(v.message.length <= MAX_MESSAGE, `violation message of ${v.message.length} chars`);
    if (o.kind === "passed" && kind === "TRANSFORM") {
      // JSON Schema transforms are checked when the serializer encodes (as in Java): not here.
      if (t.schema.type !== "JSON") assert.deepEqual(t.schema.validate(o.value), undefined, "a TRANSFORM that passes hands on a value of the schema");
      // What it hands on is encoded as the serializer would: bytes or a typed error.
      try {
        t.schema.encode(t.schema.coerce(o.value));
      } catch (error) {
        if (!isKontractError(error)) throw error; // as is: the report shows where it came from
        count("transform refused");
      }
    }
    count(o.kind);
  }
}

test("random and mutated JSONata rules: RuleCompileError or an outcome, never a rejection; transforms keep the schema", { timeout: 120_000 }, async () => {
  await forAll({
    seed: 0x5eed_0005,
    count: 800,
    generate,
    check,
    shrink: (i) => [...shrinkString(i.expr)].map((expr) => ({ ...i, expr })),
    show: (i) => `${targets[i.target]!.subject} ${i.kind}: ${JSON.stringify(i.expr)}`,
  });
  for (const outcome of ["compile error", "compiled", "passed", "failed"]) assert.ok((outcomes.get(outcome) ?? 0) > 0, `no rule ended ${outcome}: ${JSON.stringify([...outcomes])}`);
  assert.equal(({} as { polluted?: unknown }).polluted, undefined, "Object.prototype is untouched");
});
