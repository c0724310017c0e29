/**
 * Avro fields as Confluent names them: `fullName` is the record's full name
 * plus "." plus the field name, whatever the path to the record (Java
 * AvroSchema.toTransformedMessage), so a field's tags never depend on where
 * its record is nested.
 */
import type { Metadata } from "../../contract/model.js";
import { fieldTags } from "../../contract/tags.js";
import { isPrimitiveName, type FieldInfo } from "../types.js";
import {
  type AvroType,
  type RecordType,
  avroTypeName,
  fieldTypeName,
  isArrayType,
  isMapType,
  isRecordType,
  isUnionType,
  mapValues,
} from "./avsc.js";
import type { ParsedAvro } from "./parse.js";

export interface AvroFields {
  /** Depth first, each record once. */
  readonly list: readonly FieldInfo[];
  /** By full name ("ns.Record.field"). */
  readonly byFullName: ReadonlyMap<string, FieldInfo>;
}

export function avroFields(parsed: ParsedAvro, metadata: Metadata | undefined): AvroFields {
  const list: FieldInfo[] = [];
  const byFullName = new Map<string, FieldInfo>();
  const seen = new Set<RecordType>();

  const visitRecord = (record: RecordType): void => {
    if (seen.has(record)) return;
    seen.add(record);
    const recordName = record.name ?? "";
    const inline = parsed.inlineTags.get(recordName);
    for (const field of record.fields) {
      const fullName = `${recordName}.${field.name}`;
      const typeName = fieldTypeName(field.type);
      const info: FieldInfo = Object.freeze({
        fullName,
        name: field.name,
        typeName,
        ...(typeName === "COMBINED" && isUnionType(field.type) ? { branches: field.type.types.map(avroTypeName) } : {}),
        tags: fieldTags(fullName, inline?.get(field.name) ?? [], metadata),
        primitive: isPrimitiveName(typeName),
      });
      list.push(info);
      byFullName.set(fullName, info);
      descend(field.type);
    }
  };
  const descend = (type: AvroType): void => {
    if (isRecordType(type)) visitRecord(type);
    else if (isUnionType(type)) type.types.forEach(descend);
    else if (isArrayType(type)) descend(type.itemsType);
    else if (isMapType(type)) descend(mapValues(type));
  };
  descend(parsed.root);
  return { list, byFullName };
}
