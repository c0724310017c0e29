/**
 * A schema registry in memory: for users' tests (like Confluent's
 * MockSchemaRegistryClient), for `kontract test`, and, seeded from contract
 * files, as the embedded default registry (createFileRegistry). Deterministic:
 * the same contracts always give the same versions, ids and guids.
 *
 * Ids follow the real registry (Java `Schema.updateHash`): an id identifies
 * the schema text together with its references, metadata and ruleSet, so the
 * same contract under two subjects shares one id, and changing a rule gives a
 * new id. By default it refuses what a real registry refuses (an invalid
 * contract, schema text that does not parse, a reference to a missing
 * version); `lenient` accepts them, as mock registries do. Neither mode runs
 * compatibility checks.
 */
import { createHash } from "node:crypto";
import type { ContractDocument, DocumentSource } from "../contract/document.js";
import { assignVersions } from "../contract/document.js";
import { findJsonSyntaxError } from "../contract/json-syntax.js";
import { ContractFileError, ContractLoadError } from "../contract/load-error.js";
import { schemaTypeOf, type Contract, type RegisteredContract, type SubjectConfig } from "../contract/model.js";
import { validateContract } from "../contract/validate.js";
import { RegistryError, type ContractError } from "../errors.js";
import { closest } from "../util/suggest.js";
import type { SchemaById, SchemaRegistry } from "./types.js";

export interface MemoryRegistryOptions {
  /** Contracts to start with, e.g. `loadContractFiles("rules")`; their `config:` become the subjects' configs. */
  readonly documents?: readonly ContractDocument[];
  /** Accept what mock registries accept: no contract validation, schema syntax or reference checks on register. Default false. */
  readonly lenient?: boolean;
}

export interface MemoryRegistry extends SchemaRegistry {
  /** Every stored version, sorted by subject then version. */
  all(): RegisteredContract[];
  /** Where a version was defined, for pointing at YAML lines; undefined for registered ones. */
  sourceOf(subject: string, version: number): DocumentSource | undefined;
  /** The subject's own config (`GET /config/{subject}`), undefined when it has none. */
  getConfig(subject: string): Promise<SubjectConfig | undefined>;
  /** Sets keys of the subject's config (`PUT /config/{subject}`), keeping the others. */
  updateConfig(subject: string, config: SubjectConfig): Promise<SubjectConfig>;
}

interface Stored {
  readonly registered: RegisteredContract;
  readonly key: string;
  readonly source: DocumentSource | undefined;
}

/**
 * An empty registry, or one holding `documents`. Throws ContractLoadError when
 * the documents have problems, including id conflicts and references to
 * versions that do not exist.
 */
export function createMemoryRegistry(options: MemoryRegistryOptions = {}): MemoryRegistry {
  return new MemoryRegistryImpl(numbered(options.documents ?? []), options.lenient === true);
}

function numbered(documents: readonly ContractDocument[]): ContractDocument[] {
  const result = assignVersions(documents);
  if (result.errors.length > 0) throw new ContractLoadError(result.errors);
  return result.documents;
}

class MemoryRegistryImpl implements MemoryRegistry {
  private readonly subjectsMap = new Map<string, Map<number, Stored>>();
  private readonly byId = new Map<number, Stored>();
  private readonly idByKey = new Map<string, number>();
  private readonly byGuid = new Map<string, number>();
  private readonly configs = new Map<string, SubjectConfig>();
  private maxId = 0;

  constructor(
    documents: readonly ContractDocument[],
    private readonly lenient: boolean,
  ) {
    for (const doc of documents) if (doc.config !== undefined) this.configs.set(doc.subject, structuredClone(doc.config));
    const errors: ContractError[] = [];
    const sorted = [...documents].sort((a, b) => compare(a.subject, b.subject) || a.version - b.version);

    // Explicit ids first: they fix the numbering that implicit ids continue from.
    const explicitOwner = new Map<number, ContractDocument>();
    for (const doc of sorted) {
      if (doc.id === undefined) continue;
      const key = contentKey(doc.contract);
      const owner = explicitOwner.get(doc.id);
      if (owner && contentKey(owner.contract) !== key) {
        const at = owner.source.locate(["id"]);
        errors.push(
          new ContractFileError("contract-invalid", `id: id ${doc.id} is already used for a different schema (${owner.subject} version ${owner.version} at ${at.file}:${at.line}:${at.column})`, {
            position: doc.source.locate(["id"]),
            issue: "id-conflict",
            path: "id",
          }),
        );
        continue;
      }
      explicitOwner.set(doc.id, doc);
      if (!this.idByKey.has(key)) this.idByKey.set(key, doc.id);
      this.maxId = Math.max(this.maxId, doc.id);
    }

    for (const doc of sorted) {
      const key = contentKey(doc.contract);
      let id = doc.id ?? this.idByKey.get(key);
      if (id === undefined) {
        id = ++this.maxId;
        this.idByKey.set(key, id);
      }
      const guid = doc.guid ?? this.guidOf(id) ?? guidFor(key);
      const known = this.byGuid.get(guid);
      if (known !== undefined && known !== id) {
        errors.push(
          new ContractFileError("contract-invalid", `guid: guid ${guid} is already used by schema id ${known}`, { position: doc.source.locate(["guid"]), issue: "guid-conflict", path: "guid" }),
        );
        continue;
      }
      this.store({ subject: doc.subject, version: doc.version, id, guid, ...structuredClone(doc.contract) }, key, doc.source);
    }

    // References resolve against the other subjects of the same files.
    for (const doc of sorted) {
      (doc.contract.references ?? []).forEach((ref, i) => {
        if (this.subjectsMap.get(ref.subject)?.has(ref.version)) return;
        const have = this.subjectsMap.get(ref.subject);
        const why = have ? `has versions ${[...have.keys()].sort((a, b) => a - b).join(", ")}` : "is not defined in these files";
        errors.push(
          new ContractFileError("contract-invalid", `references[${i}]: reference ${ref.name} points to ${ref.subject} version ${ref.version}, but subject ${ref.subject} ${why}`, {
            position: doc.source.locate(["references", i]),
            issue: "reference-unresolved",
            path: `references[${i}]`,
          }),
        );
      });
    }
    if (errors.length > 0) throw new ContractLoadError(errors);
  }

  async getById(id: number): Promise<SchemaById> {
    const stored = this.byId.get(id);
    if (!stored) throw notFound(`schema id ${id} not found`, 40403);
    const { subject: _s, version: _v, ...schema } = structuredClone(stored.registered);
    return schema;
  }

  async getByGuid(guid: string): Promise<SchemaById> {
    const id = this.byGuid.get(guid.toLowerCase());
    if (id === undefined) throw notFound(`schema guid ${guid} not found`, 40403);
    return this.getById(id);
  }

  async getVersion(subject: string, version: number | "latest"): Promise<RegisteredContract> {
    const versions = this.versionsOf(subject);
    const n = version === "latest" || version === -1 ? Math.max(...versions.keys()) : version;
    const stored = versions.get(n);
    if (!stored) throw notFound(`version ${version} of subject ${subject} not found (versions: ${sortedVersions(versions).join(", ")})`, 40402);
    return structuredClone(stored.registered);
  }

  async getLatestWithMetadata(subject: string, properties: Readonly<Record<string, string>>): Promise<RegisteredContract> {
    const versions = this.versionsOf(subject);
    const wanted = Object.entries(properties);
    for (const v of sortedVersions(versions).reverse()) {
      const stored = versions.get(v)!;
      const props = stored.registered.metadata?.properties ?? {};
      if (wanted.every(([k, val]) => Object.hasOwn(props, k) && props[k] === val)) return structuredClone(stored.registered);
    }
    const asked = wanted.map(([k, v]) => `${k}=${v}`).join(", ");
    throw notFound(`no version of subject ${subject} has metadata properties ${asked}`, 40402);
  }

  async lookup(subject: string, contract: Contract): Promise<RegisteredContract> {
    const versions = this.versionsOf(subject);
    const wantSchema = schemaKey(contract);
    // Like the registry: metadata and ruleSet count only when the request carries them.
    for (const v of sortedVersions(versions).reverse()) {
      const r = versions.get(v)!.registered;
      if (schemaKey(r) !== wantSchema) continue;
      if (contract.metadata !== undefined && canonical(contract.metadata) !== canonical(r.metadata ?? null)) continue;
      if (contract.ruleSet !== undefined && canonical(contract.ruleSet) !== canonical(r.ruleSet ?? null)) continue;
      return structuredClone(r);
    }
    throw notFound(`schema not found under subject ${subject}`, 40403);
  }

  async versions(subject: string): Promise<number[]> {
    return sortedVersions(this.versionsOf(subject));
  }

  async subjects(): Promise<string[]> {
    return [...this.subjectsMap.keys()].sort(compare);
  }

  /** Like `POST /subjects/{s}/versions`: idempotent, inherits metadata and ruleSet from the latest version when omitted. */
  async register(subject: string, contract: Contract): Promise<RegisteredContract> {
    const versions = this.subjectsMap.get(subject);
    const latest = versions && versions.size > 0 ? versions.get(Math.max(...versions.keys()))!.registered : undefined;
    const effective: Contract = structuredClone(contract);
    if (effective.metadata === undefined && latest?.metadata !== undefined) effective.metadata = structuredClone(latest.metadata);
    if (effective.ruleSet === undefined && latest?.ruleSet !== undefined) effective.ruleSet = structuredClone(latest.ruleSet);

    if (!this.lenient) this.refuseInvalid(subject, effective);
    const key = contentKey(effective);
    for (const stored of versions?.values() ?? []) if (stored.key === key) return structuredClone(stored.registered);
    let id = this.idByKey.get(key);
    if (id === undefined) {
      id = ++this.maxId;
      this.idByKey.set(key, id);
    }
    const version = latest ? latest.version + 1 : 1;
    const guid = this.guidOf(id) ?? guidFor(key);
    this.store({ subject, version, id, guid, ...effective }, key, undefined);
    return this.getVersion(subject, version);
  }

  async getConfig(subject: string): Promise<SubjectConfig | undefined> {
    const config = this.configs.get(subject);
    return config === undefined ? undefined : structuredClone(config);
  }

  async updateConfig(subject: string, config: SubjectConfig): Promise<SubjectConfig> {
    const merged = { ...this.configs.get(subject), ...structuredClone(config) };
    this.configs.set(subject, merged);
    return structuredClone(merged);
  }

  /** What a real registry answers 422 for. */
  private refuseInvalid(subject: string, contract: Contract): void {
    const issues = validateContract(contract);
    if (issues.length > 0) {
      throw new RegistryError(`cannot register under ${subject}: ${issues.map((i) => `${i.path ? i.path + ": " : ""}${i.message}`).join("; ")}`, { code: "contract-invalid", status: 422, errorCode: 42201 });
    }
    const type = schemaTypeOf(contract);
    const bad = type === "PROTOBUF" ? undefined : findJsonSyntaxError(contract.schema);
    if (bad) {
      throw new RegistryError(`cannot register under ${subject}: ${type} schema is not valid JSON at offset ${bad.offset}: ${bad.message}`, { code: "schema-invalid", status: 422, errorCode: 42201 });
    }
    for (const ref of contract.references ?? []) {
      if (!this.subjectsMap.get(ref.subject)?.has(ref.version)) {
        throw new RegistryError(`cannot register under ${subject}: reference ${ref.name} points to ${ref.subject} version ${ref.version}, which does not exist`, { code: "contract-invalid", status: 422, errorCode: 42201 });
      }
    }
  }

  all(): RegisteredContract[] {
    const out: RegisteredContract[] = [];
    for (const subject of [...this.subjectsMap.keys()].sort(compare)) {
      const versions = this.subjectsMap.get(subject)!;
      for (const v of sortedVersions(versions)) out.push(structuredClone(versions.get(v)!.registered));
    }
    return out;
  }

  sourceOf(subject: string, version: number): DocumentSource | undefined {
    return this.subjectsMap.get(subject)?.get(version)?.source;
  }

  private store(registered: RegisteredContract, key: string, source: DocumentSource | undefined): void {
    let versions = this.subjectsMap.get(registered.subject);
    if (!versions) this.subjectsMap.set(registered.subject, (versions = new Map()));
    const stored: Stored = { registered, key, source };
    versions.set(registered.version, stored);
    if (!this.byId.has(registered.id)) this.byId.set(registered.id, stored);
    if (registered.guid !== undefined) this.byGuid.set(registered.guid.toLowerCase(), registered.id);
  }

  private guidOf(id: number): string | undefined {
    return this.byId.get(id)?.registered.guid;
  }

  /** " (did you mean x?); subjects: a, b, c": the local files are few, so list them all. */
  private subjectHint(subject: string): string {
    const known = [...this.subjectsMap.keys()].filter((s) => this.subjectsMap.get(s)!.size > 0).sort(compare);
    if (known.length === 0) return "; no subjects are defined";
    const near = closest(subject, known, Math.max(2, Math.floor(subject.length / 4)));
    return `${near !== undefined ? ` (did you mean ${near}?)` : ""}; subjects: ${known.join(", ")}`;
  }

  private versionsOf(subject: string): Map<number, Stored> {
    const versions = this.subjectsMap.get(subject);
    if (!versions || versions.size === 0) throw notFound(`subject ${subject} not found${this.subjectHint(subject)}`, 40401);
    return versions;
  }
}

function notFound(message: string, errorCode: number): RegistryError {
  return new RegistryError(message, { code: "unknown-schema", status: 404, errorCode });
}

function sortedVersions(versions: Map<number, Stored>): number[] {
  return [...versions.keys()].sort((a, b) => a - b);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What identifies the schema itself: type, text and references. */
function schemaKey(c: Contract): string {
  const type = schemaTypeOf(c);
  let text = c.schema;
  // Whitespace in JSON schemas does not make a different schema.
  if (type !== "PROTOBUF" && findJsonSyntaxError(text) === undefined) text = JSON.stringify(JSON.parse(text));
  return canonical({ type, schema: text, references: c.references ?? [] });
}

/** What an id identifies (Java Schema.updateHash): schema, references, metadata and ruleSet. */
function contentKey(c: Contract): string {
  return canonical({ type: schemaTypeOf(c), schema: c.schema, references: c.references ?? [], metadata: c.metadata ?? null, ruleSet: c.ruleSet ?? null });
}

/**
 * JSON with sorted object keys. Tag lists and `sensitive` are sets in the
 * registry (Java sorts them), so their order does not make a different contract.
 */
function canonical(value: unknown, sets = false): string {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v));
    if (sets) items.sort();
    return `[${items.join(",")}]`;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compare(a, b))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v, sets || k === "tags" || k === "sensitive")}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const GUID_NAMESPACE = Buffer.from("6ba7b8119dad11d180b400c04fd430c8", "hex"); // RFC 4122 URL namespace

/** A name-based (v5) UUID of the content, so guids are stable across runs. */
function guidFor(key: string): string {
  const hash = createHash("sha1").update(GUID_NAMESPACE).update(`kontract:${key}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
