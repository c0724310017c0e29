/**
 * Redaction on the Protobuf JSON form (see JsonRedactor). The JSON form names
 * fields by their JSON names (`cardNumber`, or a `json_name` option), not by
 * their proto names, so the pass walks the JSON with the descriptor rather
 * than following field-walk paths. A tagged field's whole value goes (enums,
 * messages, lists, maps with their keys); a map whose value side alone is
 * tagged (a metadata wildcard on "X.AttrsEntry.value") keeps its keys.
 *
 * Well-known types have their own JSON forms and are never entered: tagged,
 * they are replaced whole like any field.
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { SerializationError } from "../../errors.js";
import { hasAnyTag } from "../tags.js";
import { nestedMessage, type FieldCatalog } from "./fields.js";
import { pruneSteps } from "./prune.js";

interface Step {
  /** The field's JSON name: the key in the JSON form. */
  readonly key: string;
  /** Replace the whole value. */
  readonly whole: boolean;
  /** A map field whose values (not keys) are tagged. */
  readonly mapValues: boolean;
  readonly kind: DescField["fieldKind"];
  sub: Plan | undefined;
}

interface Plan {
  readonly typeName: string;
  /** Every JSON name of the message: any other key means the JSON form is not what this pass expects. */
  readonly names: ReadonlySet<string>;
  steps: Step[];
}

type Obj = Record<string, unknown>;

/** A pass replacing tagged values in a JSON form in place; undefined when no field of `root` can be tagged. */
export function compileJsonRedaction(
  root: DescMessage,
  catalog: FieldCatalog,
  tags: ReadonlySet<string>,
): ((json: unknown, replace: (json: unknown) => unknown) => void) | undefined {
  const plans = new Map<DescMessage, Plan>();
  const planFor = (desc: DescMessage): Plan => {
    let plan = plans.get(desc);
    if (plan) return plan;
    // stored before recursing, so recursive message types terminate
    plan = { typeName: desc.typeName, names: new Set(desc.fields.map((f) => f.jsonName)), steps: [] };
    plans.set(desc, plan);
    for (const field of desc.fields) {
      const whole = hasAnyTag(catalog.info(field).tags, tags);
      const mapValues = !whole && field.fieldKind === "map" && hasAnyTag(catalog.mapValueInfo(field).tags, tags);
      const nested = whole || mapValues ? undefined : nestedMessage(field);
      const sub = nested && !nested.typeName.startsWith("google.protobuf.") ? planFor(nested) : undefined;
      plan.steps.push({ key: field.jsonName, whole, mapValues, kind: field.fieldKind, sub });
    }
    return plan;
  };
  const rootPlan = planFor(root);
  // Keeps the steps that redact something, directly or below.
  pruneSteps(plans.values(), (s) => s.whole || s.mapValues);
  if (rootPlan.steps.length === 0) return undefined;
  return (json, replace) => redactMessage(rootPlan, json, replace);
}


function redactMessage(plan: Plan, json: unknown, replace: (json: unknown) => unknown): void {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SerializationError("redaction-failed", `cannot redact ${plan.typeName}: its JSON form is not an object`);
  }
  const obj = json as Obj;
  for (const key of Object.keys(obj)) {
    if (plan.names.has(key)) continue;
    // Extensions ("[pkg.ext]") carry no tags this pass knows of: left out.
    if (key.startsWith("[")) obj[key] = replace(obj[key]);
    // Any other key the descriptor does not name is a bug in this pass: fail rather than leak its value.
    else throw new SerializationError("redaction-failed", `cannot redact ${plan.typeName}: its JSON form has a field named ${JSON.stringify(key)}`);
  }
  for (const step of plan.steps) {
    const value = obj[step.key];
    if (value === undefined) continue; // unset: not in the JSON form
    if (step.whole) obj[step.key] = replace(value);
    else if (step.mapValues) for (const k of Object.keys(value as Obj)) (value as Obj)[k] = replace((value as Obj)[k]);
    else if (step.kind === "list") for (const item of value as unknown[]) redactMessage(step.sub!, item, replace);
    else if (step.kind === "map") for (const item of Object.values(value as Obj)) redactMessage(step.sub!, item, replace);
    else redactMessage(step.sub!, value, replace);
  }
}
