/**
 * The azure-kms driver on its own, against a FAKE Key Vault and token endpoint
 * (fake-azure.ts: the challenge handshake, a client-secret token, encrypt and
 * decrypt with RSA-OAEP-256 under real RSA keys, over TLS with a self-signed
 * certificate): key ids parsed as Confluent's clients parse them, the
 * `azure:v1:` version prefix, a DEK recorded from the reference driver, and
 * what errors say and whether they are retried. The interop with the reference
 * client through the registry is in test/integration/azure-kms.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { after, before, describe, it } from "node:test";
import { KontractError, isKontractError } from "../../src/errors.js";
import { AZURE_KEY_VERSION_SAVE, azureKms, joinAzureVersion, parseAzureKeyId, splitAzureVersion } from "../../src/kms/azure.js";
import { newKeyVersion, newRsaKeyPem, routeToFake, startFakeAzure, type FakeAzure } from "./fake-azure.js";

const vector = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "azure-vector.json"), "utf8")) as {
  credentials: Record<string, string>;
  keyId: string;
  keyVersion: string;
  rsaPrivateKeyPem: string;
  dek: string;
  wrapped: string;
  prefixed: string;
};
const config = vector.credentials;
const SECRET = config["client.secret"]!;
const VAULT = "https://unit.vault.localhost";
const versionA = newKeyVersion();
let fake: FakeAzure;

before(async () => {
  fake = await startFakeAzure({
    tenant: config["tenant.id"]!,
    clientId: config["client.id"]!,
    clientSecret: SECRET,
    keys: { "recorded-kek": [{ version: vector.keyVersion, privateKeyPem: vector.rsaPrivateKeyPem }], rotating: [{ version: versionA, privateKeyPem: newRsaKeyPem() }] },
  });
  routeToFake(fake);
  process.env.AZURE_AUTHORITY_HOST = fake.authorityHost;
});
after(() => fake?.close());

async function rejection(p: Promise<unknown>): Promise<KontractError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  assert.ok(isKontractError(e), `expected a KontractError, got ${String(e)}`);
  return e;
}

/** The client secret appears nowhere in the error, its causes or properties. */
function assertNoSecret(e: unknown, secret = SECRET) {
  assert.ok(!inspect(e, { depth: 10, showHidden: true }).includes(secret), "the client secret leaked into the error");
}

const dek = Buffer.from(vector.dek, "base64");

describe("azure-kms key ids (as Confluent's Java, Go and JS clients parse them)", () => {
  it("vault URL, key name and the optional version", () => {
    assert.deepEqual(parseAzureKeyId("https://yokota1.vault.azure.net/keys/key1"), { vaultUrl: "https://yokota1.vault.azure.net", name: "key1", version: undefined });
    assert.deepEqual(parseAzureKeyId(`https://yokota1.vault.azure.net/keys/key1/${"a".repeat(32)}`), { vaultUrl: "https://yokota1.vault.azure.net", name: "key1", version: "a".repeat(32) });
    assert.deepEqual(parseAzureKeyId("https://v.vault.azure.net:8443/keys/key1/"), { vaultUrl: "https://v.vault.azure.net:8443", name: "key1", version: undefined });
  });

  it("refuses what they refuse, with an encryption error before any request", () => {
    for (const id of ["https://yokota1.vault.azure.net/notkeys/key1", "::not a uri::", "https://v.vault.azure.net/keys", "https://v.vault.azure.net/keys/a/b/c", "key1"]) {
      assert.throws(() => azureKms().key(id, config), (e: unknown) => isKontractError(e) && e.code === "encryption" && e.message.includes("is not a Key Vault key id"), id);
    }
  });

  it("the azure:v1: prefix: 32 hex characters and a colon; anything else is an unprefixed DEK", () => {
    const joined = joinAzureVersion("a".repeat(32), Buffer.from("wrapped-bytes"));
    assert.equal(Buffer.from(joined).toString("latin1"), `azure:v1:${"a".repeat(32)}:wrapped-bytes`);
    assert.deepEqual(splitAzureVersion(joined), { version: "a".repeat(32), wrapped: Buffer.from("wrapped-bytes") });
    assert.equal(splitAzureVersion(Buffer.from("legacy-unprefixed-ciphertext")), undefined);
    assert.equal(splitAzureVersion(Buffer.from(`azure:v1:${"a".repeat(32)};x`)), undefined);
  });
});

describe("azure-kms driver (a fake Key Vault)", () => {
  it("unwraps the DEK the reference driver wrapped (recorded vector), and its azure:v1: form with a versionless key id", async () => {
    assert.deepEqual(Buffer.from(await azureKms().key(vector.keyId, config).unwrap(Buffer.from(vector.wrapped, "base64"))), dek);
    const versionless = vector.keyId.replace(/\/[0-9a-f]{32}$/, "");
    const before = fake.seen.length;
    assert.deepEqual(Buffer.from(await azureKms().key(versionless, config).unwrap(Buffer.from(vector.prefixed, "base64"))), dek);
    assert.ok(fake.seen.slice(before).includes(`POST /keys/recorded-kek/${vector.keyVersion}/decrypt`), "the prefixed DEK is unwrapped with the version it names");
  });

  it("wraps with RSA-OAEP-256 through Key Vault encrypt, unprefixed by default", async () => {
    const key = azureKms().key(`${VAULT}/keys/rotating`, config);
    const wrapped = await key.wrap(dek);
    assert.equal(wrapped.length, 256);
    assert.equal(splitAzureVersion(wrapped), undefined);
    assert.deepEqual(Buffer.from(await key.unwrap(wrapped)), dek);
  });

  it(`${AZURE_KEY_VERSION_SAVE} (KEK kmsProps): the wrapped DEK names the key version, so it still unwraps after the key rotates`, async () => {
    const saving = azureKms().key(`${VAULT}/keys/rotating`, config, { [AZURE_KEY_VERSION_SAVE]: "true" });
    const plain = azureKms().key(`${VAULT}/keys/rotating`, config);
    const prefixed = await saving.wrap(dek);
    const unprefixed = await plain.wrap(dek);
    assert.equal(splitAzureVersion(prefixed)?.version, versionA);
    fake.rotate("rotating", newKeyVersion(), newRsaKeyPem());
    assert.deepEqual(Buffer.from(await plain.unwrap(prefixed)), dek, "a prefixed DEK unwraps whatever the setting");
    const e = await rejection(plain.unwrap(unprefixed));
    assert.equal(e.code, "key-unavailable", "without the prefix the current version is asked, and it is not the one that wrapped it");
  });

  it("a pinned key version is saved as is, without asking Key Vault for the current one", async () => {
    const before = fake.seen.length;
    const pinned = await azureKms().key(`${VAULT}/keys/rotating/${versionA}`, { ...config, [AZURE_KEY_VERSION_SAVE]: "TRUE" }).wrap(dek);
    assert.equal(splitAzureVersion(pinned)?.version, versionA);
    assert.ok(!fake.seen.slice(before).some((r) => r === "GET /keys/rotating/" || r === "GET /keys/rotating"), "no lookup of the current version");
  });

  it("a prefixed DEK whose version is not 32 hex characters is refused without a request", async () => {
    const before = fake.seen.length;
    const e = await rejection(azureKms().key(`${VAULT}/keys/rotating`, config).unwrap(Buffer.from(`azure:v1:${"g".repeat(32)}:wrapped`)));
    assert.equal(e.code, "key-unavailable");
    assert.match(e.message, /azure:v1: key version is not 32 hex characters/);
    assert.equal(fake.seen.length, before);
  });

  it("permission denied (403): key-unavailable, not retriable, Key Vault's reason, no secret", async () => {
    const e = await rejection(azureKms().key(`${VAULT}/keys/denied-kek`, config).wrap(dek));
    assert.equal(e.code, "key-unavailable");
    assert.equal(e.retriable, false);
    assert.match(e.message, /^azure-kms key https:\/\/unit\.vault\.localhost\/keys\/denied-kek: encrypt failed: RestError \(HTTP 403\): The user, group or application does not have keys encrypt permission/);
    assertNoSecret(e);
  });

  it("a client secret the authority refuses: key-unavailable, not retriable, neither secret in it", async () => {
    const wrong = "wrong-secret-value-123";
    const e = await rejection(azureKms().key(`${VAULT}/keys/rotating`, { ...config, "client.secret": wrong }).wrap(dek));
    assert.equal(e.code, "key-unavailable");
    assert.equal(e.retriable, false);
    assertNoSecret(e);
    assertNoSecret(e, wrong);
    assert.match(e.message, /encrypt failed: AuthenticationRequiredError: invalid_client: .*AADSTS7000215/);
  });

  it("a vault that cannot be reached: key-unavailable and retriable, no secret", async () => {
    const closed = await startFakeAzure({ tenant: "t", clientId: "c", clientSecret: "s", keys: {} });
    await closed.close();
    routeToFake(closed);
    try {
      // A host no pooled keep-alive connection goes to yet: routed to the closed port.
      const e = await rejection(azureKms().key("https://unreachable.vault.localhost/keys/rotating", config).wrap(dek));
      assert.equal(e.code, "key-unavailable");
      assert.equal(e.retriable, true);
      assert.match(e.message, /encrypt failed: the service could not be reached/);
      assertNoSecret(e);
    } finally {
      routeToFake(fake);
    }
  });
});
