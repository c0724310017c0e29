/**
 * The configuration file (`kontract.config.yaml` or `.kontract.yaml`): severity
 * per code, ignored paths, per-path overrides, and what the engine knows beyond
 * the built-ins (custom actions, rule types, their required params), plus the
 * folders `kontract test` uses. Parsing is pure: the CLI finds and reads the file.
 */
import { posix, relative, sep } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { KontractError } from "../errors.js";
import { findNode, nodePosition, type YamlSource } from "../contract/locate.js";
import type { PathSegment } from "../contract/path.js";
import { ALL_CODES, isLintCode, type LintCode } from "./codes.js";
import { SEVERITIES, type Severity } from "./types.js";

export type SeverityOverride = Severity | "off";

export interface LintConfig {
  /** Severity per code; `off` drops the code. */
  readonly severity: Readonly<Partial<Record<LintCode, SeverityOverride>>>;
  /** Files matching these globs are not linted. */
  readonly ignore: readonly string[];
  /** Severities for files matching globs; later entries win. */
  readonly overrides: readonly { readonly files: readonly string[]; readonly severity: Readonly<Partial<Record<LintCode, SeverityOverride>>> }[];
  /** Custom action names your engine registers (besides NONE, ERROR, DLQ). */
  readonly actions: readonly string[];
  /** Custom rule types your engine registers executors for. */
  readonly ruleTypes: readonly string[];
  /** Parameters a rule type or action needs: `{AUDIT: [audit.topic]}`. */
  readonly requiredParams: Readonly<Record<string, readonly string[]>>;
}

export interface TestConfig {
  /** Contract folder (default `rules`). */
  readonly rules?: string;
  /** Fixture folder (default `fixtures`). */
  readonly fixtures?: string;
}

export interface KontractConfig {
  /** The file it came from, if any. */
  readonly file: string | undefined;
  /** Globs and folders are relative to this directory (the config file's, else the working directory). */
  readonly baseDir: string;
  readonly lint: LintConfig;
  readonly test: TestConfig;
  /** The registry `plan`, `push` and `pull` use when neither --registry nor KONTRACT_REGISTRY_URL names one. */
  readonly registry: { readonly url?: string };
  /** The brokers `kontract dlq` uses when neither --brokers nor KONTRACT_BROKERS names them. */
  readonly kafka: { readonly brokers?: readonly string[] };
}

export const EMPTY_LINT_CONFIG: LintConfig = { severity: {}, ignore: [], overrides: [], actions: [], ruleTypes: [], requiredParams: {} };

export const CONFIG_FILE_NAMES = ["kontract.config.yaml", "kontract.config.yml", ".kontract.yaml", ".kontract.yml"] as const;

export function defaultConfig(baseDir: string): KontractConfig {
  return { file: undefined, baseDir, lint: EMPTY_LINT_CONFIG, test: {}, registry: {}, kafka: {} };
}

/** Parses a configuration file. Throws KontractError code "usage" naming file:line:col. */
export function parseConfig(text: string, file: string, baseDir: string): KontractConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const source: YamlSource = { file, lineCounter, doc, text };
  const fail = (path: readonly PathSegment[], message: string, key = false): never => {
    throw new KontractError("usage", `invalid configuration: ${message}`, { position: nodePosition(source, findNode(source, path, { key }).node) });
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const p = lineCounter.linePos(e.pos[0]);
    throw new KontractError("usage", `invalid configuration: ${e.message}`, { position: { file, line: p.line, column: p.col } });
  }
  const data: unknown = doc.toJS() ?? {};
  if (!isObject(data)) fail([], "the configuration must be a mapping with `lint`, `test`, `registry` and/or `kafka`");
  const root = data as Record<string, unknown>;
  checkKeys(root, ["lint", "test", "registry", "kafka"], [], fail);
  const lintData = root.lint ?? {};
  if (!isObject(lintData)) fail(["lint"], "`lint` must be a mapping");
  const l = lintData as Record<string, unknown>;
  checkKeys(l, ["severity", "ignore", "overrides", "actions", "ruleTypes", "requiredParams"], ["lint"], fail);
  const severity = severities(l.severity, ["lint", "severity"], fail);
  const ignore = stringList(l.ignore, ["lint", "ignore"], fail);
  const actions = stringList(l.actions, ["lint", "actions"], fail);
  const ruleTypes = stringList(l.ruleTypes, ["lint", "ruleTypes"], fail);
  const requiredParams: Record<string, readonly string[]> = {};
  if (l.requiredParams !== undefined) {
    if (!isObject(l.requiredParams)) fail(["lint", "requiredParams"], "`requiredParams` maps a rule type or action name to a list of parameter names");
    for (const [k, v] of Object.entries(l.requiredParams as Record<string, unknown>)) requiredParams[k] = stringList(v, ["lint", "requiredParams", k], fail);
  }
  const overrides: LintConfig["overrides"][number][] = [];
  if (l.overrides !== undefined) {
    if (!Array.isArray(l.overrides)) fail(["lint", "overrides"], "`overrides` must be a list of {files, severity}");
    (l.overrides as unknown[]).forEach((o, i) => {
      const at: PathSegment[] = ["lint", "overrides", i];
      if (!isObject(o)) fail(at, "an override is a mapping {files, severity}");
      const ov = o as Record<string, unknown>;
      checkKeys(ov, ["files", "severity"], at, fail);
      const files = stringList(ov.files, [...at, "files"], fail);
      if (files.length === 0) fail([...at, "files"], "an override needs `files`: a list of globs");
      overrides.push({ files, severity: severities(ov.severity, [...at, "severity"], fail) });
    });
  }
  const testData = root.test ?? {};
  if (!isObject(testData)) fail(["test"], "`test` must be a mapping");
  const t = testData as Record<string, unknown>;
  checkKeys(t, ["rules", "fixtures"], ["test"], fail);
  const test: { rules?: string; fixtures?: string } = {};
  for (const key of ["rules", "fixtures"] as const) {
    if (t[key] === undefined) continue;
    if (typeof t[key] !== "string" || t[key] === "") fail(["test", key], `\`test.${key}\` must be a folder path`);
    test[key] = t[key] as string;
  }
  const registryData = root.registry ?? {};
  if (!isObject(registryData)) fail(["registry"], "`registry` must be a mapping");
  const r = registryData as Record<string, unknown>;
  checkKeys(r, ["url"], ["registry"], fail);
  const registry: { url?: string } = {};
  if (r.url !== undefined) {
    if (typeof r.url !== "string" || r.url === "") fail(["registry", "url"], "`registry.url` must be the registry's URL");
    // Configuration files are committed: credentials come from the environment only.
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(r.url as string)) fail(["registry", "url"], "`registry.url` must not hold credentials: set KONTRACT_REGISTRY_USER and KONTRACT_REGISTRY_PASSWORD, or KONTRACT_REGISTRY_TOKEN");
    registry.url = r.url as string;
  }
  const kafkaData = root.kafka ?? {};
  if (!isObject(kafkaData)) fail(["kafka"], "`kafka` must be a mapping");
  const k = kafkaData as Record<string, unknown>;
  checkKeys(k, ["brokers"], ["kafka"], fail);
  const kafka: { brokers?: string[] } = {};
  if (k.brokers !== undefined) {
    if (!Array.isArray(k.brokers) || k.brokers.length === 0 || !k.brokers.every((b) => typeof b === "string" && /^[^\s:]+:\d+$/.test(b))) {
      fail(["kafka", "brokers"], "`kafka.brokers` must be a list of host:port");
    }
    kafka.brokers = k.brokers as string[];
  }
  return { file, baseDir, lint: { severity, ignore, overrides, actions, ruleTypes, requiredParams }, test, registry, kafka };
}

type Fail = (path: readonly PathSegment[], message: string, key?: boolean) => never;

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], at: readonly PathSegment[], fail: Fail): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail([...at, k], `unknown key \`${k}\` (allowed: ${allowed.join(", ")})`, true);
  }
}

function stringList(v: unknown, at: readonly PathSegment[], fail: Fail): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x !== "")) fail(at, "expected a list of non-empty strings");
  return v as string[];
}

function severities(v: unknown, at: readonly PathSegment[], fail: Fail): Partial<Record<LintCode, SeverityOverride>> {
  if (v === undefined) return {};
  if (!isObject(v)) fail(at, "`severity` maps a diagnostic code to error, warning, info, hint or off");
  const out: Partial<Record<LintCode, SeverityOverride>> = {};
  for (const [code, level] of Object.entries(v as Record<string, unknown>)) {
    if (!isLintCode(code)) fail([...at, code], `unknown diagnostic code \`${code}\`${suggestCode(code)}`, true);
    // YAML reads a bare `off` as a string, but `false` as a boolean: accept both.
    const s = level === false ? "off" : level;
    if (typeof s !== "string" || !([...SEVERITIES, "off"] as string[]).includes(s)) fail([...at, code], `severity must be error, warning, info, hint or off, got ${JSON.stringify(level)}`);
    out[code as LintCode] = s as SeverityOverride;
  }
  return out;
}

function suggestCode(code: string): string {
  const close = ALL_CODES.find((c) => c.includes(code) || code.includes(c));
  return close ? ` (did you mean \`${close}\`?)` : "";
}

/** The severity of `code` for `file`: the default, then `severity`, then matching overrides. */
export function severityFor(config: KontractConfig, code: LintCode, defaultSeverity: Severity, file: string): SeverityOverride {
  let s: SeverityOverride = config.lint.severity[code] ?? defaultSeverity;
  if (config.lint.overrides.length > 0) {
    const rel = relativePath(config.baseDir, file);
    for (const o of config.lint.overrides) {
      const level = o.severity[code];
      if (level !== undefined && o.files.some((g) => globMatches(g, rel))) s = level;
    }
  }
  return s;
}

/** Whether `file` is excluded by `lint.ignore`. */
export function isIgnored(config: KontractConfig, file: string): boolean {
  if (config.lint.ignore.length === 0) return false;
  const rel = relativePath(config.baseDir, file);
  return config.lint.ignore.some((g) => globMatches(g, rel));
}

/** `file` relative to `baseDir`, with `/` separators. */
export function relativePath(baseDir: string, file: string): string {
  const rel = relative(baseDir, file);
  return (rel === "" ? "." : rel).split(sep).join("/");
}

const globCache = new Map<string, RegExp>();

/**
 * .gitignore-like globs: `*` any run of characters except `/`, `**` any number
 * of folders, `?` one character, `{a,b}` alternatives, `[abc]` classes. A glob
 * without `/` matches a name at any depth; a glob matching a folder matches
 * everything inside it.
 */
export function globMatches(glob: string, path: string): boolean {
  let re = globCache.get(glob);
  if (!re) {
    re = globToRegExp(glob);
    globCache.set(glob, re);
  }
  const parts = posix.normalize(path).split("/");
  for (let n = parts.length; n >= 1; n--) if (re.test(parts.slice(0, n).join("/"))) return true;
  return false;
}

export function globToRegExp(glob: string): RegExp {
  let g = glob.replace(/^\.\//, "").replace(/\/+$/, "");
  const anywhere = !g.includes("/");
  if (g.startsWith("/")) g = g.slice(1);
  let src = "";
  let braces = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === "*") {
      if (g[i + 1] === "*") {
        i++;
        if (g[i + 1] === "/") {
          i++;
          src += "(?:.*/)?";
        } else src += ".*";
      } else src += "[^/]*";
    } else if (c === "?") src += "[^/]";
    else if (c === "{") {
      braces++;
      src += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      src += ")";
    } else if (c === "," && braces > 0) src += "|";
    else if (c === "[") {
      const close = g.indexOf("]", i + 1);
      if (close < 0) src += "\\[";
      else {
        src += "[" + g.slice(i + 1, close).replace(/^!/, "^").replace(/\\/g, "\\\\") + "]";
        i = close;
      }
    } else src += c.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${anywhere ? "(?:.*/)?" : ""}${src}$`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
