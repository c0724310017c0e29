/**
 * A DEK registry in memory: for tests and offline use (the README's local-KMS
 * example). Keeps the REST registry's semantics: create answers undefined when
 * the key exists (the 409 race), latest is the highest version, contexts are
 * separate namespaces.
 */
import type { Dek, DekRegistry, Kek, KeyLookup } from "../contract/keys.js";

export interface MemoryDekRegistry extends DekRegistry {
  /** Every DEK stored, for tests that inspect what a writer created. */
  deks(): readonly Dek[];
}

export function createMemoryDekRegistry(options: { now?: () => number } = {}): MemoryDekRegistry {
  const now = options.now ?? Date.now;
  const keks = new Map<string, Kek>();
  const deks = new Map<string, Dek>();
  const ns = (lookup: KeyLookup | undefined) => lookup?.context ?? "";
  const dekKey = (context: string, kek: string, subject: string, algorithm: string) => `${context}\0${kek}\0${subject}\0${algorithm}\0`;
  return {
    getKek: (name, lookup) => Promise.resolve(keks.get(`${ns(lookup)}\0${name}`)),
    createKek(kek, lookup) {
      const key = `${ns(lookup)}\0${kek.name}`;
      if (keks.has(key)) return Promise.resolve(undefined);
      const stored: Kek = Object.freeze({ ...kek, ts: now() });
      keks.set(key, stored);
      return Promise.resolve(stored);
    },
    getDek(kekName, subject, version, algorithm, lookup) {
      const prefix = dekKey(ns(lookup), kekName, subject, algorithm);
      if (version !== "latest") return Promise.resolve(deks.get(prefix + version));
      let latest: Dek | undefined;
      for (const [k, d] of deks) if (k.startsWith(prefix) && (latest === undefined || d.version > latest.version)) latest = d;
      return Promise.resolve(latest);
    },
    createDek(kekName, dek, lookup) {
      const key = dekKey(ns(lookup), kekName, dek.subject, dek.algorithm) + dek.version;
      if (deks.has(key)) return Promise.resolve(undefined);
      const stored: Dek = Object.freeze({ kekName, ...dek, ts: now() });
      deks.set(key, stored);
      return Promise.resolve(stored);
    },
    deks: () => [...deks.values()],
  };
}
