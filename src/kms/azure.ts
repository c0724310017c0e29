/**
 * The azure-kms driver on the official Azure SDK (`@azure/keyvault-keys` and
 * `@azure/identity`, optional peers loaded on first use). DEKs are wrapped
 * with Key Vault `encrypt` using RSA-OAEP-256 and unwrapped with `decrypt`,
 * as Confluent's clients do (so the key needs the encrypt and decrypt
 * operations, not wrapKey and unwrapKey; the bytes are the same).
 *
 * The KEK's kmsKeyId is the key's URL, `https://<vault>/keys/<name>[/<version>]`,
 * parsed as Confluent's Java, Go and JS clients parse it. Without a version,
 * Key Vault uses the key's current version, and does not say in the
 * ciphertext which one: after a rotation old DEKs no longer unwrap. The KEK's
 * kmsProps (or the executor config) `encrypt.azure.key.version.save` = "true"
 * prefixes the wrapped DEK with the version that wrapped it,
 * `azure:v1:` + 32 hex characters + `:`, as Confluent's clients do; a prefixed
 * DEK is unwrapped with its version whatever the setting.
 *
 * Credentials, as in Confluent's clients: the executor config's `tenant.id`,
 * `client.id` and `client.secret` (a client secret credential), otherwise the
 * SDK's DefaultAzureCredential (AZURE_* environment variables, workload or
 * managed identity, the Azure CLI...). AZURE_AUTHORITY_HOST selects a
 * sovereign cloud's authority.
 */
import type { KmsConfig, KmsDriver, KmsKey } from "../contract/keys.js";
import { KontractError } from "../errors.js";
import { isNetworkFailure, optionalPeer, retriableStatus } from "./sdk.js";

type KeysSdk = typeof import("@azure/keyvault-keys");
type Credential = import("@azure/identity").TokenCredential;

const loadSdk = optionalPeer("azure-kms", "@azure/keyvault-keys @azure/identity", () =>
  Promise.all([import("@azure/keyvault-keys"), import("@azure/identity")]).then(([keys, identity]) => ({ keys, identity })),
);

/** The KEK kmsProps entry (or executor config key) that turns the version prefix on. */
export const AZURE_KEY_VERSION_SAVE = "encrypt.azure.key.version.save";

const ALGORITHM = "RSA-OAEP-256";
const PREFIX = Buffer.from("azure:v1:", "ascii");
const VERSION_LENGTH = 32;
const HEADER_LENGTH = PREFIX.length + VERSION_LENGTH + 1;
const VERSION = /^[0-9a-fA-F]{32}$/;

/** A Key Vault key id: the vault's URL, the key's name, and its version when pinned. */
export interface AzureKeyId {
  vaultUrl: string;
  name: string;
  version: string | undefined;
}

/** Parses `https://<vault>/keys/<name>[/<version>]` as Confluent's clients do. Throws KontractError "encryption". */
export function parseAzureKeyId(keyId: string): AzureKeyId {
  const bad = () => new KontractError("encryption", `azure-kms key ${keyId} is not a Key Vault key id (https://<vault>/keys/<name>[/<version>])`);
  let url: URL;
  try {
    url = new URL(keyId);
  } catch {
    throw bad();
  }
  const segments = url.pathname.split("/").filter((s) => s !== "");
  if (url.host === "" || segments.length < 2 || segments.length > 3 || segments[0] !== "keys") throw bad();
  return { vaultUrl: `${url.protocol}//${url.host}`, name: segments[1]!, version: segments[2] };
}

/** The key version an `azure:v1:` prefixed DEK names, and the wrapped bytes after it; undefined for an unprefixed DEK. */
export function splitAzureVersion(wrapped: Uint8Array): { version: string; wrapped: Uint8Array } | undefined {
  if (wrapped.length < HEADER_LENGTH || !PREFIX.equals(wrapped.subarray(0, PREFIX.length)) || wrapped[HEADER_LENGTH - 1] !== 0x3a) return undefined;
  return { version: Buffer.from(wrapped.subarray(PREFIX.length, PREFIX.length + VERSION_LENGTH)).toString("latin1"), wrapped: wrapped.subarray(HEADER_LENGTH) };
}

/** `azure:v1:<version>:` followed by the wrapped DEK. */
export function joinAzureVersion(version: string, wrapped: Uint8Array): Uint8Array {
  return Buffer.concat([PREFIX, Buffer.from(`${version}:`, "ascii"), wrapped]);
}

export function azureKms(): KmsDriver {
  return {
    type: "azure-kms",
    key(keyId, config, kmsProps = {}): KmsKey {
      const id = parseAzureKeyId(keyId);
      const saveVersion = (kmsProps[AZURE_KEY_VERSION_SAVE] ?? config[AZURE_KEY_VERSION_SAVE])?.toLowerCase() === "true";
      let ready: Promise<{ keys: KeysSdk; credential: Credential }> | undefined;
      const setup = () => (ready ??= loadSdk().then(({ keys, identity }) => ({ keys, credential: credentialFrom(config, identity) })));
      /** Encrypts or decrypts with the key's `version` (undefined: as the key id says). */
      const call = async (op: "encrypt" | "decrypt", version: string | undefined, input: Uint8Array): Promise<Uint8Array> => {
        const { keys, credential } = await setup();
        const client = new keys.CryptographyClient(version === undefined ? keyId : `${id.vaultUrl}/keys/${id.name}/${version}`, credential);
        const out = await (op === "encrypt" ? client.encrypt(ALGORITHM, input) : client.decrypt(ALGORITHM, input)).catch(kmsError(keyId, op));
        return out.result;
      };
      return {
        async wrap(plaintext) {
          if (!saveVersion) return call("encrypt", undefined, plaintext);
          const version = id.version ?? (await currentVersion(await setup(), id, keyId));
          // Only a fixed-width version fits the prefix, and the unwrap side accepts no other.
          if (!VERSION.test(version)) throw new KontractError("key-unavailable", `azure-kms key ${keyId}: version '${version}' is not ${VERSION_LENGTH} hex characters, so it cannot be saved in the wrapped DEK (${AZURE_KEY_VERSION_SAVE})`);
          return joinAzureVersion(version, await call("encrypt", version, plaintext));
        },
        async unwrap(wrapped) {
          const prefixed = splitAzureVersion(wrapped);
          if (prefixed === undefined) return call("decrypt", undefined, wrapped);
          // The wrapped DEK is not authenticated here: a version that is not hex could steer the request URL.
          if (!VERSION.test(prefixed.version)) throw new KontractError("key-unavailable", `azure-kms key ${keyId}: the wrapped DEK's azure:v1: key version is not ${VERSION_LENGTH} hex characters`);
          return call("decrypt", prefixed.version, prefixed.wrapped);
        },
      };
    },
  };
}

function credentialFrom(config: KmsConfig, identity: typeof import("@azure/identity")): Credential {
  const { "tenant.id": tenantId, "client.id": clientId, "client.secret": clientSecret } = config;
  if (tenantId !== undefined && clientId !== undefined && clientSecret !== undefined) return new identity.ClientSecretCredential(tenantId, clientId, clientSecret);
  return new identity.DefaultAzureCredential();
}

/** The key's current version, asked of Key Vault (for a key id without one). */
async function currentVersion({ keys, credential }: { keys: KeysSdk; credential: Credential }, id: AzureKeyId, keyId: string): Promise<string> {
  const key = await new keys.KeyClient(id.vaultUrl, credential).getKey(id.name).catch(kmsError(keyId, "get key"));
  const version = key.properties.version;
  if (version === undefined) throw new KontractError("key-unavailable", `azure-kms key ${keyId}: Key Vault returned the key without a version`);
  return version;
}

/**
 * The SDK's error as key-unavailable naming the key and Key Vault's reason
 * (401 and 403 are refusals, not retried). Retriable for throttling, a server
 * error or a network failure. The SDK's error is not kept as the cause: it
 * carries the request.
 */
function kmsError(keyId: string, call: string): (e: unknown) => never {
  return (e) => {
    const err = e as { name?: string; message?: string; code?: unknown; statusCode?: number };
    const network = err.statusCode === undefined && isNetworkFailure(err.name, err.code, err.message);
    const retriable = network || retriableStatus(err.statusCode);
    const why = network ? "the service could not be reached" : `${err.name ?? "error"}${err.statusCode === undefined ? "" : ` (HTTP ${err.statusCode})`}: ${(err.message ?? "").split("\n")[0]!.trim()}`;
    throw new KontractError("key-unavailable", `azure-kms key ${keyId}: ${call} failed: ${why}`, { retriable });
  };
}
