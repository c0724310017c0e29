/**
 * Compatibility between consecutive versions of a subject, for the
 * migration-missing check. A change breaks BACKWARD when the new version
 * cannot read messages written with the old one (consumers upgraded first),
 * and FORWARD when the old version cannot read the new one's messages.
 *
 * - Avro: exact, by avsc schema resolution (`reader.createResolver(writer)`).
 * - JSON Schema: a heuristic over `properties`, `required`, `type`, `enum`,
 *   `items` and `additionalProperties: false`, following local `$ref`s.
 * - Protobuf: a heuristic over field numbers: a field whose type changed, and
 *   proto2 `required` fields added or removed.
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import type { Contract } from "../contract/model.js";
import { parseAvro } from "../format/avro/parse.js";
import type { CompiledSchema } from "../format/types.js";

export interface Compatibility {
  /** Why the new version cannot read old messages; undefined when it can. */
  readonly backward: string | undefined;
  /** Why the old version cannot read new messages; undefined when it can. */
  readonly forward: string | undefined;
}

export interface VersionSchema {
  readonly contract: Contract;
  readonly compiled: CompiledSchema;
  readonly references: ReadonlyMap<string, Contract> | undefined;
}

export function compatibility(older: VersionSchema, newer: VersionSchema): Compatibility {
  if (older.compiled.type !== newer.compiled.type) {
    const why = `the schema type changed from ${older.compiled.type} to ${newer.compiled.type}`;
    return { backward: why, forward: why };
  }
  if (older.contract.schema === newer.contract.schema) return { backward: undefined, forward: undefined };
  switch (newer.compiled.type) {
    case "AVRO":
      return avroCompatibility(older, newer);
    case "JSON":
      return jsonCompatibility(older.contract.schema, newer.contract.schema);
    case "PROTOBUF":
      return protobufCompatibility(older.compiled, newer.compiled);
  }
}

// --- Avro -------------------------------------------------------------------

function avroCompatibility(older: VersionSchema, newer: VersionSchema): Compatibility {
  let o, n;
  try {
    o = parseAvro(older.contract, older.references).root;
    n = parseAvro(newer.contract, newer.references).root;
  } catch {
    return { backward: undefined, forward: undefined };
  }
  const resolve = (reader: typeof o, writer: typeof o): string | undefined => {
    try {
      reader.createResolver(writer);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
  return { backward: resolve(n, o), forward: resolve(o, n) };
}

// --- JSON Schema ------------------------------------------------------------

type Node = Record<string, unknown>;

function jsonCompatibility(olderText: string, newerText: string): Compatibility {
  let older: unknown;
  let newer: unknown;
  try {
    older = JSON.parse(olderText);
    newer = JSON.parse(newerText);
  } catch {
    return { backward: undefined, forward: undefined };
  }
  const first = (reader: unknown, writer: unknown): string | undefined => {
    const problems: string[] = [];
    jsonReads({ node: reader, root: reader }, { node: writer, root: writer }, "$", problems, 0);
    return problems.length === 0 ? undefined : problems.slice(0, 3).join("; ") + (problems.length > 3 ? `; and ${problems.length - 3} more` : "");
  };
  return { backward: first(newer, older), forward: first(older, newer) };
}

interface At {
  readonly node: unknown;
  readonly root: unknown;
}

/** Follows a local `$ref` (`#/definitions/X`, `#/$defs/X`); other refs are left alone. */
function deref(at: At): Node | undefined {
  let node = at.node;
  for (let hops = 0; hops < 16 && isNode(node) && typeof node.$ref === "string"; hops++) {
    const ref = node.$ref as string;
    if (!ref.startsWith("#")) return undefined;
    let target: unknown = at.root;
    for (const raw of ref.slice(1).split("/").filter((s) => s !== "")) {
      const key = decodeURIComponent(raw.replace(/~1/g, "/").replace(/~0/g, "~"));
      target = isNode(target) ? target[key] : undefined;
    }
    node = target;
  }
  return isNode(node) ? node : undefined;
}

function typesOf(n: Node): Set<string> | undefined {
  if (typeof n.type === "string") return new Set([n.type]);
  if (Array.isArray(n.type)) return new Set(n.type.filter((t): t is string => typeof t === "string"));
  return undefined;
}

/** Whether data valid under `writer` stays valid under `reader`, as far as the heuristic sees. */
function jsonReads(readerAt: At, writerAt: At, path: string, problems: string[], depth: number): void {
  if (depth > 32) return;
  const reader = deref(readerAt);
  const writer = deref(writerAt);
  if (!reader || !writer) return;
  const rt = typesOf(reader);
  const wt = typesOf(writer);
  if (rt && wt) {
    const missing = [...wt].filter((t) => !rt.has(t) && !(t === "integer" && rt.has("number")));
    if (missing.length > 0) problems.push(`${path} changed type from ${[...wt].join("|")} to ${[...rt].join("|")}`);
  }
  if (Array.isArray(reader.enum)) {
    const allowed = new Set(reader.enum.map((v) => JSON.stringify(v)));
    const values = Array.isArray(writer.enum) ? writer.enum : undefined;
    const lost = values?.filter((v) => !allowed.has(JSON.stringify(v)));
    if (!values) problems.push(`${path} is now limited to ${reader.enum.map((v) => JSON.stringify(v)).join(", ")}`);
    else if (lost && lost.length > 0) problems.push(`${path} no longer allows ${lost.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  const rProps = isNode(reader.properties) ? reader.properties : {};
  const wProps = isNode(writer.properties) ? writer.properties : {};
  const rRequired = new Set(Array.isArray(reader.required) ? reader.required.filter((x): x is string => typeof x === "string") : []);
  const wRequired = new Set(Array.isArray(writer.required) ? writer.required.filter((x): x is string => typeof x === "string") : []);
  for (const p of rRequired) {
    if (wRequired.has(p)) continue;
    problems.push(Object.hasOwn(wProps, p) ? `${path}.${p} is required but was optional` : `${path}.${p} is required but did not exist`);
  }
  if (reader.additionalProperties === false) {
    for (const p of Object.keys(wProps)) if (!Object.hasOwn(rProps, p)) problems.push(`${path}.${p} is no longer allowed (additionalProperties: false)`);
  }
  for (const p of Object.keys(rProps)) {
    if (Object.hasOwn(wProps, p)) jsonReads({ node: rProps[p], root: readerAt.root }, { node: wProps[p], root: writerAt.root }, `${path}.${p}`, problems, depth + 1);
  }
  if (reader.items !== undefined && writer.items !== undefined) {
    jsonReads({ node: reader.items, root: readerAt.root }, { node: writer.items, root: writerAt.root }, `${path}[*]`, problems, depth + 1);
  }
}

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// --- Protobuf ---------------------------------------------------------------

function protobufCompatibility(older: CompiledSchema, newer: CompiledSchema): Compatibility {
  const o = (older as { desc?: DescMessage }).desc;
  const n = (newer as { desc?: DescMessage }).desc;
  if (!o || !n) return { backward: undefined, forward: undefined };
  const both: string[] = [];
  const backward: string[] = [];
  const forward: string[] = [];
  compareMessages(o, n, both, backward, forward, new Set());
  const join = (list: string[]) => (list.length === 0 ? undefined : list.slice(0, 3).join("; ") + (list.length > 3 ? `; and ${list.length - 3} more` : ""));
  return { backward: join([...both, ...backward]), forward: join([...both, ...forward]) };
}

function compareMessages(o: DescMessage, n: DescMessage, both: string[], backward: string[], forward: string[], seen: Set<string>): void {
  const key = `${o.typeName}\u0000${n.typeName}`;
  if (seen.has(key)) return;
  seen.add(key);
  const newByNumber = new Map(n.fields.map((f) => [f.number, f]));
  const oldByNumber = new Map(o.fields.map((f) => [f.number, f]));
  for (const of of o.fields) {
    const nf = newByNumber.get(of.number);
    if (!nf) {
      if (isRequired(of)) forward.push(`${o.typeName}.${of.name} (field ${of.number}) is required but was removed`);
      continue;
    }
    const os = signature(of);
    const ns = signature(nf);
    if (os !== ns) both.push(`${n.typeName}.${nf.name} (field ${nf.number}) changed from ${os} to ${ns}`);
    else if (of.message && nf.message) compareMessages(of.message, nf.message, both, backward, forward, seen);
  }
  for (const nf of n.fields) {
    if (!oldByNumber.has(nf.number) && isRequired(nf)) backward.push(`${n.typeName}.${nf.name} (field ${nf.number}) is a new required field`);
  }
}

function isRequired(f: DescField): boolean {
  return (f.proto.label as number) === 2; // LABEL_REQUIRED (proto2)
}

function signature(f: DescField): string {
  const target = (d: { typeName: string } | undefined) => d?.typeName ?? "?";
  switch (f.fieldKind) {
    case "scalar":
      return scalarName(f.scalar);
    case "enum":
      return `enum ${target(f.enum)}`;
    case "message":
      return `message ${target(f.message)}`;
    case "list":
      return `repeated ${f.listKind === "scalar" ? scalarName(f.scalar) : f.listKind === "enum" ? `enum ${target(f.enum)}` : `message ${target(f.message)}`}`;
    case "map":
      return `map<${scalarName(f.mapKey)}, ${f.mapKind === "scalar" ? scalarName(f.scalar) : f.mapKind === "enum" ? `enum ${target(f.enum)}` : `message ${target(f.message)}`}>`;
  }
}

const SCALAR_NAMES: Record<number, string> = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  6: "fixed64",
  7: "fixed32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
  15: "sfixed32",
  16: "sfixed64",
  17: "sint32",
  18: "sint64",
};

function scalarName(s: number | undefined): string {
  return s === undefined ? "?" : (SCALAR_NAMES[s] ?? `scalar ${s}`);
}
