/**
 * `kontract lint [paths...]`: checks contract files offline and reports in one
 * or more formats. Exit codes: 0 clean, 1 findings at or above
 * --fail-severity, 2 usage or tool errors.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, parse as parsePath, resolve } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../../package.json" with { type: "json" };
import {
  CONFIG_FILE_NAMES,
  FORMATTERS,
  SEVERITIES,
  atLeast,
  defaultConfig,
  formatReport,
  globMatches,
  isFormatName,
  isIgnored,
  lintSources,
  parseConfig,
  relativePath,
  type FormatName,
  type KontractConfig,
  type LintSource,
  type Severity,
} from "../lint/index.js";
import { readSchemaFile } from "../contract/index.js";
import { UsageError } from "./check.js";

export const LINT_USAGE = `Usage: kontract lint [paths...] [options]

Checks contract files offline: YAML structure, schemas, rule names, modes and
actions, tags, CEL types against the schema, JSONata, guards, and breaking
schema changes without migration rules. Paths are contract files or folders
(their *.yaml / *.yml files); default: rules (or test.rules in the config).

Options:
  -f, --format <name>         stylish (default), json, sarif, github, junit;
                              repeat to write several
  -o, --output <file>         write the output to a file (one format)
  --output.<format> <file>    write one format to a file, e.g. --output.sarif lint.sarif
  --fail-severity <level>     error (default), warning, info or hint: exit 1 when
                              a diagnostic is at or above it
  -q, --quiet                 show only diagnostics at or above --fail-severity
  --config <file>             configuration file (default: the first
                              kontract.config.yaml or .kontract.yaml upward from here)
  --no-config                 ignore configuration files
  --action <name>             a custom action your engine registers (repeatable)
  --rule-type <name>          a custom rule type your engine registers (repeatable)
  --ignore <glob>             skip matching files (repeatable)
  --color, --no-color         force colors on or off (default: on for a terminal)

Exit codes: 0 no findings at or above --fail-severity, 1 findings, 2 usage or tool error.
Codes and configuration: docs/lint.md
`;

export interface LintCommandIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

const DEFAULT_IO: LintCommandIO = { stdout: process.stdout, cwd: process.cwd(), env: process.env };

export async function lintCommand(argv: string[], io: LintCommandIO = DEFAULT_IO): Promise<number> {
  const { outputs, rest } = extractOutputs(argv);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      format: { type: "string", short: "f", multiple: true },
      output: { type: "string", short: "o" },
      "fail-severity": { type: "string", default: "error" },
      quiet: { type: "boolean", short: "q", default: false },
      config: { type: "string" },
      "no-config": { type: "boolean", default: false },
      action: { type: "string", multiple: true },
      "rule-type": { type: "string", multiple: true },
      ignore: { type: "string", multiple: true },
      color: { type: "boolean" },
      "no-color": { type: "boolean" },
    },
  });
  const formats = (values.format ?? ["stylish"]).flatMap((f) => f.split(",")).map((f) => f.trim());
  for (const f of formats) if (!isFormatName(f)) throw new UsageError(`unknown format "${f}" (known: ${Object.keys(FORMATTERS).join(", ")})`);
  for (const f of Object.keys(outputs)) if (!isFormatName(f)) throw new UsageError(`unknown format in --output.${f} (known: ${Object.keys(FORMATTERS).join(", ")})`);
  for (const f of Object.keys(outputs)) if (!formats.includes(f)) formats.push(f);
  if (values.output !== undefined && new Set(formats).size > 1) throw new UsageError("--output takes one format; with several, use --output.<format> <file>");
  const failSeverity = values["fail-severity"];
  if (!(SEVERITIES as readonly string[]).includes(failSeverity)) throw new UsageError(`--fail-severity must be one of ${SEVERITIES.join(", ")}, not ${failSeverity}`);

  const config = withCliOptions(loadConfig(io.cwd, values.config, values["no-config"]), values.action ?? [], values["rule-type"] ?? []);
  const paths = positionals.length > 0 ? positionals : [config.test.rules !== undefined ? resolve(config.baseDir, config.test.rules) : "rules"];
  const cliIgnore = values.ignore ?? [];
  const files = expandPaths(paths, io.cwd).filter((f) => !isIgnored(config, resolve(io.cwd, f)) && !cliIgnore.some((g) => globMatches(g, relativePath(io.cwd, resolve(io.cwd, f)))));
  if (files.length === 0) throw new UsageError(`no contract files (*.yaml, *.yml) in ${paths.join(", ")}`);

  const sources: LintSource[] = files.map((file) => ({ file, text: readFileSync(resolve(io.cwd, file), "utf8") }));
  const report = lintSources(sources, { readFile: (p, root) => readSchemaFile(resolve(io.cwd, p), resolve(io.cwd, root)), config });

  const color = values["no-color"] ? false : values.color ?? (Boolean(io.stdout.isTTY) && io.env.NO_COLOR === undefined);
  for (const f of new Set(formats) as Set<FormatName>) {
    const target = outputs[f] ?? (values.output !== undefined ? values.output : undefined);
    const text = formatReport(f, report, {
      failSeverity: failSeverity as Severity,
      color: target === undefined && color,
      quiet: values.quiet,
      cwd: io.cwd,
      toolVersion: pkg.version,
      readSource: (file) => readText(resolve(io.cwd, file)),
    });
    if (target === undefined) io.stdout.write(text);
    else {
      const path = resolve(io.cwd, target);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
  }
  return report.diagnostics.some((d) => atLeast(d.severity, failSeverity as Severity)) ? 1 : 0;
}

/** Pulls `--output.<format> <file>` (or `=file`) out of argv: parseArgs cannot declare them all. */
function extractOutputs(argv: readonly string[]): { outputs: Record<string, string>; rest: string[] } {
  const outputs: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--output\.([A-Za-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === "") throw new UsageError(`${a} needs a file name`);
    outputs[m[1]!] = value;
  }
  return { outputs, rest };
}

/** The configuration: --config, else the first config file upward from `cwd`. */
export function loadConfig(cwd: string, explicit: string | undefined, disabled: boolean): KontractConfig {
  if (disabled) return defaultConfig(cwd);
  let file: string | undefined;
  if (explicit !== undefined) {
    file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new UsageError(`configuration file ${explicit} not found`);
  } else {
    for (let dir = resolve(cwd); ; dir = dirname(dir)) {
      file = CONFIG_FILE_NAMES.map((n) => join(dir, n)).find((f) => existsSync(f));
      if (file || dir === parsePath(dir).root) break;
    }
  }
  if (!file) return defaultConfig(cwd);
  return parseConfig(readFileSync(file, "utf8"), file, dirname(file));
}

function withCliOptions(config: KontractConfig, actions: readonly string[], ruleTypes: readonly string[]): KontractConfig {
  if (actions.length === 0 && ruleTypes.length === 0) return config;
  return { ...config, lint: { ...config.lint, actions: [...config.lint.actions, ...actions], ruleTypes: [...config.lint.ruleTypes, ...ruleTypes] } };
}

/** Files as given, and the *.yaml / *.yml files directly inside given folders (sorted, like the loader). */
export function expandPaths(paths: readonly string[], cwd: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let stat;
    try {
      stat = statSync(abs);
    } catch {
      throw new UsageError(`no such file or folder: ${p}`);
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(abs).filter((n) => /\.ya?ml$/i.test(n)).sort()) {
        if (statSync(join(abs, name)).isFile()) out.push(join(p, name));
      }
    } else out.push(p);
  }
  return [...new Set(out)];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
