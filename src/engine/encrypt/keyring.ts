/**
 * The DEKs of the ENCRYPT executors: fetched from the DEK registry (created on
 * a producer's first write, rotated when `encrypt.dek.expiry.days` runs out),
 * unwrapped by the KEK's KMS once, and kept as ready AEADs. After the first
 * message of a subject the hot path is two Map lookups and no await.
 *
 * Errors name the KEK and the subject, never a key or a value.
 */
import type { Dek, DekAlgorithm, DekRegistry, Kek, KeyLookup } from "../../contract/keys.js";
import { KontractError, isKontractError } from "../../errors.js";
import type { Aead } from "./aead.js";
import { aeadFor, generateKeyMaterial } from "./key-material.js";
import type { KmsConfig, KmsDriver, KmsKey } from "./kms.js";

export interface KeyringOptions {
  readonly dekRegistry: DekRegistry;
  readonly kms: readonly KmsDriver[];
  readonly config: KmsConfig;
  /** The registry's schema context for KEK and DEK calls. */
  readonly context: string | undefined;
  /** How long an unwrapped DEK is kept, in ms (Infinity: until the process ends). */
  readonly cacheTtlMs: number;
  /** After a failed load (missing key, KMS refusal), how long the failure is kept before the registry is asked again. */
  readonly retryAfterMs: number;
  readonly now: () => number;
}

/** What one ENCRYPT rule asks of the keyring: its params, parsed once. */
export interface KeySpec {
  readonly kekName: string;
  readonly kmsType: string | undefined;
  readonly kmsKeyId: string | undefined;
  readonly algorithm: DekAlgorithm;
  /** 0: no rotation, no version prefix. */
  readonly expiryDays: number;
  readonly alternateKeyIds: readonly string[];
}

/** A DEK ready to use. */
export interface ReadyKey {
  readonly aead: Aead;
  readonly version: number;
  /** When a writer must move to a new version (rotation), else Infinity. */
  readonly expiresAt: number;
  /** When the cache lets it go. */
  readonly staleAt: number;
}

/** A slot: the key, its load under way, or the failure kept until retryAt. */
type Slot = ReadyKey | Promise<ReadyKey> | { readonly error: KontractError; readonly retryAt: number };

/** The keys of one subject under one rule's KEK and algorithm. */
interface SubjectKeys {
  write: Slot | undefined;
  readonly read: Map<number, Slot>;
}

/** The keys of one KEK and algorithm, by subject: a compiled rule holds it. */
export interface KeyTable {
  /** The key to write with: a ReadyKey when cached and fresh, else a Promise of it. Rejects with KontractError. */
  forWrite(subject: string): ReadyKey | Promise<ReadyKey>;
  /** The key of `version` (1 without rotation), for reading. */
  forRead(subject: string, version: number): ReadyKey | Promise<ReadyKey>;
}

const DAY_MS = 86_400_000;

export interface Keyring {
  table(spec: KeySpec): KeyTable;
}

export function createKeyring(options: KeyringOptions): Keyring {
  const drivers = new Map(options.kms.map((d) => [d.type, d]));
  const lookup: KeyLookup = options.context === undefined ? {} : { context: options.context };
  const readLookup: KeyLookup = { ...lookup, deleted: true };
  const tables = new Map<string, KeyTable>();
  const { dekRegistry: registry, now } = options;

  /** Names the KEK and subject; retriable when its cause is (a KMS that may answer on a retry). */
  const unavailable = (spec: KeySpec, subject: string, problem: string, cause?: unknown): KontractError =>
    new KontractError("key-unavailable", `KEK ${spec.kekName}, subject ${subject}: ${problem}`, { cause, retriable: isKontractError(cause) && cause.retriable });

  /** The KEK, created when absent and the rule names its KMS key (writers only). */
  async function kekFor(spec: KeySpec, subject: string, write: boolean): Promise<Kek> {
    const found = await registry.getKek(spec.kekName, write ? lookup : readLookup);
    if (found !== undefined) return found;
    if (write && spec.kmsType !== undefined && spec.kmsKeyId !== undefined) {
      const created = await registry.createKek({ name: spec.kekName, kmsType: spec.kmsType, kmsKeyId: spec.kmsKeyId, shared: false }, lookup);
      // Undefined: another writer created it first.
      const kek = created ?? (await registry.getKek(spec.kekName, lookup));
      if (kek !== undefined) return kek;
    }
    throw unavailable(spec, subject, write ? "no such KEK in the DEK registry, and the rule does not name encrypt.kms.type and encrypt.kms.key.id to create it" : "no such KEK in the DEK registry");
  }

  /**
   * Wraps or unwraps with the KEK's KMS key, then the alternates, in order.
   * Every failure (no driver, no credentials, a refusal) comes out as
   * key-unavailable naming the KEK and subject, and the last driver's reason.
   */
  async function withKms(spec: KeySpec, subject: string, kek: Kek, what: string, op: (k: KmsKey) => Promise<Uint8Array>): Promise<Uint8Array> {
    const driver = drivers.get(kek.kmsType);
    if (driver === undefined) throw unavailable(spec, subject, `no KMS driver for type ${kek.kmsType} (drivers: ${[...drivers.keys()].join(", ") || "none"})`);
    const alternates = [...spec.alternateKeyIds, ...splitIds(kek.kmsProps?.["encrypt.alternate.kms.key.ids"])];
    let last: unknown;
    for (const id of [kek.kmsKeyId, ...alternates.filter((a) => a !== kek.kmsKeyId)]) {
      try {
        return await op(driver.key(id, options.config, kek.kmsProps ?? {}));
      } catch (e) {
        last = e;
      }
    }
    // A driver's own KontractError says why (no credentials, the KMS's refusal) and, by the port's
    // contract, never holds a secret: quoted. Anything else a driver throws is kept as the cause only.
    const why = isKontractError(last) ? `: ${last.message}` : "";
    throw unavailable(spec, subject, `the KMS (${kek.kmsType}) could not ${what}${why}`, last);
  }

  async function material(spec: KeySpec, subject: string, kek: Kek, dek: Dek): Promise<Uint8Array> {
    if (dek.keyMaterial !== undefined) return Buffer.from(dek.keyMaterial, "base64");
    const wrapped = Buffer.from(dek.encryptedKeyMaterial!, "base64");
    return withKms(spec, subject, kek, `unwrap DEK version ${dek.version}`, (k) => k.unwrap(wrapped));
  }

  function ready(spec: KeySpec, dek: Dek, keyMaterial: Uint8Array): ReadyKey {
    const at = now();
    const expiresAt = spec.expiryDays > 0 ? (dek.ts ?? at) + spec.expiryDays * DAY_MS : Infinity;
    return { aead: aeadFor(spec.algorithm, keyMaterial), version: dek.version, expiresAt, staleAt: at + options.cacheTtlMs };
  }

  /** A DEK is usable when it holds key material (the JS client ignores one without). */
  const usable = (d: Dek | undefined): Dek | undefined => (d !== undefined && (d.encryptedKeyMaterial !== undefined || d.keyMaterial !== undefined) ? d : undefined);

  async function loadWrite(spec: KeySpec, subject: string): Promise<ReadyKey> {
    const kek = await kekFor(spec, subject, true);
    const current = usable(await registry.getDek(spec.kekName, subject, spec.expiryDays > 0 ? "latest" : 1, spec.algorithm, lookup));
    const expired = current !== undefined && spec.expiryDays > 0 && now() >= (current.ts ?? now()) + spec.expiryDays * DAY_MS;
    if (current !== undefined && !expired) return ready(spec, current, await material(spec, subject, kek, current));
    const version = current === undefined ? 1 : current.version + 1;
    let fresh: Uint8Array | undefined;
    let encryptedKeyMaterial: string | undefined;
    if (!kek.shared) {
      const key = (fresh = generateKeyMaterial(spec.algorithm));
      encryptedKeyMaterial = Buffer.from(await withKms(spec, subject, kek, "wrap a new DEK", (k) => k.wrap(key))).toString("base64");
    }
    const created = usable(await registry.createDek(spec.kekName, { subject, version, algorithm: spec.algorithm, ...(encryptedKeyMaterial === undefined ? {} : { encryptedKeyMaterial }) }, lookup));
    // We won the race with our own key material in hand: no unwrap needed.
    if (created !== undefined && fresh !== undefined && created.encryptedKeyMaterial === encryptedKeyMaterial) return ready(spec, created, fresh);
    // Another writer created this version first (409), or a shared KEK's registry made the key: read theirs.
    const winner = created ?? usable(await registry.getDek(spec.kekName, subject, version, spec.algorithm, lookup)) ?? current;
    if (winner === undefined) throw unavailable(spec, subject, `DEK version ${version} was neither created nor found`);
    return ready(spec, winner, await material(spec, subject, kek, winner));
  }

  async function loadRead(spec: KeySpec, subject: string, version: number): Promise<ReadyKey> {
    const kek = await kekFor(spec, subject, false);
    const dek = usable(await registry.getDek(spec.kekName, subject, version, spec.algorithm, readLookup));
    if (dek === undefined) throw unavailable(spec, subject, `no ${spec.algorithm} DEK version ${version} in the DEK registry`);
    return ready(spec, dek, await material(spec, subject, kek, dek));
  }

  /**
   * Loads into a slot; a failure stays in the slot for retryAfterMs, so a
   * consumer without keys does not ask per message. A retriable error (the
   * registry or KMS unreachable) is not kept, and rejects as it is: the caller
   * retries the message, as with any registry outage, instead of failing it.
   */
  function load(spec: KeySpec, subject: string, loader: () => Promise<ReadyKey>, store: (s: Slot | undefined) => void): Promise<ReadyKey> {
    const p = loader().then(
      (k) => (store(k), k),
      (e: unknown) => {
        if (isKontractError(e) && e.retriable) {
          store(undefined);
          throw e;
        }
        const error = isKontractError(e) && (e.code === "key-unavailable" || e.code === "encryption") ? e : unavailable(spec, subject, describe(e), e);
        store({ error, retryAt: now() + options.retryAfterMs });
        throw error;
      },
    );
    store(p);
    return p;
  }

  /** The slot's key when usable now; undefined to load it again. */
  function take(slot: Slot | undefined, write: boolean): ReadyKey | Promise<ReadyKey> | undefined {
    if (slot === undefined) return undefined;
    if (slot instanceof Promise) return slot;
    if ("error" in slot) return now() < slot.retryAt ? Promise.reject(slot.error) : undefined;
    if (slot.staleAt !== Infinity || (write && slot.expiresAt !== Infinity)) {
      const t = now();
      if (t >= slot.staleAt || (write && t >= slot.expiresAt)) return undefined;
    }
    return slot;
  }

  return {
    table(spec) {
      const id = `${spec.kekName}\0${spec.algorithm}\0${spec.expiryDays}\0${spec.kmsType ?? ""}\0${spec.kmsKeyId ?? ""}\0${spec.alternateKeyIds.join(",")}`;
      let table = tables.get(id);
      if (table !== undefined) return table;
      const subjects = new Map<string, SubjectKeys>();
      const keysOf = (subject: string): SubjectKeys => {
        let k = subjects.get(subject);
        if (k === undefined) subjects.set(subject, (k = { write: undefined, read: new Map() }));
        return k;
      };
      table = {
        forWrite(subject) {
          const keys = keysOf(subject);
          return take(keys.write, true) ?? load(spec, subject, () => loadWrite(spec, subject), (s) => (keys.write = s));
        },
        forRead(subject, version) {
          const keys = keysOf(subject);
          return take(keys.read.get(version), false) ?? load(spec, subject, () => loadRead(spec, subject, version), (s) => (s === undefined ? keys.read.delete(version) : keys.read.set(version, s)));
        },
      };
      tables.set(id, table);
      return table;
    },
  };
}

/** A comma list of KMS key ids (`encrypt.alternate.kms.key.ids`). */
export function splitIds(list: string | undefined): string[] {
  return list === undefined ? [] : list.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** An unexpected error's message (registry errors name the request and the registry URL, never a key). */
function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
