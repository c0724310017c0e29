/**
 * Field walker for protobuf-es messages: visits primitive leaves whose tags
 * intersect the rule's tags, recursing into nested messages (with their own
 * descriptor, unlike the JS client, which passes the parent's), repeated
 * fields and map values. Unset oneof members and unset fields with explicit
 * presence are skipped.
 *
 * A plan is compiled once per message type and tag set, pruned to the fields
 * that can reach a matching leaf; the walk then copies on write: only messages,
 * lists and maps on the path to a changed value are shallow-copied.
 */
import { ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { SHAPES } from "../../cel/shape.js";
import { hasAnyTag } from "../tags.js";
import type { FieldInfo, FieldVisitor, FieldWalker } from "../types.js";
import { isJsonStruct, isUnboxedWrapper, type FieldCatalog } from "./fields.js";
import { pruneSteps } from "./prune.js";

const Kind = { Leaf: 0, ListLeaf: 1, MapLeaf: 2, Msg: 3, ListMsg: 4, MapMsg: 5 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

interface Step {
  readonly kind: Kind;
  /** Path segment: the proto field name. */
  readonly name: string;
  /** Property holding the value: the field's localName, or its oneof's. */
  readonly prop: string;
  /** For oneof members: the case naming this field. */
  readonly oneofCase: string | undefined;
  /** Explicit presence: skip unless the message has its own property. */
  readonly explicit: boolean;
  /** Map steps: string keys are quoted in paths, others (ints, bools) are not. */
  readonly quoteKeys: boolean;
  /** For leaves: what the visitor is told about the field. */
  readonly info: FieldInfo | undefined;
  /** For message steps: the nested message's plan. */
  sub: Plan | undefined;
}

interface Plan {
  steps: Step[];
}

type Obj = Record<string, unknown>;

const FIELD_PRESENCE_IMPLICIT = 2;

/** Compiles a walker for `root` visiting leaves whose tags intersect `tags` (all leaves when empty). */
export function compileWalker(root: DescMessage, catalog: FieldCatalog, tags: ReadonlySet<string> | undefined): FieldWalker<Message> {
  const matches = (info: FieldInfo) => info.primitive && (!tags || tags.size === 0 || hasAnyTag(info.tags, tags));
  const plans = new Map<DescMessage, Plan>();

  const planFor = (desc: DescMessage): Plan => {
    let plan = plans.get(desc);
    if (plan) return plan;
    // stored before recursing, so recursive message types terminate
    plan = { steps: [] };
    plans.set(desc, plan);
    for (const field of desc.fields) {
      const step = stepFor(field);
      if (step) plan.steps.push(step);
    }
    return plan;
  };

  const stepFor = (field: DescField): Step | undefined => {
    const base = {
      name: field.name,
      prop: field.oneof ? field.oneof.localName : field.localName,
      oneofCase: field.oneof ? field.localName : undefined,
      explicit: field.presence !== FIELD_PRESENCE_IMPLICIT,
      quoteKeys: field.fieldKind === "map" && field.mapKey === ScalarType.STRING,
    };
    const leaf = (kind: Kind, info: FieldInfo): Step | undefined =>
      matches(info) ? { ...base, kind, info, sub: undefined } : undefined;
    const nested = (kind: Kind, desc: DescMessage): Step => ({ ...base, kind, info: undefined, sub: planFor(desc) });
    switch (field.fieldKind) {
      case "scalar":
        return leaf(Kind.Leaf, catalog.info(field));
      case "enum":
        return undefined;
      case "message":
        if (isUnboxedWrapper(field)) return leaf(Kind.Leaf, catalog.info(field));
        return isJsonStruct(field) ? undefined : nested(Kind.Msg, field.message);
      case "list":
        if (field.listKind === "scalar") return leaf(Kind.ListLeaf, catalog.info(field));
        return field.listKind === "message" && !isJsonStruct(field) ? nested(Kind.ListMsg, field.message) : undefined;
      case "map":
        if (field.mapKind === "scalar") return leaf(Kind.MapLeaf, catalog.mapValueInfo(field));
        return field.mapKind === "message" && !isJsonStruct(field) ? nested(Kind.MapMsg, field.message) : undefined;
    }
  };

  const rootPlan = planFor(root);
  // Drops message steps whose plans cannot reach a matching leaf.
  pruneSteps(plans.values(), (s) => s.info !== undefined);
  if (rootPlan.steps.length === 0) return (message) => message;
  return (message, visit) =>
    // anything but a message object has no fields to visit
    typeof message === "object" && message !== null ? (walkMessage(rootPlan, message as unknown as Obj, "", visit) as unknown as Message) : message;
}


function walkMessage(plan: Plan, msg: Obj, path: string, visit: FieldVisitor): Obj {
  let out: Obj | undefined;
  for (const step of plan.steps) {
    let value: unknown;
    if (step.oneofCase !== undefined) {
      const oneof = msg[step.prop] as { case?: string; value?: unknown } | undefined;
      if (!oneof || oneof.case !== step.oneofCase) continue;
      value = oneof.value;
    } else {
      value = msg[step.prop];
      if (value === undefined || (step.explicit && !Object.prototype.hasOwnProperty.call(msg, step.prop))) continue;
    }
    const p = path ? `${path}.${step.name}` : step.name;
    let next: unknown;
    switch (step.kind) {
      case Kind.Leaf:
        next = visit(value, { field: step.info!, container: msg, containerShape: SHAPES.native, path: p });
        break;
      case Kind.ListLeaf:
        next = mapList(value as unknown[], p, (v, q) => visit(v, { field: step.info!, container: msg, containerShape: SHAPES.native, path: q }));
        break;
      case Kind.MapLeaf:
        next = mapMap(value as Obj, p, step.quoteKeys, (v, q) => visit(v, { field: step.info!, container: msg, containerShape: SHAPES.native, path: q }));
        break;
      case Kind.Msg:
        next = walkMessage(step.sub!, value as Obj, p, visit);
        break;
      case Kind.ListMsg:
        next = mapList(value as unknown[], p, (v, q) => walkMessage(step.sub!, v as Obj, q, visit));
        break;
      case Kind.MapMsg:
        next = mapMap(value as Obj, p, step.quoteKeys, (v, q) => walkMessage(step.sub!, v as Obj, q, visit));
        break;
    }
    if (next === value) continue;
    out ??= copyMessage(msg);
    out[step.prop] = step.oneofCase !== undefined ? { case: step.oneofCase, value: next } : next;
  }
  return out ?? msg;
}

function mapList(list: readonly unknown[], path: string, f: (v: unknown, path: string) => unknown): readonly unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    const next = f(v, `${path}[${i}]`);
    if (next !== v) (out ??= list.slice())[i] = next;
  }
  return out ?? list;
}

function mapMap(map: Obj, path: string, quoteKeys: boolean, f: (v: unknown, path: string) => unknown): Obj {
  let out: Obj | undefined;
  for (const key of Object.keys(map)) {
    const v = map[key];
    const next = f(v, `${path}[${quoteKeys ? JSON.stringify(key) : key}]`);
    if (next !== v) (out ??= { ...map })[key] = next;
  }
  return out ?? map;
}

/** A shallow copy that keeps the prototype, which protobuf-es uses for proto2 default values. */
function copyMessage(msg: Obj): Obj {
  return Object.assign(Object.create(Object.getPrototypeOf(msg)) as Obj, msg);
}
