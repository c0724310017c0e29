/**
 * Contracts a registry holds, as kontract's files: one YAML file per subject
 * with every version, each schema in a file of its own beside it. Pure: the
 * registry is read with readRegistryState (plan.ts). Pushing what a pull wrote
 * changes nothing.
 */
import type { RegisteredContract } from "../contract/model.js";
import { contractToYaml } from "../contract/yaml.js";
import { authorsMetadata, type SubjectConfigs } from "./plan.js";

export interface ContractFile {
  /** Relative to the folder pulled into: `<subject>.yaml`, `schemas/<subject>-v<n>.avsc`. */
  readonly path: string;
  readonly text: string;
}

const EXTENSIONS = { AVRO: "avsc", JSON: "json", PROTOBUF: "proto" } as const;

/**
 * The files for every subject of `state`, sorted by subject. A subject's own
 * config (`configs`, from readSubjectConfigs) goes on its first document.
 */
export function contractFiles(state: ReadonlyMap<string, readonly RegisteredContract[]>, configs: SubjectConfigs = new Map()): ContractFile[] {
  const files: ContractFile[] = [];
  for (const subject of [...state.keys()].sort()) {
    const versions = [...(state.get(subject) ?? [])].sort((a, b) => a.version - b.version);
    if (versions.length === 0) continue;
    const name = fileName(subject);
    const documents: string[] = [];
    const config = configs.get(subject);
    for (const v of versions) {
      const schemaType = v.schemaType ?? "AVRO";
      const schemaFile = `schemas/${name}-v${v.version}.${EXTENSIONS[schemaType]}`;
      files.push({ path: schemaFile, text: schemaText(v.schema, schemaType) });
      const metadata = authorsMetadata(v.metadata);
      // Ids and guids are the registry's: another registry assigns its own.
      const entry = {
        subject,
        version: v.version,
        schema: v.schema,
        ...(v.schemaType !== undefined ? { schemaType: v.schemaType } : {}),
        ...(v.references !== undefined && v.references.length > 0 ? { references: v.references } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
        ...(v.ruleSet !== undefined ? { ruleSet: v.ruleSet } : {}),
        ...(config !== undefined && v === versions[0] ? { config } : {}),
      };
      documents.push(contractToYaml(entry, subject, { schemaFile }));
    }
    files.push({ path: `${name}.yaml`, text: documents.join("---\n") });
  }
  return files;
}

/** A subject as a file name: characters other than letters, digits, `.`, `_` and `-` become `_`. */
function fileName(subject: string): string {
  return subject.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** Avro and JSON Schema indented for reading (a push compares them as JSON); Protobuf as it is. */
function schemaText(schema: string, schemaType: keyof typeof EXTENSIONS): string {
  if (schemaType !== "PROTOBUF") {
    try {
      return JSON.stringify(JSON.parse(schema), null, 2) + "\n";
    } catch {
      // not JSON: kept as the registry holds it, for lint to report
    }
  }
  return schema.endsWith("\n") ? schema : schema + "\n";
}
