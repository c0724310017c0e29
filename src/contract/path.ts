/**
 * JSON paths into a contract, written the way users read them:
 * `ruleSet.domainRules[2].mode`, `metadata.properties["application.major.version"]`.
 * Validation issues carry them; the loader maps them back to YAML positions.
 */

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Inverse of formatPath. Also accepts JSON Pointers (`/ruleSet/domainRules/2`), as ajv reports them. */
export function parsePath(path: string): PathSegment[] {
  if (path === "" || path === "/") return [];
  if (path.startsWith("/")) {
    return path
      .slice(1)
      .split("/")
      .map((raw) => {
        const s = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        return /^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s;
      });
  }
  const segments: PathSegment[] = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    if (m[1] !== undefined) segments.push(Number(m[1]));
    else if (m[2] !== undefined) segments.push(JSON.parse(m[2]) as string);
    else if (m[3] !== undefined) segments.push(m[3]);
  }
  return segments;
}
