/**
 * The DEK registry's REST client (`/dek-registry/v1/keks…`, `/deks…`), the
 * DekRegistry port of the ENCRYPT executors. KEKs and numbered DEK versions
 * are immutable once read and are kept (LRU, `cacheCapacity`); "latest" DEK
 * answers are only coalesced, since rotation adds versions. The executors keep
 * the unwrapped keys: this cache only spares the registry round trips.
 */
import { isDekAlgorithm, type Dek, type DekAlgorithm, type DekRegistry, type Kek, type KeyLookup, type NewDek, type NewKek } from "../../contract/keys.js";
import { isKontractError, type RegistryError } from "../../errors.js";
import { Memo } from "./memo.js";
import { resolveOptions, type RestRegistryOptions } from "./options.js";
import { createTransport, type HttpRequest } from "./transport.js";
import { integer, object, string, WireError } from "./wire.js";

const BASE = "/dek-registry/v1/keks";

export function createRestDekRegistry(options: RestRegistryOptions): DekRegistry {
  const resolved = resolveOptions(options);
  const { send } = createTransport(resolved);
  const keks = new Memo<Kek | undefined>({ capacity: resolved.cacheCapacity, ttlMs: Infinity });
  const deks = new Memo<Dek | undefined>({ capacity: resolved.cacheCapacity, ttlMs: Infinity });
  const latest = new Memo<Dek | undefined>({ capacity: resolved.cacheCapacity, ttlMs: 0 });
  const kekPath = (name: string) => `${BASE}/${encodeURIComponent(name)}`;
  const dekPath = (kek: string, subject: string) => `${kekPath(kek)}/deks/${encodeURIComponent(subject)}`;

  return {
    getKek(name, lookup = {}) {
      // An absent KEK may be created later: Memo never serves a stored undefined, so only found ones are kept.
      return keks.get(`${name}\0${lookup.deleted === true}\0${lookup.context ?? ""}`, () =>
        absentAsUndefined(send({ method: "GET", path: kekPath(name), query: query(lookup), what: `get KEK '${name}'` }, toKek)),
      );
    },
    createKek(kek, lookup = {}) {
      const body: NewKek = { name: kek.name, kmsType: kek.kmsType, kmsKeyId: kek.kmsKeyId, shared: kek.shared };
      if (kek.kmsProps !== undefined) body.kmsProps = kek.kmsProps;
      if (kek.doc !== undefined) body.doc = kek.doc;
      return conflictAsUndefined(send({ method: "POST", path: BASE, query: query(lookup), body, what: `create KEK '${kek.name}'` }, toKek));
    },
    getDek(kekName, subject, version, algorithm, lookup = {}) {
      const what = `get ${version === "latest" ? "the latest" : `version ${version} of the`} ${algorithm} DEK of subject '${subject}' under KEK '${kekName}'`;
      // Confluent's clients ask for `/versions/-1`; AxonOps refuses -1 (422), and both answer the latest at the subject's path.
      const request: HttpRequest = {
        method: "GET",
        path: version === "latest" ? dekPath(kekName, subject) : `${dekPath(kekName, subject)}/versions/${version}`,
        query: [["algorithm", algorithm], ...query(lookup)],
        what,
      };
      const load = () => absentAsUndefined(send(request, toDek));
      if (version === "latest") return latest.get(`${kekName}\0${subject}\0${algorithm}\0${lookup.deleted === true}\0${lookup.context ?? ""}`, load);
      return deks.get(`${kekName}\0${subject}\0${version}\0${algorithm}\0${lookup.deleted === true}\0${lookup.context ?? ""}`, load);
    },
    async createDek(kekName, dek, lookup = {}) {
      const body: NewDek = { subject: dek.subject, version: dek.version, algorithm: dek.algorithm };
      if (dek.encryptedKeyMaterial !== undefined) body.encryptedKeyMaterial = dek.encryptedKeyMaterial;
      const what = `create version ${dek.version} of the ${dek.algorithm} DEK of subject '${dek.subject}' under KEK '${kekName}'`;
      const q = query(lookup);
      try {
        return await conflictAsUndefined(send({ method: "POST", path: dekPath(kekName, dek.subject), query: q, body, what }, toDek));
      } catch (e) {
        // Older registries take the subject in the body only.
        if (!isRegistryError(e) || e.status !== 405) throw e;
        return conflictAsUndefined(send({ method: "POST", path: `${kekPath(kekName)}/deks`, query: q, body, what }, toDek));
      }
    },
  };
}

function query(lookup: KeyLookup): [string, string][] {
  const q: [string, string][] = [];
  if (lookup.deleted === true) q.push(["deleted", "true"]);
  if (lookup.context !== undefined) q.push(["context", lookup.context]);
  return q;
}

function isRegistryError(e: unknown): e is RegistryError {
  return isKontractError(e) && e.name === "RegistryError";
}

async function absentAsUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isKontractError(e) && e.code === "unknown-schema") return undefined;
    throw e;
  }
}

/** Another writer created the key first (409): the caller reads theirs. */
async function conflictAsUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isRegistryError(e) && e.status === 409) return undefined;
    throw e;
  }
}

function toKek(raw: unknown): Kek {
  const obj = object(raw, "response");
  const kek: Kek = { name: string(obj, "name"), kmsType: string(obj, "kmsType"), kmsKeyId: string(obj, "kmsKeyId"), shared: obj.shared === true };
  if (obj.kmsProps !== undefined && obj.kmsProps !== null) kek.kmsProps = object(obj.kmsProps, "kmsProps") as Record<string, string>;
  if (typeof obj.doc === "string") kek.doc = obj.doc;
  if (typeof obj.ts === "number") kek.ts = obj.ts;
  if (obj.deleted === true) kek.deleted = true;
  return Object.freeze(kek);
}

function toDek(raw: unknown): Dek {
  const obj = object(raw, "response");
  const algorithm = string(obj, "algorithm");
  if (!isDekAlgorithm(algorithm)) throw new WireError(`unsupported DEK algorithm ${JSON.stringify(algorithm)}`);
  const dek: Dek = { kekName: string(obj, "kekName"), subject: string(obj, "subject"), version: integer(obj, "version"), algorithm: algorithm as DekAlgorithm };
  if (typeof obj.encryptedKeyMaterial === "string") dek.encryptedKeyMaterial = obj.encryptedKeyMaterial;
  if (typeof obj.keyMaterial === "string") dek.keyMaterial = obj.keyMaterial;
  if (typeof obj.ts === "number") dek.ts = obj.ts;
  if (obj.deleted === true) dek.deleted = true;
  return Object.freeze(dek);
}
