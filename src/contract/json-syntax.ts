/**
 * Finds the first JSON syntax error and its offset. JSON.parse messages carry a
 * position only on some Node versions, and contract errors need line:col.
 */
import { MAX_JSON_DEPTH } from "../util/json-depth.js";

export interface JsonSyntaxError {
  /** 0-based offset of the offending character (text length for a premature end). */
  readonly offset: number;
  readonly message: string;
}

export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const n = text.length;

  class Stop {
    constructor(readonly error: JsonSyntaxError) {}
  }
  const stop = (message: string, at = i): never => {
    throw new Stop({ offset: Math.min(at, n), message });
  };
  const describe = (): string => (i >= n ? "end of input" : `'${text[i]}'`);
  const ws = (): void => {
    while (i < n && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else stop(`unexpected ${describe()}, expected a value`);
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= n) stop("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) stop("control character in string (escape it, e.g. \\n)");
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) stop("invalid \\u escape");
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else stop(`invalid escape \\${e ?? ""}`);
      } else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m || m[0] === "" || m[0] === "-") stop("invalid number");
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > MAX_JSON_DEPTH) stop("nesting too deep");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') stop(`unexpected ${describe()}, expected a property name in double quotes`);
        string();
        ws();
        if (text[i] !== ":") stop(`unexpected ${describe()}, expected ':'`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        stop(`unexpected ${describe()}, expected ',' or '}'`);
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        stop(`unexpected ${describe()}, expected ',' or ']'`);
      }
    }
    if (c === '"') return string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    stop(`unexpected ${describe()}, expected a value`);
  };

  try {
    value(0);
    ws();
    if (i < n) stop(`unexpected ${describe()} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return e.error;
    throw e;
  }
}
