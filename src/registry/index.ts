/**
 * `kontract/registry`: the registries (memory, files, Confluent REST) and the
 * plan, push and pull of contracts between files and a registry.
 */
export { createMemoryRegistry, type MemoryRegistry, type MemoryRegistryOptions } from "./memory-registry.js";
export { createFileRegistry, type FileRegistry, type FileRegistryOptions } from "./file-registry.js";
export { createRestRegistry, type RegistryConfig, type RestRegistry, type RestRegistryOptions } from "./rest/index.js";
export { createRestDekRegistry } from "./rest/index.js";
export { createMemoryDekRegistry, type MemoryDekRegistry } from "./memory-dek-registry.js";
export type { SchemaByGuid, SchemaById, SchemaRegistry } from "./types.js";
export type { Dek, DekAlgorithm, DekRegistry, Kek, KeyLookup, NewDek, NewKek } from "../contract/keys.js";
export {
  authorsMetadata,
  configuredSubjects,
  differences,
  planPush,
  readRegistryState,
  readSubjectConfigs,
  type ConfigChange,
  type ContractPart,
  type PushPlan,
  type SubjectConfigs,
  type SubjectPlan,
  type VersionConflict,
  type VersionToRegister,
} from "./plan.js";
export { applyPushPlan, type PushResult, type PushTarget, type PushedVersion } from "./push.js";
export { contractFiles, type ContractFile } from "./pull.js";
