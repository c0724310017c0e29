export {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  createRestRegistry,
  type RegistryConfig,
  type RestRegistry,
} from "./client.js";
export { ERROR_CODES, type ErrorRule, errorRule, STATUSES } from "./errors.js";
export { type BasicAuth, type BearerAuth, DEFAULTS, type RestRegistryOptions } from "./options.js";
export { createRestDekRegistry } from "./dek-client.js";
