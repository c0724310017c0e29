/**
 * Where a `schemaFile` may point. Contract files are untrusted: a schema file
 * must lie inside the contract file's own folder (subfolders allowed), so a
 * contract cannot make kontract read, and echo in a diagnostic, a file such as
 * /proc/self/environ or ~/.ssh/id_rsa. The folder is the root because the
 * loader and the linter read the `*.yaml` files directly inside the folder
 * they are given: for a folder argument the root is that folder, for a file
 * argument the file's folder.
 *
 * No I/O here: the reader (load-files.ts `readSchemaFile`) adds the checks
 * that need the file system (symlinks, special files, size).
 */
import { dirname, isAbsolute, join, relative, sep } from "node:path";

/**
 * The most a schema file may hold. The largest schemas in the wild (generated
 * Avro/Protobuf models) are a few hundred KiB; the cap stops a contract from
 * making the loader read a huge file into memory.
 */
export const SCHEMA_FILE_MAX_BYTES = 1024 * 1024;

/** Why a schema file is not read; says nothing about its contents. */
export interface SchemaFileRefusal {
  readonly refused: string;
}

/** The schema text, undefined when the file does not exist, or a refusal. */
export type SchemaFileRead = string | undefined | SchemaFileRefusal;

/**
 * Reads a schema file: `path` is already resolved and checked to lie inside
 * `root` by name; the reader checks what only the file system knows.
 */
export type SchemaFileReader = (path: string, root: string) => SchemaFileRead;

export type SchemaFileResult =
  | { readonly kind: "read"; readonly path: string; readonly text: string }
  | { readonly kind: "missing"; readonly path: string }
  | { readonly kind: "refused"; readonly reason: string };

/** Resolves `named` (the YAML's `schemaFile`) against the contract file, and reads it. */
export function loadSchemaFile(contractFile: string, named: string, read: SchemaFileReader): SchemaFileResult {
  const root = dirname(contractFile);
  if (named.includes("\0")) return { kind: "refused", reason: "the name contains a NUL character" };
  if (isAbsolute(named)) return { kind: "refused", reason: `absolute paths are not allowed; name the file relative to the contract's folder ${root}` };
  const path = join(root, named);
  if (!isInside(root, path)) return { kind: "refused", reason: `it lies outside the contract's folder ${root}` };
  const text = read(path, root);
  if (text === undefined) return { kind: "missing", path };
  if (typeof text !== "string") return { kind: "refused", reason: text.refused };
  return { kind: "read", path, text };
}

/** Whether `path` is `root` or below it; both absolute, or both relative to one folder. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
