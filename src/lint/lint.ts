/**
 * `lintSources`: every check over a set of contract files, as data. Pure: the
 * files arrive as text, and schema files are read through a callback.
 */
import type { ContractDocument } from "../contract/document.js";
import { ContractLoadError } from "../contract/load-error.js";
import { collectReferences } from "../contract/references.js";
import { schemaTypeOf } from "../contract/model.js";
import type { SchemaFileRead } from "../contract/schema-file.js";
import { FORMATS } from "../format/index.js";
import type { CompiledSchema } from "../format/types.js";
import { createFileRegistry } from "../registry/file-registry.js";
import { isKontractError } from "../errors.js";
import { LINT_CODES } from "./codes.js";
import { compatibility, type VersionSchema } from "./compat.js";
import { defaultConfig, severityFor, type KontractConfig } from "./config.js";
import { codeOf, loadSources, type LoadedDocument, type RawDiagnostic, type ReadFile } from "./load.js";
import { checkMetadata } from "./metadata.js";
import { checkMigrationTypes } from "./migration-types.js";
import { checkRules } from "./rules.js";
import { schemaContext } from "./schema-context.js";
import { applyDirectives, parseDirectives } from "./suppress.js";
import { summarize, type Diagnostic, type LintReport, type LintSource } from "./types.js";
import { pairPosition, positionOf } from "./where.js";

export interface LintOptions {
  /** Reads a schema file named by `schemaFile`: pass contract's `readSchemaFile`, which refuses what a contract must not read. */
  readFile?: ReadFile;
  /** Severities, custom actions and rule types. Default: none configured. */
  config?: KontractConfig;
}

export function lintSources(sources: readonly LintSource[], options: LintOptions = {}): LintReport {
  const config = options.config ?? defaultConfig(".");
  const readFile = memoize(options.readFile);
  const raw: RawDiagnostic[] = [];
  const report = (d: RawDiagnostic) => raw.push(d);

  const loaded = loadSources(sources, readFile);
  raw.push(...loaded.diagnostics);
  const byKey = new Map<string, LoadedDocument>(loaded.documents.map((d) => [versionKey(d.doc.subject, d.doc.version), d]));

  let rules = 0;
  const schemas = new Map<LoadedDocument, VersionSchema>();
  for (const d of loaded.documents) {
    const compiled = compileDocument(d, byKey, report);
    if (compiled) schemas.set(d, compiled);
    rules += checkRules({ doc: d.doc, text: d.text, schema: compiled ? schemaContext(compiled.compiled) : undefined, config: config.lint, report });
    checkMetadata(d, compiled?.compiled, report);
  }
  checkVersions(loaded.documents, schemas, report);
  checkIds(loaded.documents.map((d) => d.doc), report);
  checkConfigs(loaded.documents, report);

  // Suppression comments, per file.
  let kept: RawDiagnostic[] = raw;
  for (const { file, text } of sources) {
    const directives = parseDirectives(text);
    if (directives.length === 0) continue;
    const mine = kept.filter((d) => d.position.file === file);
    const others = kept.filter((d) => d.position.file !== file);
    kept = [...others, ...applyDirectives(file, directives, mine)];
  }

  const order = new Map(sources.map((s, i) => [s.file, i]));
  const diagnostics: Diagnostic[] = [];
  for (const d of kept) {
    const severity = severityFor(config, d.code, LINT_CODES[d.code].severity, d.position.file);
    if (severity === "off") continue;
    const p = d.position;
    diagnostics.push({
      code: d.code,
      severity,
      message: d.message,
      file: p.file,
      line: p.line,
      column: p.column,
      endLine: p.endLine ?? p.line,
      endColumn: p.endColumn ?? p.column + 1,
      ...(d.hint ? { hint: d.hint } : {}),
      ...(d.path ? { path: d.path } : {}),
      ...(d.subject !== undefined ? { subject: d.subject } : {}),
      ...(d.version !== undefined ? { version: d.version } : {}),
      ...(d.rule !== undefined ? { rule: d.rule } : {}),
    });
  }
  diagnostics.sort(
    (a, b) =>
      (order.get(a.file) ?? Number.MAX_SAFE_INTEGER) - (order.get(b.file) ?? Number.MAX_SAFE_INTEGER) ||
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.column - b.column ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
  const deduped = diagnostics.filter((d, i) => i === 0 || !sameDiagnostic(d, diagnostics[i - 1]!));
  return {
    diagnostics: deduped,
    sources: new Map(sources.map((s) => [s.file, s.text])),
    summary: summarize(deduped, { files: sources.length, documents: loaded.documents.length, rules }),
  };
}

function sameDiagnostic(a: Diagnostic, b: Diagnostic): boolean {
  return a.code === b.code && a.file === b.file && a.line === b.line && a.column === b.column && a.message === b.message;
}

function versionKey(subject: string, version: number): string {
  return `${subject}\u0000${version}`;
}

function memoize(read: ReadFile | undefined): ReadFile | undefined {
  if (!read) return undefined;
  const cache = new Map<string, SchemaFileRead>();
  return (path, root) => {
    const key = `${root}\u0000${path}`;
    if (!cache.has(key)) cache.set(key, read(path, root));
    return cache.get(key);
  };
}

/** Compiles the document's schema with its references; reports what fails. */
function compileDocument(d: LoadedDocument, byKey: ReadonlyMap<string, LoadedDocument>, report: (d: RawDiagnostic) => void): VersionSchema | undefined {
  const { doc } = d;
  const base = { subject: doc.subject, version: doc.version };
  const { references, missing } = collectReferences(doc.contract, (subject, version) => byKey.get(versionKey(subject, version))?.doc.contract);
  for (const { reference: ref, index: i, top } of missing) {
    if (!top) continue;
    report({ ...base, code: "reference-unresolved", message: `reference ${ref.name} points to ${ref.subject} version ${ref.version}, which the linted files do not define`, position: positionOf(d, ["references", i]), path: `references[${i}]`, hint: "lint the referenced subject's file in the same run" });
  }
  if (missing.length > 0) return undefined;
  const type = schemaTypeOf(doc.contract);
  try {
    const compiled: CompiledSchema = FORMATS[type].compile(doc.contract, references.size > 0 ? { references } : {});
    return { contract: doc.contract, compiled, references: references.size > 0 ? references : undefined };
  } catch (e) {
    const message = isKontractError(e) || e instanceof Error ? e.message : String(e);
    const where = doc.source.schemaFile !== undefined ? positionOf(d, ["schemaFile"]) : positionOf(d, ["schema"], { key: true });
    report({ ...base, code: "schema-invalid", message: `the ${type} schema does not compile: ${message}`, position: where, path: doc.source.schemaFile !== undefined ? "schemaFile" : "schema" });
    return undefined;
  }
}

/** Consecutive versions of a subject: a breaking change needs migration rules, and migration rules must fit both versions. */
function checkVersions(documents: readonly LoadedDocument[], schemas: ReadonlyMap<LoadedDocument, VersionSchema>, report: (d: RawDiagnostic) => void): void {
  const bySubject = new Map<string, LoadedDocument[]>();
  for (const d of documents) bySubject.set(d.doc.subject, [...(bySubject.get(d.doc.subject) ?? []), d]);
  for (const [subject, docs] of bySubject) {
    docs.sort((a, b) => a.doc.version - b.doc.version);
    for (let i = 1; i < docs.length; i++) {
      const older = docs[i - 1]!;
      const newer = docs[i]!;
      const o = schemas.get(older);
      const n = schemas.get(newer);
      if (!o || !n) continue;
      checkMigrationTypes({ doc: older, schema: o }, { doc: newer, schema: n }, report);
      const c = compatibility(o, n);
      if (!c.backward && !c.forward) continue;
      const modes = new Set(migrationModes(newer.doc));
      const hasUp = modes.has("UPGRADE") || modes.has("UPDOWN");
      const hasDown = modes.has("DOWNGRADE") || modes.has("UPDOWN");
      const hasList = Array.isArray(newer.doc.contract.ruleSet?.migrationRules);
      const position = hasList
        ? positionOf(newer, ["ruleSet", "migrationRules"], { key: true })
        : newer.doc.source.schemaFile !== undefined
          ? pairPosition(newer, ["schemaFile"])
          : positionOf(newer, ["schema"], { key: true });
      const base = { subject, version: newer.doc.version, position, path: hasList ? "ruleSet.migrationRules" : newer.doc.source.schemaFile !== undefined ? "schemaFile" : "schema" };
      const [v1, v2] = [older.doc.version, newer.doc.version];
      if (c.backward && !hasUp) {
        report({ ...base, code: "migration-missing", message: `${subject} v${v2} cannot read messages written with v${v1} (${c.backward}), and v${v2} has no UPGRADE migration transform`, hint: `add an UPGRADE (or UPDOWN) rule to v${v2}'s migrationRules, or make the change compatible (e.g. give new fields defaults)` });
      }
      if (c.forward && !hasDown) {
        report({ ...base, code: "migration-missing", message: `${subject} v${v1} cannot read messages written with v${v2} (${c.forward}), and v${v2} has no DOWNGRADE migration transform`, hint: `add a DOWNGRADE (or UPDOWN) rule to v${v2}'s migrationRules: the newer version owns both directions of its edge` });
      }
    }
  }
}

/** Modes of the enabled migration TRANSFORMs: only a transform can bridge a breaking change. */
function migrationModes(doc: ContractDocument): string[] {
  const list = doc.contract.ruleSet?.migrationRules;
  if (!Array.isArray(list)) return [];
  return list
    .filter((r) => typeof r === "object" && r !== null && r.disabled !== true && typeof r.mode === "string" && (r.kind ?? "TRANSFORM") === "TRANSFORM")
    .map((r) => r.mode as string);
}

/** Explicit ids and guids: what the file registry would refuse. */
/** A subject has one config: a second document that sets `config` is an error (push would take the newest). */
function checkConfigs(documents: readonly LoadedDocument[], report: (d: RawDiagnostic) => void): void {
  const first = new Map<string, LoadedDocument>();
  for (const d of [...documents].sort((a, b) => a.doc.version - b.doc.version)) {
    if (d.doc.config === undefined) continue;
    const earlier = first.get(d.doc.subject);
    if (earlier === undefined) {
      first.set(d.doc.subject, d);
      continue;
    }
    report({
      subject: d.doc.subject,
      version: d.doc.version,
      code: "config-duplicate",
      message: `${d.doc.subject} v${earlier.doc.version} already sets the subject's config`,
      position: positionOf(d, ["config"], { key: true }),
      path: "config",
      hint: "keep one `config`, on the document that introduces the subject",
    });
  }
}

function checkIds(documents: readonly ContractDocument[], report: (d: RawDiagnostic) => void): void {
  if (!documents.some((d) => d.id !== undefined || d.guid !== undefined)) return;
  try {
    createFileRegistry({ documents });
  } catch (e) {
    if (!(e instanceof ContractLoadError)) return;
    for (const err of e.errors) {
      const issue = (err as { issue?: string }).issue;
      if (issue !== "id-conflict" && issue !== "guid-conflict") continue;
      const path = (err as { path?: string }).path;
      let message = (err as { detail?: string }).detail ?? err.message;
      if (path && message.startsWith(`${path}: `)) message = message.slice(path.length + 2);
      report({ code: codeOf(err.code, issue, path, undefined), message, position: err.position ?? { file: "<unknown>", line: 1, column: 1 }, ...(path ? { path } : {}) });
    }
  }
}
