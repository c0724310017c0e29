/**
 * The hcvault driver against a fake Vault (a fetch that answers as Vault's HTTP API does): key id
 * parsing, what is sent, credentials from config and env, AppRole logins, and how Vault's refusals
 * map to errors, retriable or not, with no credential in any of them. The real transit engine is
 * in test/integration/hcvault.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hcvaultKms, vaultKeyOf } from "../../src/kms/hcvault.js";
import { isKontractError, type KontractError } from "../../src/errors.js";

const TOKEN = "hvs.TOKEN-never-shown";
const ROLE_ID = "role-id-never-shown";
const SECRET_ID = "secret-id-never-shown";
const KEY = "https://vault.example:8200/transit/keys/kek-1";

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

type Answer = { status: number; body?: unknown } | Error;

/** A fake Vault: records each request; `answer` decides the reply. */
function fakeVault(answer: (req: Sent) => Answer) {
  const sent: Sent[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    const req: Sent = { url, headers: init.headers as Record<string, string>, body: JSON.parse(init.body as string) as Record<string, unknown> };
    sent.push(req);
    const a = answer(req);
    if (a instanceof Error) throw a;
    return new Response(a.body === undefined ? "" : JSON.stringify(a.body), { status: a.status });
  }) as unknown as typeof globalThis.fetch;
  return { sent, fetch };
}

const encrypts = (req: Sent): Answer => ({ status: 200, body: { data: { ciphertext: `vault:v1:${String(req.body.plaintext)}`, key_version: 1 } } });

async function rejection(p: Promise<unknown>): Promise<KontractError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isKontractError(e), `not a KontractError: ${String(e)}`);
    return e;
  }
  assert.fail("resolved");
}

/** Every string an error exposes: its message and its causes' messages and names. */
function exposed(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c !== undefined && c !== null; c = (c as { cause?: unknown }).cause) {
    parts.push(String((c as Error).message), String((c as Error).name), JSON.stringify(c));
  }
  return parts.join("\n");
}

function assertNoCredentials(e: unknown): void {
  const text = exposed(e);
  for (const secret of [TOKEN, ROLE_ID, SECRET_ID]) assert.ok(!text.includes(secret), `error shows a credential: ${text}`);
}

describe("vaultKeyOf", () => {
  it("reads origin, mount and key name as Confluent's clients do", () => {
    assert.deepEqual(vaultKeyOf(KEY), { origin: "https://vault.example:8200", mount: "transit", name: "kek-1" });
    assert.deepEqual(vaultKeyOf("http://127.0.0.1:8200/secret/team-a/transit/keys/k"), { origin: "http://127.0.0.1:8200", mount: "secret/team-a/transit", name: "k" });
    // Confluent's JS client takes the last segment with the transit mount whatever the path.
    assert.deepEqual(vaultKeyOf("https://vault:8200/k2"), { origin: "https://vault:8200", mount: "transit", name: "k2" });
  });

  it("refuses what is not a key URL, and URLs with credentials in them", () => {
    for (const id of ["mykey", "arn:aws:kms:eu-west-1:1:key/x", "https://vault:8200/", "ftp://vault/transit/keys/k", "https://u:p@vault:8200/transit/keys/k", "https://vault:8200/transit/keys/%E0%A4%A"]) {
      assert.equal(vaultKeyOf(id), undefined, id);
    }
  });
});

describe("hcvault driver (fake Vault)", () => {
  it("wraps with POST /v1/<mount>/encrypt/<name>: plaintext base64, token and namespace headers, ciphertext kept as UTF-8", async () => {
    const vault = fakeVault(encrypts);
    const key = hcvaultKms({ fetch: vault.fetch, env: { VAULT_ADDR: "https://vault.example:8200" } }).key(KEY, { "token.id": TOKEN, namespace: "team-a" });
    const wrapped = await key.wrap(Buffer.from("dek bytes"));
    assert.equal(Buffer.from(wrapped).toString("utf8"), `vault:v1:${Buffer.from("dek bytes").toString("base64")}`);
    assert.equal(vault.sent.length, 1);
    const [req] = vault.sent;
    assert.equal(req!.url, "https://vault.example:8200/v1/transit/encrypt/kek-1");
    assert.equal(req!.headers["x-vault-token"], TOKEN);
    assert.equal(req!.headers["x-vault-namespace"], "team-a");
    assert.deepEqual(req!.body, { plaintext: Buffer.from("dek bytes").toString("base64") });
  });

  it("unwraps with POST /v1/<mount>/decrypt/<name>, the stored bytes sent as the ciphertext string", async () => {
    const vault = fakeVault(() => ({ status: 200, body: { data: { plaintext: Buffer.from([1, 2, 3]).toString("base64") } } }));
    const key = hcvaultKms({ fetch: vault.fetch, env: {}, origins: "any" }).key("http://v:8200/team/transit/keys/k", { "token.id": TOKEN });
    const dek = await key.unwrap(Buffer.from("vault:v1:abc", "utf8"));
    assert.deepEqual([...dek], [1, 2, 3]);
    assert.equal(vault.sent[0]!.url, "http://v:8200/v1/team/transit/decrypt/k");
    assert.deepEqual(vault.sent[0]!.body, { ciphertext: "vault:v1:abc" });
    assert.equal(vault.sent[0]!.headers["x-vault-namespace"], undefined);
  });

  it("takes the token from VAULT_TOKEN and the namespace from VAULT_NAMESPACE; the executor config wins", async () => {
    const vault = fakeVault(encrypts);
    const driver = hcvaultKms({ fetch: vault.fetch, env: { VAULT_ADDR: "https://vault.example:8200", VAULT_TOKEN: "env-token", VAULT_NAMESPACE: "env-ns" } });
    await driver.key(KEY, {}).wrap(Buffer.from("x"));
    await driver.key(KEY, { "token.id": TOKEN, namespace: "cfg-ns" }).wrap(Buffer.from("x"));
    assert.deepEqual(vault.sent.map((r) => [r.headers["x-vault-token"], r.headers["x-vault-namespace"]]), [["env-token", "env-ns"], [TOKEN, "cfg-ns"]]);
  });

  it("without a token or an AppRole: an encryption error naming the settings, before any call", () => {
    const vault = fakeVault(encrypts);
    assert.throws(
      () => hcvaultKms({ fetch: vault.fetch, env: { VAULT_ADDR: "https://vault.example:8200" } }).key(KEY, { "approle.role.id": ROLE_ID }),
      (e: unknown) => isKontractError(e) && e.code === "encryption" && /token\.id.*VAULT_TOKEN.*approle\.secret\.id/.test(e.message) && !exposed(e).includes(ROLE_ID),
    );
    assert.throws(() => hcvaultKms({ fetch: vault.fetch, env: { VAULT_ADDR: "https://vault.example:8200" } }).key("mykey", { "token.id": TOKEN }), (e: unknown) => isKontractError(e) && e.code === "encryption");
    assert.equal(vault.sent.length, 0);
  });

  it("with origins, refuses a key on any other server before sending a credential", async () => {
    const vault = fakeVault(encrypts);
    const driver = hcvaultKms({ fetch: vault.fetch, env: {}, origins: ["https://vault.example:8200/"] });
    await driver.key(KEY, { "token.id": TOKEN }).wrap(Buffer.from("x"));
    for (const other of ["https://attacker.example:8200/transit/keys/kek-1", "http://vault.example:8200/transit/keys/kek-1", "https://vault.example:8201/transit/keys/kek-1"]) {
      assert.throws(() => driver.key(other, { "token.id": TOKEN }), (e: unknown) => isKontractError(e) && e.code === "encryption" && /not on a Vault server the driver may send its token to/.test(e.message) && !exposed(e).includes(TOKEN), other);
    }
    assert.equal(vault.sent.length, 1);
    assert.throws(() => hcvaultKms({ origins: ["vault.example"] }), (e: unknown) => isKontractError(e) && e.code === "encryption");
  });

  it("trusts only VAULT_ADDR's server by default, and no server without it: a KEK cannot send the token elsewhere", async () => {
    const vault = fakeVault(encrypts);
    const fromEnv = hcvaultKms({ fetch: vault.fetch, env: { VAULT_ADDR: "https://vault.example:8200/" } });
    await fromEnv.key(KEY, { "token.id": TOKEN }).wrap(Buffer.from("x"));
    assert.throws(() => fromEnv.key("https://attacker.example/transit/keys/kek-1", { "token.id": TOKEN }), (e: unknown) => isKontractError(e) && /vault\.example:8200/.test(e.message));
    const none = hcvaultKms({ fetch: vault.fetch, env: { VAULT_TOKEN: TOKEN } });
    assert.throws(() => none.key(KEY, {}), (e: unknown) => isKontractError(e) && e.code === "encryption" && /set VAULT_ADDR or hcvaultKms\(\{ origins \}\)/.test(e.message) && !exposed(e).includes(TOKEN));
    await hcvaultKms({ fetch: vault.fetch, env: {}, origins: "any" }).key("https://elsewhere.example/transit/keys/k", { "token.id": TOKEN }).wrap(Buffer.from("x"));
    assert.equal(vault.sent.length, 2);
  });

  it("logs in with AppRole once for every key of the same server and role, and sends its token", async () => {
    let logins = 0;
    const vault = fakeVault((req) => {
      if (req.url.endsWith("/v1/auth/approle/login")) {
        logins += 1;
        assert.deepEqual(req.body, { role_id: ROLE_ID, secret_id: SECRET_ID });
        return { status: 200, body: { auth: { client_token: `login-${logins}` } } };
      }
      return encrypts(req);
    });
    const driver = hcvaultKms({ fetch: vault.fetch, env: { VAULT_ADDR: "https://vault.example:8200", VAULT_APPROLE_ROLE_ID: ROLE_ID, VAULT_APPROLE_SECRET_ID: SECRET_ID } });
    await Promise.all([driver.key(KEY, {}).wrap(Buffer.from("a")), driver.key("https://vault.example:8200/transit/keys/kek-2", {}).wrap(Buffer.from("b"))]);
    assert.equal(logins, 1);
    assert.deepEqual(vault.sent.filter((r) => r.url.includes("/encrypt/")).map((r) => r.headers["x-vault-token"]), ["login-1", "login-1"]);
    assert.equal(vault.sent[0]!.headers["x-vault-token"], undefined, "the login itself carries no token");
  });

  it("an AppRole token Vault refuses (expired) gets one fresh login, then the call succeeds", async () => {
    let logins = 0;
    const vault = fakeVault((req) => {
      if (req.url.endsWith("/login")) return { status: 200, body: { auth: { client_token: `login-${++logins}` } } };
      return req.headers["x-vault-token"] === "login-1" ? { status: 403, body: { errors: ["permission denied"] } } : encrypts(req);
    });
    const key = hcvaultKms({ fetch: vault.fetch, env: { VAULT_ADDR: "https://vault.example:8200" } }).key(KEY, { "approle.role.id": ROLE_ID, "approle.secret.id": SECRET_ID });
    await key.wrap(Buffer.from("x"));
    assert.equal(logins, 2);
  });

  it("a refused AppRole login: key-unavailable, permanent, without the role or secret id; the next load logs in again", async () => {
    let logins = 0;
    const vault = fakeVault(() => {
      logins += 1;
      return { status: 400, body: { errors: [`invalid role or secret ID ${SECRET_ID}`] } };
    });
    const key = hcvaultKms({ fetch: vault.fetch, env: { VAULT_ADDR: "https://vault.example:8200" } }).key(KEY, { "approle.role.id": ROLE_ID, "approle.secret.id": SECRET_ID });
    const e = await rejection(key.wrap(Buffer.from("x")));
    assert.equal(e.code, "key-unavailable");
    assert.equal(e.retriable, false);
    assert.match(e.message, /AppRole login failed: HTTP 400: invalid role or secret ID <redacted>/);
    assertNoCredentials(e);
    await rejection(key.wrap(Buffer.from("x")));
    assert.equal(logins, 2);
  });

  const refusals: { name: string; answer: Answer; retriable: boolean; message: RegExp }[] = [
    { name: "403 permission denied", answer: { status: 403, body: { errors: ["permission denied"] } }, retriable: false, message: /encrypt failed: HTTP 403: permission denied/ },
    { name: "400 no such key", answer: { status: 400, body: { errors: ["encryption key not found"] } }, retriable: false, message: /HTTP 400: encryption key not found/ },
    { name: "503 sealed", answer: { status: 503, body: { errors: ["Vault is sealed"] } }, retriable: true, message: /HTTP 503: Vault is sealed/ },
    { name: "500", answer: { status: 500, body: { errors: ["internal error"] } }, retriable: true, message: /HTTP 500/ },
    { name: "429 rate limited", answer: { status: 429, body: { errors: ["request path \"transit/encrypt/kek-1\": rate limit quota exceeded"] } }, retriable: true, message: /HTTP 429/ },
    { name: "412 standby", answer: { status: 412 }, retriable: true, message: /HTTP 412$/ },
    { name: "a 200 without data", answer: { status: 200, body: { warnings: [] } }, retriable: false, message: /HTTP 200$/ },
    { name: "a proxy's HTML page", answer: { status: 502, body: "<html>bad gateway</html>" }, retriable: true, message: /HTTP 502$/ },
    { name: "no answer", answer: Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }), retriable: true, message: /Vault did not answer \(TypeError ECONNREFUSED\)/ },
  ];
  for (const r of refusals) {
    it(`maps ${r.name} to key-unavailable, ${r.retriable ? "retriable" : "permanent"}, naming the key and not the token`, async () => {
      const key = hcvaultKms({ fetch: fakeVault(() => r.answer).fetch, env: { VAULT_ADDR: "https://vault.example:8200" } }).key(KEY, { "token.id": TOKEN });
      const e = await rejection(key.wrap(Buffer.from("dek")));
      assert.equal(e.code, "key-unavailable");
      assert.equal(e.retriable, r.retriable);
      assert.match(e.message, /^hcvault key https:\/\/vault\.example:8200\/transit\/keys\/kek-1: /);
      assert.match(e.message, r.message);
      assertNoCredentials(e);
    });
  }

  it("blanks a credential Vault echoes, and cuts a long answer short", async () => {
    const echo = `token ${TOKEN} is not allowed ${"x".repeat(1000)}`;
    const key = hcvaultKms({ fetch: fakeVault(() => ({ status: 403, body: { errors: [echo] } })).fetch, env: { VAULT_ADDR: "https://vault.example:8200" } }).key(KEY, { "token.id": TOKEN });
    const e = await rejection(key.unwrap(Buffer.from("vault:v1:x")));
    assertNoCredentials(e);
    assert.match(e.message, /decrypt failed: HTTP 403: token <redacted> is not allowed x+…$/);
    assert.ok(e.message.length < 400, `${e.message.length} chars`);
  });

  it("refuses a decrypt answer that is not base64 and an encrypt answer that is not a vault: ciphertext", async () => {
    const bad = hcvaultKms({ fetch: fakeVault(() => ({ status: 200, body: { data: { plaintext: "not base64!", ciphertext: "plain" } } })).fetch, env: { VAULT_ADDR: "https://vault.example:8200" } }).key(KEY, { "token.id": TOKEN });
    assert.equal((await rejection(bad.unwrap(Buffer.from("vault:v1:x")))).code, "key-unavailable");
    assert.equal((await rejection(bad.wrap(Buffer.from("x")))).code, "key-unavailable");
  });
});
