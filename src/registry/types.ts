/**
 * The registry port. The file registry (rules/ on disk) and the Confluent REST
 * client both implement it; the serde layer depends only on this interface.
 */
import type { Contract, RegisteredContract } from "../contract/model.js";

/** A schema fetched by id: what `GET /schemas/ids/{id}` returns. */
export interface SchemaById extends Contract {
  id: number;
  guid?: string;
}

/**
 * A schema fetched by GUID: what `GET /schemas/guids/{guid}` returns. Confluent
 * does not include the numeric id there, so `id` is present only when the
 * registry reports it. Every SchemaById is a SchemaByGuid.
 */
export interface SchemaByGuid extends Contract {
  id?: number;
  guid?: string;
}

export interface SchemaRegistry {
  /** `GET /schemas/ids/{id}`. Throws RegistryError code "unknown-schema" when absent. */
  getById(id: number, subject?: string): Promise<SchemaById>;
  /** `GET /schemas/guids/{guid}`. */
  getByGuid(guid: string): Promise<SchemaByGuid>;
  /** `GET /subjects/{s}/versions/{v}`; "latest" for the newest. */
  getVersion(subject: string, version: number | "latest"): Promise<RegisteredContract>;
  /** `GET /subjects/{s}/metadata?key=k&value=v...`: the latest version whose properties contain all pairs. */
  getLatestWithMetadata(subject: string, properties: Readonly<Record<string, string>>): Promise<RegisteredContract>;
  /** `POST /subjects/{s}?deleted=true`: the version under which this schema is registered. */
  lookup(subject: string, contract: Contract): Promise<RegisteredContract>;
  /** `GET /subjects/{s}/versions`. */
  versions(subject: string): Promise<number[]>;
  /** `POST /subjects/{s}/versions` with metadata and ruleSet. Returns the stored contract. */
  register(subject: string, contract: Contract): Promise<RegisteredContract>;
  /** `GET /subjects`. */
  subjects(): Promise<string[]>;
}
