/**
 * Locating JSON Schema subschemas: every subschema is known by its resource's
 * base URI plus a JSON pointer, which is how `$ref`s are resolved here and how
 * the matching Ajv validators are looked up.
 */
import { ContractError } from "../../errors.js";

export type SchemaNode = boolean | Readonly<Record<string, unknown>>;

export interface Loc {
  readonly node: SchemaNode;
  /** Absolute URI of the resource (document or embedded `$id`) holding the node. */
  readonly base: string;
  /** JSON pointer from the resource root, "" for the root. */
  readonly pointer: string;
}

export type UriResolver = (base: string, ref: string) => string;

export interface SchemaIndex {
  resolveRef(from: Loc, ref: string): Loc;
  child(from: Loc, ...segments: readonly (string | number)[]): Loc | undefined;
}

/** Keywords whose values are data, not schemas: never scanned for `$id`. */
const DATA_KEYWORDS = new Set(["enum", "const", "examples", "default", "confluent:tags", "confluent:rules", "required"]);

export function isObjectSchema(node: unknown): node is Readonly<Record<string, unknown>> {
  return typeof node === "object" && node !== null && !Array.isArray(node);
}

export function isSchemaNode(node: unknown): node is SchemaNode {
  return typeof node === "boolean" || isObjectSchema(node);
}

export function stripFragment(uri: string): string {
  const i = uri.indexOf("#");
  return i < 0 ? uri : uri.slice(0, i);
}

function escapeSegment(seg: string): string {
  return seg.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapeSegment(seg: string): string {
  return decodeURIComponent(seg).replace(/~1/g, "/").replace(/~0/g, "~");
}

/** The URI Ajv knows a location by: base + "#" + percent-encoded pointer. */
export function locUri(loc: Loc): string {
  // Segments are already pointer-escaped (~0, ~1), which encodeURIComponent leaves alone.
  return `${loc.base}#${loc.pointer.split("/").map(encodeURIComponent).join("/")}`;
}

/** Indexes the documents (root first) by base URI, embedded `$id` and anchor. */
export function indexSchemas(documents: readonly { node: SchemaNode; base: string }[], resolveUri: UriResolver): SchemaIndex {
  const resources = new Map<string, Loc>();
  const anchors = new Map<string, Loc>();

  const enter = (node: SchemaNode, base: string, pointer: string): Loc => {
    if (!isObjectSchema(node)) return { node, base, pointer };
    const id = node.$id ?? node.id;
    if (typeof id === "string" && id !== "") {
      if (id.startsWith("#")) {
        anchors.set(`${base}${id}`, { node, base, pointer }); // draft-07 plain-name fragment
      } else {
        const newBase = stripFragment(resolveUri(base, id));
        return { node, base: newBase, pointer: "" };
      }
    }
    return { node, base, pointer };
  };

  const scan = (value: unknown, base: string, pointer: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => scan(v, base, `${pointer}/${i}`));
      return;
    }
    if (!isObjectSchema(value)) return;
    const loc = enter(value, base, pointer);
    if (loc.pointer === "" && !resources.has(loc.base)) resources.set(loc.base, loc);
    if (typeof value.$anchor === "string") anchors.set(`${loc.base}#${value.$anchor}`, loc);
    for (const [key, v] of Object.entries(value)) {
      if (!DATA_KEYWORDS.has(key) && typeof v === "object" && v !== null) scan(v, loc.base, `${loc.pointer}/${escapeSegment(key)}`);
    }
  };
  for (const doc of documents) {
    const base = stripFragment(doc.base);
    if (!resources.has(base)) resources.set(base, { node: doc.node, base, pointer: "" });
    scan(doc.node, base, "");
  }

  const child = (from: Loc, ...segments: readonly (string | number)[]): Loc | undefined => {
    let loc = from;
    for (const seg of segments) {
      if (!isObjectSchema(loc.node) && !Array.isArray(loc.node)) return undefined;
      const next = (loc.node as Record<string, unknown>)[seg];
      if (next === undefined) return undefined;
      const pointer = `${loc.pointer}/${escapeSegment(String(seg))}`;
      // Intermediate containers (e.g. the `properties` object) are not schemas; only the end must be.
      loc = isObjectSchema(next) ? enter(next, loc.base, pointer) : { node: next as SchemaNode, base: loc.base, pointer };
    }
    return isSchemaNode(loc.node) ? loc : undefined;
  };

  const resolveRef = (from: Loc, ref: string): Loc => {
    const abs = resolveUri(from.base, ref);
    const hash = abs.indexOf("#");
    const doc = hash < 0 ? abs : abs.slice(0, hash);
    const fragment = hash < 0 ? "" : abs.slice(hash + 1);
    const resource = resources.get(doc);
    const fail = () => new ContractError("schema-invalid", `JSON Schema $ref "${ref}" at ${locUri(from)} does not resolve (to ${abs})`);
    if (!resource) throw fail();
    if (fragment === "") return resource;
    if (!fragment.startsWith("/")) {
      const anchored = anchors.get(`${doc}#${decodeURIComponent(fragment)}`);
      if (!anchored) throw fail();
      return anchored;
    }
    const found = child({ ...resource, pointer: "" }, ...fragment.slice(1).split("/").map(unescapeSegment));
    if (!found) throw fail();
    return found;
  };

  return { resolveRef, child };
}
