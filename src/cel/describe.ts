/** A native value's kind for CEL conversion errors: its type, never its content. */
export function describeNative(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof Date) return "Date";
  if (typeof v === "object") return v.constructor?.name ?? "object";
  return typeof v;
}
