/**
 * Builds a @bufbuild/protobuf FileRegistry from a schema's source text, its
 * schema references (resolved by import name) and the built-in files.
 */
import {
  create,
  createFileRegistry,
  createRegistry,
  mergeFromJson,
  type DescExtension,
  type DescField,
  type DescFile,
  type DescMessage,
  type FileRegistry,
  type JsonObject,
  type JsonValue,
  type Registry,
} from "@bufbuild/protobuf";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { schemaTypeOf, type Contract } from "../../contract/model.js";
import { ContractError } from "../../errors.js";
import { CONFLUENT_META_PROTO, CONFLUENT_SOURCES, wellKnownFile } from "./builtins.js";
import {
  collectSymbols,
  isPlainObject,
  parseProto,
  toFileDescriptor,
  type ConvertedFile,
  type PendingOption,
  type SymbolKind,
} from "./descriptor.js";

/** Name given to the schema's own file; references are named by their import path. */
export const ROOT_FILE_NAME = "default.proto";

export interface BuiltRegistry {
  readonly registry: FileRegistry;
  readonly file: DescFile;
}

/**
 * Parses `schema` and every file it imports. Imports resolve to the built-in
 * files first, then to `references` by import path.
 * Throws ContractError "schema-invalid" or "schema-missing".
 */
export function buildRegistry(
  schema: string,
  references: ReadonlyMap<string, Contract> | undefined,
  rootName: string = ROOT_FILE_NAME,
): BuiltRegistry {
  const converted = new Map<string, ConvertedFile>();
  const symbolsOf = new Map<string, ReadonlyMap<string, SymbolKind>>();

  const load = (name: string, text: string, stack: readonly string[]): ReadonlyMap<string, SymbolKind> => {
    const done = symbolsOf.get(name);
    if (done) return done;
    if (stack.includes(name)) {
      throw new ContractError("schema-invalid", `import cycle: ${[...stack, name].join(" -> ")}`);
    }
    const parsed = parseProto(name, text);
    const visible = new Map<string, SymbolKind>();
    for (const dep of parsed.dependencies) {
      const builtin = builtinFile(dep);
      if (builtin) {
        addFileSymbols(builtin, visible);
        continue;
      }
      const ref = references?.get(dep);
      if (!ref) {
        throw new ContractError(
          "schema-missing",
          `${name}: import "${dep}" is neither a built-in file nor a schema reference`,
        );
      }
      if (schemaTypeOf(ref) !== "PROTOBUF") {
        throw new ContractError("schema-invalid", `${name}: import "${dep}" refers to a ${schemaTypeOf(ref)} schema`);
      }
      for (const [k, v] of load(dep, ref.schema, [...stack, name])) visible.set(k, v);
    }
    const file = toFileDescriptor(parsed, visible);
    converted.set(name, file);
    for (const [k, v] of file.symbols) visible.set(k, v);
    symbolsOf.set(name, visible);
    return visible;
  };

  load(rootName, schema, []);
  const root = converted.get(rootName)!;
  let registry: FileRegistry;
  try {
    registry = createFileRegistry(root.proto, (n) => builtinFile(n) ?? converted.get(n)?.proto);
  } catch (e) {
    throw new ContractError("schema-invalid", `invalid Protobuf schema: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  const optionRegistry = createRegistry(registry, confluentFiles().registry);
  for (const file of converted.values()) {
    for (const p of file.pending) applyOption(p, optionRegistry);
  }
  return { registry, file: registry.getFile(rootName)! };
}

/** google/protobuf/*.proto and confluent/*.proto files, or undefined. */
export function builtinFile(name: string): DescFile | undefined {
  return wellKnownFile(name) ?? (CONFLUENT_SOURCES.has(name) ? confluentFiles().registry.getFile(name) : undefined);
}

/** The confluent.Meta extension on FieldOptions. */
export function fieldMetaExtension(): DescExtension {
  return confluentFiles().fieldMeta;
}

/** The confluent.Meta extension on MessageOptions. */
export function messageMetaExtension(): DescExtension {
  return confluentFiles().messageMeta;
}

interface ConfluentFiles {
  registry: FileRegistry;
  fieldMeta: DescExtension;
  messageMeta: DescExtension;
}

let confluent: ConfluentFiles | undefined;

/** Compiled on first use, with the same parser as user schemas. */
function confluentFiles(): ConfluentFiles {
  if (confluent) return confluent;
  const protos: FileDescriptorProto[] = [];
  for (const [name, text] of CONFLUENT_SOURCES) {
    const parsed = parseProto(name, text);
    const visible = new Map<string, SymbolKind>();
    for (const dep of parsed.dependencies) addFileSymbols(wellKnownFile(dep)!, visible);
    protos.push(toFileDescriptor(parsed, visible).proto);
  }
  const registry = createFileRegistry(...protos.map((p) => createFileRegistry(p, (n) => wellKnownFile(n))));
  const meta = registry.getFile(CONFLUENT_META_PROTO)!;
  const ext = (name: string) => meta.extensions.find((e) => e.name === name)!;
  confluent = { registry, fieldMeta: ext("field_meta"), messageMeta: ext("message_meta") };
  return confluent;
}

function addFileSymbols(file: DescFile, into: Map<string, SymbolKind>): void {
  collectSymbols(file.proto, into);
  for (const dep of file.dependencies) addFileSymbols(dep, into);
}

function applyOption(p: PendingOption, registry: Registry): void {
  const ext = resolveExtension(registry, p.name, p.scope);
  // an option whose extension is not imported changes nothing at run time: ignore it
  if (!ext) return;
  if (ext.extendee.typeName !== p.optionsSchema.typeName) {
    throw new ContractError(
      "schema-invalid",
      `${p.where}: option (${p.name}) extends ${ext.extendee.typeName}, not ${p.optionsSchema.typeName}`,
    );
  }
  const json: JsonObject = { [`[${ext.typeName}]`]: extensionJson(ext, p.value, p.where) };
  p.target.options ??= create(p.optionsSchema);
  try {
    mergeFromJson(p.optionsSchema, p.target.options, json, { registry });
  } catch (e) {
    throw new ContractError(
      "schema-invalid",
      `${p.where}: invalid value for option (${p.name}): ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

function resolveExtension(registry: Registry, name: string, scope: string): DescExtension | undefined {
  if (name.startsWith(".")) return registry.getExtension(name.slice(1));
  let s = scope;
  for (;;) {
    const ext = registry.getExtension(s ? `${s}.${name}` : name);
    if (ext || !s) return ext;
    const dot = s.lastIndexOf(".");
    s = dot < 0 ? "" : s.slice(0, dot);
  }
}

/** protobufjs parses aggregate option values loosely; shape them as protobuf JSON for the extension. */
function extensionJson(ext: DescExtension, value: unknown, where: string): JsonValue {
  return fieldJson(ext, value, `${where}: option (${ext.typeName})`);
}

function fieldJson(field: DescField | DescExtension, value: unknown, where: string): JsonValue {
  switch (field.fieldKind) {
    case "message":
      return messageJson(field.message, value, where);
    case "list":
      return toArray(value).map((v) => (field.listKind === "message" ? messageJson(field.message, v, where) : scalarJson(v)));
    case "map": {
      const out: JsonObject = {};
      for (const entry of toArray(value)) {
        if (!isPlainObject(entry) || !("key" in entry)) throw new ContractError("schema-invalid", `${where}: map entries need a key`);
        const v = entry.value;
        out[String(entry.key)] = field.mapKind === "message" ? messageJson(field.message, v, where) : scalarJson(v);
      }
      return out;
    }
    default:
      return scalarJson(value);
  }
}

function messageJson(desc: DescMessage, value: unknown, where: string): JsonObject {
  if (!isPlainObject(value)) throw new ContractError("schema-invalid", `${where}: expected a ${desc.typeName} value`);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const field = desc.fields.find((f) => f.name === k || f.jsonName === k);
    if (!field) throw new ContractError("schema-invalid", `${where}: ${desc.typeName} has no field "${k}"`);
    out[field.jsonName] = fieldJson(field, v, where);
  }
  return out;
}

function scalarJson(v: unknown): JsonValue {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  return String(v);
}

function toArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/** Message indexes of `desc` in its file: top-level index, then nested indexes. */
export function messageIndexesOf(desc: DescMessage): number[] {
  const path: number[] = [];
  let d: DescMessage = desc;
  while (d.parent) {
    path.push(d.parent.nestedMessages.indexOf(d));
    d = d.parent;
  }
  path.push(d.file.messages.indexOf(d));
  return path.reverse();
}
