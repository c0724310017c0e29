/**
 * The wrapped client: the client object with some methods replaced. A Proxy,
 * not a spread: the Confluent client's producers and consumers are class
 * instances (methods on the prototype, private fields), which a spread would
 * strip and an Object.create would break (`this` must be the instance).
 */
export function overlay<T extends object, O extends object>(target: T, overrides: O): Omit<T, keyof O> & O {
  // Bound once per method; bound again only if the target's method was replaced meanwhile.
  const bound = new Map<PropertyKey, { readonly method: Function; readonly bound: Function }>();
  return new Proxy(target, {
    get(t, name) {
      if (Object.hasOwn(overrides, name)) return (overrides as Record<PropertyKey, unknown>)[name];
      const v: unknown = Reflect.get(t, name, t);
      if (typeof v !== "function") return v;
      let b = bound.get(name);
      if (b?.method !== v) bound.set(name, (b = { method: v, bound: v.bind(t) }));
      return b.bound;
    },
    has: (t, name) => Object.hasOwn(overrides, name) || Reflect.has(t, name),
  }) as unknown as Omit<T, keyof O> & O;
}
