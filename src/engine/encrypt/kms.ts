/**
 * The local KMS driver and the KMS types Confluent knows. The KMS port itself
 * (KmsDriver, KmsKey, KmsConfig) is in contract/keys.ts, next to the DEK
 * registry port, so drivers outside the engine (src/kms) implement it too.
 */
import { hkdfSync } from "node:crypto";
import { KontractError } from "../../errors.js";
import type { KmsDriver } from "../../contract/keys.js";
import { aesGcm, type Aead } from "./aead.js";

export type { KmsConfig, KmsDriver, KmsKey } from "../../contract/keys.js";

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
