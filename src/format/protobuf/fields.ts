/**
 * Field metadata as CEL_FIELD rules see it: full names, Confluent type names
 * and tags (inline `(confluent.field_meta).tags` plus metadata wildcards).
 */
import { getExtension, hasExtension, ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import type { Metadata } from "../../contract/model.js";
import { fieldTags } from "../../contract/tags.js";
import type { FieldInfo, FieldTypeName } from "../types.js";
import { fieldMetaExtension } from "./registry.js";

const PRIMITIVES: ReadonlySet<FieldTypeName> = new Set(["STRING", "BYTES", "INT", "LONG", "FLOAT", "DOUBLE", "BOOLEAN"]);

/** FieldInfo per field, computed once per compiled file and metadata. */
export class FieldCatalog {
  private readonly infos = new Map<DescField, FieldInfo>();
  private readonly mapValueInfos = new Map<DescField, FieldInfo>();

  constructor(private readonly metadata: Metadata | undefined) {}

  info(field: DescField): FieldInfo {
    let info = this.infos.get(field);
    if (!info) {
      const fullName = `${field.parent.typeName}.${field.name}`;
      const typeName = typeNameOf(field);
      info = {
        fullName,
        name: field.name,
        typeName,
        tags: fieldTags(fullName, inlineTags(field), this.metadata),
        primitive: PRIMITIVES.has(typeName),
      };
      this.infos.set(field, info);
    }
    return info;
  }

  /**
   * The value side of a map field. Named like Java names it (the synthetic entry
   * message's `value` field, e.g. "acme.Order.AttrsEntry.value"), and carrying the
   * map field's inline tags, so tagging a map field covers its values.
   */
  mapValueInfo(field: DescField & { fieldKind: "map" }): FieldInfo {
    let info = this.mapValueInfos.get(field);
    if (!info) {
      const fullName = `${field.proto.typeName.replace(/^\./, "")}.value`;
      const typeName: FieldTypeName =
        field.mapKind === "message" ? "RECORD" : field.mapKind === "enum" ? "ENUM" : scalarTypeName(field.scalar);
      info = {
        fullName,
        name: "value",
        typeName,
        tags: fieldTags(fullName, inlineTags(field), this.metadata),
        primitive: PRIMITIVES.has(typeName),
      };
      this.mapValueInfos.set(field, info);
    }
    return info;
  }

  /** Every field reachable from `root`, depth first, each message type once. */
  list(root: DescMessage): FieldInfo[] {
    const out: FieldInfo[] = [];
    const seen = new Set<DescMessage>();
    const visit = (desc: DescMessage) => {
      if (seen.has(desc)) return;
      seen.add(desc);
      for (const field of desc.fields) {
        out.push(this.info(field));
        if (field.fieldKind === "map") out.push(this.mapValueInfo(field));
        const nested = nestedMessage(field);
        if (nested) visit(nested);
      }
    };
    visit(root);
    return out;
  }
}

/**
 * The message type a field's values are walked as, if any. Not for unboxed
 * wrappers and JSON-represented Structs, which hold no protobuf-es message.
 */
export function nestedMessage(field: DescField): DescMessage | undefined {
  switch (field.fieldKind) {
    case "message":
      return isUnboxedWrapper(field) || isJsonStruct(field) ? undefined : field.message;
    case "list":
      return field.listKind === "message" && !isJsonStruct(field) ? field.message : undefined;
    case "map":
      return field.mapKind === "message" && !isJsonStruct(field) ? field.message : undefined;
    default:
      return undefined;
  }
}

/** protobuf-es stores a singular google.protobuf.*Value field outside a oneof as the bare value. */
export function isUnboxedWrapper(field: DescField): boolean {
  return field.fieldKind === "message" && !field.oneof && isWrapperDesc(field.message);
}

/** protobuf-es stores google.protobuf.Struct values as plain JSON objects, except inside google.protobuf.Value. */
export function isJsonStruct(field: DescField): boolean {
  return field.message?.typeName === "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value";
}

/**
 * Confluent's type name for a field (Java ProtobufSchema.getType): maps are MAP,
 * messages RECORD, repeated fields report their element type.
 * Deliberate differences from Java: sint32/sint64 are INT/LONG (Java falls
 * through to NULL for them; the JS client maps them as here), and a singular
 * google.protobuf.*Value wrapper field, which protobuf-es unboxes, reports the
 * wrapped type and is a primitive leaf.
 */
export function typeNameOf(field: DescField): FieldTypeName {
  switch (field.fieldKind) {
    case "map":
      return "MAP";
    case "message":
      return isUnboxedWrapper(field) ? scalarTypeName(wrapperScalar(field.message)) : "RECORD";
    case "enum":
      return "ENUM";
    case "scalar":
      return scalarTypeName(field.scalar);
    case "list":
      return field.listKind === "message" ? "RECORD" : field.listKind === "enum" ? "ENUM" : scalarTypeName(field.scalar);
  }
}

/** The scalar type a singular wrapper field holds once unboxed. */
export function wrapperScalar(desc: DescMessage): ScalarType {
  const value = desc.fields[0]!;
  return value.fieldKind === "scalar" ? value.scalar : ScalarType.STRING;
}

export function scalarTypeName(scalar: ScalarType): FieldTypeName {
  switch (scalar) {
    case ScalarType.STRING:
      return "STRING";
    case ScalarType.BYTES:
      return "BYTES";
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return "INT";
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return "LONG";
    case ScalarType.FLOAT:
      return "FLOAT";
    case ScalarType.DOUBLE:
      return "DOUBLE";
    case ScalarType.BOOL:
      return "BOOLEAN";
  }
}

/** Tags in the field's `(confluent.field_meta).tags` option. */
export function inlineTags(field: DescField): string[] {
  const options = field.proto.options;
  const ext = fieldMetaExtension();
  return options && hasExtension(options, ext) ? [...(getExtension(options, ext) as { tags: string[] }).tags] : [];
}
