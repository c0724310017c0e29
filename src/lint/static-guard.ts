/**
 * Evaluating a CEL_FIELD guard per field, before any message exists: a guard
 * that reads only `typeName`, `name`, `fullName` and `tags` has the same
 * result for every message, so the linter knows which fields the body can see.
 * `typeName == 'STRING' ; value.startsWith('x')` is then checked on string
 * fields only, as it runs.
 */
import { createCelRuntime, isCelFailure, type CelProgram, type CelRuntime } from "../cel/index.js";
import type { FieldInfo } from "../format/types.js";

const VARIABLES = ["value", "fullName", "name", "typeName", "tags", "message"];
let runtime: CelRuntime | undefined;
const programs = new Map<string, CelProgram | null>();

/** true or false when the guard's result is known for this field; undefined otherwise. */
export function evaluateStaticGuard(guard: string, field: FieldInfo): boolean | undefined {
  let program = programs.get(guard);
  if (program === undefined) {
    program = readsMessageData(guard) ? null : compile(guard);
    programs.set(guard, program);
  }
  if (program === null) return undefined;
  const r = program.run({ typeName: field.typeName, name: field.name, fullName: field.fullName, tags: [...field.tags].sort() });
  if (isCelFailure(r)) return undefined;
  // Java runs the body only when the guard is exactly true.
  return r === true;
}

function compile(guard: string): CelProgram | null {
  try {
    return (runtime ??= createCelRuntime()).compile(guard, VARIABLES);
  } catch {
    return null;
  }
}

/** Whether the guard names `value`, `message` or `now` outside string literals. */
function readsMessageData(guard: string): boolean {
  const code = guard.replace(/(?:[rRbB]{0,2})('''[\s\S]*?'''|"""[\s\S]*?"""|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")/g, "''");
  return /(^|[^\w.])(value|message|now)\b/.test(code);
}
