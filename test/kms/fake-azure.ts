/**
 * A FAKE of Azure Key Vault and of the Entra ID token endpoint, for tests: no
 * Key Vault emulator can be installed here (lowkey-vault is not on Maven
 * Central). One HTTPS server (self-signed certificate for localhost, in
 * fixtures/) answers just what the Azure SDK asks for a client-secret
 * credential and a CryptographyClient's encrypt and decrypt:
 *
 * - the Key Vault challenge handshake: a request without a bearer token gets
 *   401 with `WWW-Authenticate: Bearer authorization=<authority>/<tenant>,
 *   resource=https://localhost`, and the SDK comes back with a token;
 * - the authority's OpenID metadata, instance discovery and the client
 *   credentials token grant (the client secret is checked);
 * - `GET /keys/{name}[/{version}]` and `POST /keys/{name}[/{version}]/encrypt|
 *   decrypt|wrapkey|unwrapkey` with RSA-OAEP-256 under real RSA keys, several
 *   versions per key (the last is current), as Key Vault does.
 *
 * A key whose name starts with "denied" answers 403 Forbidden. Real Key Vault
 * checks far more (RBAC, key attributes, api-version); this checks the bytes.
 *
 * The SDK only sends a token to a vault whose host ends with "." + the
 * challenge's resource host, as a real vault `x.vault.azure.net` does for
 * `vault.azure.net`; so the fake vault is `https://kv.vault.localhost:<port>`
 * (resource `https://vault.localhost`), its authority `https://login.localhost:<port>`.
 * MSAL also asks login.microsoftonline.com for instance discovery. Those names
 * do not resolve here, and the SDKs (ours and the reference's) open their own
 * HTTPS agents, so routeToFake() makes this process's HTTPS agents connect
 * those hosts to the fake and trust the fake's certificate for them only:
 * certificate checks stay on, and nothing leaves the machine.
 */
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LookupFunction, AddressInfo } from "node:net";
import { join } from "node:path";

const fixtures = join(import.meta.dirname, "fixtures");

export interface FakeAzureOptions {
  tenant: string;
  clientId: string;
  clientSecret: string;
  /** Keys by name: their versions (32 hex), oldest first, each with its RSA private key (PEM). */
  keys: Record<string, { version: string; privateKeyPem: string }[]>;
}

export interface FakeAzure {
  /** The vault: https://kv.vault.localhost:<port> */
  url: string;
  /** The authority host (AZURE_AUTHORITY_HOST): https://login.localhost:<port> */
  authorityHost: string;
  /** The requests seen, as "METHOD path" (no query). */
  seen: string[];
  /** Adds a new current version to a key (rotation). */
  rotate(name: string, version: string, privateKeyPem: string): void;
  close(): Promise<void>;
}

/** A fresh RSA key (2048 bits) as PKCS#8 PEM. */
export function newRsaKeyPem(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** A Key Vault style key version: 32 lowercase hex characters. */
export function newKeyVersion(): string {
  return randomBytes(16).toString("hex");
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString("base64url");

export async function startFakeAzure(options: FakeAzureOptions): Promise<FakeAzure> {
  const keys = new Map(Object.entries(options.keys).map(([name, versions]) => [name, versions.map((v) => ({ version: v.version, key: createPrivateKey(v.privateKeyPem) }))]));
  const tokens = new Set<string>();
  const seen: string[] = [];
  let url = "";
  let authorityHost = "";

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? "/", url);
    seen.push(`${req.method} ${u.pathname}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const authority = `${authorityHost}/${options.tenant}`;

    // Entra ID (the "authority"): what MSAL asks before a client-credentials grant.
    if (u.pathname === "/common/discovery/instance") {
      return json(res, 200, { tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`, "api-version": "1.1", metadata: [{ preferred_network: "localhost", preferred_cache: "localhost", aliases: [u.host] }] });
    }
    if (u.pathname === `/${options.tenant}/v2.0/.well-known/openid-configuration`) {
      return json(res, 200, { token_endpoint: `${authority}/oauth2/v2.0/token`, authorization_endpoint: `${authority}/oauth2/v2.0/authorize`, issuer: `${authority}/v2.0`, end_session_endpoint: `${authority}/oauth2/v2.0/logout`, jwks_uri: `${authority}/discovery/v2.0/keys`, response_types_supported: ["code", "token"], subject_types_supported: ["pairwise"], id_token_signing_alg_values_supported: ["RS256"], scopes_supported: ["openid"] });
    }
    if (u.pathname === `/${options.tenant}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(body);
      if (form.get("client_id") !== options.clientId || form.get("client_secret") !== options.clientSecret) {
        return json(res, 401, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided.", error_codes: [7000215] });
      }
      const token = randomBytes(24).toString("hex");
      tokens.add(token);
      return json(res, 200, { token_type: "Bearer", expires_in: 3600, ext_expires_in: 3600, access_token: token });
    }

    // Key Vault: the challenge first, as the real service does for a request without a token.
    const m = /^\/keys\/([^/]+)(?:\/([^/]*))?(?:\/(encrypt|decrypt|wrapkey|unwrapkey))?\/?$/.exec(u.pathname);
    if (m === null) return json(res, 404, { error: { code: "NotFound", message: `no route ${u.pathname}` } });
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (bearer === undefined || !tokens.has(bearer)) {
      return json(res, 401, { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } }, { "www-authenticate": `Bearer authorization="${authority}", resource="https://vault.localhost"` });
    }
    const [, name, version, op] = m as unknown as [string, string, string | undefined, string | undefined];
    if (name.startsWith("denied")) {
      return json(res, 403, { error: { code: "Forbidden", message: `The user, group or application does not have keys ${op ?? "get"} permission on key vault; key ${name}`, innererror: { code: "ForbiddenByPolicy" } } });
    }
    const versions = keys.get(name);
    const found = versions === undefined ? undefined : version === undefined || version === "" ? versions.at(-1) : versions.find((v) => v.version === version);
    if (found === undefined) return json(res, 404, { error: { code: "KeyNotFound", message: `A key with (name/id) ${name}/${version ?? ""} was not found in this key vault.` } });
    const kid = `${url}/keys/${name}/${found.version}`;
    if (op === undefined) {
      const pub = createPublicKey(found.key).export({ format: "jwk" });
      return json(res, 200, { key: { kid, kty: "RSA", key_ops: ["encrypt", "decrypt", "wrapKey", "unwrapKey"], n: pub.n, e: pub.e }, attributes: { enabled: true, created: 1700000000, updated: 1700000000, recoveryLevel: "Recoverable" } });
    }
    const { alg, value } = JSON.parse(body) as { alg?: string; value?: string };
    if (alg !== "RSA-OAEP-256" || value === undefined) return json(res, 400, { error: { code: "BadParameter", message: `unsupported algorithm ${alg}` } });
    const input = Buffer.from(value, "base64url");
    const oaep = { key: found.key as KeyObject, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" };
    try {
      const out = op === "encrypt" || op === "wrapkey" ? publicEncrypt(oaep, input) : privateDecrypt(oaep, input);
      return json(res, 200, { kid, value: b64url(out) });
    } catch {
      return json(res, 400, { error: { code: "BadParameter", message: "The parameter is incorrect." } });
    }
  };

  const server: Server = createServer({ key: readFileSync(join(fixtures, "fake-tls.key")), cert: readFileSync(join(fixtures, "fake-tls.crt")) }, (req, res) => {
    handle(req, res).catch((e: unknown) => json(res, 500, { error: { code: "InternalError", message: String(e) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  url = `https://kv.vault.localhost:${port}`;
  authorityHost = `https://login.localhost:${port}`;
  return {
    url,
    authorityHost,
    seen,
    rotate(name, version, privateKeyPem) {
      const versions = keys.get(name) ?? [];
      versions.push({ version, key: createPrivateKey(privateKeyPem) });
      keys.set(name, versions);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Hosts the fake answers for: its vault and authority, and MSAL's instance discovery (always asked of login.microsoftonline.com). */
const FAKE_HOSTS = /^(?:[a-z0-9-]+\.vault\.localhost|login\.localhost|login\.microsoftonline\.com)$/;
let routedPort: number | undefined;

/**
 * See the file comment: this process's HTTPS connections to the fake's hosts
 * go to 127.0.0.1:<the fake's port> and trust only the fake's certificate.
 * Call it with each new fake (the last one wins).
 */
export function routeToFake(fake: FakeAzure): void {
  const installed = routedPort !== undefined;
  routedPort = Number(new URL(fake.url).port);
  if (installed) return;
  const ca = readFileSync(join(fixtures, "fake-tls.crt"));
  const loopback: LookupFunction = (_host, options, callback) => {
    if (typeof options === "object" && options.all === true) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
  };
  const proto = Agent.prototype as unknown as { createConnection(options: { host?: string; servername?: string; port?: number }, cb?: unknown): unknown };
  const original = proto.createConnection;
  proto.createConnection = function (options, cb) {
    const fake = options.host !== undefined && FAKE_HOSTS.test(options.host);
    return original.call(this, fake ? { ...options, port: routedPort, servername: options.host, ca, lookup: loopback } : options, cb);
  };
}
