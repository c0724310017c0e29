/**
 * The gcp-kms driver and the reference client's (@confluentinc/schemaregistry
 * GcpKmsDriver) against the same Cloud KMS, both ways, on the real registry and
 * DEK registry. GCP has no KMS emulator: the KMS is a FAKE of Cloud KMS's REST
 * `:encrypt`/`:decrypt` (test/kms/fake-gcp.ts) that checks the service
 * account's signed JWT. kontract's driver is pointed at it by its `client`
 * option; the reference builds its SDK client with credentials only, so this
 * test hands it a subclass of the SDK's client that adds the fake's endpoint
 * (REST transport), the one change made to the reference's path.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { GcpKmsDriver } from "@confluentinc/schemaregistry/dist/rules/encryption/gcpkms/gcp-driver.js";
import type { FailedOutcome } from "../../src/engine/index.js";
import { gcpKms } from "../../src/kms/gcp.js";
import { ensureInfra, type Infra } from "../helpers/infra.js";
import { startFakeGcp, type FakeGcp } from "../kms/fake-gcp.js";
import { encryptedTopic, kontractSerde, kontractWritesReferenceReads, referenceWritesKontractReads, user } from "./kms-support.js";

let infra: Infra;
let fake: FakeGcp;
const keyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
const email = "kontract-test@fake-project.iam.gserviceaccount.com";
/** The executor config both clients get: a service account (Confluent's key names). */
const config = { "client.id": "1234567890", "client.email": email, "private.key.id": "fake-key-1", "private.key": keyPair.privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
const keyName = "projects/fake-project/locations/global/keyRings/ring/cryptoKeys/kek";

before(async () => {
  infra = await ensureInfra();
  fake = await startFakeGcp({ accounts: { [email]: keyPair.publicKey.export({ type: "spki", format: "pem" }).toString() } });
  const sdk = createRequire(import.meta.url)("@google-cloud/kms") as { KeyManagementServiceClient: new (opts?: object) => object };
  const Original = sdk.KeyManagementServiceClient;
  const endpoint = { fallback: true, apiEndpoint: "127.0.0.1", port: fake.port, protocol: "http" };
  sdk.KeyManagementServiceClient = class extends Original {
    constructor(opts: object = {}) {
      super({ ...opts, ...endpoint });
    }
  };
  GcpKmsDriver.register();
});
after(() => fake?.close());

const driver = () => gcpKms({ client: { apiEndpoint: "127.0.0.1", port: fake.port, protocol: "http" } });

describe("gcp-kms (a fake Cloud KMS)", () => {
  it("kontract wraps the DEK with Cloud KMS encrypt; the reference unwraps it and decrypts", async () => {
    const { topic } = await encryptedTopic(infra, "gcp-kms", keyName);
    await kontractWritesReferenceReads(infra, topic, [driver()], config);
    assert.ok(fake.seen.some((r) => r.endsWith(`${keyName}:encrypt`)) && fake.seen.some((r) => r.endsWith(`${keyName}:decrypt`)));
  });

  it("the reference wraps the DEK; kontract unwraps it and decrypts", async () => {
    const { topic } = await encryptedTopic(infra, "gcp-kms", keyName);
    await referenceWritesKontractReads(infra, topic, [driver()], config);
  });

  it("a key the account may not use: key-unavailable naming the KEK and subject", async () => {
    const { topic, kek } = await encryptedTopic(infra, "gcp-kms", keyName.replace(/kek$/, "denied-kek"));
    const s = await kontractSerde(infra, [driver()], config).ser.serialize(topic, user);
    assert.equal(s.kind, "failed");
    const v = (s as { outcome: FailedOutcome }).outcome.violations[0]!;
    assert.equal(v.code, "key-unavailable");
    assert.match(v.message, new RegExp(`KEK ${kek}, subject ${topic}-value: the KMS \\(gcp-kms\\) could not wrap a new DEK`));
  });
});
