/**
 * JSON Schema fields as Confluent names them: "$" plus ".name" per property
 * (Java JsonSchema.toTransformedMessage). Java puts the array index into the
 * name of a field inside array items ("$.items[2].sku"); the static list
 * shows it as "[*]" and gives the tags of every pattern that can match some
 * index. Recursive schemas are listed down to the first repetition.
 */
import type { Metadata } from "../../contract/model.js";
import { isPrimitiveName, type FieldInfo } from "../types.js";
import type { Loc } from "./locate.js";
import { type PartsOf, jsonBranchTypes, jsonTypeName } from "./parts.js";
import { INDEX, templateTags } from "./tags.js";

export function jsonFields(partsOf: PartsOf, root: Loc, metadata: Metadata | undefined): FieldInfo[] {
  const list: FieldInfo[] = [];
  const seenNames = new Set<string>();
  const stack = new Set<unknown>();

  const walk = (loc: Loc, template: string): void => {
    if (typeof loc.node !== "object" || stack.has(loc.node)) return;
    stack.add(loc.node);
    const p = partsOf(loc);
    for (const [name, propLoc] of p.properties) {
      const fullName = `${template}.${name}`;
      if (!seenNames.has(fullName)) {
        seenNames.add(fullName);
        const typeName = jsonTypeName(partsOf, propLoc);
        const propParts = partsOf(propLoc);
        // Java's NULL also stands for schemas it does not walk ({}, not, if/then); only a declared null is a leaf.
        const leaf = isPrimitiveName(typeName) && (typeName !== "NULL" || propParts.types?.includes("null") === true);
        list.push(
          Object.freeze({
            fullName,
            name,
            typeName,
            ...(typeName === "COMBINED" ? { branches: jsonBranchTypes(partsOf, propLoc) } : {}),
            tags: templateTags(fullName, propParts.inlineTags, metadata),
            primitive: leaf,
          }),
        );
      }
      walk(propLoc, fullName);
    }
    if (p.items) walk(p.items, template + INDEX);
    if (p.ref) walk(p.ref, template);
    for (const branch of [...p.allOf, ...p.anyOf, ...p.oneOf]) walk(branch, template);
    stack.delete(loc.node);
  };
  walk(root, "$");
  return list;
}
