/**
 * Checks of each rule of a contract: its type, actions, tags, parameters and
 * expression. CEL expressions are type-checked against the schema (CEL: the
 * message; CEL_FIELD: each kind of field the rule's tags select), JSONata
 * expressions are parsed and their regexes compiled with RE2.
 */
import jsonata from "jsonata";
import { BUILTIN_ACTIONS, RULE_KINDS, RULE_MODES, RULE_PHASES, defaultKind, type Contract, type Rule, type RulePhase } from "../contract/model.js";
import type { ContractDocument } from "../contract/document.js";
import type { PathSegment } from "../contract/path.js";
import { formatPath } from "../contract/path.js";
import { compileRe2 } from "../engine/executors/re2-regex.js";
import { ENCRYPTABLE_TYPES, encryptParamProblems } from "../engine/executors/encrypt.js";
import { DEFAULT_SENSITIVE_TAGS } from "../engine/redact.js";
import { isStatefulRule, statefulSpec, type StatefulSpec } from "../contract/stateful.js";
import { splitGuard } from "../engine/guard.js";
import type { FieldInfo } from "../format/types.js";
import { T, assignable, checkExpression, formatType, listOf, selectedPaths, type CheckDiagnostic, type CheckType } from "./cel-check.js";
import { celCostWarning } from "./cel-cost.js";
import type { LintCode } from "./codes.js";
import type { LintConfig } from "./config.js";
import type { RawDiagnostic } from "./load.js";
import { evaluateStaticGuard } from "./static-guard.js";
import { leafTypes, type SchemaContext } from "./schema-context.js";
import { exprLocator, offsetOf, pairPosition, positionOf, type ExprLocator } from "./where.js";

/** Rule types with an executor in kontract. */
const EXECUTOR_TYPES = new Set(["CEL", "CEL_FIELD", "JSONATA"]);
/** Confluent rule types whose executors an engine must be given (encryptionExecutors: they need a DEK registry and KMS). */
const CONFLUENT_ONLY_TYPES = new Set(["ENCRYPT", "ENCRYPT_PAYLOAD"]);
/** Rule types that select fields by tag (Java FieldRuleExecutor). */
const FIELD_TYPES = new Set(["CEL_FIELD", "ENCRYPT"]);
/** Parameters Confluent's executors cannot run without. */
const BUILTIN_REQUIRED_PARAMS: Readonly<Record<string, readonly string[]>> = {
  ENCRYPT: ["encrypt.kek.name"],
  ENCRYPT_PAYLOAD: ["encrypt.kek.name"],
};

export interface RuleCheckInput {
  readonly doc: ContractDocument;
  /** The text of the document's file. */
  readonly text: string;
  /** Undefined when the schema did not compile: only schema-independent checks run. */
  readonly schema: SchemaContext | undefined;
  readonly config: LintConfig;
  readonly report: (d: RawDiagnostic) => void;
}

/** Checks every rule of the document. Returns how many rules it saw. */
export function checkRules(input: RuleCheckInput): number {
  const ruleSet = input.doc.contract.ruleSet;
  if (!isObject(ruleSet)) return 0;
  let count = 0;
  for (const phase of RULE_PHASES) {
    const list = (ruleSet as Record<string, unknown>)[phase];
    if (!Array.isArray(list)) continue;
    list.forEach((rule: unknown, index) => {
      count++;
      if (isCheckable(rule)) new RuleChecker(input, rule, phase, index).run();
    });
  }
  return count;
}

/** Only rules whose fields have the right types: the loader reported the others. */
function isCheckable(r: unknown): r is Rule {
  if (!isObject(r)) return false;
  if (typeof r.type !== "string" || r.type === "") return false;
  if (r.expr !== undefined && typeof r.expr !== "string") return false;
  if (r.name !== undefined && typeof r.name !== "string") return false;
  if (r.tags !== undefined && !(Array.isArray(r.tags) && r.tags.every((t) => typeof t === "string"))) return false;
  if (r.params !== undefined && !(isObject(r.params) && Object.values(r.params).every((v) => typeof v === "string"))) return false;
  if (r.kind !== undefined && !(RULE_KINDS as readonly unknown[]).includes(r.kind)) return false;
  if (r.mode !== undefined && !(RULE_MODES as readonly unknown[]).includes(r.mode)) return false;
  for (const k of ["onSuccess", "onFailure"]) if (r[k] !== undefined && typeof r[k] !== "string") return false;
  return true;
}

class RuleChecker {
  private readonly at: PathSegment[];
  private readonly type: string;
  private readonly contract: Contract;

  constructor(
    private readonly input: RuleCheckInput,
    private readonly rule: Rule,
    private readonly phase: RulePhase,
    index: number,
  ) {
    this.at = ["ruleSet", phase, index];
    this.type = rule.type.toUpperCase();
    this.contract = input.doc.contract;
  }

  run(): void {
    const { rule } = this;
    if (isStatefulRule(rule)) {
      // `disabled: true` is a stateful rule's form (docs/stateful.md), not a rule switched off.
      this.checkStateful();
      this.checkActions();
      this.checkParams();
      return;
    }
    if (rule.disabled === true) {
      this.report("rule-disabled", `rule ${this.label()} is disabled and never runs`, pairPosition(this.input, [...this.at, "disabled"]), [...this.at, "disabled"]);
    }
    this.checkType();
    this.checkActions();
    this.checkParams();
    this.checkTags();
    this.checkExpression();
  }

  private label(): string {
    return this.rule.name ? JSON.stringify(this.rule.name) : `#${String(this.at[2])} of ${this.phase}`;
  }

  private param(name: string): string | undefined {
    return this.rule.params?.[name] ?? this.contract.metadata?.properties?.[name];
  }

  private report(code: LintCode, message: string, position: RawDiagnostic["position"], path: readonly PathSegment[], hint?: string): void {
    this.input.report({
      code,
      message,
      position,
      path: formatPath(path),
      subject: this.input.doc.subject,
      version: this.input.doc.version,
      ...(this.rule.name ? { rule: this.rule.name } : {}),
      ...(hint ? { hint } : {}),
    });
  }

  private pos(path: readonly PathSegment[], key = false): RawDiagnostic["position"] {
    return positionOf(this.input, path, { key });
  }

  private checkType(): void {
    const { type } = this;
    const path = [...this.at, "type"];
    const configured = this.input.config.ruleTypes.some((t) => t.toUpperCase() === type);
    if (CONFLUENT_ONLY_TYPES.has(type) && !configured) {
      this.report("rule-type-unsupported", `rule ${this.label()}: ${this.rule.type} runs only on an engine given encryptionExecutors(); on others the rule fails through onFailure whenever it runs`, this.pos(path), path, "pass createEngine({ executors: encryptionExecutors({ dekRegistry, ... }) }) (docs/encryption.md) and list the type under lint.ruleTypes in kontract.config.yaml");
    } else if (!EXECUTOR_TYPES.has(type) && !CONFLUENT_ONLY_TYPES.has(type) && !configured) {
      this.report("rule-type-unknown", `rule ${this.label()}: unknown rule type ${JSON.stringify(this.rule.type)}; known: CEL, CEL_FIELD, JSONATA`, this.pos(path), path, "if your engine registers an executor for it, list the type under lint.ruleTypes in kontract.config.yaml");
    }
    if (type === "CEL_FIELD" && this.phase === "migrationRules") {
      this.report("rule-type-not-allowed", `rule ${this.label()}: CEL_FIELD rules cannot run in migrationRules (migrations see the message as JSON); use CEL or JSONATA`, this.pos(path), path);
    }
  }

  private checkActions(): void {
    const known = new Set<string>([...BUILTIN_ACTIONS, ...this.input.config.actions]);
    let dlq = false;
    for (const key of ["onSuccess", "onFailure"] as const) {
      const value = this.rule[key];
      if (value === undefined) continue;
      const parts = value.split(",");
      if (parts.length > 2) continue; // rule-action-invalid, from the loader
      for (const part of parts) {
        if (part === "") continue; // the default action
        if (part === "DLQ") dlq = true;
        if (!known.has(part)) {
          const path = [...this.at, key];
          const trimmed = part.trim();
          const hint = trimmed !== part && known.has(trimmed)
            ? `remove the spaces: actions are not trimmed, so ${JSON.stringify(part)} is not ${trimmed}`
            : known.has(part.toUpperCase())
              ? `action names are case-sensitive: write ${part.toUpperCase()}`
              : "custom actions must be registered with createEngine({ actions }) and listed under lint.actions in kontract.config.yaml";
          this.report("rule-action-unknown", `rule ${this.label()}: unknown action ${JSON.stringify(part)} in ${key}; known: ${[...known].join(", ")}`, this.pos(path), path, hint);
        }
      }
    }
    if (dlq && this.param("dlq.topic") === undefined) {
      const key = this.rule.onFailure?.split(",").includes("DLQ") ? "onFailure" : "onSuccess";
      const path = [...this.at, key];
      this.report("dlq-topic-default", `rule ${this.label()} sends to a DLQ but sets no dlq.topic (param or metadata property): dead letters go to <topic>-dlq`, this.pos(path), path, "set params: { dlq.topic: <topic> } to choose the topic");
    }
  }

  private checkParams(): void {
    const required = this.input.config.requiredParams;
    const needs: { param: string; by: string }[] = [];
    const byType = required[this.rule.type] ?? required[this.type] ?? BUILTIN_REQUIRED_PARAMS[this.type] ?? [];
    for (const p of byType) needs.push({ param: p, by: `rule type ${this.rule.type}` });
    const actions = new Set([...(this.rule.onSuccess ?? "").split(","), ...(this.rule.onFailure ?? "").split(",")].filter((a) => a !== ""));
    for (const a of actions) for (const p of required[a] ?? []) needs.push({ param: p, by: `action ${a}` });
    if (CONFLUENT_ONLY_TYPES.has(this.type)) {
      for (const problem of encryptParamProblems((n) => this.param(n))) {
        // A missing KEK name is param-property-missing, below.
        if (this.param(problem.param) === undefined) continue;
        const inParams = this.rule.params?.[problem.param] !== undefined;
        const path = inParams ? [...this.at, "params", problem.param] : ["metadata", "properties", problem.param];
        this.report("encrypt-param-invalid", `rule ${this.label()}: ${problem.message}`, this.pos(path), path);
      }
    }
    for (const { param, by } of needs) {
      if (this.param(param) !== undefined) continue;
      const path = this.rule.params ? [...this.at, "params"] : [...this.at, "type"];
      this.report(
        "param-property-missing",
        `rule ${this.label()}: ${by} reads parameter ${JSON.stringify(param)}, which neither the rule's params nor metadata.properties define`,
        this.pos(path, this.rule.params !== undefined),
        path,
        `add params: { ${param}: ... } to the rule, or metadata.properties.${param} to the contract`,
      );
    }
  }

  private checkTags(): void {
    const tags = this.rule.tags ?? [];
    if (tags.length === 0) return;
    if (!FIELD_TYPES.has(this.type) && (EXECUTOR_TYPES.has(this.type) || this.type === "ENCRYPT_PAYLOAD")) {
      const path = [...this.at, "tags"];
      this.report("rule-tags-ignored", `rule ${this.label()}: ${this.rule.type} rules do not select fields, so tags are ignored`, this.pos(path, true), path, "tags select fields for CEL_FIELD and ENCRYPT rules only");
      return;
    }
    const schema = this.input.schema;
    if (!schema || !FIELD_TYPES.has(this.type)) return;
    if (this.type === "ENCRYPT") {
      tags.forEach((tag, i) => {
        if (DEFAULT_SENSITIVE_TAGS.includes(tag)) return;
        const path = [...this.at, "tags", i];
        this.report(
          "encrypt-tag-not-sensitive",
          `rule ${this.label()}: tag ${JSON.stringify(tag)} is not one of kontract's default sensitive tags (${DEFAULT_SENSITIVE_TAGS.join(", ")}); an engine refuses an ENCRYPT rule on a tag it does not redact`,
          this.pos(path),
          path,
          `add ${JSON.stringify(tag)} to createEngine({ sensitiveTags }) (with the defaults you keep), or tag the fields with one of the defaults`,
        );
      });
      tags.forEach((tag, i) => {
        // A union with a string or bytes branch is fine: Java leaves its other branches clear.
        const wrong = schema.schema.fields.filter((f) => f.tags.has(tag) && leafTypes(f).length > 0 && !leafTypes(f).some((t) => ENCRYPTABLE_TYPES.has(t)));
        if (wrong.length === 0) return;
        const path = [...this.at, "tags", i];
        this.report(
          "encrypt-field-type",
          `rule ${this.label()}: tag ${JSON.stringify(tag)} selects ${wrong.slice(0, 3).map((f) => `${f.fullName}: ${f.primitive ? f.typeName : `union of ${leafTypes(f).join(", ")}`}`).join(", ")}; only STRING and BYTES fields can be encrypted, so every message with a value there fails`,
          this.pos(path),
          path,
          "remove the tag from those fields, or encrypt the whole payload with ENCRYPT_PAYLOAD in encodingRules",
        );
      });
    }
    tags.forEach((tag, i) => {
      if (schema.schema.fields.some((f) => f.tags.has(tag) && leafTypes(f).length > 0)) return;
      const path = [...this.at, "tags", i];
      const nonPrimitive = schema.schema.fields.filter((f) => f.tags.has(tag));
      const message = nonPrimitive.length > 0
        ? `rule ${this.label()}: tag ${JSON.stringify(tag)} is only on non-primitive fields (${nonPrimitive.slice(0, 3).map((f) => `${f.fullName}: ${f.typeName}`).join(", ")}); ${this.rule.type} rules visit primitive fields only`
        : `rule ${this.label()}: no field of the schema carries tag ${JSON.stringify(tag)}, so the rule never runs`;
      this.report("rule-tag-unknown", message, this.pos(path), path, nonPrimitive.length > 0 ? "tag the record's primitive fields instead" : tagHint(tag, schema.schema.fields));
    });
  }

  private checkExpression(): void {
    const needsExpr = this.type === "CEL" || this.type === "CEL_FIELD" || this.type === "JSONATA";
    if (!needsExpr) return;
    const expr = this.rule.expr;
    if (expr === undefined || expr.trim() === "") {
      const path = expr === undefined ? [...this.at] : [...this.at, "expr"];
      this.report("rule-expr-missing", `rule ${this.label()}: a ${this.rule.type} rule needs an expr`, expr === undefined ? this.pos([...this.at, "name"]) : this.pos(path), path);
      return;
    }
    // Positions inside the expression are worked out only when something is reported.
    let located: ExprLocator | undefined;
    const lazy = () => (located ??= exprLocator(this.input, [...this.at, "expr"], expr));
    const locator: ExprLocator = {
      get exact() {
        return lazy().exact;
      },
      at: (start, end) => lazy().at(start, end),
    };
    if (this.type === "JSONATA") this.checkJsonata(expr, locator);
    else if (!(this.type === "CEL_FIELD" && this.phase === "migrationRules")) this.checkCel(expr, locator);
  }

  // --- Stateful rules --------------------------------------------------------

  private checkStateful(): void {
    const { rule } = this;
    const typePath = [...this.at, "type"];
    if (rule.disabled !== true) {
      const path = rule.disabled === undefined ? typePath : [...this.at, "disabled"];
      this.report("stateful-not-disabled", `rule ${this.label()}: a ${rule.type} rule needs disabled: true, or Confluent's clients fail on its unknown type`, this.pos(path), path, "add disabled: true; kontract's consumer runs stateful rules whatever disabled says");
    }
    if (this.phase !== "domainRules") {
      this.report("stateful-invalid", `rule ${this.label()}: stateful rules are domain rules, not ${this.phase}`, this.pos(typePath), typePath);
      return;
    }
    if (rule.mode === "WRITE") {
      const path = [...this.at, "mode"];
      this.report("stateful-write-mode", `rule ${this.label()}: stateful rules run in the consumer (READ), so a WRITE one never runs`, this.pos(path), path, "use mode: READ");
    }
    let spec;
    try {
      spec = statefulSpec({ ...rule, disabled: true });
    } catch (e) {
      this.report("stateful-invalid", (e as Error).message, this.pos(typePath), typePath);
      return;
    }
    this.checkPartitioning(spec);
    const want = { key: ["string", "int", "uint"], sequence: ["int", "uint", "double", "string", "timestamp"], bool: ["bool"], count: ["int", "uint"] } as const;
    const exprs: { text: string; param: string | undefined; want: keyof typeof want; what: string }[] = [];
    switch (spec.type) {
      case "STATEFUL_UNIQUE":
      case "STATEFUL_REFERENCE":
        exprs.push({ text: spec.expr, param: undefined, want: "key", what: "the key" });
        break;
      case "STATEFUL_ORDER":
        exprs.push({ text: spec.expr, param: undefined, want: "sequence", what: "the sequence" }, { text: spec.keyExpr, param: "order.key", want: "key", what: "order.key" });
        break;
      case "STATEFUL_COMPLETE":
        exprs.push(
          { text: spec.expr, param: undefined, want: "key", what: "the parent key" },
          { text: spec.isParentExpr, param: "complete.parent", want: "bool", what: "complete.parent" },
          { text: spec.partsExpr, param: "complete.parts", want: "count", what: "complete.parts" },
          { text: spec.partOfExpr, param: "complete.part.of", want: "key", what: "complete.part.of" },
        );
        break;
    }
    const registry = this.input.schema?.registry;
    for (const e of exprs) {
      const path = e.param === undefined ? [...this.at, "expr"] : [...this.at, "params", e.param];
      if (spec.type !== "STATEFUL_REFERENCE" && (e.want === "key" || e.want === "sequence")) this.checkSensitiveKey(e.text, e.what, path);
      const result = checkExpression(e.text, this.celVariables(), registry ? { registry } : {});
      for (const d of result.diagnostics) this.report(celCode(d), `rule ${this.label()}: ${e.what}: ${d.message}`, this.pos(path), path);
      const t = result.type;
      if (t === undefined || t.kind === "dyn") continue;
      const kind = t.kind === "optional-null" ? t.inner.kind : t.kind;
      const allowed: readonly string[] = want[e.want];
      if (!allowed.includes(kind) || t.kind === "optional-null") {
        this.report("stateful-type", `rule ${this.label()}: ${e.what} yields ${formatType(t)}; it must be ${allowed.join(" or ")}${t.kind === "optional-null" ? ", never null" : ""}`, this.pos(path), path);
      } else if (spec.type === "STATEFUL_ORDER" && spec.contiguous && e.want === "sequence" && kind !== "int" && kind !== "uint") {
        this.report("stateful-type", `rule ${this.label()}: order.contiguous needs an int sequence; this one yields ${formatType(t)}`, this.pos(path), path);
      }
    }
  }

  /**
   * State is per partition: a key the records are not partitioned by splits one key's records
   * across partitions, and each partition judges only its share. A reference table is global, and a
   * key subject's `message` is the record key, so neither needs co-partitioning.
   */
  private checkPartitioning(spec: StatefulSpec): void {
    if (spec.type === "STATEFUL_REFERENCE" || spec.copartitioned || this.input.doc.subject?.endsWith("-key")) return;
    const keys = spec.type === "STATEFUL_ORDER" ? `order.key ${spec.keyExpr}` : spec.type === "STATEFUL_COMPLETE" ? `${spec.expr} and complete.part.of ${spec.partOfExpr}` : spec.expr;
    const path = [...this.at, "type"];
    this.report(
      "stateful-partitioning",
      `rule ${this.label()}: its state is per partition and keyed by ${keys}, an expression of the value: records with the same key must share a partition`,
      this.pos(path),
      path,
      'key the records by it (then add state.copartitioned: "true"), or repartition into a topic keyed by it (docs/stateful.md#co-partitioning)',
    );
  }

  /**
   * What a unique, order or complete rule keys on is written in clear to its changelog topic, as
   * Kafka Streams' state is: a key over a field tagged sensitive puts that field's values there.
   * (A reference rule only reads its table.)
   */
  private checkSensitiveKey(expr: string, what: string, path: PathSegment[]): void {
    const schema = this.input.schema;
    if (!schema) return;
    for (const selected of selectedPaths(expr, "message")) {
      const tagged = schema.fieldsAlong(selected).find((f) => DEFAULT_SENSITIVE_TAGS.some((t) => f.tags.has(t)));
      if (tagged === undefined) continue;
      const tags = DEFAULT_SENSITIVE_TAGS.filter((t) => tagged.tags.has(t));
      this.report(
        "stateful-sensitive-key",
        `rule ${this.label()}: ${what} reads message.${selected.join(".")}, and ${tagged.fullName} is tagged ${tags.join(", ")}: the rule's changelog topic holds those values in clear`,
        this.pos(path),
        path,
        "key on a field that is not sensitive, or give the changelog topics the source topic's ACLs (docs/threat-model.md)",
      );
      return;
    }
  }

  // --- JSONata -------------------------------------------------------------

  private checkJsonata(expr: string, locator: ExprLocator): void {
    const path = [...this.at, "expr"];
    let ast: unknown;
    try {
      ast = jsonata(expr).ast();
    } catch (e) {
      const err = e as { message?: string; code?: string; position?: number; token?: string };
      const end = typeof err.position === "number" ? Math.min(err.position, expr.length) : expr.length;
      const tokenLength = typeof err.token === "string" && err.token !== "(end)" ? err.token.length : 1;
      const start = Math.max(0, end - tokenLength);
      this.report("jsonata-syntax", `rule ${this.label()}: JSONata does not parse: ${err.message ?? String(e)}${err.code ? ` (${err.code})` : ""}`, locator.at(start, Math.max(end, start + 1)), path);
      return;
    }
    visitRegexes(ast, (re, position) => {
      try {
        compileRe2(re.source, re.flags);
      } catch (e) {
        // JSONata adds the g flag itself; the source has only i and m.
        const literal = `/${re.source}/${re.flags.replace("g", "")}`;
        const guess = position - literal.length;
        const start = expr.startsWith("/", guess) ? guess : Math.max(0, position - 1);
        this.report("jsonata-regex", `rule ${this.label()}: regex ${literal} is not valid RE2: ${(e as Error).message}`, locator.at(start, start + literal.length), path, "RE2 has no lookaround or backreferences; rewrite the pattern without them");
      }
    });
  }

  // --- CEL -----------------------------------------------------------------

  private checkCel(expr: string, locator: ExprLocator): void {
    const path = [...this.at, "expr"];
    const ignoreSeparator = this.param("cel.ignore.guard.separator") === "true";
    const split = splitGuard(expr, ignoreSeparator);
    const bodyStart = split.body === expr ? 0 : expr.length - split.body.length;
    const guard = split.guard;
    const diag = (code: LintCode, message: string, start: number, end: number, hint?: string) =>
      this.report(code, `rule ${this.label()}: ${message}`, locator.at(start, end), path, hint);

    if (!ignoreSeparator) {
      // Java splits at the first ';' anywhere, even inside a string literal.
      const javaAt = expr.indexOf(";");
      if (javaAt >= 0 && javaAt !== bodyStart - 1) {
        diag("guard-java-split", "the first ';' is inside a string literal: the Java client splits the guard there and the rule fails in Java", javaAt, javaAt + 1, "if the expression has no guard, set params: { cel.ignore.guard.separator: \"true\" }");
      }
    }
    if (bodyStart > 0) {
      if (split.body.trim() === "") {
        diag("guard-malformed", "nothing after the guard separator ';': the body is empty", bodyStart - 1, bodyStart);
        return;
      }
      const again = splitGuard(split.body);
      if (again.body !== split.body) {
        const second = bodyStart + split.body.length - again.body.length - 1;
        diag("guard-malformed", "more than one ';': a rule has at most one guard (`guard ; body`)", second, second + 1, "combine conditions with && in the guard");
        return;
      }
    }

    const isCondition = defaultKind(this.rule) === "CONDITION";
    const variablesList = this.type === "CEL_FIELD" ? this.fieldVariableSets(guard) : [{ variables: this.celVariables(), fields: [] as FieldInfo[] }];
    const registry = this.input.schema?.registry;
    const found = new Map<string, { code: LintCode; message: string; start: number; end: number; hint?: string; groups: Set<number> }>();
    const add = (code: LintCode, message: string, start: number, end: number, group: number, hint?: string) => {
      const key = `${code}\u0000${start}\u0000${end}\u0000${message}`;
      const known = found.get(key);
      if (known) known.groups.add(group);
      else found.set(key, { code, message, start, end, groups: new Set([group]), ...(hint ? { hint } : {}) });
    };
    const parts: { text: string; offset: number; role: "guard" | "body" }[] = [];
    if (guard !== undefined) parts.push({ text: guard, offset: 0, role: "guard" });
    parts.push({ text: split.body, offset: bodyStart, role: "body" });

    variablesList.forEach(({ variables, fields }, group) => {
      for (const part of parts) {
        const result = checkExpression(part.text, variables, registry ? { registry } : {});
        const errors = result.diagnostics;
        for (const d of errors) {
          const { start, end } = span(part.text, d, part.offset);
          // The checker speaks in expression coordinates ("at 1:1"); the reader wants the file's.
          const message = d.message.replace(/\bat (\d+):(\d+)\b/g, (m, l: string, c: string) => {
            const at = part.offset + offsetOf(part.text, Number(l), Number(c));
            const p = locator.at(at, at + 1);
            return locator.exact ? `at ${p.line}:${p.column}` : m;
          });
          add(celCode(d), message, start, end, group);
        }
        if (result.type === undefined) continue;
        const t = result.type;
        const whole = { start: part.offset + leadingSpace(part.text), end: part.offset + part.text.trimEnd().length };
        if (part.role === "guard") {
          if (!isBoolish(t)) add("cel-guard-not-bool", `the guard yields ${formatType(t)}, not bool: the body never runs`, whole.start, whole.end, group);
        } else if (isCondition) {
          if (!isBoolish(t)) add("cel-condition-not-bool", `a CONDITION must yield bool, this yields ${formatType(t)}`, whole.start, whole.end, group, "only false fails a condition: a non-bool result always passes");
        } else {
          // Each branch of a ?: on its own: their join is dyn when they differ, which would fit anything.
          const misfit = result.alternatives.find((a) => !this.transformFits(a, variables));
          if (misfit !== undefined) add("cel-transform-type", this.transformMisfit(misfit, variables, result.alternatives.length > 1), whole.start, whole.end, group);
        }
      }
    });

    for (const part of parts) {
      const warning = celCostWarning(part.text, this.type);
      if (warning) diag("cel-cost", warning.message, part.offset + leadingSpace(part.text), part.offset + part.text.trimEnd().length, warning.hint);
    }

    for (const f of found.values()) {
      let message = f.message;
      if (variablesList.length > 1 && f.groups.size < variablesList.length) {
        const names = [...f.groups].flatMap((g) => variablesList[g]!.fields.map((x) => x.fullName));
        message += ` (for field${names.length === 1 ? "" : "s"} ${names.slice(0, 3).join(", ")}${names.length > 3 ? ", ..." : ""})`;
      }
      diag(f.code, message, f.start, f.end, f.hint);
    }
  }

  /** `message` (and `now`) for CEL rules; migrations see the JSON form. */
  private celVariables(): Record<string, CheckType> {
    const message = this.phase === "migrationRules" || !this.input.schema ? T.dyn : this.input.schema.messageType;
    return { message, now: T.timestamp };
  }

  /**
   * CEL_FIELD variables, once per distinct (field type, container) among the
   * fields the rule selects. A guard that only reads the field's static facts
   * (typeName, name, fullName, tags) is evaluated per field, so
   * `typeName == 'STRING' ; value.size() > 0` checks the body on strings only.
   */
  /** A TRANSFORM's result fits: the field's type (CEL_FIELD), or the message or a map of its fields (CEL). */
  private transformFits(t: CheckType, variables: Record<string, CheckType>): boolean {
    if (this.type === "CEL_FIELD") return assignable(t, variables.value!);
    return t.kind === "dyn" || ((t.kind === "map" || t.kind === "record" || t.kind === "message") && assignable(t, variables.message!));
  }

  private transformMisfit(t: CheckType, variables: Record<string, CheckType>, branch: boolean): string {
    const yields = `the TRANSFORM${branch ? " has a ?: branch that" : ""} yields ${formatType(t)}`;
    if (this.type === "CEL_FIELD") return `${yields}, which does not fit the field type ${formatType(variables.value!)}`;
    return `${yields}; it must yield the message (${formatType(variables.message!)}) or a map of its fields`;
  }

  private fieldVariableSets(guard: string | undefined): { variables: Record<string, CheckType>; fields: FieldInfo[] }[] {
    const statics = { fullName: T.string, name: T.string, typeName: T.string, tags: listOf(T.string), now: T.timestamp };
    const schema = this.input.schema;
    if (!schema) return [{ variables: { value: T.dyn, message: T.dyn, ...statics }, fields: [] }];
    const tags = this.rule.tags ?? [];
    const selected = schema.primitiveFields.filter((f) => tags.length === 0 || tags.some((t) => f.tags.has(t)));
    const groups = new Map<string, { variables: Record<string, CheckType>; fields: FieldInfo[] }>();
    for (const field of selected) {
      if (guard !== undefined && evaluateStaticGuard(guard, field) === false) continue;
      const { value, container } = schema.fieldTypes(field);
      const key = `${typeKey(value)}|${typeKey(container)}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { variables: { value, message: container, ...statics }, fields: [] }));
      g.fields.push(field);
    }
    // No field reaches the body (or none is selected): still check the expression, untyped.
    if (groups.size === 0) return [{ variables: { value: T.dyn, message: T.dyn, ...statics }, fields: [] }];
    return [...groups.values()];
  }
}

function celCode(d: CheckDiagnostic): LintCode {
  switch (d.code) {
    case "syntax":
      return "cel-syntax";
    case "unknown-field":
      return "cel-unknown-field";
    case "unknown-variable":
      return "cel-unknown-variable";
    case "unknown-function":
      return "cel-unknown-function";
    case "no-matching-overload":
      return "cel-no-matching-overload";
    case "type-mismatch":
      return "cel-type-mismatch";
    case "limit":
      return "cel-limit";
    case "regex":
      return "cel-regex";
    case "enum-symbol":
      return "cel-enum-symbol";
    case "has-always-true":
      return "cel-has-always-true";
    default:
      return "cel-unsupported";
  }
}

function span(text: string, d: CheckDiagnostic, offset: number): { start: number; end: number } {
  const start = offsetOf(text, d.line, d.column);
  const end = Math.max(start + 1, offsetOf(text, d.endLine, d.endColumn));
  return { start: offset + start, end: offset + Math.min(end, text.length) };
}

function leadingSpace(s: string): number {
  return s.length - s.trimStart().length;
}

function isBoolish(t: CheckType): boolean {
  return t.kind === "bool" || t.kind === "dyn";
}

function typeKey(t: CheckType): string {
  switch (t.kind) {
    case "record":
      return `record:${t.name}`;
    default:
      return formatType(t);
  }
}

/** A "did you mean" for tag typos: the closest tag the schema does carry. */
function tagHint(tag: string, fields: readonly FieldInfo[]): string | undefined {
  const all = new Set<string>();
  for (const f of fields) for (const t of f.tags) all.add(t);
  const same = [...all].find((t) => t.toLowerCase() === tag.toLowerCase());
  if (same) return `tags are case-sensitive: the schema has ${JSON.stringify(same)}`;
  if (all.size === 0) return "tag fields inline (confluent:tags) or with metadata.tags";
  return `tags in this schema: ${[...all].sort().join(", ")}`;
}

function visitRegexes(node: unknown, visit: (re: RegExp, position: number) => void, seen = new Set<unknown>()): void {
  if (typeof node !== "object" || node === null || seen.has(node)) return;
  seen.add(node);
  const n = node as { type?: string; value?: unknown; position?: number };
  if (n.type === "regex" && n.value instanceof RegExp) visit(n.value, typeof n.position === "number" ? n.position : 0);
  for (const v of Object.values(node)) visitRegexes(v, visit, seen);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
