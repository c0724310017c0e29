// avsc's lib/utils.js has no declarations of its own; avsc.ts narrows what it takes from it.
declare module "avsc/lib/utils.js" {
  const utils: unknown;
  export default utils;
}
