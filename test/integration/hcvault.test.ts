/**
 * The hcvault driver against Vault's real transit engine (tools/vault-transit, started by
 * scripts/infra.sh up like the broker), with the AxonOps DEK registry: kontract wraps DEKs with
 * transit encrypt and the reference client (@confluentinc/schemaregistry's HcVaultDriver, on
 * node-vault) unwraps them, and the reverse, for AES256_GCM and AES256_SIV. A missing Vault is a
 * failure, not a skip.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import { AvroDeserializer, AvroSerializer } from "@confluentinc/schemaregistry/dist/serde/avro.js";
import { SerdeType } from "@confluentinc/schemaregistry/dist/serde/serde.js";
import { FieldEncryptionExecutor } from "@confluentinc/schemaregistry/dist/rules/encryption/encrypt-executor.js";
import { HcVaultDriver } from "@confluentinc/schemaregistry/dist/rules/encryption/hcvault/hcvault-driver.js";
import type { DekAlgorithm } from "../../src/contract/keys.js";
import type { Contract } from "../../src/contract/model.js";
import { createEngine, encryptionExecutors, type FailedOutcome, type KmsConfig } from "../../src/engine/index.js";
import type { KontractError } from "../../src/errors.js";
import { hcvaultKms } from "../../src/kms/hcvault.js";
import { createRestDekRegistry } from "../../src/registry/rest/index.js";
import { createContractStore, createDeserializer, createSerializer } from "../../src/serde/index.js";
import { ensureInfra, uniqueName, type Infra } from "../helpers/infra.js";
import { register, registryFor, uniqueIdent } from "./kafka-support.js";

let infra: Infra;
let confluent: SchemaRegistryClient;

/** A fresh transit key (aes256-gcm96, Vault's default) and its id in Confluent's URL form. */
async function transitKey(namespace?: string): Promise<string> {
  const name = uniqueName("kek");
  const response = await fetch(`${infra.vault.url}/v1/transit/keys/${name}`, {
    method: "POST",
    headers: { "x-vault-token": infra.vault.token, ...(namespace === undefined ? {} : { "x-vault-namespace": namespace }) },
    body: JSON.stringify({ type: "aes256-gcm96" }),
  });
  assert.ok(response.ok, `creating transit key ${name}: HTTP ${response.status}`);
  return `${infra.vault.url}/transit/keys/${name}`;
}

before(async () => {
  infra = await ensureInfra();
  confluent = new SchemaRegistryClient({ baseURLs: [infra.registryUrl] });
  FieldEncryptionExecutor.register();
  HcVaultDriver.register();
});

const user = { id: "u-1", ssn: "123-45-6789" };

async function topicFor(keyId: string, algorithm: DekAlgorithm): Promise<{ topic: string; kek: string }> {
  const topic = uniqueName("vault");
  const kek = uniqueName("kek");
  const contract: Contract = {
    schemaType: "AVRO",
    schema: JSON.stringify({ type: "record", name: "User", namespace: uniqueIdent("vault"), fields: [{ name: "id", type: "string" }, { name: "ssn", type: "string", "confluent:tags": ["PII"] }] }),
    ruleSet: {
      domainRules: [
        {
          name: "encryptPII",
          kind: "TRANSFORM",
          mode: "WRITEREAD",
          type: "ENCRYPT",
          tags: ["PII"],
          params: { "encrypt.kek.name": kek, "encrypt.kms.type": "hcvault", "encrypt.kms.key.id": keyId, "encrypt.dek.algorithm": algorithm },
          onFailure: "ERROR,ERROR",
        },
      ],
    },
  };
  await register(registryFor(infra), `${topic}-value`, contract);
  return { topic, kek };
}

/** kontract's serializer and deserializer; the driver sees no environment, only `config`. */
function kontract(config: KmsConfig) {
  const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createRestDekRegistry({ url: infra.registryUrl }), kms: [hcvaultKms({ env: {}, origins: [infra.vault.url] })], config }) });
  const store = createContractStore({ registry: registryFor(infra), engine });
  return { ser: createSerializer({ store }), de: createDeserializer({ store }) };
}

/** The reference client's serde config: its HcVaultDriver reads `token.id` from the rule config. */
const reference = () => ({ useLatestVersion: true, autoRegisterSchemas: false, ruleConfig: { "token.id": infra.vault.token } });

/** Every message in an outcome: its violations, its error and the error's causes. */
function exposed(outcome: FailedOutcome): string {
  const parts = [JSON.stringify(outcome.violations)];
  for (let e: unknown = outcome.error; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join("\n");
}

async function failure(p: unknown): Promise<FailedOutcome["violations"][number]> {
  const s = (await p) as { kind: string; outcome?: FailedOutcome };
  assert.equal(s.kind, "failed");
  return s.outcome!.violations[0]!;
}

describe("hcvault (Vault transit engine)", () => {
  for (const algorithm of ["AES256_GCM", "AES256_SIV"] as const) {
    it(`${algorithm}: kontract wraps the DEK with transit encrypt; the reference unwraps it and decrypts`, async () => {
      const keyId = await transitKey();
      const { topic, kek } = await topicFor(keyId, algorithm);
      const s = await kontract({ "token.id": infra.vault.token }).ser.serialize(topic, user);
      assert.equal(s.kind, "serialized");
      const bytes = Buffer.from((s as { bytes: Uint8Array }).bytes);
      assert.ok(!bytes.includes("123-45-6789"));
      // The DEK registry holds Vault's ciphertext string as bytes, as Confluent's clients store it.
      const dek = await createRestDekRegistry({ url: infra.registryUrl }).getDek(kek, `${topic}-value`, 1, algorithm);
      assert.match(Buffer.from(dek!.encryptedKeyMaterial!, "base64").toString("utf8"), /^vault:v1:[A-Za-z0-9+/=]+$/);
      const theirs = (await new AvroDeserializer(confluent, SerdeType.VALUE, reference()).deserialize(topic, bytes)) as typeof user;
      assert.deepEqual({ id: theirs.id, ssn: theirs.ssn }, user);
    });

    it(`${algorithm}: the reference wraps the DEK; kontract unwraps it and decrypts`, async () => {
      const { topic } = await topicFor(await transitKey(), algorithm);
      const bytes = await new AvroSerializer(confluent, SerdeType.VALUE, reference()).serialize(topic, { ...user });
      assert.ok(!bytes.includes("123-45-6789"));
      const d = await kontract({ "token.id": infra.vault.token }).de.deserialize(topic, bytes);
      assert.equal(d.kind, "deserialized");
      const v = (d as { value: typeof user }).value;
      assert.deepEqual({ id: v.id, ssn: v.ssn }, user);
    });
  }

  it("logs in with AppRole and works in a namespace; the same key name outside the namespace is not found", async () => {
    const namespace = uniqueName("ns");
    const keyId = await transitKey(namespace);
    const approle = { "approle.role.id": infra.vault.roleId, "approle.secret.id": infra.vault.secretId, namespace };
    const { topic, kek } = await topicFor(keyId, "AES256_GCM");
    const s = await kontract(approle).ser.serialize(topic, user);
    assert.equal(s.kind, "serialized");
    const bytes = (s as { bytes: Uint8Array }).bytes;
    const d = await kontract(approle).de.deserialize(topic, bytes);
    assert.deepEqual((d as { value: typeof user }).value.ssn, user.ssn);
    // Without the namespace, Vault's root namespace has no such key: a typed, permanent failure.
    const v = await failure(kontract({ "token.id": infra.vault.token }).de.deserialize(topic, bytes));
    assert.equal(v.code, "key-unavailable");
    assert.match(v.message, new RegExp(`KEK ${kek}, subject ${topic}-value: the KMS \\(hcvault\\) could not unwrap DEK version 1`));
  });

  it("the reference logs in with AppRole in a namespace and wraps; kontract, with a token in that namespace, reads", async () => {
    const namespace = uniqueName("ns");
    const { topic } = await topicFor(await transitKey(namespace), "AES256_SIV");
    const ruleConfig = { "approle.role.id": infra.vault.roleId, "approle.secret.id": infra.vault.secretId, namespace };
    const bytes = await new AvroSerializer(confluent, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig }).serialize(topic, { ...user });
    const d = await kontract({ "token.id": infra.vault.token, namespace }).de.deserialize(topic, bytes);
    assert.equal(d.kind, "deserialized");
    assert.equal((d as { value: typeof user }).value.ssn, user.ssn);
  });

  it("a token Vault refuses: key-unavailable naming the KEK and subject, and no credential anywhere in the error", async () => {
    const secret = "hvs.wrong-token-must-not-leak";
    const keyId = await transitKey();
    const { topic, kek } = await topicFor(keyId, "AES256_GCM");
    const s = (await kontract({ "token.id": secret }).ser.serialize(topic, user)) as { kind: string; outcome?: FailedOutcome };
    assert.equal(s.kind, "failed");
    const v = s.outcome!.violations[0]!;
    assert.equal(v.code, "key-unavailable");
    assert.match(v.message, new RegExp(`KEK ${kek}, subject ${topic}-value: the KMS \\(hcvault\\) could not wrap a new DEK`));
    // The KMS's reason reaches the caller through the error's causes; the token does not.
    assert.match(exposed(s.outcome!), /HTTP 403: permission denied/);
    assert.ok(!exposed(s.outcome!).includes(secret));
    // The driver's own error (the violation's cause): Vault's refusal, permanent, and still no token.
    const e = await hcvaultKms({ env: { VAULT_ADDR: infra.vault.url } }).key(keyId, { "token.id": secret }).wrap(Buffer.from("dek")).then(
      () => assert.fail("wrapped with a wrong token"),
      (err: unknown) => err as KontractError,
    );
    assert.equal(e.code, "key-unavailable");
    assert.equal(e.retriable, false);
    assert.match(e.message, /encrypt failed: HTTP 403: permission denied$/);
    assert.ok(!`${e.message} ${JSON.stringify(e)}`.includes(secret));
  });

  it("a wrong AppRole secret: key-unavailable without the role or secret id", async () => {
    const wrongSecret = "wrong-secret-id-must-not-leak";
    const keyId = await transitKey();
    const { topic } = await topicFor(keyId, "AES256_GCM");
    const config = { "approle.role.id": infra.vault.roleId, "approle.secret.id": wrongSecret };
    const s = (await kontract(config).ser.serialize(topic, user)) as { kind: string; outcome?: FailedOutcome };
    assert.equal(s.kind, "failed");
    assert.equal(s.outcome!.violations[0]!.code, "key-unavailable");
    const e = await hcvaultKms({ env: { VAULT_ADDR: infra.vault.url } }).key(keyId, config).wrap(Buffer.from("dek")).then(
      () => assert.fail("wrapped after a refused login"),
      (err: unknown) => err as KontractError,
    );
    assert.match(e.message, /AppRole login failed: HTTP 400: invalid role or secret ID$/);
    assert.match(exposed(s.outcome!), /AppRole login failed: HTTP 400/);
    for (const credential of [wrongSecret, infra.vault.roleId]) assert.ok(!`${exposed(s.outcome!)} ${e.message}`.includes(credential), credential);
  });

  it("Vault unreachable: the driver's error is key-unavailable and retriable", async () => {
    const e = await hcvaultKms({ env: {}, origins: ["http://127.0.0.1:9"], timeoutMs: 5_000 }).key("http://127.0.0.1:9/transit/keys/k", { "token.id": infra.vault.token }).wrap(Buffer.from("dek")).then(
      () => assert.fail("wrapped without a Vault"),
      (err: unknown) => err as KontractError,
    );
    assert.equal(e.code, "key-unavailable");
    assert.equal(e.retriable, true);
    assert.ok(!e.message.includes(infra.vault.token));
  });
});
