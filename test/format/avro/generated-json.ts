/**
 * Generated JSON for an Avro type, valid and not (a fixed-seed Rng drives it):
 * the differential tests of the compiled Avro paths share these schemas and
 * generators.
 */
import type { AvroType } from "../../../src/format/avro/avsc.js";
import type { AvroJsonForm } from "../../../src/format/avro/json.js";
import { AVRO_ALL } from "../../fuzz/corpus.js";
import type { Rng } from "../../fuzz/property.js";
import { ORDER_SCHEMA } from "./fixtures.js";

/** Every kind of type, defaults, wrapped and unwrapped unions, named branches by short name, recursion. */
export const RICH = {
  type: "record",
  name: "Rich",
  namespace: "t",
  fields: [
    { name: "n", type: "null" },
    { name: "constructor", type: "string" },
    { name: "i", type: "int", default: 7 },
    { name: "l", type: "long" },
    { name: "f", type: "float" },
    { name: "d", type: ["null", "double"], default: null },
    { name: "b", type: "boolean", default: false },
    { name: "by", type: "bytes" },
    { name: "fx", type: { type: "fixed", name: "Two", size: 2 } },
    { name: "e", type: { type: "enum", name: "E", symbols: ["A", "B", "C"] }, default: "A" },
    { name: "nums", type: ["int", "long"] },
    { name: "pair", type: ["null", { type: "record", name: "P", fields: [{ name: "x", type: "int" }] }, { type: "record", name: "Q", namespace: "u", fields: [{ name: "y", type: "string", default: "q" }] }], default: null },
    { name: "either", type: ["string", { type: "array", items: "P" }, { type: "map", values: ["null", "E"] }] },
    { name: "tree", type: { type: "record", name: "Tree", fields: [{ name: "v", type: "int" }, { name: "kids", type: { type: "array", items: "Tree" } }] } },
    { name: "m", type: { type: "map", values: { type: "array", items: "double" } }, default: {} },
  ],
};

export const SCHEMAS: [string, unknown][] = [
  ["rich", RICH],
  ["fuzz all", JSON.parse(AVRO_ALL)],
  ["order", ORDER_SCHEMA],
];

const ODD_STRINGS = ["", "NaN", "Infinity", "-Infinity", "toString", "constructor", "__proto__", "AAE=", "AAEC", "A", "B", "=", "é", "\u0100", "t.P", "P", "u.Q", "Q", "int", "long", "null", "string"];
const ODD_NUMBERS = [0, -0, 1, -1, 1.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53 - 1, 2 ** 53, 1e300, -1e-300];

/** Arbitrary JSON, small. */
export function anyJson(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 4 : 6)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick(ODD_NUMBERS);
    case 3:
      return r.pick(ODD_STRINGS);
    case 4:
      return Array.from({ length: r.int(3) }, () => anyJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let k = r.int(3); k > 0; k--) o[r.pick(ODD_STRINGS)] = anyJson(r, depth + 1);
      return o;
    }
  }
}

/** JSON that fits `type` in `form`, mostly; with probability `noise` a node is replaced by arbitrary JSON. */
export function jsonFor(type: AvroType, form: AvroJsonForm, r: Rng, noise: number, depth = 0): unknown {
  if (r.chance(noise)) return anyJson(r);
  const t = type as AvroType & Record<string, any>;
  switch (type.typeName) {
    case "null":
      return null;
    case "boolean":
      return r.chance(0.5);
    case "string":
      return r.pick(["x", "", "hello", "é€"]);
    case "int":
      return r.int(2000) - 1000;
    case "long":
      return r.chance(0.1) ? r.pick([2 ** 53 - 1, 2 ** 53 - 2, -(2 ** 53 - 2)]) : r.chance(0.5) ? 2 ** 40 + r.int(1000) : r.int(10);
    case "float":
    case "double":
      return r.chance(0.1) ? r.pick(["NaN", "Infinity", "-Infinity"]) : r() * 100 - 50;
    case "bytes":
      return form === "plain" ? Buffer.from([r.int(256), r.int(256)]).toString("base64") : String.fromCharCode(r.int(256), r.int(256));
    case "fixed": {
      const b = Buffer.from(Array.from({ length: t.size }, () => r.int(256)));
      return form === "plain" ? b.toString("base64") : b.toString("latin1");
    }
    case "enum":
      return r.pick(t.symbols);
    case "array":
      return Array.from({ length: depth > 3 ? 0 : r.int(3) }, () => jsonFor(t.itemsType, form, r, noise, depth + 1));
    case "map": {
      const o: Record<string, unknown> = {};
      for (let k = depth > 3 ? 0 : r.int(3); k > 0; k--) o[r.pick(["a", "b", "toString", "__proto__", "x y"])] = jsonFor(t.valuesType, form, r, noise, depth + 1);
      return o;
    }
    case "record":
    case "error": {
      const o: Record<string, unknown> = {};
      for (const f of t.fields) {
        if (f.defaultValue() !== undefined && r.chance(0.2)) continue;
        if (r.chance(noise)) continue; // a missing field without default
        o[f.name] = jsonFor(f.type, form, r, noise, depth + 1);
      }
      if (r.chance(noise)) o[r.pick(ODD_STRINGS)] = anyJson(r);
      return o;
    }
    default: {
      // unions: a branch, wrapped by branch name or short name, or plain
      const branches = t.types as AvroType[];
      const b = depth > 3 && branches.some((x) => x.typeName === "null") ? branches.find((x) => x.typeName === "null")! : r.pick(branches);
      const inner = jsonFor(b, form, r, noise, depth + 1);
      if (b.typeName === "null") return null;
      const how = r.int(3);
      if (how === 0) return { [b.branchName!]: inner };
      if (how === 1 && b.name !== undefined) return { [b.name.slice(b.name.lastIndexOf(".") + 1)]: inner };
      return inner;
    }
  }
}
