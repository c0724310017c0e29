/** Validation with Ajv, and the JSON payload (UTF-8 JSON text). */
import type { ErrorObject, ValidateFunction } from "ajv";
import { SerializationError } from "../../errors.js";
import { MAX_INPUT_FRAGMENT, capText } from "../../util/cap.js";
import { claim, currentSlab, freeStart, messageBuffer } from "../../util/message-buffers.js";
import type { SchemaProblem } from "../types.js";
import { FALLBACK, type JsonWriter } from "./fast-encode.js";

export function jsonProblems(validate: ValidateFunction, value: unknown): SchemaProblem[] | undefined {
  if (validate(value) === true) return undefined;
  const errors = validate.errors ?? [];
  if (errors.length === 0) return [{ path: "$", message: "does not match the schema" }];
  return errors.map((e) => problem(e, value));
}

function problem(e: ErrorObject, root: unknown): SchemaProblem {
  let path = instancePath(e.instancePath, root);
  const params = e.params as Record<string, unknown>;
  // Point at the property itself rather than at its parent object.
  if (e.keyword === "required" && typeof params.missingProperty === "string") path += `.${params.missingProperty}`;
  if (e.keyword === "additionalProperties" && typeof params.additionalProperty === "string") path += `.${params.additionalProperty}`;
  let message = e.message ?? e.keyword;
  if (e.keyword === "enum" && Array.isArray(params.allowedValues)) message += `: ${params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  return { path, message };
}

/** Ajv's "/items/0/sku" as "$.items[0].sku", following the value to tell indexes from keys. */
function instancePath(pointer: string, root: unknown): string {
  let path = "$";
  if (pointer === "") return path;
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      path += `[${seg}]`;
      node = node[Number(seg)];
    } else {
      path += `.${seg}`;
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return path;
}

export function jsonEncode(validate: ValidateFunction, value: unknown, schemaName: string, headroom = 0): Uint8Array {
  const problems = jsonProblems(validate, value);
  if (problems) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : "";
    throw new SerializationError("message-invalid", `value does not match JSON Schema ${schemaName} at ${capText(first.path, MAX_INPUT_FRAGMENT)}: ${capText(first.message)}${more}`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new SerializationError("message-invalid", `value has no JSON text: ${capText((e as Error).message)}`, { cause: e });
  }
  if (text === undefined) throw new SerializationError("message-invalid", "value has no JSON text (undefined or a function)");
  // JSON.stringify writes NaN, ±Infinity and undefined list elements as null, Maps and Sets as {}, and
  // bytes as objects: text that reads back as another value. One walk, with no allocation unless it finds one
  // (scanning the text for what could hide one first cost as much as the walk).
  let lost: Inexact | undefined;
  try {
    lost = inexact(value);
  } catch (e) {
    throw new SerializationError("message-invalid", "value is nested too deeply to write as JSON", { cause: e });
  }
  if (lost) throw new SerializationError("message-invalid", `value has no exact JSON text at ${capText(inexactPath(lost.at), MAX_INPUT_FRAGMENT)}: ${lost.what} would be written as ${lost.as}`);
  return jsonPayload(text, headroom);
}

/** JSON text as the UTF-8 payload, `headroom` bytes in. */
export function jsonPayload(text: string, headroom = 0): Uint8Array {
  if (headroom === 0) return Buffer.from(text, "utf8");
  const out = messageBuffer(headroom + Buffer.byteLength(text, "utf8"));
  out.write(text, headroom, "utf8");
  return out;
}

/**
 * The compiled writer's payload, `headroom` bytes in; undefined when it gives
 * up. Written in place at the free end of the message slab, so the framed
 * message costs no copy; a message that runs past the slab's end is written
 * again into a buffer of the size the first write counted (as writeAvro does).
 */
export function compiledPayload(writer: JsonWriter, value: unknown, headroom: number): Buffer | undefined {
  const slab = currentSlab();
  const start = freeStart();
  const end = writer(slab, start + headroom, value);
  if (end === FALLBACK) return undefined;
  // A getter that serialized another message meanwhile took this room: write it again, generically.
  if (currentSlab() !== slab || freeStart() !== start) return undefined;
  if (end <= slab.length) return claim(end);
  const out = messageBuffer(end - start);
  return writer(out, headroom, value) === out.length ? out : undefined;
}

/** What JSON.stringify would write as something that reads back otherwise; `at` is the path, innermost first. */
interface Inexact {
  readonly what: string;
  readonly as: string;
  readonly at: (string | number)[];
}

/**
 * The first value JSON.stringify writes as something that reads back otherwise.
 * Allocates nothing on the way down: it runs on every message.
 */
function inexact(v: unknown): Inexact | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? undefined : { what: String(v), as: "null", at: [] };
  if (typeof v !== "object" || v === null) return undefined;
  if (v instanceof Map || v instanceof Set) return { what: `a ${v instanceof Map ? "Map" : "Set"}`, as: "{}", at: [] };
  // JSON has no bytes: a Buffer would be written as {"type":"Buffer","data":[…]}, another typed array as {"0":…}.
  if (ArrayBuffer.isView(v)) return { what: "bytes", as: "an object", at: [] };
  // toJSON decides what is written (a Date its ISO text): not this value's members.
  if (typeof (v as { toJSON?: unknown }).toJSON === "function") return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      const found = x === undefined || typeof x === "function" || typeof x === "symbol" ? { what: x === undefined ? "undefined" : `a ${typeof x}`, as: "null", at: [] } : inexact(x);
      if (found) {
        found.at.push(i);
        return found;
      }
    }
    return undefined;
  }
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    const found = inexact((v as Record<string, unknown>)[key]);
    if (found) {
      found.at.push(key);
      return found;
    }
  }
  return undefined;
}

function inexactPath(at: readonly (string | number)[]): string {
  let path = "$";
  for (let k = at.length - 1; k >= 0; k--) path += typeof at[k] === "number" ? `[${at[k]}]` : `.${at[k]}`;
  return path;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function jsonDecode(payload: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch (e) {
    throw new SerializationError("wire-format", `JSON payload (${payload.length} bytes) is not UTF-8`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new SerializationError("wire-format", `JSON payload (${payload.length} bytes) does not parse: ${capText((e as Error).message)}`, { cause: e });
  }
}
