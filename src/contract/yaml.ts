/**
 * Lossless conversion between the registry's JSON (the Confluent registration
 * body) and kontract's YAML documents. Registry JSON -> YAML -> JSON gives the
 * same contract back: every rule field, param, tag, pair action, metadata and
 * reference, and the schema text byte for byte.
 */
import { Document, isScalar, visit } from "yaml";
import { ContractError } from "../errors.js";
import type { ContractDocument } from "./document.js";
import { ContractLoadError } from "./load-error.js";
import type { Contract, Metadata, Rule, RuleSet, SchemaReference, SubjectConfig } from "./model.js";
import { RULE_PHASES } from "./model.js";
import { parseContractSource, type ParseContractOptions } from "./parse.js";

/** A contract plus what the YAML document adds: the subject, and optionally version, id, guid and the subject's config. */
export type YamlContractEntry = Contract & { subject: string; version?: number; id?: number; guid?: string; config?: SubjectConfig };

export interface ContractToYamlOptions {
  /**
   * "auto" (default): an AVRO/JSON schema whose text is compact JSON (as the
   * registry returns it) is written as a YAML mapping, any other schema as text,
   * so the text survives unchanged. "text": always text.
   */
  schemaStyle?: "auto" | "text";
  /** Write `schemaFile: <path>` instead of the schema (the caller writes the file). */
  schemaFile?: string;
  /** Adds `# yaml-language-server: $schema=<url>` on top, for editor completion. */
  schemaComment?: string;
  /** Write version, id and guid when the input has them (default true). */
  includeIds?: boolean;
}

/** One YAML document for one contract. `subject` overrides the entry's own subject. */
export function contractToYaml(contract: Contract | YamlContractEntry, subject?: string, options: ContractToYamlOptions = {}): string {
  const entry = contract as Partial<YamlContractEntry> & Contract;
  const s = subject ?? entry.subject;
  if (s === undefined || s === "") throw new ContractError("usage", "contractToYaml: a subject is required (pass it, or give a registered contract)");
  return render([{ ...entry, subject: s }], options);
}

/** Several contracts as one multi-document YAML file, in the given order. */
export function contractsToYaml(contracts: readonly YamlContractEntry[], options: Omit<ContractToYamlOptions, "schemaFile"> = {}): string {
  return render(contracts, options);
}

/** Parses a single-document YAML contract. Throws ContractLoadError with every problem. */
export function yamlToContract(text: string, options: ParseContractOptions & { file?: string } = {}): ContractDocument {
  const docs = yamlToContracts(text, options);
  if (docs.length !== 1) {
    throw new ContractError("contract-invalid", `${options.file ?? "<yaml>"}: expected one contract document, found ${docs.length}`);
  }
  return docs[0]!;
}

/** Parses a multi-document YAML contract file. Throws ContractLoadError with every problem. */
export function yamlToContracts(text: string, options: ParseContractOptions & { file?: string } = {}): ContractDocument[] {
  const { documents, errors } = parseContractSource(text, options.file ?? "<yaml>", options);
  if (errors.length > 0) throw new ContractLoadError(errors);
  return documents;
}

/** The registered form of a loaded document: registration body + subject, version, id. */
export function documentToEntry(doc: ContractDocument): YamlContractEntry {
  return {
    subject: doc.subject,
    version: doc.version,
    ...(doc.id !== undefined ? { id: doc.id } : {}),
    ...(doc.guid !== undefined ? { guid: doc.guid } : {}),
    ...structuredClone(doc.contract),
  };
}

function render(entries: readonly YamlContractEntry[], options: ContractToYamlOptions): string {
  const out: string[] = [];
  entries.forEach((entry, i) => {
    const doc = new Document(toPlain(entry, options));
    // Short lists of scalars (tags, enum symbols, unions) read better inline.
    visit(doc, {
      Seq(_, node) {
        if (node.items.length <= 8 && node.items.every(isShortScalar)) node.flow = true;
      },
    });
    if (i === 0 && options.schemaComment) doc.commentBefore = ` yaml-language-server: $schema=${options.schemaComment}`;
    out.push(doc.toString({ lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false }));
  });
  return out.join("---\n");
}

function toPlain(entry: YamlContractEntry, options: ContractToYamlOptions): Record<string, unknown> {
  const o: Record<string, unknown> = { subject: entry.subject };
  if (options.includeIds !== false) {
    if (entry.version !== undefined) o.version = entry.version;
    if (entry.id !== undefined) o.id = entry.id;
    if (entry.guid !== undefined) o.guid = entry.guid;
  }
  if (entry.config !== undefined) o.config = plainConfig(entry.config);
  if (entry.schemaType !== undefined) o.schemaType = entry.schemaType;
  if (entry.references !== undefined && entry.references !== null) o.references = entry.references.map(plainReference);
  if (entry.metadata !== undefined && entry.metadata !== null) o.metadata = plainMetadata(entry.metadata);
  if (entry.ruleSet !== undefined && entry.ruleSet !== null) o.ruleSet = plainRuleSet(entry.ruleSet);
  if (options.schemaFile !== undefined) o.schemaFile = options.schemaFile;
  else o.schema = schemaValue(entry, options.schemaStyle ?? "auto");
  return o;
}

function schemaValue(contract: Contract, style: "auto" | "text"): unknown {
  const text = contract.schema;
  if (style === "text" || contract.schemaType === "PROTOBUF") return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  // Only when re-serializing reproduces the text exactly, so the round trip is lossless.
  if (typeof parsed !== "object" || parsed === null || JSON.stringify(parsed) !== text || hasMergeKey(parsed)) return text;
  return parsed;
}

/** `<<` would be read back as a YAML merge key. */
function hasMergeKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasMergeKey);
  if (typeof v === "object" && v !== null) return Object.entries(v).some(([k, x]) => k === "<<" || hasMergeKey(x));
  return false;
}

function plainReference(r: SchemaReference): Record<string, unknown> {
  return { name: r.name, subject: r.subject, version: r.version };
}

/** The keys a contract file may set (schema/contract.schema.json), in that order. */
function plainConfig(c: SubjectConfig): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (c.compatibility !== undefined) o.compatibility = c.compatibility;
  if (c.compatibilityGroup !== undefined) o.compatibilityGroup = c.compatibilityGroup;
  if (c.normalize !== undefined) o.normalize = c.normalize;
  if (c.defaultMetadata !== undefined) o.defaultMetadata = plainMetadata(c.defaultMetadata);
  if (c.overrideMetadata !== undefined) o.overrideMetadata = plainMetadata(c.overrideMetadata);
  if (c.defaultRuleSet !== undefined) o.defaultRuleSet = plainRuleSet(c.defaultRuleSet);
  if (c.overrideRuleSet !== undefined) o.overrideRuleSet = plainRuleSet(c.overrideRuleSet);
  return o;
}

function plainMetadata(m: Metadata): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (m.tags != null) o.tags = Object.fromEntries(Object.entries(m.tags).map(([k, v]) => [k, [...v]]));
  if (m.properties != null) o.properties = { ...m.properties };
  if (m.sensitive != null) o.sensitive = [...m.sensitive];
  return o;
}

function plainRuleSet(rs: RuleSet): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const phase of RULE_PHASES) {
    const rules = rs[phase];
    if (rules != null) o[phase] = rules.map(plainRule);
  }
  if (rs.enableAt != null) o.enableAt = rs.enableAt;
  return o;
}

const RULE_KEYS = ["name", "doc", "kind", "mode", "type", "tags", "params", "expr", "onSuccess", "onFailure", "disabled"] as const satisfies readonly (keyof Rule)[];

function plainRule(rule: Rule): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of RULE_KEYS) {
    const v = rule[k];
    if (v === undefined || v === null) continue;
    o[k] = Array.isArray(v) ? [...v] : typeof v === "object" ? { ...v } : v;
  }
  return o;
}

function isShortScalar(node: unknown): boolean {
  if (!isScalar(node)) return false;
  return typeof node.value !== "string" || (!node.value.includes("\n") && node.value.length <= 40);
}
