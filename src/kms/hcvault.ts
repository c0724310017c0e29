/**
 * The hcvault driver: HashiCorp Vault's transit secrets engine over Vault's
 * HTTP API with `fetch` (Vault has no official Node SDK; Confluent's JS client
 * uses the community `node-vault`, which we do not need). DEKs are wrapped with
 * `POST /v1/<mount>/encrypt/<name>` (plaintext sent base64) and the returned
 * `vault:v1:…` ciphertext is stored as its UTF-8 bytes, as Confluent's clients
 * store it: a DEK one wrote, the other unwraps.
 *
 * The key id (the KEK's kmsKeyId) is a URL, `https://host:8200/transit/keys/<name>`:
 * the server is its origin, the key its last path segment, and the mount what
 * precedes `/keys/` (Confluent's JS client always uses `transit`; Tink's Java
 * Vault AEAD takes the mount from the path; all agree on the usual form).
 *
 * Credentials, as in Confluent's clients: the executor config's `token.id`,
 * else VAULT_TOKEN; with `approle.role.id` + `approle.secret.id` (or
 * VAULT_APPROLE_ROLE_ID / VAULT_APPROLE_SECRET_ID) an AppRole login gives the
 * token instead. `namespace` (VAULT_NAMESPACE) is sent as X-Vault-Namespace.
 * None of them ever appears in an error: Vault's own messages are cut short
 * and have every credential blanked before they are quoted.
 */
import type { KmsConfig, KmsDriver, KmsKey } from "../contract/keys.js";
import { KontractError } from "../errors.js";

export interface HcvaultKmsOptions {
  /** Environment variables for the credentials (VAULT_TOKEN...). Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Bound on each HTTP call to Vault, in ms (a timeout is retriable). Default 30 000. */
  timeoutMs?: number;
  /**
   * The Vault servers (URL origins, `https://vault.internal:8200`) the driver
   * may send credentials to. A key id is read from the KEK, which anyone who
   * can write the DEK registry or a contract chooses: an open list would let
   * such a writer point producers at a server of theirs and collect the token.
   * Default: the origin of VAULT_ADDR when it is set, else none (every key is
   * refused, naming this option). `"any"` trusts every server, as Confluent's
   * clients do.
   */
  origins?: readonly string[] | "any";
  /** The HTTP client; default the global `fetch`. For tests. */
  fetch?: typeof fetch;
}

/** Where a transit key lives: the server's origin, the mount and the key name. */
export interface VaultKeyRef {
  readonly origin: string;
  readonly mount: string;
  readonly name: string;
}

/**
 * Parses a Vault transit key id. Undefined when it is not an http(s) URL with
 * a key name, or when it carries a user name or password (a credential in a
 * contract, which is public: refused, never sent).
 */
export function vaultKeyOf(keyId: string): VaultKeyRef | undefined {
  let url: URL;
  let name: string | undefined;
  try {
    url = new URL(keyId);
    const last = url.pathname.split("/").at(-1);
    name = last === undefined || last === "" ? undefined : decodeURIComponent(last);
  } catch {
    // Not a URL, or a name whose %-escapes are not UTF-8.
    return undefined;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username !== "" || url.password !== "") return undefined;
  if (name === undefined) return undefined;
  const segments = url.pathname.split("/").filter((s) => s !== "");
  const keys = segments.length - 2;
  const mount = keys >= 1 && segments[keys] === "keys" ? segments.slice(0, keys).join("/") : "transit";
  return { origin: url.origin, mount, name };
}

interface Credentials {
  readonly token?: string;
  readonly namespace?: string;
  readonly approle?: { readonly roleId: string; readonly secretId: string };
}

function credentialsFrom(config: KmsConfig, env: Readonly<Record<string, string | undefined>>): Credentials {
  const pick = (key: string, envName: string): string | undefined => {
    const v = config[key] ?? env[envName];
    return v === "" ? undefined : v;
  };
  const token = pick("token.id", "VAULT_TOKEN");
  const namespace = pick("namespace", "VAULT_NAMESPACE");
  const roleId = pick("approle.role.id", "VAULT_APPROLE_ROLE_ID");
  const secretId = pick("approle.secret.id", "VAULT_APPROLE_SECRET_ID");
  return {
    ...(token === undefined ? {} : { token }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(roleId !== undefined && secretId !== undefined ? { approle: { roleId, secretId } } : {}),
  };
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Vault's answer quoted in an error, at most this long. */
const QUOTE_MAX = 200;

export function hcvaultKms(options: HcvaultKmsOptions = {}): KmsDriver {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const http = options.fetch ?? fetch;
  // AppRole tokens by server, namespace and role: one login serves every key
  // (and every DEK load) until Vault refuses the token.
  const logins = new Map<string, Promise<string>>();
  const allowed = options.origins ?? (env.VAULT_ADDR ? [env.VAULT_ADDR] : []);
  const origins = allowed === "any" ? undefined : new Set(allowed.map(originOf));

  return {
    type: "hcvault",
    key(keyId, config): KmsKey {
      const ref = vaultKeyOf(keyId);
      if (ref === undefined) throw new KontractError("encryption", "hcvault key id must be a Vault transit key URL without credentials: https://<host>:<port>/<mount>/keys/<name>");
      if (origins !== undefined && !origins.has(ref.origin)) {
        const given = origins.size === 0 ? "none given: set VAULT_ADDR or hcvaultKms({ origins })" : [...origins].join(", ");
        throw new KontractError("encryption", `hcvault key ${ref.origin}/${ref.mount}/keys/${ref.name} is not on a Vault server the driver may send its token to (${given})`);
      }
      const creds = credentialsFrom(config, env);
      if (creds.token === undefined && creds.approle === undefined) {
        throw new KontractError("encryption", "hcvault needs a token (the executor config's `token.id` or VAULT_TOKEN) or an AppRole (`approle.role.id` + `approle.secret.id`, or VAULT_APPROLE_ROLE_ID + VAULT_APPROLE_SECRET_ID)");
      }
      const secrets = [creds.token, creds.approle?.roleId, creds.approle?.secretId].filter((s): s is string => s !== undefined);
      const base = `${ref.origin}/v1/`;
      const what = `hcvault key ${ref.origin}/${ref.mount}/keys/${ref.name}`;

      /** One call to Vault; Vault's JSON answer, or a typed error. */
      async function call(path: string, body: unknown, token: string | undefined, action: string): Promise<{ status: number; json: unknown }> {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (token !== undefined) headers["x-vault-token"] = token;
        if (creds.namespace !== undefined) headers["x-vault-namespace"] = creds.namespace;
        let response: Response;
        let text: string;
        try {
          response = await http(base + path, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
          text = await response.text();
        } catch (e) {
          // The network or the timeout: the cause names neither a header nor a body.
          throw new KontractError("key-unavailable", `${what}: ${action} failed: Vault did not answer (${errorName(e)})`, { cause: e, retriable: true });
        }
        let json: unknown;
        try {
          json = text === "" ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        return { status: response.status, json };
      }

      const refused = (action: string, status: number, json: unknown): KontractError =>
        new KontractError("key-unavailable", `${what}: ${action} failed: HTTP ${status}${quote(vaultErrors(json), secrets)}`, { retriable: vaultRetriable(status) });

      async function login(approle: NonNullable<Credentials["approle"]>): Promise<string> {
        const { status, json } = await call("auth/approle/login", { role_id: approle.roleId, secret_id: approle.secretId }, undefined, "AppRole login");
        const token = (json as { auth?: { client_token?: unknown } } | undefined)?.auth?.client_token;
        if (status !== 200 || typeof token !== "string" || token === "") throw refused("AppRole login", status, json);
        return token;
      }

      const loginKey = creds.approle === undefined ? "" : JSON.stringify([ref.origin, creds.namespace, creds.approle.roleId, creds.approle.secretId]);
      function tokenFor(): Promise<string> {
        if (creds.approle === undefined) return Promise.resolve(creds.token!);
        let pending = logins.get(loginKey);
        if (pending === undefined) {
          pending = login(creds.approle);
          logins.set(loginKey, pending);
          // A failed login is not kept: the next DEK load logs in again.
          pending.catch(() => logins.delete(loginKey));
        }
        return pending;
      }

      /** A transit call; with AppRole, a refused token (expired) gets one fresh login. */
      async function transit(op: "encrypt" | "decrypt", body: Record<string, string>): Promise<Record<string, unknown>> {
        const path = `${ref!.mount}/${op}/${encodeURIComponent(ref!.name)}`;
        const pending = tokenFor();
        let { status, json } = await call(path, body, await pending, op);
        if (status === 403 && creds.approle !== undefined) {
          // The token may have expired: log in once more (unless another call already has).
          if (logins.get(loginKey) === pending) logins.delete(loginKey);
          ({ status, json } = await call(path, body, await tokenFor(), op));
        }
        const data = (json as { data?: unknown } | undefined)?.data;
        if (status !== 200 || typeof data !== "object" || data === null) throw refused(op, status, json);
        return data as Record<string, unknown>;
      }

      return {
        async wrap(plaintext) {
          const data = await transit("encrypt", { plaintext: Buffer.from(plaintext).toString("base64") });
          if (typeof data.ciphertext !== "string" || !data.ciphertext.startsWith("vault:")) {
            throw new KontractError("key-unavailable", `${what}: encrypt returned no vault: ciphertext`);
          }
          return Buffer.from(data.ciphertext, "utf8");
        },
        async unwrap(wrapped) {
          const data = await transit("decrypt", { ciphertext: Buffer.from(wrapped).toString("utf8") });
          if (typeof data.plaintext !== "string" || !BASE64.test(data.plaintext)) {
            throw new KontractError("key-unavailable", `${what}: decrypt returned no base64 plaintext`);
          }
          return Buffer.from(data.plaintext, "base64");
        },
      };
    },
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    throw new KontractError("encryption", `hcvaultKms({ origins }) or VAULT_ADDR: ${url} is not a URL`);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Worth a retry: Vault sealed or on standby (503), a performance standby
 * redirect not followed (412), rate limited (429), or any other 5xx. Every
 * other refusal (403 no permission, 400 no such key or bad ciphertext) is
 * permanent.
 */
function vaultRetriable(status: number): boolean {
  return status >= 500 || status === 429 || status === 412;
}

/** Vault's error strings (`{"errors": [...]}`), joined. */
function vaultErrors(json: unknown): string {
  const errors = (json as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === "string").join("; ") : "";
}

/** `: <message>`, short, with every credential blanked; nothing when empty. */
function quote(message: string, secrets: readonly string[]): string {
  let m = message;
  for (const s of secrets) m = m.split(s).join("<redacted>");
  m = m.replace(/[\u0000-\u001f\u007f]/g, " ");
  if (m.length > QUOTE_MAX) m = `${m.slice(0, QUOTE_MAX)}…`;
  return m === "" ? "" : `: ${m}`;
}

function errorName(e: unknown): string {
  if (e instanceof Error) {
    const code = (e.cause as { code?: unknown } | undefined)?.code;
    return typeof code === "string" ? `${e.name} ${code}` : e.name;
  }
  return "error";
}
