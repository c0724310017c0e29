import { checkCel, formatCheckType, CHECK_TYPES as T } from "./src/cel/checker/index.js";
const item = { kind: "record", name: "Item", fields: new Map([["sku", T.string], ["qty", T.int], ["price", T.double]]) } as const;
const address = { kind: "record", name: "Address", fields: new Map([["city", T.string], ["zip", T.string]]) } as const;
const message = { kind: "record", name: "acme.User", fields: new Map<string, any>([["age", T.int], ["name", T.string], ["email", T.string], ["createdAt", T.timestamp], ["address", address], ["items", { kind: "list", element: item }], ["nick", { kind: "optional-null", inner: T.string }], ["score", T.double], ["active", T.bool]]) } as const;
const vars = { message, value: T.dyn, name: T.string, typeName: T.string } as any;
for (const e of process.argv.slice(2)) {
  const r = checkCel(e, vars);
  console.log(JSON.stringify(e), "=>", r.type ? formatCheckType(r.type) : "-", r.diagnostics.map((d) => `${d.code}@${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.message}`).join(" | "));
}
