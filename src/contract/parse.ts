/**
 * Parses the text of one contract YAML file into documents, collecting every
 * problem with its file:line:col: YAML syntax, JSON Schema violations, model
 * violations, missing schema files and schemas that are not JSON.
 *
 * No I/O: schema files are read through the `readFile` callback
 * (load-files.ts passes one backed by node:fs).
 */
import { LineCounter, Scalar, isScalar, parseAllDocuments, visit, type Node } from "yaml";
import type { ContractError, SourcePosition } from "../errors.js";
import { assignVersions, type ContractDocument } from "./document.js";
import { checkContractShape } from "./json-schema.js";
import { findJsonSyntaxError } from "./json-syntax.js";
import { ContractFileError, type ContractFileErrorCode } from "./load-error.js";
import { findNode, locate, nodePosition, offsetPosition, type YamlSource } from "./locate.js";
import type { Contract, SchemaType, SubjectConfig } from "./model.js";
import { formatPath, parsePath, type PathSegment } from "./path.js";
import { loadSchemaFile, type SchemaFileReader } from "./schema-file.js";
import { validateContract } from "./validate.js";

export interface ParseContractOptions {
  /**
   * Reads a schema file named by `schemaFile`, once the name is resolved
   * against the YAML file's folder and checked to stay inside it (see
   * schema-file.ts). Returns undefined when the file does not exist, or a
   * refusal. load-files.ts `readSchemaFile` is the one to pass. Without it,
   * documents using `schemaFile` fail with "schema-missing".
   */
  readFile?: SchemaFileReader;
  /**
   * Number documents without `version` within this text (default true).
   * Loaders of several files turn this off and number across files.
   */
  assignVersions?: boolean;
}

/** What a load found: the valid documents and every problem, in file order. */
export interface ContractLoadResult {
  documents: ContractDocument[];
  errors: ContractError[];
}

/** Parses one YAML file's text. Never throws for problems in the text: they are in `errors`. */
export function parseContractSource(text: string, file: string, options: ParseContractOptions = {}): ContractLoadResult {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  let documents: ContractDocument[] = [];
  const errors: ContractError[] = [];
  for (let index = 0; index < docs.length; index++) {
    const doc = docs[index]!;
    const source: YamlSource = { file, lineCounter, doc, text };
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      for (const p of problems) {
        let [start, end] = p.pos;
        let message = p.message;
        if (p.code === "DUPLICATE_KEY") {
          // Name the key and cover it: the parser points at its first character only.
          const key = /^("[^"\n]*"|'[^'\n]*'|[^:#\n]+?)[ \t]*:/.exec(text.slice(start));
          if (key) {
            message += `: \`${key[1]}\` appears twice`;
            end = start + key[1]!.length;
          }
        }
        errors.push(new ContractFileError("yaml-syntax", message, { position: offsetPosition(source, start, end), issue: p.code }));
      }
      continue;
    }
    // A document holding only comments (e.g. after a trailing `---`) is not a contract.
    if (doc.contents === null) continue;
    const result = parseDocument(source, index, options);
    // Source order within the document; problems inside a schema file come last.
    const rank = (e: ContractError): [number, number, number] => [e.position?.file === file ? 0 : 1, e.position?.line ?? 0, e.position?.column ?? 0];
    result.errors.sort((a, b) => {
      const [p, q] = [rank(a), rank(b)];
      return p[0] - q[0] || p[1] - q[1] || p[2] - q[2];
    });
    errors.push(...result.errors);
    if (result.document) documents.push(result.document);
  }
  if (options.assignVersions !== false) {
    const numbered = assignVersions(documents);
    documents = numbered.documents;
    errors.push(...numbered.errors);
  }
  return { documents, errors };
}

function parseDocument(source: YamlSource, index: number, options: ParseContractOptions): { document?: ContractDocument; errors: ContractFileError[] } {
  const errors: ContractFileError[] = [];
  const fail = (code: ContractFileErrorCode, message: string, position: SourcePosition, issue: string, path?: readonly PathSegment[]): void => {
    const where = path && path.length > 0 ? `${formatPath(path)}: ` : "";
    errors.push(new ContractFileError(code, where + message, { position, issue, path: path ? formatPath(path) : undefined }));
  };

  // toJS would turn a collection key into its text, with a process warning.
  const collectionKey = firstCollectionKey(source.doc.contents);
  if (collectionKey !== undefined) {
    fail("yaml-syntax", "a key must be a plain value (a string), not a mapping or a list", nodePosition(source, collectionKey), "key");
    return { errors };
  }
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    fail("yaml-syntax", e instanceof Error ? e.message : String(e), nodePosition(source, source.doc.contents), "alias");
    return { errors };
  }

  // A document that is only `~` or comments is not a contract.
  if (data === null || data === undefined) return { errors };
  if (!isObject(data)) {
    fail("contract-invalid", `a contract document must be a mapping (subject, schema, ruleSet, ...), got ${Array.isArray(data) ? "a list" : typeof data}`, nodePosition(source, source.doc.contents), "type");
    return { errors };
  }

  // 1. The published JSON Schema: structure, enums, patterns.
  const reported = new Set<string>();
  for (const v of checkContractShape(data)) {
    const at = v.atKey ? v.path.slice(0, -1) : v.path;
    fail("contract-invalid", v.message, locate(source, v.path, { key: v.atKey }), v.keyword, at);
    reported.add(formatPath(v.path));
    if (v.property !== undefined) reported.add(formatPath([...v.path, v.property]));
  }

  // 2. The schema text: inline or from schemaFile.
  const schemaType = typeof data.schemaType === "string" ? (data.schemaType as SchemaType) : undefined;
  const jsonSchema = schemaType === undefined || schemaType === "AVRO" || schemaType === "JSON";
  let schemaText: string | undefined;
  let schemaFile: string | undefined;
  if (typeof data.schema === "string") {
    schemaText = data.schema;
    if (jsonSchema) checkInlineJson(source, schemaText, schemaType, fail);
  } else if (typeof data.schema === "object" && data.schema !== null) {
    // A YAML mapping (or an Avro union list) is the schema's JSON; PROTOBUF was rejected above.
    if (jsonSchema) schemaText = JSON.stringify(data.schema);
  } else if (typeof data.schemaFile === "string" && data.schemaFile !== "") {
    const named = data.schemaFile;
    const at = locate(source, ["schemaFile"]);
    const loaded = options.readFile ? loadSchemaFile(source.file, named, options.readFile) : undefined;
    if (loaded?.kind === "refused") {
      // JSON.stringify: the name may hold control characters; the file's contents are never quoted.
      fail("contract-invalid", `schemaFile ${JSON.stringify(named)} is refused: ${loaded.reason}`, at, "schema-file-refused", ["schemaFile"]);
    } else if (jsonSchema && /\.proto$/i.test(named)) {
      fail("contract-invalid", `schemaFile ${named} is a .proto file but schemaType is ${schemaType ?? "AVRO (the default)"}; set schemaType: PROTOBUF`, locate(source, schemaType ? ["schemaType"] : ["schemaFile"]), "schema-type-mismatch", schemaType ? ["schemaType"] : ["schemaFile"]);
    } else if (loaded === undefined) {
      fail("schema-missing", `cannot read schema file ${named}: no file reader given (use loadContractFiles)`, at, "schema-file-missing", ["schemaFile"]);
    } else if (loaded.kind === "missing") {
      fail("schema-missing", `schema file ${named} not found (looked for ${loaded.path})`, at, "schema-file-missing", ["schemaFile"]);
    } else {
      schemaFile = loaded.path;
      const text = loaded.text;
      schemaText = text;
      if (jsonSchema) {
        const bad = findJsonSyntaxError(text);
        if (bad) {
          const lc = new LineCounter();
          for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lc.addNewLine(i + 1);
          lc.addNewLine(0);
          lc.lineStarts.sort((a, b) => a - b);
          errors.push(
            new ContractFileError("schema-invalid", `${schemaKind(schemaType)} schema is not valid JSON: ${bad.message} (schemaFile ${named} at ${source.file}:${at.line}:${at.column})`, {
              position: offsetPosition({ file: schemaFile, lineCounter: lc }, bad.offset),
              issue: "schema-json",
              path: "schemaFile",
            }),
          );
        }
      }
    }
  }

  // 3. The model: what the registry checks (unique names, modes per list, pair actions...).
  const contract: Contract = { schema: schemaText ?? "" };
  if (data.schemaType !== undefined) contract.schemaType = data.schemaType as SchemaType;
  if (data.references !== undefined) contract.references = data.references as Contract["references"];
  if (data.metadata !== undefined) contract.metadata = data.metadata as Contract["metadata"];
  if (data.ruleSet !== undefined) contract.ruleSet = data.ruleSet as Contract["ruleSet"];
  for (const issue of validateContract(contract)) {
    if (issue.path === "schema" && schemaText === undefined) continue; // reported as missing above
    if (reported.has(issue.path)) continue; // the JSON Schema already said so
    const path = parsePath(issue.path);
    fail("contract-invalid", issue.message, locate(source, path), issue.code, path);
  }

  if (errors.length > 0) return { errors };
  const explicitVersion = typeof data.version === "number";
  const document: ContractDocument = {
    subject: data.subject as string,
    version: explicitVersion ? (data.version as number) : 0,
    ...(typeof data.id === "number" ? { id: data.id } : {}),
    ...(typeof data.guid === "string" ? { guid: data.guid } : {}),
    // Checked by the published JSON Schema above.
    ...(isObject(data.config) ? { config: data.config as SubjectConfig } : {}),
    contract,
    source: {
      file: source.file,
      index,
      position: nodePosition(source, source.doc.contents),
      ...(schemaFile !== undefined ? { schemaFile } : {}),
      explicitVersion,
      locate: (path, opts) => locate(source, typeof path === "string" ? parsePath(path) : path, opts),
    },
  };
  return { document, errors };
}

type Fail = (code: ContractFileErrorCode, message: string, position: SourcePosition, issue: string, path?: readonly PathSegment[]) => void;

function checkInlineJson(source: YamlSource, text: string, schemaType: SchemaType | undefined, fail: Fail): void {
  const bad = findJsonSyntaxError(text);
  if (!bad) return;
  const node = findNode(source, ["schema"]).node;
  let position: SourcePosition = nodePosition(source, node);
  if (isScalar(node)) {
    const offset = sourceOffsetInScalar(source, node, bad.offset);
    if (offset !== undefined) position = offsetPosition(source, offset);
  }
  const hint = /^[A-Za-z_][\w.]*$/.test(text.trim()) ? ` (for a primitive Avro schema write schema: '"${text.trim()}"')` : "";
  fail("schema-invalid", `${schemaKind(schemaType)} schema is not valid JSON: ${bad.message}${hint}`, position, "schema-json", ["schema"]);
}

function schemaKind(schemaType: SchemaType | undefined): string {
  return schemaType === "JSON" ? "JSON Schema" : "Avro";
}

/**
 * Maps an offset in a scalar's value back to the source text. Exact for block
 * literals (`|`) and single-line scalars; undefined where folding makes it
 * ambiguous (the caller then reports the scalar's start).
 */
function sourceOffsetInScalar(source: YamlSource, node: Scalar, valueOffset: number): number | undefined {
  const range = node.range;
  if (!range) return undefined;
  const src = source.text;
  if (src === undefined) return undefined;
  const [start, end] = range;
  const raw = src.slice(start, end);
  switch (node.type) {
    case Scalar.BLOCK_LITERAL: {
      const value = String(node.value);
      const before = value.slice(0, valueOffset);
      const line = before.split("\n").length - 1;
      const col = valueOffset - (before.lastIndexOf("\n") + 1);
      const headerEnd = src.indexOf("\n", start);
      if (headerEnd < 0) return undefined;
      const bodyLines = src.slice(headerEnd + 1, end).split("\n");
      const firstContent = bodyLines.find((l) => l.trim() !== "");
      const indent = firstContent ? firstContent.length - firstContent.trimStart().length : 0;
      let offset = headerEnd + 1;
      for (let i = 0; i < line && i < bodyLines.length; i++) offset += bodyLines[i]!.length + 1;
      return offset + indent + col;
    }
    case Scalar.PLAIN:
      return raw.includes("\n") ? undefined : start + valueOffset;
    case Scalar.QUOTE_SINGLE: {
      if (raw.includes("\n")) return undefined;
      let i = start + 1;
      for (let n = 0; n < valueOffset; n++) i += src[i] === "'" && src[i + 1] === "'" ? 2 : 1;
      return i;
    }
    case Scalar.QUOTE_DOUBLE: {
      if (raw.includes("\n")) return undefined;
      let i = start + 1;
      for (let n = 0; n < valueOffset; n++) {
        if (src[i] !== "\\") i += 1;
        else i += src[i + 1] === "x" ? 4 : src[i + 1] === "u" ? 6 : src[i + 1] === "U" ? 10 : 2;
      }
      return i;
    }
    default:
      return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The first key in `root` that is a mapping or a list, if any. */
function firstCollectionKey(root: Node | null): Node | undefined {
  let found: Node | undefined;
  visit(root, {
    Pair(_, pair) {
      const key = pair.key as Node | null;
      if (key !== null && typeof key === "object" && "items" in key) {
        found = key;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}
