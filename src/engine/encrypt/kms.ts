/**
 * The KMS port: a driver per `encrypt.kms.type` wraps and unwraps DEK key
 * material with the KEK's key. Credentials come from the executor's config or
 * the driver's environment variables, never from contract params, and no
 * driver puts them (or key material) in an error.
 */
import { hkdfSync } from "node:crypto";
import { KontractError } from "../../errors.js";
import { aesGcm, type Aead } from "./aead.js";

/** Executor config for KMS drivers: Java's `rule.executors._default_.param.<k>`, the JS client's `ruleConfig`. */
export type KmsConfig = Readonly<Record<string, string>>;

/** One KMS key, ready to wrap DEKs. */
export interface KmsKey {
  wrap(plaintext: Uint8Array): Promise<Uint8Array>;
  unwrap(wrapped: Uint8Array): Promise<Uint8Array>;
}

export interface KmsDriver {
  /** The `encrypt.kms.type` it serves: "local-kms", "aws-kms", ... */
  readonly type: string;
  /**
   * The key `keyId` (the KEK's kmsKeyId). Throws KontractError "encryption"
   * when the config lacks what the driver needs; the message names the missing
   * setting, never a secret's value.
   */
  key(keyId: string, config: KmsConfig): KmsKey;
}

/** The KMS types Confluent's clients know (Java also has alicloud-kms). */
export const KNOWN_KMS_TYPES: readonly string[] = ["local-kms", "aws-kms", "azure-kms", "gcp-kms", "hcvault", "alicloud-kms"];

/**
 * Confluent's local KMS, for tests and offline use: the KEK is
 * HKDF-SHA256(secret, no salt, no info, 16 bytes) used as AES-128-GCM. The
 * secret is the executor config's `secret`, else `env.LOCAL_SECRET`. The key
 * id does not enter the key: any id works with the same secret.
 */
export function localKms(env: Readonly<Record<string, string | undefined>> = process.env): KmsDriver {
  return {
    type: "local-kms",
    key(_keyId, config) {
      const secret = config.secret ?? env.LOCAL_SECRET;
      if (secret === undefined || secret === "") {
        throw new KontractError("encryption", "local-kms needs a secret: the executor config's `secret` or the LOCAL_SECRET environment variable");
      }
      const aead: Aead = aesGcm(Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), Buffer.alloc(0), Buffer.alloc(0), 16)));
      return {
        wrap: (plaintext) => Promise.resolve(aead.seal(plaintext)),
        unwrap: (wrapped) => Promise.resolve().then(() => aead.open(wrapped)),
      };
    },
  };
}
