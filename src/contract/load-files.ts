/**
 * Loads contract files from disk: the one module of src/contract that does I/O.
 * Everything else (parsing, validation, numbering) is in parse.ts and document.ts.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ContractError } from "../errors.js";
import { assignVersions, type ContractDocument } from "./document.js";
import { ContractFileError, ContractLoadError } from "./load-error.js";
import { parseContractSource, type ContractLoadResult } from "./parse.js";

/** A directory (its `*.yaml` / `*.yml` files, sorted by name), a file, or a list of either. */
export type ContractFilesInput = string | readonly string[];

/**
 * Loads every document and collects every problem; never throws for problems
 * in the files. Documents without `version` are numbered across all files in
 * load order (files sorted by name within a directory).
 */
export function scanContractFiles(input: ContractFilesInput): ContractLoadResult {
  const errors: ContractError[] = [];
  const files: string[] = [];
  for (const path of typeof input === "string" ? [input] : input) {
    const stat = statOf(path);
    if (stat === undefined) {
      errors.push(new ContractFileError("contract-invalid", `no such file or directory: ${path}`, { issue: "file-missing", position: { file: path, line: 1, column: 1 } }));
    } else if (stat.isDirectory()) {
      const names = readdirSync(path).filter((n) => /\.ya?ml$/i.test(n)).sort();
      for (const name of names) {
        const file = join(path, name);
        if (statOf(file)?.isFile()) files.push(file);
      }
    } else {
      files.push(path);
    }
  }
  let documents: ContractDocument[] = [];
  for (const file of files) {
    const result = parseContractSource(readFileSync(file, "utf8"), file, { readFile, assignVersions: false });
    documents.push(...result.documents);
    errors.push(...result.errors);
  }
  const numbered = assignVersions(documents);
  documents = numbered.documents;
  errors.push(...numbered.errors);
  return { documents, errors };
}

/** Loads every document; throws one ContractLoadError listing every problem. */
export function loadContractFiles(input: ContractFilesInput): ContractDocument[] {
  const { documents, errors } = scanContractFiles(input);
  if (errors.length > 0) throw new ContractLoadError(errors);
  return documents;
}

function readFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

function statOf(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}
