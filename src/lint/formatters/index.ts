/**
 * Output formats of `kontract lint`, one pure formatter per file.
 */
import type { LintReport } from "../types.js";
import { github } from "./github.js";
import { json } from "./json.js";
import { junit } from "./junit.js";
import type { FormatterOptions } from "./options.js";
import { sarif } from "./sarif.js";
import { stylish } from "./stylish.js";

export type { FormatterOptions } from "./options.js";
export { codeFrame } from "./code-frame.js";
export { xml } from "../../util/xml.js";

export const FORMATTERS = { stylish, json, sarif, github, junit } as const satisfies Record<string, (report: LintReport, options: FormatterOptions) => string>;

export type FormatName = keyof typeof FORMATTERS;

export function isFormatName(s: string): s is FormatName {
  return Object.hasOwn(FORMATTERS, s);
}

export function formatReport(format: FormatName, report: LintReport, options: FormatterOptions): string {
  return FORMATTERS[format](report, options);
}
