/**
 * What the KMS driver interop tests share: a topic whose value contract
 * encrypts a PII string of an Avro record under a KEK of the given KMS key,
 * kontract's serde with a driver, and the reference client's
 * (@confluentinc/schemaregistry) serializer and deserializer, all on the real
 * registry and its DEK registry.
 */
import assert from "node:assert/strict";
import { SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import { AvroDeserializer, AvroSerializer } from "@confluentinc/schemaregistry/dist/serde/avro.js";
import { SerdeType } from "@confluentinc/schemaregistry/dist/serde/serde.js";
import { FieldEncryptionExecutor } from "@confluentinc/schemaregistry/dist/rules/encryption/encrypt-executor.js";
import type { Contract } from "../../src/contract/model.js";
import { createEngine, encryptionExecutors, type KmsConfig, type KmsDriver } from "../../src/engine/index.js";
import { createRestDekRegistry } from "../../src/registry/rest/index.js";
import { createContractStore, createDeserializer, createSerializer } from "../../src/serde/index.js";
import { uniqueName, type Infra } from "../helpers/infra.js";
import { register, registryFor, uniqueIdent } from "./kafka-support.js";

export const user = { id: "u-1", ssn: "123-45-6789" };
export type User = typeof user;

let registered = false;

/** A topic whose value contract ENCRYPTs `ssn` (tag PII) under a new KEK `kek` of the KMS key. */
export async function encryptedTopic(infra: Infra, kmsType: string, keyId: string): Promise<{ topic: string; kek: string }> {
  const topic = uniqueName(kmsType.replace(/-kms$/, ""));
  const kek = uniqueName("kek");
  const contract: Contract = {
    schemaType: "AVRO",
    schema: JSON.stringify({ type: "record", name: "User", namespace: uniqueIdent("kms"), fields: [{ name: "id", type: "string" }, { name: "ssn", type: "string", "confluent:tags": ["PII"] }] }),
    ruleSet: { domainRules: [{ name: "encryptPII", kind: "TRANSFORM", mode: "WRITEREAD", type: "ENCRYPT", tags: ["PII"], params: { "encrypt.kek.name": kek, "encrypt.kms.type": kmsType, "encrypt.kms.key.id": keyId }, onFailure: "ERROR,ERROR" }] },
  };
  await register(registryFor(infra), `${topic}-value`, contract);
  return { topic, kek };
}

/** kontract's serializer and deserializer with these KMS drivers and credentials. */
export function kontractSerde(infra: Infra, kms: readonly KmsDriver[], config: KmsConfig = {}) {
  const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createRestDekRegistry({ url: infra.registryUrl }), kms, config }) });
  const store = createContractStore({ registry: registryFor(infra), engine });
  return { ser: createSerializer({ store }), de: createDeserializer({ store }) };
}

/** The reference client's serde; `ruleConfig` carries its KMS credentials. Register its KMS driver first. */
export function referenceSerde(infra: Infra, ruleConfig: Record<string, string> = {}) {
  if (!registered) {
    FieldEncryptionExecutor.register();
    registered = true;
  }
  const client = new SchemaRegistryClient({ baseURLs: [infra.registryUrl] });
  return {
    serialize: (topic: string, value: User) => new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig }).serialize(topic, { ...value }),
    deserialize: async (topic: string, bytes: Buffer) => {
      const v = (await new AvroDeserializer(client, SerdeType.VALUE, { ruleConfig }).deserialize(topic, bytes)) as User;
      return { id: v.id, ssn: v.ssn };
    },
  };
}

/** kontract serializes `user` (wrapping a new DEK with its driver); the reference client must read it back. */
export async function kontractWritesReferenceReads(infra: Infra, topic: string, kms: readonly KmsDriver[], config: KmsConfig = {}): Promise<void> {
  const s = await kontractSerde(infra, kms, config).ser.serialize(topic, user);
  assert.equal(s.kind, "serialized");
  const bytes = Buffer.from((s as { bytes: Uint8Array }).bytes);
  assert.ok(!bytes.includes(user.ssn), "the field is encrypted");
  assert.deepEqual(await referenceSerde(infra, config).deserialize(topic, bytes), user);
}

/** The reference client serializes `user` (wrapping a new DEK with its driver); kontract must read it back. */
export async function referenceWritesKontractReads(infra: Infra, topic: string, kms: readonly KmsDriver[], config: KmsConfig = {}): Promise<void> {
  const bytes = await referenceSerde(infra, config).serialize(topic, user);
  const d = await kontractSerde(infra, kms, config).de.deserialize(topic, bytes);
  assert.equal(d.kind, "deserialized");
  const v = (d as { value: User }).value;
  assert.deepEqual({ id: v.id, ssn: v.ssn }, user);
}
