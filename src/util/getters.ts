/**
 * An object made as a literal, with getters, kept fast for reads per message. V8 makes an object
 * literal that declares a getter a dictionary-mode object: every property read on it, its methods
 * included, is a hash lookup instead of an inline-cached load. Getters defined on the finished
 * literal keep its fast shape (`%HasFastProperties` is true for this, false for the literal).
 */
export function withGetters<R extends object, K extends keyof R>(target: Omit<R, K>, getters: { readonly [P in K]: () => R[P] }): R {
  for (const name of Object.keys(getters) as K[]) Object.defineProperty(target, name, { get: getters[name], enumerable: true, configurable: true });
  return target as R;
}
