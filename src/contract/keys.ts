/**
 * The DEK registry's model (`/dek-registry/v1/keks`, `/deks`), as Confluent's
 * clients and the AxonOps registry speak it, and the port the ENCRYPT executors
 * reach it through. The REST client in registry/ implements the port; the pure
 * engine only sees this interface.
 */

/** The DEK algorithms of Confluent's `encrypt.dek.algorithm`. */
export const DEK_ALGORITHMS = ["AES128_GCM", "AES256_GCM", "AES256_SIV"] as const;
export type DekAlgorithm = (typeof DEK_ALGORITHMS)[number];

export function isDekAlgorithm(s: string): s is DekAlgorithm {
  return (DEK_ALGORITHMS as readonly string[]).includes(s);
}

/** A key encryption key, as a writer creates it: a name for a key held by a KMS. */
export interface NewKek {
  name: string;
  kmsType: string;
  kmsKeyId: string;
  kmsProps?: Record<string, string>;
  doc?: string;
  /** The registry may call the KMS itself and hand out DEKs' plain `keyMaterial`. */
  shared: boolean;
}

/** A KEK as the registry holds it. */
export interface Kek extends NewKek {
  ts?: number;
  deleted?: boolean;
}

/** A data encryption key of one subject, as a writer creates it. */
export interface NewDek {
  subject: string;
  version: number;
  algorithm: DekAlgorithm;
  /** base64 of the KMS-wrapped Tink key proto. */
  encryptedKeyMaterial?: string;
}

/** A DEK as the registry holds it. */
export interface Dek extends NewDek {
  kekName: string;
  /** base64 of the Tink key proto: only from a registry that unwraps for a shared KEK. */
  keyMaterial?: string;
  ts?: number;
  deleted?: boolean;
}

/** Where a call looks: deleted keys too (a consumer reads old data), a schema context. */
export interface KeyLookup {
  deleted?: boolean;
  /** A schema context, e.g. ".ctx" (the `context` query parameter). */
  context?: string;
}

/**
 * The DEK registry port. `get*` resolve to undefined for a key the registry does
 * not have; `create*` resolve to undefined when another writer created it first
 * (HTTP 409), so the caller reads the winner's key. Other failures reject with
 * RegistryError.
 */
export interface DekRegistry {
  getKek(name: string, lookup?: KeyLookup): Promise<Kek | undefined>;
  createKek(kek: NewKek, lookup?: KeyLookup): Promise<Kek | undefined>;
  /** `version` "latest" for the newest version of the subject's DEK. */
  getDek(kekName: string, subject: string, version: number | "latest", algorithm: DekAlgorithm, lookup?: KeyLookup): Promise<Dek | undefined>;
  createDek(kekName: string, dek: NewDek, lookup?: KeyLookup): Promise<Dek | undefined>;
}

/** Executor config for KMS drivers: Java's `rule.executors._default_.param.<k>`, the JS client's `ruleConfig`. */
export type KmsConfig = Readonly<Record<string, string>>;

/** One KMS key, ready to wrap DEKs. */
export interface KmsKey {
  wrap(plaintext: Uint8Array): Promise<Uint8Array>;
  unwrap(wrapped: Uint8Array): Promise<Uint8Array>;
}

/**
 * The KMS port: a driver per `encrypt.kms.type` wraps and unwraps DEK key
 * material with the KEK's key. Credentials come from the executor's config or
 * the driver's environment variables, never from contract params, and no
 * driver puts them (or key material) in an error.
 */
export interface KmsDriver {
  /** The `encrypt.kms.type` it serves: "local-kms", "aws-kms", ... */
  readonly type: string;
  /**
   * The key `keyId` (the KEK's kmsKeyId). `kmsProps` are the KEK's (from the
   * registry: settings such as `encrypt.azure.key.version.save`, never
   * credentials, which come from `config` only). Throws KontractError
   * "encryption" when the config lacks what the driver needs; the message
   * names the missing setting, never a secret's value.
   */
  key(keyId: string, config: KmsConfig, kmsProps?: Readonly<Record<string, string>>): KmsKey;
}
