// avsc's lib/utils.js has no declarations of its own; avsc.ts narrows what it takes from it.
declare module "avsc/lib/utils.js" {
  const utils: unknown;
  export default utils;
}

// avsc's lib/types.js: the Type class and the type classes (`builtins`) that avsc's index exports as `Type` and `types`.
declare module "avsc/lib/types.js" {
  const types: { Type: typeof import("avsc").Type; builtins: unknown };
  export default types;
}
