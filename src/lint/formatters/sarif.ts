/**
 * SARIF 2.1.0, for GitHub code scanning and other static-analysis viewers.
 * https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { LINT_CODES, type LintCode } from "../codes.js";
import type { LintReport, Severity } from "../types.js";
import type { FormatterOptions } from "./options.js";
import { displayPath } from "./paths.js";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = { error: "error", warning: "warning", info: "note", hint: "note" };

export function sarif(report: LintReport, options: FormatterOptions): string {
  const codes = [...new Set(report.diagnostics.map((d) => d.code))].sort() as LintCode[];
  const ruleIndex = new Map(codes.map((c, i) => [c, i]));
  const root = pathToFileURL(options.cwd.endsWith("/") ? options.cwd : options.cwd + "/").href;
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "kontract",
            ...(options.toolVersion ? { version: options.toolVersion, semanticVersion: options.toolVersion } : {}),
            rules: codes.map((code) => ({
              id: code,
              name: code,
              shortDescription: { text: LINT_CODES[code].description },
              fullDescription: { text: LINT_CODES[code].description },
              help: { text: `${LINT_CODES[code].description} See docs/lint.md#${code}.` },
              defaultConfiguration: { level: LEVEL[LINT_CODES[code].severity] },
              properties: { category: LINT_CODES[code].category },
            })),
          },
        },
        originalUriBaseIds: { "%SRCROOT%": { uri: root } },
        results: report.diagnostics.map((d) => {
          const uri = displayPath(d.file, options.cwd);
          const location = isAbsolute(uri) ? { uri: pathToFileURL(uri).href } : { uri: encodeURI(uri), uriBaseId: "%SRCROOT%" };
          return {
            ruleId: d.code,
            ruleIndex: ruleIndex.get(d.code),
            level: LEVEL[d.severity],
            message: { text: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: location,
                  region: { startLine: d.line, startColumn: d.column, endLine: d.endLine, endColumn: d.endColumn },
                },
                ...(d.path ? { logicalLocations: [{ fullyQualifiedName: [d.subject, d.version, d.path].filter((x) => x !== undefined).join("/"), kind: "member" }] } : {}),
              },
            ],
            ...(d.severity === "hint" || d.severity === "info" ? { properties: { severity: d.severity } } : {}),
          };
        }),
      },
    ],
  };
  return JSON.stringify(log, null, 2) + "\n";
}
