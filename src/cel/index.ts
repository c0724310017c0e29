/**
 * kontract's CEL layer: the only module other code imports for CEL.
 * See docs/cel.md for the language available to rules.
 */
export { createCelRuntime } from "./runtime.js";
export type { CelProgram, CelRuntime, CelRuntimeOptions, CelTypedProgram } from "./runtime.js";
export { isSameValue } from "./native/index.js";
export { CelCompileError, CelValueError } from "./errors.js";
export { isCelFailure } from "./failure.js";
export type { CelFailure } from "./failure.js";
export { celView } from "./view.js";
export { fromCel } from "./from-cel.js";
export { DEFAULT_CEL_LIMITS } from "./limits.js";
export type { CelLimits } from "./limits.js";
export { validateRe2 } from "./regex.js";
export { isEmail, isHostname, isIpv4, isIpv6, isUri, isUriRef, isUuid } from "./validators.js";
export { SHAPES } from "./shape.js";
export type { CelShape } from "./shape.js";
