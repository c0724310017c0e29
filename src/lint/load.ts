/**
 * Loading contract files for the linter: the loader's diagnostics (YAML,
 * structure, model, schema files) with stable lint codes, plus the documents
 * to check further.
 *
 * The contract loader drops a document with any problem. The linter keeps
 * going where it safely can: a document whose only problems lie inside rules
 * (a duplicate name, an unknown property in one rule...) is rebuilt here, so
 * its other rules are still type-checked in the same run.
 */
import { LineCounter, parseAllDocuments, type Document } from "yaml";
import { assignVersions, type ContractDocument } from "../contract/document.js";
import { findJsonSyntaxError } from "../contract/json-syntax.js";
import type { ContractFileError } from "../contract/load-error.js";
import { locate, nodePosition, type YamlSource } from "../contract/locate.js";
import { RULE_MODES, RULE_PHASES, type Contract, type SchemaType } from "../contract/model.js";
import { parseContractSource } from "../contract/parse.js";
import { parsePath, type PathSegment } from "../contract/path.js";
import { loadSchemaFile, type SchemaFileReader } from "../contract/schema-file.js";
import type { ContractError, SourcePosition } from "../errors.js";
import type { LintCode } from "./codes.js";
import type { LintSource } from "./types.js";

/** A problem before severities are applied. */
export interface RawDiagnostic {
  readonly code: LintCode;
  readonly message: string;
  readonly position: SourcePosition;
  readonly hint?: string;
  readonly path?: string;
  readonly subject?: string;
  readonly version?: number;
  readonly rule?: string;
}

export interface LoadedDocument {
  readonly doc: ContractDocument;
  /** The text of the file the document is in, to place positions inside expressions. */
  readonly text: string;
}

export interface LoadResult {
  readonly documents: LoadedDocument[];
  readonly diagnostics: RawDiagnostic[];
}

export type ReadFile = SchemaFileReader;

export function loadSources(sources: readonly LintSource[], readFile: ReadFile | undefined): LoadResult {
  const diagnostics: RawDiagnostic[] = [];
  const documents: LoadedDocument[] = [];
  for (const { file, text } of sources) {
    const result = parseContractSource(text, file, { ...(readFile ? { readFile } : {}), assignVersions: false });
    if (result.errors.length === 0) {
      for (const doc of result.documents) documents.push({ doc, text });
      continue;
    }
    // Problems: parse again to tell which document each is in, and rebuild what can still be checked.
    const lineCounter = new LineCounter();
    const yamlDocs = parseAllDocuments(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
    const docStartLines = yamlDocs.map((d) => lineCounter.linePos(d.range[0]).line);
    const byIndex = new Map<number, ContractFileError[]>();
    for (const e of result.errors) {
      diagnostics.push(fromLoadError(e, yamlDocs, docStartLines, file));
      const index = docIndexOf(e, docStartLines, file);
      if (index !== undefined) byIndex.set(index, [...(byIndex.get(index) ?? []), e as ContractFileError]);
    }
    const loaded = new Map<number, ContractDocument>(result.documents.map((d) => [d.source.index, d]));
    yamlDocs.forEach((yamlDoc, index) => {
      const yaml: YamlSource = { file, lineCounter, doc: yamlDoc, text };
      const doc = loaded.get(index) ?? rebuild(yaml, index, byIndex.get(index) ?? [], readFile);
      if (doc) documents.push({ doc, text });
    });
  }
  // Versions are numbered across files, in the order given.
  const numbered = assignVersions(documents.map((d) => d.doc));
  for (const e of numbered.errors) diagnostics.push(fromLoadError(e, [], [], ""));
  const kept = new Set(numbered.documents.map((d) => `${d.source.file}\u0000${d.source.index}`));
  const renumbered = new Map(numbered.documents.map((d) => [`${d.source.file}\u0000${d.source.index}`, d]));
  return {
    documents: documents
      .filter((d) => kept.has(`${d.doc.source.file}\u0000${d.doc.source.index}`))
      .map((d) => ({ ...d, doc: renumbered.get(`${d.doc.source.file}\u0000${d.doc.source.index}`)! })),
    diagnostics,
  };
}

function docIndexOf(e: ContractError, starts: readonly number[], file: string): number | undefined {
  if (e.position?.file !== file) return undefined;
  let index: number | undefined;
  starts.forEach((line, i) => {
    if (line <= e.position!.line) index = i;
  });
  return index;
}

/** A rule-level path: `ruleSet.<list>[i]...`. */
function isRulePath(path: string | undefined): boolean {
  if (path === undefined) return false;
  const p = parsePath(path);
  return p.length >= 3 && p[0] === "ruleSet" && (RULE_PHASES as readonly PathSegment[]).includes(p[1]!) && typeof p[2] === "number";
}

/** Rebuilds a document the loader dropped, when every problem in it is confined to rules. */
function rebuild(yaml: YamlSource, index: number, errors: readonly ContractFileError[], readFile: ReadFile | undefined): ContractDocument | undefined {
  const { doc } = yaml;
  if (doc.errors.length > 0 || doc.warnings.length > 0 || doc.contents === null) return undefined;
  if (errors.length === 0 || !errors.every((e) => e.code === "contract-invalid" && isRulePath(e.path))) return undefined;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch {
    return undefined;
  }
  if (!isObject(data) || typeof data.subject !== "string" || data.subject === "") return undefined;
  const schemaType = data.schemaType as SchemaType | undefined;
  let schema: string | undefined;
  let schemaFile: string | undefined;
  if (typeof data.schema === "string") schema = data.schema;
  else if (typeof data.schema === "object" && data.schema !== null && schemaType !== "PROTOBUF") schema = JSON.stringify(data.schema);
  else if (typeof data.schemaFile === "string" && readFile) {
    const loaded = loadSchemaFile(yaml.file, data.schemaFile, readFile);
    if (loaded.kind !== "read") return undefined;
    schemaFile = loaded.path;
    schema = loaded.text;
  }
  if (schema === undefined) return undefined;
  if (schemaType !== "PROTOBUF" && findJsonSyntaxError(schema) !== undefined) return undefined;
  const contract: Contract = { schema };
  if (data.schemaType !== undefined) contract.schemaType = schemaType!;
  if (data.references !== undefined) contract.references = data.references as Contract["references"];
  if (data.metadata !== undefined) contract.metadata = data.metadata as Contract["metadata"];
  if (data.ruleSet !== undefined) contract.ruleSet = data.ruleSet as Contract["ruleSet"];
  const explicitVersion = typeof data.version === "number";
  return {
    subject: data.subject,
    version: explicitVersion ? (data.version as number) : 0,
    ...(typeof data.id === "number" ? { id: data.id } : {}),
    ...(typeof data.guid === "string" ? { guid: data.guid } : {}),
    contract,
    source: {
      file: yaml.file,
      index,
      position: nodePosition(yaml, doc.contents),
      ...(schemaFile !== undefined ? { schemaFile } : {}),
      explicitVersion,
      locate: (path, opts) => locate(yaml, typeof path === "string" ? parsePath(path) : path, opts),
    },
  };
}

/** The loader's error, with the lint code for what it found. */
function fromLoadError(e: ContractError, yamlDocs: readonly Document.Parsed[], starts: readonly number[], file: string): RawDiagnostic {
  const fe = e as Partial<ContractFileError> & ContractError;
  const path = fe.path;
  let message = fe.detail ?? e.message;
  if (path && message.startsWith(`${path}: `)) message = message.slice(path.length + 2);
  const position = e.position ?? { file: "<unknown>", line: 1, column: 1 };
  const index = docIndexOf(e, starts, file);
  const value = index !== undefined && path !== undefined ? valueAt(yamlDocs[index], path) : undefined;
  let code = codeOf(e.code, fe.issue, path, value);
  // A missing `mode` in migrationRules: the JSON Schema says "required", the model "not allowed".
  if (code === "structure-missing-property" && /`mode`/.test(message) && path !== undefined && parsePath(path)[1] === "migrationRules") code = "rule-mode-not-allowed";
  return { code, message, position, ...(path ? { path } : {}) };
}

function valueAt(doc: Document.Parsed | undefined, path: string): unknown {
  if (!doc) return undefined;
  try {
    let v: unknown = doc.toJS({ maxAliasCount: 1000 });
    for (const seg of parsePath(path)) {
      if (typeof v !== "object" || v === null) return undefined;
      v = (v as Record<string | number, unknown>)[seg];
    }
    return v;
  } catch {
    return undefined;
  }
}

const MODEL_CODES: Readonly<Record<string, LintCode>> = {
  "rule-name-duplicate": "rule-name-duplicate",
  "rule-name-invalid": "rule-name-invalid",
  "rule-kind-invalid": "rule-kind-invalid",
  "rule-mode-invalid": "rule-mode-invalid",
  "rule-mode-not-allowed": "rule-mode-not-allowed",
  "rule-action-invalid": "rule-action-invalid",
  "rule-action-pair-not-allowed": "rule-action-pair-not-allowed",
  "enable-at-invalid": "enable-at-invalid",
  "rule-name-missing": "structure-missing-property",
  "rule-type-missing": "structure-missing-property",
  "schema-required": "structure-missing-property",
  "schema-type-invalid": "structure-value",
  "field-type": "structure-type",
  "not-an-object": "structure-type",
  "metadata-invalid": "structure-type",
  "reference-invalid": "structure-value",
  "version-duplicate": "version-duplicate",
  "schema-type-mismatch": "schema-type-mismatch",
  "id-conflict": "id-conflict",
  "guid-conflict": "guid-conflict",
  "reference-unresolved": "reference-unresolved",
  "schema-file-refused": "schema-file-refused",
};

/**
 * The same defect gets the same code whichever check caught it: the JSON
 * Schema (which runs first) or the model validation.
 */
export function codeOf(errorCode: string, issue: string | undefined, path: string | undefined, value: unknown): LintCode {
  if (errorCode === "yaml-syntax") return "yaml-syntax";
  if (errorCode === "schema-missing") return "schema-file-missing";
  if (errorCode === "schema-invalid") return "schema-not-json";
  if (issue !== undefined && MODEL_CODES[issue]) return MODEL_CODES[issue]!;
  const segs = path === undefined ? [] : parsePath(path);
  const inRule = isRulePath(path);
  const last = segs[segs.length - 1];
  switch (issue) {
    case "additionalProperties":
      return "structure-unknown-property";
    case "required":
      return "structure-missing-property";
    case "type":
      return "structure-type";
    case "enum":
      if (inRule && last === "mode" && segs.length === 4) return typeof value === "string" && (RULE_MODES as readonly string[]).includes(value) ? "rule-mode-not-allowed" : "rule-mode-invalid";
      if (inRule && last === "kind" && segs.length === 4) return "rule-kind-invalid";
      if (segs.length === 2 && segs[0] === "ruleSet" && last === "enableAt") return "enable-at-invalid";
      return "structure-value";
    case "pattern":
    case "minLength":
    case "maxLength":
      if (inRule && last === "name" && segs.length === 4) return "rule-name-invalid";
      return "structure-value";
    case "anyOf":
      if (inRule && (last === "onSuccess" || last === "onFailure") && segs.length === 4) return "rule-action-invalid";
      return "structure-value";
    case "alias":
      return "yaml-syntax";
    default:
      return "structure-value";
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
