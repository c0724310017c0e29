/**
 * Records test/kms/fixtures/azure-vector.json: a DEK wrapped by the reference
 * client's Azure driver (@confluentinc/schemaregistry AzureKmsClient, RSA-OAEP-256
 * through @azure/keyvault-keys) against the fake Key Vault holding a fresh RSA
 * key, saved with that key so the vector test can serve it again.
 * Run: node --import tsx test/kms/record-azure-vectors.ts
 *
 * The `azure:v1:` form is written from the wrapped bytes in the format of
 * Confluent's Java, Go and JS (2026-07) clients (`azure:v1:` + 32 hex + `:` +
 * wrapped): the installed reference (1.10.1) predates that option.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AzureKmsDriver } from "@confluentinc/schemaregistry/dist/rules/encryption/azurekms/azure-driver.js";
import { newKeyVersion, newRsaKeyPem, routeToFake, startFakeAzure } from "./fake-azure.js";

const tenant = "recorded-tenant";
const credentials = { "tenant.id": tenant, "client.id": "recorded-client", "client.secret": "recorded-secret" };
const keyVersion = newKeyVersion();
const rsaPrivateKeyPem = newRsaKeyPem();
const fake = await startFakeAzure({ tenant, clientId: credentials["client.id"], clientSecret: credentials["client.secret"], keys: { "recorded-kek": [{ version: keyVersion, privateKeyPem: rsaPrivateKeyPem }] } });
routeToFake(fake);
process.env.AZURE_AUTHORITY_HOST = fake.authorityHost;
try {
  const keyId = `https://recorded.vault.localhost/keys/recorded-kek/${keyVersion}`;
  // A Tink AesGcmKey proto (AES256_GCM DEK): 1a 20 ‖ 32 key bytes.
  const dek = Buffer.concat([Buffer.from([0x1a, 0x20]), randomBytes(32)]);
  const client = new AzureKmsDriver().newKmsClient(new Map(Object.entries(credentials)), `azure-kms://${keyId}`);
  const wrapped = await client.encrypt(dek);
  const prefixed = Buffer.concat([Buffer.from(`azure:v1:${keyVersion}:`, "ascii"), wrapped]);
  const vector = { recordedBy: "@confluentinc/schemaregistry 1.10.1 AzureKmsClient.encrypt (RSA-OAEP-256) against test/kms/fake-azure.ts", credentials, keyId, keyVersion, rsaPrivateKeyPem, dek: dek.toString("base64"), wrapped: wrapped.toString("base64"), prefixed: prefixed.toString("base64") };
  writeFileSync(join(import.meta.dirname, "fixtures", "azure-vector.json"), `${JSON.stringify(vector, null, 2)}\n`);
  console.log(`recorded: ${wrapped.length} wrapped bytes under key version ${keyVersion}`);
} finally {
  await fake.close();
}
