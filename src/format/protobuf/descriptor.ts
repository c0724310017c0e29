/**
 * .proto source text to google.protobuf.FileDescriptorProto.
 *
 * Registries store Protobuf schemas as source text. protobufjs parses it (and
 * only parses: its reflection is not used at run time); this module turns the
 * parse tree into a FileDescriptorProto as protoc would, resolving type names
 * against the file and its imports. Custom options (`(confluent.field_meta)` and
 * the like) need the extension definitions, so they are returned as pending and
 * applied once the file registry exists (see registry.ts).
 */
import protobuf from "protobufjs";
import { create, fromJson, type DescMessage, type JsonObject, type JsonValue, type Message } from "@bufbuild/protobuf";
import { protoCamelCase } from "@bufbuild/protobuf/reflect";
import {
  DescriptorProto_ExtensionRangeSchema,
  DescriptorProto_ReservedRangeSchema,
  DescriptorProtoSchema,
  Edition,
  EnumDescriptorProto_EnumReservedRangeSchema,
  EnumDescriptorProtoSchema,
  EnumOptionsSchema,
  EnumValueDescriptorProtoSchema,
  EnumValueOptionsSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema,
  FileDescriptorProtoSchema,
  FileOptionsSchema,
  MessageOptionsSchema,
  OneofDescriptorProtoSchema,
  OneofOptionsSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { ContractError } from "../../errors.js";

/** What a type name resolves to. Groups are messages encoded as delimited. */
export type SymbolKind = "message" | "enum" | "group";
/** Fully-qualified type names (no leading dot) visible to a file. */
export type SymbolTable = ReadonlyMap<string, SymbolKind>;

/** A custom option waiting for its extension definition. */
export interface PendingOption {
  /** The descriptor whose `options` receives the extension. */
  readonly target: { options?: Message };
  readonly optionsSchema: DescMessage;
  /** Scope the option name resolves in (the element's parent full name). */
  readonly scope: string;
  /** Extension name as written, without parentheses, e.g. "confluent.field_meta". */
  readonly name: string;
  readonly value: unknown;
  /** Where the option is, for error messages. */
  readonly where: string;
}

export interface ParsedProto {
  readonly name: string;
  readonly dependencies: readonly string[];
  readonly result: protobuf.IParserResult;
}

export interface ConvertedFile {
  readonly proto: FileDescriptorProto;
  readonly pending: readonly PendingOption[];
  /** The types this file declares. */
  readonly symbols: SymbolTable;
}

/** Parses .proto text. Throws ContractError "schema-invalid" with the line protobufjs reports. */
export function parseProto(name: string, text: string): ParsedProto {
  let result: protobuf.IParserResult;
  try {
    result = protobuf.parse(text, new protobuf.Root(), { keepCase: true, alternateCommentMode: false });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const line = /\(line (\d+)\)/.exec(message);
    throw new ContractError("schema-invalid", `invalid Protobuf schema: ${message}`, {
      cause: e,
      position: line ? { file: name, line: Number(line[1]), column: 1 } : undefined,
    });
  }
  return { name, dependencies: [...(result.imports ?? []), ...(result.weakImports ?? [])], result };
}

/** The types a FileDescriptorProto declares, added to `into`. */
export function collectSymbols(file: FileDescriptorProto, into: Map<string, SymbolKind>): void {
  const prefix = file.package ? file.package + "." : "";
  for (const e of file.enumType) into.set(prefix + e.name, "enum");
  for (const m of file.messageType) collectMessageSymbols(m, prefix, into);
}

function collectMessageSymbols(m: DescriptorProto, prefix: string, into: Map<string, SymbolKind>): void {
  const full = prefix + m.name;
  if (!into.has(full)) into.set(full, "message");
  for (const e of m.enumType) into.set(full + "." + e.name, "enum");
  for (const n of m.nestedType) collectMessageSymbols(n, full + ".", into);
}

/**
 * Converts a parsed file. `visible` holds the types of every file it imports
 * (transitively); its own types are added here.
 */
export function toFileDescriptor(parsed: ParsedProto, visible: SymbolTable): ConvertedFile {
  return new Converter(parsed, visible).convert();
}

type ReflectionObject = protobuf.ReflectionObject & { _edition?: string | null; parsedOptions?: Record<string, unknown>[] | null };

const SCALARS: Readonly<Record<string, FieldDescriptorProto_Type>> = {
  double: FieldDescriptorProto_Type.DOUBLE,
  float: FieldDescriptorProto_Type.FLOAT,
  int64: FieldDescriptorProto_Type.INT64,
  uint64: FieldDescriptorProto_Type.UINT64,
  int32: FieldDescriptorProto_Type.INT32,
  fixed64: FieldDescriptorProto_Type.FIXED64,
  fixed32: FieldDescriptorProto_Type.FIXED32,
  bool: FieldDescriptorProto_Type.BOOL,
  string: FieldDescriptorProto_Type.STRING,
  bytes: FieldDescriptorProto_Type.BYTES,
  uint32: FieldDescriptorProto_Type.UINT32,
  sfixed32: FieldDescriptorProto_Type.SFIXED32,
  sfixed64: FieldDescriptorProto_Type.SFIXED64,
  sint32: FieldDescriptorProto_Type.SINT32,
  sint64: FieldDescriptorProto_Type.SINT64,
};

/** Field options that are descriptor fields, not FieldOptions. */
const FIELD_PSEUDO_OPTIONS = new Set(["default", "json_name", "proto3_optional"]);

class Converter {
  private readonly symbols: Map<string, SymbolKind>;
  private readonly own = new Map<string, SymbolKind>();
  private readonly pending: PendingOption[] = [];
  private readonly pkg: string;

  constructor(
    private readonly parsed: ParsedProto,
    visible: SymbolTable,
  ) {
    this.pkg = parsed.result.package ?? "";
    this.symbols = new Map(visible);
  }

  convert(): ConvertedFile {
    const { name, result } = this.parsed;
    const ns = this.packageNamespace();
    const top = ns ? ns.nestedArray : [];
    for (const obj of top) this.collect(obj, this.pkg);
    for (const [k, v] of this.own) this.symbols.set(k, v);

    const file = create(FileDescriptorProtoSchema, {
      name,
      package: this.pkg,
      dependency: [...(result.imports ?? []), ...(result.weakImports ?? [])],
    });
    if (result.weakImports?.length) {
      const first = result.imports?.length ?? 0;
      file.weakDependency = result.weakImports.map((_, i) => first + i);
    }
    const edition = top.map((o) => (o as ReflectionObject)._edition).find((e) => e) ?? "proto2";
    if (edition === "proto3") file.syntax = "proto3";
    else if (edition === "proto2") file.syntax = "proto2";
    else {
      file.syntax = "editions";
      file.edition = edition === "2023" ? Edition.EDITION_2023 : Edition.EDITION_UNKNOWN;
    }
    if (ns) this.setOptions(file, FileOptionsSchema, ns as ReflectionObject, this.pkg, `file ${name}`);

    for (const obj of top) {
      if (obj instanceof protobuf.Type) file.messageType.push(this.message(obj, this.pkg));
      else if (obj instanceof protobuf.Enum) file.enumType.push(this.enumType(obj, this.pkg));
      else if (obj instanceof protobuf.Field && obj.extend !== undefined) file.extension.push(this.field(obj, this.pkg, undefined));
    }
    return { proto: file, pending: this.pending, symbols: this.own };
  }

  /** The namespace holding the file's top-level declarations. */
  private packageNamespace(): protobuf.Namespace | undefined {
    const root = this.parsed.result.root;
    if (!this.pkg) return root;
    const ns = root.lookup(this.pkg);
    return ns instanceof protobuf.Namespace ? ns : undefined;
  }

  private collect(obj: protobuf.ReflectionObject, scope: string): void {
    const full = join(scope, obj.name);
    if (obj instanceof protobuf.Type) {
      this.own.set(full, (obj as protobuf.Type & { group?: boolean }).group ? "group" : "message");
      for (const n of obj.nestedArray) this.collect(n, full);
    } else if (obj instanceof protobuf.Enum) {
      this.own.set(full, "enum");
    }
  }

  private message(type: protobuf.Type, scope: string): DescriptorProto {
    const full = join(scope, type.name);
    const msg = create(DescriptorProtoSchema, { name: type.name });
    this.setOptions(msg, MessageOptionsSchema, type as ReflectionObject, scope, `message ${full}`);

    // protoc lists real oneofs first, then the synthetic ones of proto3 `optional` fields
    const oneofs = type.oneofsArray;
    const synthetic = (o: protobuf.OneOf) =>
      o.fieldsArray.length === 1 && (o.fieldsArray[0]!.options as Record<string, unknown> | undefined)?.proto3_optional === true;
    const ordered = [...oneofs.filter((o) => !synthetic(o)), ...oneofs.filter(synthetic)];
    for (const o of ordered) {
      const decl = create(OneofDescriptorProtoSchema, { name: o.name });
      this.setOptions(decl, OneofOptionsSchema, o as ReflectionObject, full, `oneof ${full}.${o.name}`);
      msg.oneofDecl.push(decl);
    }

    for (const f of type.fieldsArray) {
      // protobufjs mirrors extensions declared in the same file into the extended type as ".pkg.name"
      if (f.name.startsWith(".")) continue;
      const oneofIndex = f.partOf ? ordered.indexOf(f.partOf) : -1;
      msg.field.push(this.field(f, full, oneofIndex >= 0 ? oneofIndex : undefined, msg));
    }
    for (const n of type.nestedArray) {
      if (n instanceof protobuf.Type) msg.nestedType.push(this.message(n, full));
      else if (n instanceof protobuf.Enum) msg.enumType.push(this.enumType(n, full));
      else if (n instanceof protobuf.Field && n.extend !== undefined) msg.extension.push(this.field(n, full, undefined));
    }
    for (const [start, end] of type.extensions ?? []) {
      msg.extensionRange.push(create(DescriptorProto_ExtensionRangeSchema, { start, end: end + 1 }));
    }
    for (const r of type.reserved ?? []) {
      if (typeof r === "string") msg.reservedName.push(r);
      else msg.reservedRange.push(create(DescriptorProto_ReservedRangeSchema, { start: r[0]!, end: r[1]! + 1 }));
    }
    return msg;
  }

  /** A field or extension. Map fields also add their entry message to `parent`. */
  private field(f: protobuf.Field, scope: string, oneofIndex: number | undefined, parent?: DescriptorProto): FieldDescriptorProto {
    const where = f.extend !== undefined ? `extension ${join(scope, f.name)}` : `field ${scope}.${f.name}`;
    const options = (f.options ?? {}) as Record<string, unknown>;
    const parsedOptions = mergeParsedOptions((f as ReflectionObject).parsedOptions);
    const jsonName = parsedOptions.get("json_name");
    // `rule` is what the parser saw; the `required`/`repeated` getters need resolved features
    const rule = (f as { rule?: string }).rule;
    const field = create(FieldDescriptorProtoSchema, {
      name: f.name,
      number: f.id,
      jsonName: typeof jsonName === "string" ? jsonName : protoCamelCase(f.name),
      label:
        rule === "repeated"
          ? FieldDescriptorProto_Label.REPEATED
          : rule === "required"
            ? FieldDescriptorProto_Label.REQUIRED
            : FieldDescriptorProto_Label.OPTIONAL,
    });
    if (oneofIndex !== undefined) field.oneofIndex = oneofIndex;
    if (options.proto3_optional === true) field.proto3Optional = true;

    if (f instanceof protobuf.MapField) {
      if (!parent) throw new ContractError("schema-invalid", `${where}: map fields cannot be extensions`);
      const entryName = mapEntryName(f.name);
      parent.nestedType.push(this.mapEntry(entryName, f, scope));
      field.label = FieldDescriptorProto_Label.REPEATED;
      field.type = FieldDescriptorProto_Type.MESSAGE;
      field.typeName = `.${scope}.${entryName}`;
    } else {
      this.setFieldType(field, f.type, scope, where);
    }
    if (f.extend !== undefined) {
      const extendee = this.resolve(f.extend, scope);
      if (!extendee || extendee.kind === "enum") {
        throw new ContractError("schema-invalid", `${where}: unknown message "${f.extend}" to extend`);
      }
      field.extendee = "." + extendee.name;
    }
    const def = parsedOptions.get("default");
    if (def !== undefined) field.defaultValue = defaultValueText(def);
    this.setOptions(field, FieldOptionsSchema, f as ReflectionObject, scope, where, FIELD_PSEUDO_OPTIONS);
    return field;
  }

  private mapEntry(entryName: string, f: protobuf.MapField, scope: string): DescriptorProto {
    const entryScope = `${scope}.${entryName}`;
    const key = create(FieldDescriptorProtoSchema, {
      name: "key",
      number: 1,
      jsonName: "key",
      label: FieldDescriptorProto_Label.OPTIONAL,
    });
    this.setFieldType(key, f.keyType, entryScope, `map key of field ${scope}.${f.name}`);
    const value = create(FieldDescriptorProtoSchema, {
      name: "value",
      number: 2,
      jsonName: "value",
      label: FieldDescriptorProto_Label.OPTIONAL,
    });
    // the value type resolves in the scope of the message declaring the map
    this.setFieldType(value, f.type, scope, `field ${scope}.${f.name}`);
    return create(DescriptorProtoSchema, {
      name: entryName,
      field: [key, value],
      options: create(MessageOptionsSchema, { mapEntry: true }),
    });
  }

  private setFieldType(field: FieldDescriptorProto, type: string, scope: string, where: string): void {
    const scalar = SCALARS[type];
    if (scalar !== undefined) {
      field.type = scalar;
      return;
    }
    const resolved = this.resolve(type, scope);
    if (!resolved) {
      throw new ContractError("schema-invalid", `${where}: unknown type "${type}" (not declared in this file or its imports)`);
    }
    field.typeName = "." + resolved.name;
    field.type =
      resolved.kind === "enum"
        ? FieldDescriptorProto_Type.ENUM
        : resolved.kind === "group"
          ? FieldDescriptorProto_Type.GROUP
          : FieldDescriptorProto_Type.MESSAGE;
  }

  private enumType(e: protobuf.Enum, scope: string): EnumDescriptorProto {
    const full = join(scope, e.name);
    const desc = create(EnumDescriptorProtoSchema, { name: e.name });
    this.setOptions(desc, EnumOptionsSchema, e as ReflectionObject, scope, `enum ${full}`);
    const valuesOptions = e.valuesOptions ?? {};
    for (const [name, number] of Object.entries(e.values)) {
      const value = create(EnumValueDescriptorProtoSchema, { name, number });
      const flat = valuesOptions[name];
      if (flat) {
        // protobufjs keeps enum value options flattened ("(x).y": v); rebuild the tree
        this.applyOptions(value, EnumValueOptionsSchema, unflattenOptions(flat), full, `enum value ${full}.${name}`);
      }
      desc.value.push(value);
    }
    for (const r of e.reserved ?? []) {
      if (typeof r === "string") desc.reservedName.push(r);
      // enum reserved ranges are inclusive, unlike message ones
      else desc.reservedRange.push(create(EnumDescriptorProto_EnumReservedRangeSchema, { start: r[0]!, end: r[1]! }));
    }
    return desc;
  }

  /** Resolves a type reference as protoc does: innermost scope first. */
  private resolve(ref: string, scope: string): { name: string; kind: SymbolKind } | undefined {
    if (ref.startsWith(".")) {
      const kind = this.symbols.get(ref.slice(1));
      return kind ? { name: ref.slice(1), kind } : undefined;
    }
    let s = scope;
    for (;;) {
      const candidate = s ? `${s}.${ref}` : ref;
      const kind = this.symbols.get(candidate);
      if (kind) return { name: candidate, kind };
      if (!s) return undefined;
      const dot = s.lastIndexOf(".");
      s = dot < 0 ? "" : s.slice(0, dot);
    }
  }

  private setOptions(
    target: { options?: Message },
    schema: DescMessage,
    obj: ReflectionObject,
    scope: string,
    where: string,
    skip?: ReadonlySet<string>,
  ): void {
    const merged = mergeParsedOptions(obj.parsedOptions);
    if (skip) for (const k of skip) merged.delete(k);
    this.applyOptions(target, schema, merged, scope, where);
  }

  private applyOptions(
    target: { options?: Message },
    schema: DescMessage,
    options: ReadonlyMap<string, unknown>,
    scope: string,
    where: string,
  ): void {
    const standard: JsonObject = {};
    let hasStandard = false;
    for (const [key, value] of options) {
      if (key.startsWith("(")) {
        const close = key.indexOf(")");
        const name = key.slice(1, close);
        // "(ext).a.b" (kept flattened for enum values) becomes a nested value
        const rest = key.slice(close + 1).replace(/^\./, "");
        this.pending.push({ target, optionsSchema: schema, scope, name, value: rest ? nest(rest, value) : value, where });
      } else {
        standard[key] = toJsonValue(value);
        hasStandard = true;
      }
    }
    if (!hasStandard) return;
    try {
      // unknown built-in options are dropped: only the ones the runtime reads matter
      target.options = fromJson(schema, standard, { ignoreUnknownFields: true });
    } catch (e) {
      throw new ContractError("schema-invalid", `${where}: invalid option: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}

function join(scope: string, name: string): string {
  return scope ? `${scope}.${name}` : name;
}

/** protoc's name for the synthetic message of a map field: "my_attrs" -> "MyAttrsEntry". */
export function mapEntryName(fieldName: string): string {
  let out = "";
  let capNext = true;
  for (const c of fieldName) {
    if (c === "_") {
      capNext = true;
    } else if (capNext) {
      out += c >= "a" && c <= "z" ? c.toUpperCase() : c;
      capNext = false;
    } else {
      out += c;
    }
  }
  return out + "Entry";
}

/** protobufjs gives one object per option statement; merge them by option name. */
function mergeParsedOptions(parsed: Record<string, unknown>[] | null | undefined): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const entry of parsed ?? []) {
    for (const [k, v] of Object.entries(entry)) {
      out.set(k, out.has(k) ? deepMerge(out.get(k), v) : v);
    }
  }
  return out;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) || Array.isArray(b)) return [...toArray(a), ...toArray(b)];
  if (isPlainObject(a) && isPlainObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
    return out;
  }
  return b;
}

function unflattenOptions(flat: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(flat)) {
    const m = /^(\([^)]*\))\.?(.*)$/.exec(key);
    const [name, rest] = m ? [m[1]!, m[2]!] : [key.split(".")[0]!, key.split(".").slice(1).join(".")];
    const v = rest ? nest(rest, value) : value;
    out.set(name, out.has(name) ? deepMerge(out.get(name), v) : v);
  }
  return out;
}

function nest(path: string, value: unknown): Record<string, unknown> {
  const parts = path.split(".");
  let v: unknown = value;
  for (let i = parts.length - 1; i >= 0; i--) v = { [parts[i]!]: v };
  return v as Record<string, unknown>;
}

function toArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function toJsonValue(v: unknown): JsonValue {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (isPlainObject(v)) {
    const o: JsonObject = {};
    for (const [k, x] of Object.entries(v)) o[k] = toJsonValue(x);
    return o;
  }
  return String(v);
}

/** FieldDescriptorProto.default_value is text, as protoc writes it. */
function defaultValueText(v: unknown): string {
  if (typeof v === "number") return Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v);
  return String(v);
}
