import { parse } from "@bufbuild/cel";
const exprs = process.argv.slice(2);
for (const src of exprs) {
  console.log("==", JSON.stringify(src));
  try {
    const p = parse(src);
    const pos = p.sourceInfo!.positions;
    const walk = (e: any, d: number) => {
      if (!e) return;
      const k = e.exprKind;
      const off = pos[e.id.toString()];
      let desc = k.case;
      if (k.case === "identExpr") desc += " " + k.value.name;
      if (k.case === "selectExpr") desc += " ." + k.value.field + (k.value.testOnly ? " (test)" : "");
      if (k.case === "callExpr") desc += " " + k.value.function + (k.value.target ? " (method)" : "");
      if (k.case === "constExpr") desc += " " + k.value.constantKind.case;
      console.log("  ".repeat(d) + desc + " @" + off + " '" + src.slice(off, off + 6) + "'" + (p.sourceInfo!.macroCalls[e.id.toString()] ? " [macro]" : ""));
      if (k.case === "selectExpr") walk(k.value.operand, d + 1);
      if (k.case === "callExpr") { walk(k.value.target, d + 1); k.value.args.forEach((a: any) => walk(a, d + 1)); }
      if (k.case === "listExpr") k.value.elements.forEach((a: any) => walk(a, d + 1));
      if (k.case === "structExpr") k.value.entries.forEach((en: any) => { console.log("  ".repeat(d+1) + "entry @" + pos[en.id.toString()] + " " + (en.keyKind.case === "fieldKey" ? en.keyKind.value : "")); if (en.keyKind.case === "mapKey") walk(en.keyKind.value, d + 2); walk(en.value, d + 2); });
      if (k.case === "comprehensionExpr") { const c = k.value; console.log("  ".repeat(d+1) + "iter " + c.iterVar + " accu " + c.accuVar); for (const n of ["iterRange","accuInit","loopCondition","loopStep","result"]) { console.log("  ".repeat(d+1)+n+":"); walk(c[n], d + 2); } }
    };
    walk(p.expr, 1);
  } catch (e: any) { console.log("  ERR", e.message?.slice(0, 200), JSON.stringify(e.location?.start)); }
}
