/**
 * Errors found while loading contract files. Each is a ContractError with a
 * position; a load collects all of them (so a linter can list every problem)
 * and throws them together as one ContractLoadError.
 */
import { ContractError, formatPosition, type ErrorCode, type KontractErrorOptions } from "../errors.js";

export type ContractFileErrorCode = Extract<ErrorCode, "yaml-syntax" | "contract-invalid" | "schema-missing" | "schema-invalid">;

export interface ContractFileErrorOptions extends KontractErrorOptions {
  /**
   * The specific check that failed: a validateContract issue code (`rule-name-duplicate`),
   * a JSON Schema keyword (`enum`, `required`, `additionalProperties`), or a YAML error code.
   */
  issue?: string;
  /** JSON path inside the document, e.g. `ruleSet.domainRules[2].mode`. */
  path?: string;
}

/** One problem in one contract file, with file:line:col. */
export class ContractFileError extends ContractError {
  readonly issue: string | undefined;
  readonly path: string | undefined;
  /** The message without the position prefix. */
  readonly detail: string;
  constructor(code: ContractFileErrorCode, message: string, options: ContractFileErrorOptions = {}) {
    super(code, message, options);
    this.issue = options.issue;
    this.path = options.path;
    this.detail = message;
  }
  override get name(): string {
    return "ContractFileError";
  }
}

/** Every problem found in a load, thrown together. */
export class ContractLoadError extends ContractError {
  readonly errors: readonly ContractError[];
  constructor(errors: readonly ContractError[]) {
    const head = errors.length === 1 ? "1 problem in contract files" : `${errors.length} problems in contract files`;
    super(errors[0]?.code ?? "contract-invalid", `${head}:\n${errors.map((e) => `  ${e.message}`).join("\n")}`);
    this.errors = errors;
  }
  override get name(): string {
    return "ContractLoadError";
  }
}

/** `file:line:col: message` lines, one per error, for printing. */
export function formatContractErrors(errors: readonly ContractError[]): string {
  return errors.map((e) => (e.position && !e.message.startsWith(formatPosition(e.position)) ? `${formatPosition(e.position)}: ${e.message}` : e.message)).join("\n");
}
