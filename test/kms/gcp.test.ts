/**
 * The gcp-kms driver on its own, against a FAKE Cloud KMS (fake-gcp.ts: REST
 * `:encrypt`/`:decrypt`, the service account's JWT checked): key names,
 * credentials, and what its errors say and whether they are retried.
 * The interop with the reference client is in test/integration/gcp-kms.test.ts.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { inspect } from "node:util";
import { after, before, describe, it } from "node:test";
import { KontractError, isKontractError } from "../../src/errors.js";
import { gcpCredentialsFrom, gcpKms } from "../../src/kms/gcp.js";
import { startFakeGcp, type FakeGcp } from "./fake-gcp.js";

const pem = () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
const account = pem();
const email = "unit@fake-project.iam.gserviceaccount.com";
const privateKey = account.export({ type: "pkcs8", format: "pem" }).toString();
const config = { "client.id": "42", "client.email": email, "private.key.id": "k1", "private.key": privateKey };
const KEY = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k";
let fake: FakeGcp;

before(async () => {
  fake = await startFakeGcp({ accounts: { [email]: privateKey } });
});
after(() => fake?.close());

const driver = (port = fake.port) => gcpKms({ client: { apiEndpoint: "127.0.0.1", port, protocol: "http" } });

/** The rejection of `p`, which must be a KontractError. */
async function rejection(p: Promise<unknown>): Promise<KontractError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  assert.ok(isKontractError(e), `expected a KontractError, got ${String(e)}`);
  return e;
}

/** Nothing of the private key, in the message or anywhere in the error and its causes. */
function assertNoSecret(e: unknown) {
  const everything = inspect(e, { depth: 10, showHidden: true });
  const body = privateKey.split("\n")[1]!;
  assert.ok(!everything.includes(body), "the private key leaked into the error");
}

describe("gcp-kms driver", () => {
  it("wraps with encrypt and unwraps with decrypt, the CryptoKey name as Confluent passes it", async () => {
    const key = driver().key(KEY, config);
    const dek = Buffer.from("1a20" + "ab".repeat(32), "hex");
    const wrapped = await key.wrap(dek);
    assert.notDeepEqual(Buffer.from(wrapped), dek);
    assert.deepEqual(Buffer.from(await key.unwrap(wrapped)), dek);
    assert.deepEqual(fake.seen.slice(-2), [`POST /v1/${KEY}:encrypt`, `POST /v1/${KEY}:decrypt`]);
  });

  it("refuses a key id that is not a CryptoKey name, before any request", () => {
    for (const id of ["mykey", `${KEY}/cryptoKeyVersions/1`, "projects/p/locations/l/keyRings/r", `gcp-kms://${KEY}`]) {
      assert.throws(() => driver().key(id, config), (e: unknown) => isKontractError(e) && e.code === "encryption" && e.message.includes("is not a Cloud KMS CryptoKey name"), id);
    }
  });

  it("a service account from the config only when all four keys are there (else the SDK's default credentials)", () => {
    assert.deepEqual(gcpCredentialsFrom(config), { type: "service_account", client_id: "42", client_email: email, private_key_id: "k1", private_key: privateKey });
    assert.equal(gcpCredentialsFrom({ ...config, "account.type": "external_account" })?.type, "external_account");
    // Literal \n escapes (a key copied from the service account's JSON file) read as Java reads them.
    assert.equal(gcpCredentialsFrom({ ...config, "private.key": privateKey.replaceAll("\n", "\\n") })?.private_key, privateKey);
    const { "private.key": _dropped, ...partial } = config;
    assert.equal(gcpCredentialsFrom(partial), undefined);
  });

  it("permission denied: key-unavailable, not retriable, Google's reason, no credential", async () => {
    const e = await rejection(driver().key(KEY.replace(/k$/, "denied-k"), config).wrap(Buffer.from("dek")));
    assert.equal(e.code, "key-unavailable");
    assert.equal(e.retriable, false);
    assert.match(e.message, /^gcp-kms key projects\/p\/.*denied-k: encrypt failed: PERMISSION_DENIED: Permission 'cloudkms.cryptoKeyVersions.useToEncrypt' denied/);
    assertNoSecret(e);
  });

  it("credentials the service does not accept: key-unavailable, not retriable, no credential", async () => {
    const other = pem().export({ type: "pkcs8", format: "pem" }).toString();
    const e = await rejection(driver().key(KEY, { ...config, "private.key": other }).unwrap(Buffer.from("x")));
    assert.equal(e.code, "key-unavailable");
    assert.equal(e.retriable, false);
    assert.match(e.message, /UNAUTHENTICATED/);
    assert.ok(!inspect(e, { depth: 10, showHidden: true }).includes(other.split("\n")[1]!));
    assertNoSecret(e);
  });

  it("an endpoint that cannot be reached: key-unavailable and retriable, no DEK and no credential in it", async () => {
    const closed = await startFakeGcp({ accounts: {} });
    await closed.close();
    const dek = Buffer.from("the-dek-plaintext-bytes");
    const e = await rejection(driver(closed.port).key(KEY, config).wrap(dek));
    assert.equal(e.code, "key-unavailable");
    assert.equal(e.retriable, true);
    assert.match(e.message, /encrypt failed: the service could not be reached \(ECONNREFUSED\)/);
    const everything = inspect(e, { depth: 10, showHidden: true });
    assert.ok(!everything.includes(dek.toString("base64")) && !everything.includes(dek.toString()), "the DEK leaked into the error");
    assertNoSecret(e);
  });
});
