/** Validation with Ajv, and the JSON payload (UTF-8 JSON text). */
import type { ErrorObject, ValidateFunction } from "ajv";
import { SerializationError } from "../../errors.js";
import { MAX_INPUT_FRAGMENT, capText } from "../../util/cap.js";
import { messageBuffer } from "../../util/message-buffers.js";
import type { SchemaProblem } from "../types.js";

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
  if (headroom === 0) return Buffer.from(text, "utf8");
  const out = messageBuffer(headroom + Buffer.byteLength(text, "utf8"));
  out.write(text, headroom, "utf8");
  return out;
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
