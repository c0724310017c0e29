/**
 * A FAKE of Cloud KMS's REST surface, for tests: GCP has no KMS emulator. It
 * answers the two calls a DEK needs, as the SDK's REST transport
 * (`@google-cloud/kms` with `fallback: true`) sends them:
 * `POST /v1/{cryptoKey}:encrypt` and `:decrypt`, JSON with base64 bytes.
 *
 * Authentication as Google checks a service account's self-signed JWT: the
 * bearer token must be an RS256 JWT whose signature verifies under the
 * public key of a service account the fake knows (by `client_email`), and
 * whose `iss` is that account. Its ciphertext is its own (AES-256-GCM under a
 * per-key secret, bound to the key's name), opaque to clients as Google's is.
 * A crypto key whose name starts with "denied" answers 403 PERMISSION_DENIED.
 * Real Cloud KMS checks IAM, CRC32C checksums, key states and versions; this
 * checks the request shape and the credentials' signature.
 */
import { createCipheriv, createDecipheriv, createHash, createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeGcpOptions {
  /** Service accounts by client_email: a PEM of their key (the public half is used). */
  accounts: Record<string, string>;
  /** A fixed secret for the fake's ciphertexts, so recorded vectors stay valid. Default: random. */
  secret?: Uint8Array;
}

export interface FakeGcp {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The requests seen, as "METHOD path". */
  seen: string[];
  close(): Promise<void>;
}

const KEY_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/([^/]+)$/;

export async function startFakeGcp(options: FakeGcpOptions): Promise<FakeGcp> {
  const accounts = new Map<string, KeyObject>(Object.entries(options.accounts).map(([email, pem]) => [email, createPublicKey(pem)]));
  const secret = options.secret ?? randomBytes(32);
  const seen: string[] = [];
  const keyFor = (name: string) => createHash("sha256").update(secret).update(name).digest();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, code: number, status: string, message: string) => json(res, code, { error: { code, message, status } });

  /** The service account whose self-signed JWT this is, or undefined. */
  const caller = (authorization: string | undefined): string | undefined => {
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    const [head, payload, signature] = token?.split(".") ?? [];
    if (head === undefined || payload === undefined || signature === undefined) return undefined;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss?: string };
    const key = claims.iss === undefined ? undefined : accounts.get(claims.iss);
    if (key === undefined) return undefined;
    return verify("sha256", Buffer.from(`${head}.${payload}`), key, Buffer.from(signature, "base64url")) ? claims.iss : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    seen.push(`${req.method} ${path}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const m = /^\/v1\/(.+):(encrypt|decrypt)$/.exec(path);
    if (req.method !== "POST" || m === null) return error(res, 404, "NOT_FOUND", `no route ${req.method} ${path}`);
    const [, name, op] = m as unknown as [string, string, "encrypt" | "decrypt"];
    if (caller(req.headers.authorization) === undefined) return error(res, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
    const keyName = KEY_NAME.exec(name);
    if (keyName === null) return error(res, 400, "INVALID_ARGUMENT", `Resource name [${name}] does not match any known resource name pattern.`);
    if (keyName[1]!.startsWith("denied")) return error(res, 403, "PERMISSION_DENIED", `Permission 'cloudkms.cryptoKeyVersions.useTo${op === "encrypt" ? "Encrypt" : "Decrypt"}' denied on resource '${name}' (or it may not exist).`);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { plaintext?: string; ciphertext?: string };
    const key = keyFor(name);
    if (op === "encrypt") {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const out = Buffer.concat([Buffer.from([1]), iv, cipher.update(Buffer.from(body.plaintext ?? "", "base64")), cipher.final(), cipher.getAuthTag()]);
      return json(res, 200, { name: `${name}/cryptoKeyVersions/1`, ciphertext: out.toString("base64"), protectionLevel: 1 });
    }
    const input = Buffer.from(body.ciphertext ?? "", "base64");
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, input.subarray(1, 13));
      decipher.setAuthTag(input.subarray(input.length - 16));
      const plaintext = Buffer.concat([decipher.update(input.subarray(13, input.length - 16)), decipher.final()]);
      return json(res, 200, { plaintext: plaintext.toString("base64"), usedPrimary: true, protectionLevel: 1 });
    } catch {
      return error(res, 400, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.");
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => error(res, 500, "INTERNAL", String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
