/**
 * Loads contract files from disk: the one module of src/contract that does I/O.
 * Everything else (parsing, validation, numbering) is in parse.ts and document.ts.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ContractError } from "../errors.js";
import { assignVersions, type ContractDocument } from "./document.js";
import { ContractFileError, ContractLoadError } from "./load-error.js";
import { parseContractSource, type ContractLoadResult } from "./parse.js";
import { SCHEMA_FILE_MAX_BYTES, isInside, type SchemaFileRead } from "./schema-file.js";

/** A directory (its `*.yaml` / `*.yml` files, sorted by name), a file, or a list of either. */
export type ContractFilesInput = string | readonly string[];

export interface ContractFilesOptions {
  /**
   * Parse only the files that can hold these subjects' documents and those of
   * the subjects they reference: the files whose text names one of them. YAML
   * parsing is most of `kontract check`'s start-up, and a folder holds many
   * subjects. Problems in the files left out are not reported, and ids the
   * registry assigns can differ (they count the documents loaded). When a
   * subject is not found that way (named through a YAML escape or alias),
   * every file is parsed, as without this option.
   */
  readonly subjects?: readonly string[];
}

/**
 * Loads every document and collects every problem; never throws for problems
 * in the files. Documents without `version` are numbered across all files in
 * load order (files sorted by name within a directory).
 */
export function scanContractFiles(input: ContractFilesInput, options: ContractFilesOptions = {}): ContractLoadResult {
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
  const texts = files.map((file) => readFileSync(file, "utf8"));
  const parsed: (ContractLoadResult | undefined)[] = new Array(files.length);
  const parse = (i: number): ContractLoadResult => (parsed[i] ??= parseContractSource(texts[i]!, files[i]!, { readFile: readSchemaFile, assignVersions: false }));
  if (options.subjects === undefined || !parseNaming(options.subjects, texts, parse)) for (let i = 0; i < files.length; i++) parse(i);
  let documents: ContractDocument[] = [];
  for (const result of parsed) {
    if (result === undefined) continue;
    documents.push(...result.documents);
    errors.push(...result.errors);
  }
  const numbered = assignVersions(documents);
  documents = numbered.documents;
  errors.push(...numbered.errors);
  return { documents, errors };
}

/**
 * Parses the files whose text names a wanted subject, then those naming the
 * subjects their documents reference, until none is left (each file once). False when a wanted
 * subject has no document in them: the caller parses every file.
 */
function parseNaming(subjects: readonly string[], texts: readonly string[], parse: (i: number) => ContractLoadResult): boolean {
  const wanted = [...subjects];
  const found = new Set<string>();
  const done = new Set<string>();
  for (let next = wanted.pop(); next !== undefined; next = wanted.pop()) {
    if (done.has(next)) continue;
    done.add(next);
    for (let i = 0; i < texts.length; i++) {
      if (!texts[i]!.includes(next)) continue;
      for (const doc of parse(i).documents) {
        found.add(doc.subject);
        // Every document loaded, not only the wanted subject's: the registry checks each one's references.
        for (const ref of doc.contract.references ?? []) wanted.push(ref.subject);
      }
    }
    if (!found.has(next)) return false;
  }
  return true;
}

/** Loads every document (or those `options.subjects` need); throws one ContractLoadError listing every problem. */
export function loadContractFiles(input: ContractFilesInput, options: ContractFilesOptions = {}): ContractDocument[] {
  const { documents, errors } = scanContractFiles(input, options);
  if (errors.length > 0) throw new ContractLoadError(errors);
  return documents;
}

/**
 * Reads a schema file for the loader and the linter. Refuses what a name
 * check cannot see: a symlink leading out of `root`, a special file (a FIFO
 * would block the read forever, /dev/zero never ends) and a file over
 * SCHEMA_FILE_MAX_BYTES. Never throws for the file: every fs error becomes a
 * refusal, and no refusal quotes the file's contents.
 */
export function readSchemaFile(path: string, root: string): SchemaFileRead {
  let real: string;
  try {
    real = realpathSync(path);
    if (!isInside(realpathSync(root), real)) return { refused: "it lies outside the contract's folder (through a symbolic link)" };
  } catch (e) {
    return isNotFound(e) ? undefined : cannotRead(e);
  }
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOFOLLOW: the file checked above is the one opened.
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    return isNotFound(e) ? undefined : cannotRead(e);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { refused: "it is not a regular file" };
    const tooLarge = { refused: `it is larger than ${SCHEMA_FILE_MAX_BYTES} bytes` };
    if (stat.size > SCHEMA_FILE_MAX_BYTES) return tooLarge;
    // Read to the end rather than trust stat.size (procfs-like files report 0), but never past the cap.
    const buffer = Buffer.allocUnsafe(Math.min(SCHEMA_FILE_MAX_BYTES, stat.size) + 1);
    let length = 0;
    let chunk = buffer;
    for (;;) {
      if (length === chunk.length) {
        if (length > SCHEMA_FILE_MAX_BYTES) return tooLarge;
        const grown = Buffer.allocUnsafe(Math.min(SCHEMA_FILE_MAX_BYTES + 1, length * 2));
        chunk.copy(grown, 0, 0, length);
        chunk = grown;
      }
      const n = readSync(fd, chunk, length, chunk.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return length > SCHEMA_FILE_MAX_BYTES ? tooLarge : chunk.toString("utf8", 0, length);
  } catch (e) {
    return cannotRead(e);
  } finally {
    closeSync(fd);
  }
}

function cannotRead(e: unknown): SchemaFileRead {
  const code = (e as { code?: unknown } | null)?.code;
  return { refused: `it cannot be read (${typeof code === "string" ? code : "error"})` };
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
