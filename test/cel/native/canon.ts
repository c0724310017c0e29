/**
 * Canonical forms of CEL results, to compare the native fast path with the
 * interpreter: a failure is "error" (wording may differ), values are compared
 * by CEL type and value (lists and maps element-wise, doubles with NaN equal
 * to NaN and -0 distinct from 0).
 */
import { isCelList, isCelMap, isCelType, isCelUint } from "@bufbuild/cel";
import { isCelFailure } from "../../../src/cel/index.js";

export type Canon = string;

export function canon(r: unknown): Canon {
  if (isCelFailure(r)) return "error";
  return value(r);
}

function value(r: unknown): string {
  if (r === null || r === undefined) return "null";
  switch (typeof r) {
    case "boolean":
      return `bool:${r}`;
    case "bigint":
      return `int:${r}`;
    case "number":
      return `double:${Object.is(r, -0) ? "-0" : String(r)}`;
    case "string":
      return `string:${JSON.stringify(r)}`;
  }
  if (r instanceof Uint8Array) return `bytes:${Buffer.from(r).toString("hex")}`;
  if (typeof r === "object") {
    if (isCelUint(r)) return `uint:${r.value}`;
    if (isCelList(r)) return `list[${[...r].map(element).join(",")}]`;
    if (isCelMap(r)) {
      const entries = [...r.entries()].map(([k, v]) => `${value(k)}=>${element(v)}`).sort();
      return `map{${entries.join(",")}}`;
    }
    if (isCelType(r)) return `type:${r.name}`;
  }
  return `other:${String(r)}`;
}

/** Inside containers, an element that does not fit its type is an error value. */
function element(v: unknown): string {
  if (typeof v === "object" && v !== null && v instanceof Error) return "error";
  return value(v);
}
