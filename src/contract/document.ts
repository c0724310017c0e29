/**
 * A loaded contract document: one schema version of one subject, with where
 * it came from. Version numbering across documents lives here too.
 */
import type { SourcePosition } from "../errors.js";
import { ContractFileError } from "./load-error.js";
import type { Contract, SubjectConfig } from "./model.js";
import type { PathSegment } from "./path.js";

export interface DocumentSource {
  /** The YAML file, as the caller named it. */
  readonly file: string;
  /** 0-based index of the document within the file (counting `---` separators). */
  readonly index: number;
  /** Where the document's content starts. */
  readonly position: SourcePosition;
  /** The schema file the document pointed to (`schemaFile`), resolved against the YAML file's folder. */
  readonly schemaFile?: string;
  /** Whether the document set `version` itself. */
  readonly explicitVersion: boolean;
  /**
   * The position of a JSON path in this document, e.g. `ruleSet.domainRules[1].expr`
   * (the deepest existing ancestor when the path does not exist).
   */
  locate(path: string | readonly PathSegment[], options?: { key?: boolean }): SourcePosition;
}

export interface ContractDocument {
  readonly subject: string;
  /** Explicit, else the previous document's version of the same subject + 1. */
  readonly version: number;
  /** Explicit schema id, if the document sets one. */
  readonly id?: number;
  readonly guid?: string;
  /** The registration body (`POST /subjects/{subject}/versions`). */
  readonly contract: Contract;
  /** The subject's config (`PUT /config/{subject}`), on the one document of a subject that sets it. */
  readonly config?: SubjectConfig;
  readonly source: DocumentSource;
}

/**
 * Numbers documents without `version`: the previous version of the same
 * subject (in the given order) + 1, starting at 1. Reports a version used twice
 * in one subject at the later document.
 */
export function assignVersions(documents: readonly ContractDocument[]): { documents: ContractDocument[]; errors: ContractFileError[] } {
  const last = new Map<string, number>();
  const firstAt = new Map<string, SourcePosition>();
  const out: ContractDocument[] = [];
  const errors: ContractFileError[] = [];
  for (const doc of documents) {
    const version = doc.source.explicitVersion ? doc.version : (last.get(doc.subject) ?? 0) + 1;
    const key = `${doc.subject}\u0000${version}`;
    const here = doc.source.explicitVersion ? doc.source.locate(["version"]) : doc.source.position;
    const first = firstAt.get(key);
    if (first) {
      const how = doc.source.explicitVersion ? "" : " (numbered after the previous document of this subject; set `version` explicitly)";
      errors.push(
        new ContractFileError("contract-invalid", `subject ${doc.subject} version ${version} is defined twice, first at ${first.file}:${first.line}:${first.column}${how}`, {
          position: here,
          issue: "version-duplicate",
          path: "version",
        }),
      );
      continue;
    }
    firstAt.set(key, here);
    last.set(doc.subject, version);
    out.push(version === doc.version ? doc : { ...doc, version });
  }
  return { documents: out, errors };
}
