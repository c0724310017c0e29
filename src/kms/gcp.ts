/**
 * The gcp-kms driver on the official Google Cloud SDK (`@google-cloud/kms`, an
 * optional peer loaded on first use). DEKs are wrapped with Cloud KMS
 * `encrypt` (no additional authenticated data) and unwrapped with `decrypt`,
 * as Confluent's clients do: the wrapped DEK is Google's ciphertext as is.
 *
 * The KEK's kmsKeyId is the CryptoKey's resource name,
 * `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>` (Confluent's
 * clients pass it to the SDK unchanged; decrypt needs a CryptoKey, not a
 * version).
 *
 * Credentials, as in Confluent's clients: when the executor config holds all
 * of `client.id`, `client.email`, `private.key.id` and `private.key`, that
 * service account (`account.type`, default "service_account"); otherwise the
 * SDK's Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the
 * metadata server...).
 *
 * The SDK's REST transport is used by default (HTTP/1.1 and JSON, as
 * Confluent's Java and Go clients call Cloud KMS; no gRPC stack to load);
 * `client: { fallback: false }` selects gRPC.
 */
import type { KmsConfig, KmsDriver, KmsKey } from "../contract/keys.js";
import { KontractError } from "../errors.js";
import { isNetworkFailure, optionalPeer, retriableStatus } from "./sdk.js";

type GcpSdk = typeof import("@google-cloud/kms");
type GcpClient = InstanceType<GcpSdk["KeyManagementServiceClient"]>;

const loadSdk = optionalPeer("gcp-kms", "@google-cloud/kms", () => import("@google-cloud/kms"));

/** A Cloud KMS CryptoKey resource name. */
const CRYPTO_KEY = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

export interface GcpKmsOptions {
  /**
   * SDK client settings other than credentials: `apiEndpoint` and `port` (a
   * private or regional endpoint), `protocol` ("http" only for a local test
   * server), `fallback` (default true: REST; false: gRPC), `universeDomain`.
   */
  client?: { apiEndpoint?: string; port?: number; protocol?: "http" | "https"; fallback?: boolean; universeDomain?: string };
}

/** The service account the executor config names, or undefined for Application Default Credentials. */
export function gcpCredentialsFrom(config: KmsConfig): Record<string, string> | undefined {
  const { "client.id": clientId, "client.email": clientEmail, "private.key.id": privateKeyId, "private.key": privateKey } = config;
  if (clientId === undefined || clientEmail === undefined || privateKeyId === undefined || privateKey === undefined) return undefined;
  // Java builds the credentials JSON around the value, so a key written with literal "\n" escapes (as in a
  // service account file, or an environment variable) works there: read it the same way here.
  const pem = privateKey.includes("\n") ? privateKey : privateKey.replaceAll("\\n", "\n");
  return { type: config["account.type"] ?? "service_account", client_id: clientId, client_email: clientEmail, private_key_id: privateKeyId, private_key: pem };
}

export function gcpKms(options: GcpKmsOptions = {}): KmsDriver {
  return {
    type: "gcp-kms",
    key(keyId, config): KmsKey {
      if (!CRYPTO_KEY.test(keyId)) throw new KontractError("encryption", `gcp-kms key ${keyId} is not a Cloud KMS CryptoKey name (projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>)`);
      const credentials = gcpCredentialsFrom(config);
      let client: Promise<GcpClient> | undefined;
      const connect = () =>
        (client ??= loadSdk().then((sdk) => new sdk.KeyManagementServiceClient({ fallback: true, ...options.client, ...(credentials === undefined ? {} : { credentials }) })));
      return {
        async wrap(plaintext) {
          const [out] = await (await connect()).encrypt({ name: keyId, plaintext }).catch(kmsError(keyId, "encrypt"));
          if (out.ciphertext == null) throw new KontractError("key-unavailable", `gcp-kms key ${keyId}: encrypt returned no ciphertext`);
          return Buffer.from(out.ciphertext as Uint8Array);
        },
        async unwrap(wrapped) {
          const [out] = await (await connect()).decrypt({ name: keyId, ciphertext: wrapped }).catch(kmsError(keyId, "decrypt"));
          if (out.plaintext == null) throw new KontractError("key-unavailable", `gcp-kms key ${keyId}: decrypt returned no plaintext`);
          return Buffer.from(out.plaintext as Uint8Array);
        },
      };
    },
  };
}

/** gRPC status codes a retry may clear: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const RETRIABLE_GRPC = new Set([1, 4, 8, 10, 13, 14]);

/**
 * The SDK's error as key-unavailable naming the key and Google's reason.
 * Retriable when the service could not be reached or asked for a retry.
 * The SDK's error is not kept as the cause: on the REST transport it holds the
 * request (the bearer token, and for encrypt the DEK itself).
 */
function kmsError(keyId: string, call: string): (e: unknown) => never {
  return (e) => {
    const err = e as { name?: string; message?: string; code?: unknown; status?: unknown; details?: unknown };
    // REST: code is the HTTP status and the message Google's JSON body; gRPC: code is the gRPC status.
    const code = typeof err.code === "number" ? err.code : undefined;
    const http = code !== undefined && code >= 100;
    const network = isNetworkFailure(err.name, err.code, err.message);
    const retriable = network || (http ? retriableStatus(code) : code !== undefined && RETRIABLE_GRPC.has(code));
    throw new KontractError("key-unavailable", `gcp-kms key ${keyId}: ${call} failed: ${network ? `the service could not be reached (${typeof err.code === "string" ? err.code : (err.name ?? "network error")})` : reason(err.message)}`, { retriable });
  };
}

/** Google's own message: the `error.message` of a REST error body, else the first line of the SDK's message. */
function reason(message: string | undefined): string {
  if (message === undefined) return "error";
  try {
    const body = JSON.parse(message) as { error?: { status?: string; message?: string } };
    if (body.error?.message !== undefined) return `${body.error.status ?? "error"}: ${body.error.message}`;
  } catch {
    // not JSON: the gRPC transport's message, or a proxy's page
  }
  return message.split("\n")[0]!.trim();
}
