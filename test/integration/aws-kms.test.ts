/**
 * The aws-kms driver against a real KMS emulator (moto's server, started by scripts/infra.sh up
 * like the broker), with the AxonOps DEK registry: kontract wraps DEKs with KMS Encrypt and the
 * reference client (@confluentinc/schemaregistry's AwsKmsDriver) unwraps them, and the reverse.
 * A missing emulator is a failure, not a skip.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import { AvroDeserializer, AvroSerializer } from "@confluentinc/schemaregistry/dist/serde/avro.js";
import { SerdeType } from "@confluentinc/schemaregistry/dist/serde/serde.js";
import { FieldEncryptionExecutor } from "@confluentinc/schemaregistry/dist/rules/encryption/encrypt-executor.js";
import { AwsKmsDriver } from "@confluentinc/schemaregistry/dist/rules/encryption/awskms/aws-driver.js";
import type { Contract } from "../../src/contract/model.js";
import { createEngine, encryptionExecutors, type FailedOutcome } from "../../src/engine/index.js";
import { awsKms, awsRegionOf } from "../../src/kms/aws.js";
import { createRestDekRegistry } from "../../src/registry/rest/index.js";
import { createContractStore, createDeserializer, createSerializer } from "../../src/serde/index.js";
import { ensureInfra, uniqueName, type Infra } from "../helpers/infra.js";
import { register, registryFor, uniqueIdent } from "./kafka-support.js";

let infra: Infra;
let keyArn = "";
let confluent: SchemaRegistryClient;

before(async () => {
  infra = await ensureInfra();
  const url = infra.kmsUrl;
  // The SDK (ours and the reference's) reads these: the emulator's endpoint and dummy credentials.
  Object.assign(process.env, { AWS_ENDPOINT_URL_KMS: url, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "eu-west-1" });
  const created = await new KMSClient({ region: "eu-west-1" }).send(new CreateKeyCommand({ Description: "kontract test KEK" }));
  keyArn = created.KeyMetadata!.Arn!;
  confluent = new SchemaRegistryClient({ baseURLs: [infra.registryUrl] });
  FieldEncryptionExecutor.register();
  AwsKmsDriver.register();
});

const user = { id: "u-1", ssn: "123-45-6789" };

async function topicFor(keyId: string): Promise<{ topic: string; kek: string }> {
  const topic = uniqueName("aws");
  const kek = uniqueName("kek");
  const contract: Contract = {
    schemaType: "AVRO",
    schema: JSON.stringify({ type: "record", name: "User", namespace: uniqueIdent("aws"), fields: [{ name: "id", type: "string" }, { name: "ssn", type: "string", "confluent:tags": ["PII"] }] }),
    ruleSet: { domainRules: [{ name: "encryptPII", kind: "TRANSFORM", mode: "WRITEREAD", type: "ENCRYPT", tags: ["PII"], params: { "encrypt.kek.name": kek, "encrypt.kms.type": "aws-kms", "encrypt.kms.key.id": keyId }, onFailure: "ERROR,ERROR" }] },
  };
  await register(registryFor(infra), `${topic}-value`, contract);
  return { topic, kek };
}

function kontract() {
  const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createRestDekRegistry({ url: infra.registryUrl }), kms: [awsKms()] }) });
  const store = createContractStore({ registry: registryFor(infra), engine });
  return { ser: createSerializer({ store }), de: createDeserializer({ store }) };
}

describe("aws-kms (moto_server)", () => {
  it("reads the region from the key ARN", () => {
    assert.equal(awsRegionOf("arn:aws:kms:eu-west-1:123456789012:key/abc"), "eu-west-1");
    assert.equal(awsRegionOf("alias/mine"), undefined);
  });

  it("kontract wraps the DEK with KMS Encrypt; the reference unwraps it and decrypts", async () => {
    const { topic } = await topicFor(keyArn);
    const s = await kontract().ser.serialize(topic, user);
    assert.equal(s.kind, "serialized");
    const bytes = Buffer.from((s as { bytes: Uint8Array }).bytes);
    assert.ok(!bytes.includes("123-45-6789"));
    const theirs = (await new AvroDeserializer(confluent, SerdeType.VALUE, {}).deserialize(topic, bytes)) as typeof user;
    assert.deepEqual({ id: theirs.id, ssn: theirs.ssn }, user);
  });

  it("the reference wraps the DEK; kontract unwraps it and decrypts", async () => {
    const { topic } = await topicFor(keyArn);
    const bytes = await new AvroSerializer(confluent, SerdeType.VALUE, { useLatestVersion: true, autoRegisterSchemas: false }).serialize(topic, { ...user });
    const d = await kontract().de.deserialize(topic, bytes);
    assert.equal(d.kind, "deserialized");
    const v = (d as { value: typeof user }).value;
    assert.deepEqual({ id: v.id, ssn: v.ssn }, user);
  });

  it("a KMS key that does not exist: key-unavailable naming the KEK and subject", async () => {
    const { topic, kek } = await topicFor(keyArn.replace(/key\/.*/, "key/00000000-0000-0000-0000-000000000000"));
    const s = await kontract().ser.serialize(topic, user);
    assert.equal(s.kind, "failed");
    const v = (s as { outcome: FailedOutcome }).outcome.violations[0]!;
    assert.equal(v.code, "key-unavailable");
    assert.match(v.message, new RegExp(`KEK ${kek}, subject ${topic}-value: the KMS \\(aws-kms\\) could not wrap a new DEK`));
  });
});
