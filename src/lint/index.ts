/**
 * The contract linter: every check, as data (see docs/lint.md).
 */
export { lintSources, type LintOptions } from "./lint.js";
export { ALL_CODES, LINT_CODES, isLintCode, type CodeInfo, type LintCode } from "./codes.js";
export { SEVERITIES, atLeast, severityRank, type Diagnostic, type LintReport, type LintSource, type LintSummary, type Severity } from "./types.js";
export {
  CONFIG_FILE_NAMES,
  EMPTY_LINT_CONFIG,
  defaultConfig,
  globMatches,
  isIgnored,
  parseConfig,
  relativePath,
  severityFor,
  type KontractConfig,
  type LintConfig,
  type SeverityOverride,
  type TestConfig,
} from "./config.js";
export { FORMATTERS, formatReport, isFormatName, type FormatName, type FormatterOptions } from "./formatters/index.js";
