/**
 * The aws-kms driver against a real KMS emulator (moto's server, started by scripts/infra.sh up
 * like the broker), with the AxonOps DEK registry: kontract wraps DEKs with KMS Encrypt and the
 * reference client (@confluentinc/schemaregistry's AwsKmsDriver) unwraps them, and the reverse.
 * A missing emulator is a failure, not a skip.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { AwsKmsDriver } from "@confluentinc/schemaregistry/dist/rules/encryption/awskms/aws-driver.js";
import type { FailedOutcome } from "../../src/engine/index.js";
import { awsKms, awsRegionOf } from "../../src/kms/aws.js";
import { ensureInfra, type Infra } from "../helpers/infra.js";
import { encryptedTopic, kontractSerde, kontractWritesReferenceReads, referenceWritesKontractReads, user } from "./kms-support.js";

let infra: Infra;
let keyArn = "";

before(async () => {
  infra = await ensureInfra();
  const url = infra.kmsUrl;
  // The SDK (ours and the reference's) reads these: the emulator's endpoint and dummy credentials.
  Object.assign(process.env, { AWS_ENDPOINT_URL_KMS: url, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "eu-west-1" });
  const created = await new KMSClient({ region: "eu-west-1" }).send(new CreateKeyCommand({ Description: "kontract test KEK" }));
  keyArn = created.KeyMetadata!.Arn!;
  AwsKmsDriver.register();
});

const topicFor = (keyId: string) => encryptedTopic(infra, "aws-kms", keyId);
const kontract = () => kontractSerde(infra, [awsKms()]);

describe("aws-kms (moto_server)", () => {
  it("reads the region from the key ARN", () => {
    assert.equal(awsRegionOf("arn:aws:kms:eu-west-1:123456789012:key/abc"), "eu-west-1");
    assert.equal(awsRegionOf("alias/mine"), undefined);
  });

  it("kontract wraps the DEK with KMS Encrypt; the reference unwraps it and decrypts", async () => {
    const { topic } = await topicFor(keyArn);
    await kontractWritesReferenceReads(infra, topic, [awsKms()]);
  });

  it("the reference wraps the DEK; kontract unwraps it and decrypts", async () => {
    const { topic } = await topicFor(keyArn);
    await referenceWritesKontractReads(infra, topic, [awsKms()]);
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
