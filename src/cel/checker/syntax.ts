/**
 * Where a syntax error really is. @bufbuild/cel's parser decides what parses;
 * when it rejects an expression it often points at the start of the last
 * sub-expression that did parse ("found > but expecting end of input"). This
 * small recursive-descent validator of the CEL grammar runs only after such a
 * rejection, to find the first offending token and say what was expected. It
 * also tells syntax the runtime lacks (`.?`, `[?`, `{?`, backquoted names)
 * from plain mistakes.
 */
import { identifierEnd, literalEnd, skipTrivia, stringEnd } from "./source.js";
import type { Range } from "./source.js";

export interface SyntaxProblem extends Range {
  readonly code: "syntax" | "unsupported";
  readonly message: string;
}

export const UNSUPPORTED_OPTIONAL = "optional syntax (.?field, [?index], {?key: value}, optional.*) is not supported by kontract's CEL runtime";

type TokenKind = "ident" | "literal" | "op" | "eof" | "error";

interface Token extends Range {
  readonly kind: TokenKind;
  readonly text: string;
  /** For error tokens. */
  readonly problem?: string;
}

const OPERATORS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", "`"];
const KEYWORD_LITERALS = new Set(["true", "false", "null"]);
/** Reserved by the CEL grammar; not usable as identifiers. */
const RESERVED = new Set([
  "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
]);
const RELATIONS = new Set(["<", "<=", ">", ">=", "==", "!=", "in"]);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const endsOperand = () => {
    const last = tokens[tokens.length - 1];
    return last !== undefined && (last.kind === "ident" || last.kind === "literal" || [")", "]", "}"].includes(last.text));
  };
  for (;;) {
    i = skipTrivia(text, i);
    if (i >= text.length) break;
    const c = text[i];
    const start = i;
    // String and bytes literals, with r/b prefixes.
    const prefix = /^[rRbB]{0,2}['"]/.exec(text.slice(i, i + 3));
    if (prefix !== null) {
      const quote = i + prefix[0].length - 1;
      const raw = /[rR]/.test(prefix[0]);
      const end = stringEnd(text, quote, raw);
      const q = text[quote];
      const triple = text[quote + 1] === q && text[quote + 2] === q;
      const closed = triple ? end - quote >= 6 && text.slice(end - 3, end) === q.repeat(3) : end - quote >= 2 && text[end - 1] === q;
      if (!closed) {
        tokens.push({ kind: "error", text: text.slice(start, end), start, end, problem: "unterminated string literal" });
        break;
      }
      tokens.push({ kind: "literal", text: text.slice(start, end), start, end });
      i = end;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(text[i + 1] ?? "") && !endsOperand())) {
      const end = literalEnd(text, i);
      tokens.push({ kind: "literal", text: text.slice(start, end), start, end });
      i = end;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const end = identifierEnd(text, i);
      const word = text.slice(start, end);
      if (KEYWORD_LITERALS.has(word)) tokens.push({ kind: "literal", text: word, start, end });
      else if (word === "in") tokens.push({ kind: "op", text: word, start, end });
      else tokens.push({ kind: "ident", text: word, start, end });
      i = end;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op !== undefined) {
      tokens.push({ kind: "op", text: op, start, end: i + op.length });
      i += op.length;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    let problem = `unexpected character '${ch}'`;
    if (ch === "=") problem = "'=' is not an operator: compare with '=='";
    else if (ch === "&") problem = "'&' is not an operator: use '&&'";
    else if (ch === "|") problem = "'|' is not an operator: use '||'";
    tokens.push({ kind: "error", text: ch, start, end: i + ch.length, problem });
    break;
  }
  tokens.push({ kind: "eof", text: "", start: text.length, end: text.length });
  return tokens;
}

class Stop {
  constructor(readonly problem: SyntaxProblem) {}
}

class Validator {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly where: (offset: number) => string,
  ) {}

  run(): void {
    this.expr();
    const t = this.peek();
    if (t.kind !== "eof") this.fail(t, `unexpected ${describe(t)}: expected an operator or the end of the expression`);
  }

  private peek(): Token {
    const t = this.tokens[this.pos];
    if (t.kind === "error") throw new Stop({ code: "syntax", message: t.problem!, start: t.start, end: t.end });
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.pos++;
    return t;
  }

  private previous(): Token | undefined {
    return this.tokens[this.pos - 1];
  }

  private is(text: string): boolean {
    const t = this.peek();
    return t.kind === "op" && t.text === text;
  }

  private fail(t: Token, message: string, code: SyntaxProblem["code"] = "syntax"): never {
    throw new Stop({ code, message, start: t.start, end: Math.max(t.end, t.start + (t.kind === "eof" ? 0 : 1)) });
  }

  private unsupported(t: Token): never {
    this.fail(t, UNSUPPORTED_OPTIONAL, "unsupported");
  }

  private expr(): void {
    this.or();
    if (this.is("?")) {
      this.next();
      this.or();
      if (!this.is(":")) this.fail(this.peek(), `expected ':' of the conditional (?:) but found ${describe(this.peek())}`);
      this.next();
      this.expr();
    }
  }

  private or(): void {
    this.and();
    while (this.is("||")) {
      this.next();
      this.and();
    }
  }

  private and(): void {
    this.relation();
    while (this.is("&&")) {
      this.next();
      this.relation();
    }
  }

  private relation(): void {
    this.addition();
    while (this.peek().kind === "op" && RELATIONS.has(this.peek().text)) {
      this.next();
      this.addition();
    }
  }

  private addition(): void {
    this.multiplication();
    while (this.is("+") || this.is("-")) {
      this.next();
      this.multiplication();
    }
  }

  private multiplication(): void {
    this.unary();
    while (this.is("*") || this.is("/") || this.is("%")) {
      this.next();
      this.unary();
    }
  }

  private unary(): void {
    // '!'s or '-'s, not both: the grammar rejects `-!x`.
    const op = this.is("!") ? "!" : this.is("-") ? "-" : undefined;
    if (op !== undefined) while (this.is(op)) this.next();
    this.member();
  }

  private member(): void {
    // A struct literal follows a (qualified) name only: Name{...} or a.b.Name{...}.
    let qualifiedName = this.primary();
    for (;;) {
      if (this.is(".")) {
        this.next();
        const t = this.peek();
        if (t.kind === "op" && t.text === "?") this.unsupported(this.previous()!);
        if (t.kind === "op" && t.text === "`") this.fail(t, "backquoted field names are not supported by kontract's CEL runtime: use message['field-name']", "unsupported");
        // `in` is an operator, but also a valid field name after a dot.
        if (t.kind !== "ident" && !(t.kind === "op" && t.text === "in")) this.fail(t, `expected a field or method name after '.' but found ${describe(t)}`);
        this.next();
        if (this.is("(")) {
          this.args();
          qualifiedName = false;
        }
        continue;
      }
      if (this.is("[")) {
        const open = this.next();
        if (this.is("?")) this.unsupported(open);
        this.expr();
        this.close("]", open);
        qualifiedName = false;
        continue;
      }
      if (this.is("{") && qualifiedName) {
        this.structFields(this.next());
        qualifiedName = false;
        continue;
      }
      return;
    }
  }

  /** Returns whether the primary is a plain (possibly dotted) identifier. */
  private primary(): boolean {
    const t = this.peek();
    if (t.kind === "literal") {
      this.next();
      return false;
    }
    if (t.kind === "ident" || (t.kind === "op" && t.text === ".")) {
      if (t.text === ".") {
        this.next();
        if (this.peek().kind !== "ident") this.fail(this.peek(), `expected a name after the leading '.' but found ${describe(this.peek())}`);
      }
      const name = this.next();
      if (RESERVED.has(name.text)) this.fail(name, `'${name.text}' is a reserved word in CEL and cannot be used as a name`);
      if (this.is("(")) {
        this.args();
        return false;
      }
      return true;
    }
    if (t.kind === "op") {
      switch (t.text) {
        case "(": {
          const open = this.next();
          this.expr();
          this.close(")", open);
          return false;
        }
        case "[": {
          const open = this.next();
          this.list(open);
          return false;
        }
        case "{": {
          const open = this.next();
          this.map(open);
          return false;
        }
        case "`":
          this.fail(t, "backquoted names are not supported by kontract's CEL runtime", "unsupported");
      }
    }
    const prev = this.previous();
    const after = prev === undefined ? "" : ` after '${prev.text}'`;
    this.fail(t, `expected an expression${after} but found ${describe(t)}`);
  }

  private close(text: ")" | "]" | "}", open: Token): void {
    const t = this.peek();
    if (t.kind === "op" && t.text === text) {
      this.next();
      return;
    }
    if (t.kind === "eof") this.fail(t, `missing '${text}' to close the '${open.text}' at ${this.where(open.start)}`);
    this.fail(t, `expected '${text}' (to close the '${open.text}' at ${this.where(open.start)}) but found ${describe(t)}`);
  }

  private args(): void {
    const open = this.next(); // "("
    if (this.is(")")) {
      this.next();
      return;
    }
    for (;;) {
      this.expr();
      if (!this.is(",")) break;
      this.next();
    }
    const t = this.peek();
    if (t.kind !== "eof" && !(t.kind === "op" && t.text === ")")) {
      this.fail(t, `expected ',' or ')' (to close the '(' at ${this.where(open.start)}) but found ${describe(t)}`);
    }
    this.close(")", open);
  }

  private list(open: Token): void {
    while (!this.is("]")) {
      if (this.is("?")) this.unsupported(this.peek());
      this.expr();
      if (this.is(",")) {
        this.next();
        continue;
      }
      break;
    }
    this.close("]", open);
  }

  private map(open: Token): void {
    this.entries(open, "a map key", () => this.expr());
  }

  private structFields(open: Token): void {
    this.entries(open, "the field name", () => {
      const name = this.peek();
      if (name.kind !== "ident") this.fail(name, `expected a field name but found ${describe(name)}`);
      this.next();
    });
  }

  /** `key: value` entries up to the closing brace, for map literals and message construction. */
  private entries(open: Token, keyName: string, key: () => void): void {
    while (!this.is("}")) {
      if (this.is("?")) this.unsupported(this.peek());
      key();
      if (!this.is(":")) this.fail(this.peek(), `expected ':' after ${keyName} but found ${describe(this.peek())}`);
      this.next();
      this.expr();
      if (this.is(",")) {
        this.next();
        continue;
      }
      break;
    }
    this.close("}", open);
  }
}

function describe(t: Token): string {
  if (t.kind === "eof") return "the end of the expression";
  if (t.kind === "ident") return `'${t.text}'`;
  if (t.kind === "literal") return `literal ${t.text.length > 20 ? `${t.text.slice(0, 20)}…` : t.text}`;
  return `'${t.text}'`;
}

/**
 * The first syntax problem in `text`, or undefined when this validator finds
 * none (the caller then keeps the parser's own report).
 */
export function locateSyntaxError(text: string, where: (offset: number) => string): SyntaxProblem | undefined {
  try {
    new Validator(tokenize(text), where).run();
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return e.problem;
    throw e;
  }
}
