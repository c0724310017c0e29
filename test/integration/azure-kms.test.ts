/**
 * The azure-kms driver and the reference client's (@confluentinc/schemaregistry
 * AzureKmsDriver) against the same Key Vault, both ways, on the real registry
 * and DEK registry. No Key Vault emulator can be installed here (lowkey-vault
 * is not on Maven Central): the vault is a FAKE (test/kms/fake-azure.ts) with
 * the challenge handshake, a client-secret token grant, RSA-OAEP-256 encrypt
 * and decrypt under a real RSA key, over TLS with a self-signed certificate.
 * Both clients run unchanged: routeToFake() sends this process's HTTPS
 * connections for the fake's host names to it and trusts its certificate.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AzureKmsDriver } from "@confluentinc/schemaregistry/dist/rules/encryption/azurekms/azure-driver.js";
import { AZURE_KEY_VERSION_SAVE, azureKms, splitAzureVersion } from "../../src/kms/azure.js";
import { createRestDekRegistry } from "../../src/registry/rest/index.js";
import { ensureInfra, type Infra } from "../helpers/infra.js";
import { newKeyVersion, newRsaKeyPem, routeToFake, startFakeAzure, type FakeAzure } from "../kms/fake-azure.js";
import { encryptedTopic, kontractSerde, kontractWritesReferenceReads, referenceWritesKontractReads, user } from "./kms-support.js";

let infra: Infra;
let fake: FakeAzure;
const config = { "tenant.id": "kontract-tenant", "client.id": "kontract-app", "client.secret": "not-a-real-secret-but-secret" };
const version = newKeyVersion();
const keyId = "https://interop.vault.localhost/keys/kek";

before(async () => {
  infra = await ensureInfra();
  fake = await startFakeAzure({ tenant: config["tenant.id"], clientId: config["client.id"], clientSecret: config["client.secret"], keys: { kek: [{ version, privateKeyPem: newRsaKeyPem() }] } });
  routeToFake(fake);
  process.env.AZURE_AUTHORITY_HOST = fake.authorityHost;
  AzureKmsDriver.register();
});
after(() => fake?.close());

describe("azure-kms (a fake Key Vault)", () => {
  it("kontract wraps the DEK with Key Vault encrypt (RSA-OAEP-256); the reference unwraps it and decrypts", async () => {
    const { topic } = await encryptedTopic(infra, "azure-kms", keyId);
    await kontractWritesReferenceReads(infra, topic, [azureKms()], config);
    assert.ok(fake.seen.includes("POST /keys/kek//encrypt") && fake.seen.includes("POST /keys/kek//decrypt"));
  });

  it("the reference wraps the DEK; kontract unwraps it and decrypts", async () => {
    const { topic } = await encryptedTopic(infra, "azure-kms", `${keyId}/${version}`);
    await referenceWritesKontractReads(infra, topic, [azureKms()], config);
  });

  it(`a KEK with ${AZURE_KEY_VERSION_SAVE}: the registry's DEK is azure:v1:<version>:<wrapped>, and reads back`, async () => {
    const { topic, kek } = await encryptedTopic(infra, "azure-kms", keyId);
    const dekRegistry = createRestDekRegistry({ url: infra.registryUrl });
    await dekRegistry.createKek({ name: kek, kmsType: "azure-kms", kmsKeyId: keyId, kmsProps: { [AZURE_KEY_VERSION_SAVE]: "true" }, shared: false });
    const s = await kontractSerde(infra, [azureKms()], config).ser.serialize(topic, user);
    assert.equal(s.kind, "serialized");
    const dek = await dekRegistry.getDek(kek, `${topic}-value`, 1, "AES256_GCM");
    assert.equal(splitAzureVersion(Buffer.from(dek!.encryptedKeyMaterial!, "base64"))?.version, version);
    const d = await kontractSerde(infra, [azureKms()], config).de.deserialize(topic, (s as { bytes: Uint8Array }).bytes);
    assert.deepEqual((d as { value: typeof user }).value.ssn, user.ssn);
  });
});
