/**
 * The aws-kms driver on the official AWS SDK (`@aws-sdk/client-kms`, an
 * optional peer loaded on first use, so `import "kontract"` never loads it).
 * DEKs are wrapped with KMS Encrypt (no encryption context) and unwrapped
 * with Decrypt, as Confluent's clients do: a DEK one wrote, the other reads.
 *
 * Credentials, as in Confluent's JS and Go clients: the executor config's
 * `access.key.id` + `secret.access.key`, else `profile`; with `role.arn`
 * (or AWS_ROLE_ARN) that role is assumed (`role.session.name`, default
 * "confluent-encrypt"; `role.external.id`); otherwise the SDK's default chain
 * (AWS_ACCESS_KEY_ID…, web identity, instance roles). The region comes from
 * the key's ARN. The SDK's AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL point it at
 * another endpoint (an emulator in tests).
 */
import type { KmsConfig, KmsDriver, KmsKey } from "../contract/keys.js";
import { KontractError } from "../errors.js";
import { isNetworkFailure, optionalPeer } from "./sdk.js";

type KmsSdk = typeof import("@aws-sdk/client-kms");
type Providers = typeof import("@aws-sdk/credential-providers");
type Credentials = NonNullable<ConstructorParameters<KmsSdk["KMSClient"]>[0]>["credentials"];

const loadSdk = optionalPeer("aws-kms", "@aws-sdk/client-kms @aws-sdk/credential-providers", () =>
  Promise.all([import("@aws-sdk/client-kms"), import("@aws-sdk/credential-providers")]).then(([kms, providers]) => ({ kms, providers })),
);

/** The region of a KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`). */
export function awsRegionOf(keyId: string): string | undefined {
  const parts = keyId.split(":");
  return parts.length >= 6 && parts[0] === "arn" && parts[3] !== "" ? parts[3] : undefined;
}

export interface AwsKmsOptions {
  /** Environment variables for the role settings (AWS_ROLE_ARN...). Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export function awsKms(options: AwsKmsOptions = {}): KmsDriver {
  const env = options.env ?? process.env;
  return {
    type: "aws-kms",
    key(keyId, config): KmsKey {
      const region = awsRegionOf(keyId);
      if (region === undefined) throw new KontractError("encryption", `aws-kms key ${keyId} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
      let client: Promise<InstanceType<KmsSdk["KMSClient"]>> | undefined;
      const connect = () =>
        (client ??= loadSdk().then(({ kms, providers }) => new kms.KMSClient({ region, ...credentialsFrom(config, env, providers, region) })));
      return {
        async wrap(plaintext) {
          const { kms } = await loadSdk();
          const out = await (await connect()).send(new kms.EncryptCommand({ KeyId: keyId, Plaintext: plaintext })).catch(kmsError(keyId, "Encrypt"));
          if (out.CiphertextBlob === undefined) throw new KontractError("key-unavailable", `aws-kms key ${keyId}: Encrypt returned no ciphertext`);
          return out.CiphertextBlob;
        },
        async unwrap(wrapped) {
          const { kms } = await loadSdk();
          const out = await (await connect()).send(new kms.DecryptCommand({ KeyId: keyId, CiphertextBlob: wrapped })).catch(kmsError(keyId, "Decrypt"));
          if (out.Plaintext === undefined) throw new KontractError("key-unavailable", `aws-kms key ${keyId}: Decrypt returned no plaintext`);
          return out.Plaintext;
        },
      };
    },
  };
}

/**
 * The SDK's error as key-unavailable, retriable when the SDK says a retry may
 * help (throttling, 5xx, a network failure): the message is then retried, not
 * failed. The SDK's message names the key and the refusal, not the key material.
 */
function kmsError(keyId: string, call: string): (e: unknown) => never {
  return (e) => {
    const err = e as { name?: string; code?: unknown; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
    const status = err.$metadata?.httpStatusCode;
    const retriable = err.$retryable !== undefined || (status !== undefined && status >= 500) || (status === undefined && err.name !== undefined && isNetworkFailure(err.name, err.code, err.message));
    throw new KontractError("key-unavailable", `aws-kms key ${keyId}: ${call} failed: ${err.name ?? "error"}${err.message ? `: ${err.message}` : ""}`, { cause: e, retriable });
  };
}

function credentialsFrom(config: KmsConfig, env: Readonly<Record<string, string | undefined>>, providers: Providers, region: string): { credentials?: Credentials } {
  let credentials: Credentials | undefined;
  const accessKeyId = config["access.key.id"];
  const secretAccessKey = config["secret.access.key"];
  if (accessKeyId !== undefined && secretAccessKey !== undefined) credentials = { accessKeyId, secretAccessKey };
  else if (config.profile !== undefined) credentials = providers.fromIni({ profile: config.profile });
  const roleArn = config["role.arn"] ?? env.AWS_ROLE_ARN;
  // With a web identity token file, the default chain assumes the role itself.
  if (roleArn !== undefined && env.AWS_WEB_IDENTITY_TOKEN_FILE === undefined) {
    const externalId = config["role.external.id"] ?? env.AWS_ROLE_EXTERNAL_ID;
    credentials = providers.fromTemporaryCredentials({
      ...(credentials === undefined ? {} : { masterCredentials: credentials }),
      params: { RoleArn: roleArn, RoleSessionName: config["role.session.name"] ?? env.AWS_ROLE_SESSION_NAME ?? "confluent-encrypt", ...(externalId === undefined ? {} : { ExternalId: externalId }) },
      clientConfig: { region },
    });
  }
  return credentials === undefined ? {} : { credentials };
}
