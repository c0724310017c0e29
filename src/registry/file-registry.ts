/**
 * The embedded default registry: contract files (rules/*.yaml) in a memory
 * registry, for the CLI, `kontract test` and local development.
 */
import type { ContractDocument } from "../contract/document.js";
import { loadContractFiles, type ContractFilesInput } from "../contract/load-files.js";
import { createMemoryRegistry, type MemoryRegistry } from "./memory-registry.js";

export type FileRegistryOptions =
  /** Load every `*.yaml` / `*.yml` file of a directory (or the listed files and directories). */
  | { dir: ContractFilesInput }
  /** Use documents already loaded (e.g. by loadContractFiles). */
  | { documents: readonly ContractDocument[] };

export type FileRegistry = MemoryRegistry;

/** Throws ContractLoadError when the files have problems, including id conflicts and references to versions that do not exist. */
export function createFileRegistry(options: FileRegistryOptions): FileRegistry {
  return createMemoryRegistry({ documents: "dir" in options ? loadContractFiles(options.dir) : options.documents });
}
