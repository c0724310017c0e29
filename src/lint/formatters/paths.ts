import { isAbsolute, relative, sep } from "node:path";

/** `file` relative to `cwd` with `/` separators, unless it lies outside it. */
export function displayPath(file: string, cwd: string): string {
  if (!isAbsolute(file)) return file.split(sep).join("/");
  const rel = relative(cwd, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file.split(sep).join("/") : rel.split(sep).join("/");
}
