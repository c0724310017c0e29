/**
 * What a value is, for error messages, without what it holds: values may be
 * personal data, and error messages end up in logs.
 */
export function describeType(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (v instanceof Date) return "a Date";
  switch (typeof v) {
    case "string":
      return `a string (${v.length} chars)`;
    case "number":
      return Number.isInteger(v) ? "an integer number" : "a number";
    case "bigint":
      return "a bigint";
    case "boolean":
      return "a boolean";
    case "object": {
      const t = (v as { $typeName?: unknown }).$typeName;
      if (typeof t === "string") return `message ${t}`;
      // The prototype's constructor: an own `constructor` key is the caller's data.
      const ctor: unknown = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      return typeof ctor === "string" && ctor !== "Object" && ctor !== "" ? `an object (${ctor})` : "an object";
    }
    default:
      return typeof v;
  }
}
