/**
 * Where `kontract diff` reads contracts from: a folder or file, a registry
 * (a URL, or `registry` for the configured one), or a git ref
 * (`git:<ref>:<path>`). Registry and git contracts are written as files into
 * a temporary folder and loaded from there, so every source goes through the
 * one loader, with its checks.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import type { ContractDocument } from "../contract/document.js";
import { loadContractFiles } from "../contract/index.js";
import { readRegistryState, readSubjectConfigs } from "../registry/plan.js";
import { contractFiles, type ContractFile } from "../registry/pull.js";
import { UsageError } from "./check.js";
import { registryFromEnv, type Env } from "./registry-access.js";

export type ContractSource =
  | { readonly kind: "files"; readonly path: string }
  | { readonly kind: "registry"; readonly url: string | undefined }
  | { readonly kind: "git"; readonly ref: string; readonly path: string };

/** A file in a git tree larger than this is refused: contracts and schemas are small. */
const GIT_FILE_MAX_BYTES = 16 * 1024 * 1024;

/** `http(s)://…` or `registry` is a registry, `git:<ref>[:<path>]` a git tree (path default: rules), anything else a path. */
export function parseSource(arg: string): ContractSource {
  if (arg === "registry") return { kind: "registry", url: undefined };
  if (/^https?:\/\//i.test(arg)) return { kind: "registry", url: arg };
  if (arg.startsWith("git:")) {
    const rest = arg.slice(4);
    // git refs cannot contain ':', so the first one ends the ref.
    const colon = rest.indexOf(":");
    const ref = colon < 0 ? rest : rest.slice(0, colon);
    const path = colon < 0 ? "rules" : rest.slice(colon + 1) || ".";
    if (ref === "" || ref.startsWith("-")) throw new UsageError(`not a git ref: ${JSON.stringify(ref)} (write git:<ref>:<path>, e.g. git:main:rules)`);
    return { kind: "git", ref, path };
  }
  return { kind: "files", path: arg };
}

export interface SourceContext {
  readonly cwd: string;
  readonly env: Env;
  /** registry.url from kontract.config.yaml, for `registry`. */
  readonly configuredRegistry: string | undefined;
  /** The registry flag, for `registry`. */
  readonly registryFlag: string | undefined;
}

export interface LoadedSource {
  readonly documents: ContractDocument[];
  /** How the source is shown: a path, the registry's URL without credentials, or git:<ref>:<path>. */
  readonly label: string;
}

/**
 * Loads a source. A registry is read for `subjects` when given (the subjects
 * the other side has: a push never removes a subject), else whole.
 */
export async function loadSource(source: ContractSource, context: SourceContext, subjects?: ReadonlySet<string>): Promise<LoadedSource> {
  switch (source.kind) {
    case "files":
      return { documents: loadContractFiles(resolve(context.cwd, source.path)), label: source.path };
    case "git":
      return withFiles(gitFiles(source.ref, source.path, context.cwd), (dir, root) => ({ documents: loadContractFiles(join(dir, root)), label: `git:${source.ref}:${source.path}` }));
    case "registry": {
      const { registry, where } = registryFromEnv(source.url ?? context.registryFlag, context.env, context.configuredRegistry);
      const names = subjects !== undefined ? [...subjects] : await registry.subjects();
      const state = await readRegistryState(registry, names);
      const files = contractFiles(state, await readSubjectConfigs(registry, [...state].filter(([, v]) => v.length > 0).map(([s]) => s)));
      return withFiles({ files, root: "." }, (dir) => ({ documents: files.length === 0 ? [] : loadContractFiles(dir), label: where }));
    }
  }
}

/** Writes `files` into a fresh temporary folder, runs `fn` on it, and removes the folder. */
function withFiles<T>(tree: { files: readonly ContractFile[]; root: string }, fn: (dir: string, root: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "kontract-diff-"));
  try {
    for (const f of tree.files) {
      const path = join(dir, f.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.text);
    }
    return fn(dir, tree.root);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The regular files under `path` (relative to `cwd`, as git takes paths) in
 * `ref`'s tree, named from the repository's root. Symbolic links and
 * submodules are left out: the loader would refuse them anyway.
 */
function gitFiles(ref: string, path: string, cwd: string): { files: ContractFile[]; root: string } {
  const prefix = git(["rev-parse", "--show-prefix"], cwd).toString("utf8").trim();
  const root = posix.normalize(posix.join(prefix, path.replaceAll("\\", "/")));
  if (root.startsWith("..") || posix.isAbsolute(path)) throw new UsageError(`git:${ref}:${path} names a path outside the repository`);
  const listing = git(["ls-tree", "-r", "-z", "--full-name", "--long", ref, "--", path], cwd).toString("utf8");
  const entries = listing
    .split("\0")
    .filter((l) => l !== "")
    .map((line) => {
      const tab = line.indexOf("\t");
      const [mode, type, oid, size] = line.slice(0, tab).split(/\s+/);
      return { mode: mode!, type: type!, oid: oid!, size: Number(size), name: line.slice(tab + 1) };
    })
    .filter((e) => e.type === "blob" && (e.mode === "100644" || e.mode === "100755"));
  if (entries.length === 0) throw new UsageError(`git:${ref}:${path} has no files`);
  const tooBig = entries.find((e) => e.size > GIT_FILE_MAX_BYTES);
  if (tooBig) throw new UsageError(`git:${ref}:${tooBig.name} is over ${GIT_FILE_MAX_BYTES / 1024 / 1024} MiB; contracts and schemas are not that big`);
  // One `cat-file --batch` for every blob: "<oid> blob <size>\n<content>\n" each.
  const out = git(["cat-file", "--batch"], cwd, entries.map((e) => e.oid).join("\n") + "\n");
  const files: ContractFile[] = [];
  let at = 0;
  for (const e of entries) {
    const header = out.indexOf(0x0a, at);
    const size = Number(out.subarray(at, header).toString("latin1").split(" ")[2]);
    files.push({ path: e.name, text: out.subarray(header + 1, header + 1 + size).toString("utf8") });
    at = header + 1 + size + 1;
  }
  return { files, root };
}

function git(args: readonly string[], cwd: string, input?: string): Buffer {
  try {
    return execFileSync("git", args, { cwd, input, stdio: ["pipe", "pipe", "pipe"], maxBuffer: 512 * 1024 * 1024 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === "ENOENT") throw new UsageError("git is not installed (needed for git:<ref>:<path>)");
    const why = err.stderr?.toString("utf8").trim().split("\n")[0] ?? err.message;
    throw new UsageError(`git ${args[0]} failed: ${why}`);
  }
}
