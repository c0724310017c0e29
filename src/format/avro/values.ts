/** Small helpers on avsc values and the paths that point into them. */
import { describeType } from "../../util/describe.js";

/** A shallow copy that keeps the prototype (avsc decodes records into generated classes). */
export function cloneObject(value: object): Record<string, unknown> {
  return Object.assign(Object.create(Object.getPrototypeOf(value) as object | null) as object, value) as Record<string, unknown>;
}

/**
 * A copier for values of one record type: instances of its avsc record class
 * (what decode and fromJson build) are copied field by field by generated
 * code, several times faster than cloneObject's generic copy; anything else
 * goes through cloneObject. The copy has the class's fields, as the record
 * constructor gives every instance.
 */
export function recordCopier(fieldNames: readonly string[], recordClass: { prototype: object }): (value: object) => Record<string, unknown> {
  const proto = recordClass.prototype;
  const Copy = new Function("v", fieldNames.map((n) => `this[${JSON.stringify(n)}] = v[${JSON.stringify(n)}];`).join("\n")) as unknown as new (v: object) => Record<string, unknown>;
  Copy.prototype = proto;
  return (value) => (Object.getPrototypeOf(value) === proto ? new Copy(value) : cloneObject(value));
}

export { setOwn } from "../../util/own.js";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `path.key`, or `path["key"]` when the key is not an identifier (map keys may be anything). */
export function appendKey(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/**
 * Renders avsc's error-hook path (field names, map keys, branch names and
 * array indexes, all as strings) by following it through the value, so array
 * indexes become `[i]` and everything else `.name`.
 */
export function renderValuePath(segments: readonly string[], root: unknown): string {
  let path = "";
  let node: unknown = root;
  for (const seg of segments) {
    if (Array.isArray(node)) {
      path += `[${seg}]`;
      node = node[Number(seg)];
    } else {
      path = appendKey(path, seg);
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return path;
}

/** A short rendering of a value for error messages. */
/** The value's type for error messages; never its content (values may be personal data). */
export function describeValue(value: unknown): string {
  return describeType(value);
}
