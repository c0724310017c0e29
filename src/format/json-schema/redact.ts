/**
 * Redaction on JSON messages (see JsonRedactor). A property whose tags
 * intersect is replaced whole, whatever it holds: enums, objects, arrays,
 * `additionalProperties` maps with their keys. Values of
 * `additionalProperties` are fields too ("$.attrs.<key>"), with the tags of
 * that schema and of the metadata wildcards matching their full name.
 *
 * Unlike the field walk, combinators are not resolved per value: every
 * branch of allOf/anyOf/oneOf is applied, so a property tagged in any branch
 * is redacted. Redacting too much is safe; too little is not.
 */
import type { Metadata } from "../../contract/model.js";
import { fieldTags } from "../../contract/tags.js";
import { hasAnyTag } from "../tags.js";
import type { JsonRedactor } from "../types.js";
import { type Loc, isObjectSchema } from "./locate.js";
import type { PartsOf } from "./parts.js";
import { allMetadataTags } from "./tags.js";
import { setOwn } from "../../util/own.js";

type Obj = Record<string, unknown>;

/** Undefined when no property of the schema can carry one of `tags`. */
export function compileJsonRedactor(partsOf: PartsOf, root: Loc, metadata: Metadata | undefined, tags: ReadonlySet<string>): JsonRedactor | undefined {
  if (!hasAnyTag(allMetadataTags(metadata), tags) && !inlineTagReachable(partsOf, root, tags)) return undefined;

  const field = (loc: Loc, value: unknown, fullName: string, replace: (json: unknown) => unknown): unknown =>
    hasAnyTag(fieldTags(fullName, partsOf(loc).inlineTags, metadata), tags) ? replace(value) : walk(loc, value, fullName, new Set(), replace);

  /** `seen`: nodes applied to this very value, so $ref cycles that consume nothing end. Copies on write. */
  const walk = (loc: Loc, value: unknown, path: string, seen: Set<unknown>, replace: (json: unknown) => unknown): unknown => {
    if (value === null || typeof value !== "object" || !isObjectSchema(loc.node) || seen.has(loc.node)) return value;
    seen.add(loc.node);
    const p = partsOf(loc);
    let out: unknown = value;
    if (Array.isArray(value)) {
      const items = p.items;
      if (items) {
        let copy: unknown[] | undefined;
        value.forEach((v: unknown, i) => {
          const next = walk(items, v, `${path}[${i}]`, new Set(), replace);
          if (next !== v) (copy ??= value.slice())[i] = next;
        });
        out = copy ?? value;
      }
    } else {
      const obj = value as Obj;
      let copy: Obj | undefined;
      const apply = (key: string, loc: Loc): void => {
        const old = obj[key];
        const next = field(loc, old, `${path}.${key}`, replace);
        if (next === old) return;
        copy ??= { ...obj };
        setOwn(copy, key, next);
      };
      const named = new Set<string>();
      for (const [name, propLoc] of p.properties) {
        named.add(name);
        if (Object.hasOwn(obj, name)) apply(name, propLoc);
      }
      const additional = p.additionalProperties;
      if (additional) for (const key of Object.keys(obj)) if (!named.has(key)) apply(key, additional);
      out = copy ?? obj;
    }
    for (const sub of [p.ref, ...p.allOf, ...p.anyOf, ...p.oneOf]) if (sub) out = walk(sub, out, path, seen, replace);
    return out;
  };

  return (value, replace) => walk(root, value, "$", new Set(), replace);
}

/** Whether some property schema reachable from `root` has one of `tags` inline. */
function inlineTagReachable(partsOf: PartsOf, root: Loc, tags: ReadonlySet<string>): boolean {
  const seen = new Set<unknown>();
  const reach = (loc: Loc | undefined): boolean => {
    if (!loc || !isObjectSchema(loc.node) || seen.has(loc.node)) return false;
    seen.add(loc.node);
    const p = partsOf(loc);
    if (p.inlineTags.some((t) => tags.has(t))) return true;
    return [...p.properties.map(([, l]) => l), p.additionalProperties, p.items, p.ref, ...p.allOf, ...p.anyOf, ...p.oneOf].some(reach);
  };
  return reach(root);
}
