import type { Severity } from "../types.js";

/** What every formatter may use. Formatters are pure: `(report, options) => string`. */
export interface FormatterOptions {
  /** The threshold for failing: JUnit marks only these as failures; stylish --quiet shows only these. */
  readonly failSeverity: Severity;
  /** ANSI colors (stylish). */
  readonly color: boolean;
  /** Show only diagnostics at or above failSeverity (stylish). */
  readonly quiet?: boolean;
  /** Code frames under each diagnostic (stylish, default true). */
  readonly codeFrame?: boolean;
  /** The directory paths are reported relative to (SARIF uriBaseId, GitHub annotations). */
  readonly cwd: string;
  /** kontract's version, for SARIF's tool.driver.version. */
  readonly toolVersion?: string;
  /** Sources of files not in the report (schema files), for code frames. */
  readonly readSource?: (file: string) => string | undefined;
}
