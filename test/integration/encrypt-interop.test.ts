/**
 * Field and payload encryption interop with the reference JS client, @confluentinc/schemaregistry,
 * on the real AxonOps registry (schemas and the DEK registry): kontract encrypts and the reference
 * decrypts, and the reverse; Avro, JSON Schema and Protobuf; AES256_GCM and AES256_SIV; DEK rotation.
 * Local KMS with one shared secret, as in Confluent's own tests.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
// Deep imports: the package index also loads the AWS, Azure and GCP KMS SDKs.
import { SchemaRegistryClient } from "@confluentinc/schemaregistry/dist/schemaregistry-client.js";
import { AvroDeserializer, AvroSerializer } from "@confluentinc/schemaregistry/dist/serde/avro.js";
import { JsonDeserializer, JsonSerializer } from "@confluentinc/schemaregistry/dist/serde/json.js";
import { ProtobufDeserializer, ProtobufSerializer } from "@confluentinc/schemaregistry/dist/serde/protobuf.js";
import { SerdeType } from "@confluentinc/schemaregistry/dist/serde/serde.js";
import { EncryptionExecutor, FieldEncryptionExecutor } from "@confluentinc/schemaregistry/dist/rules/encryption/encrypt-executor.js";
import { LocalKmsDriver } from "@confluentinc/schemaregistry/dist/rules/encryption/localkms/local-driver.js";
import { LocalKmsClient } from "@confluentinc/schemaregistry/dist/rules/encryption/localkms/local-client.js";
import type { Contract, Rule } from "../../src/contract/model.js";
import { createEngine, encryptionExecutors } from "../../src/engine/index.js";
import { protobufFormat } from "../../src/format/protobuf/index.js";
import { createRestDekRegistry } from "../../src/registry/rest/index.js";
import { createContractStore, createDeserializer, createSerializer } from "../../src/serde/index.js";
import { ensureInfra, uniqueName, type Infra } from "../helpers/infra.js";
import { register, registryFor, uniqueIdent } from "./kafka-support.js";

const SECRET = "mysecret";
type Algorithm = "AES256_GCM" | "AES256_SIV";
const user = { id: "u-1", ssn: "123-45-6789", email: "ada@example.com" };
const plain = (v: unknown) => {
  const o = v as typeof user;
  return { id: o.id, ssn: o.ssn, email: o.email };
};

function rules(kek: string, algorithm: Algorithm, extra: Record<string, string> = {}, payload = false): Contract["ruleSet"] {
  const params = { "encrypt.kek.name": kek, "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "mykey", "encrypt.dek.algorithm": algorithm, ...extra };
  const field: Rule = { name: "encryptPII", kind: "TRANSFORM", mode: "WRITEREAD", type: "ENCRYPT", tags: ["PII"], params, onFailure: "ERROR,ERROR" };
  return payload ? { domainRules: [field], encodingRules: [{ name: "encryptPayload", kind: "TRANSFORM", mode: "WRITEREAD", type: "ENCRYPT_PAYLOAD", params }] } : { domainRules: [field] };
}

const FORMATS = {
  Avro: (ruleSet: Contract["ruleSet"]): Contract => ({
    schemaType: "AVRO",
    schema: JSON.stringify({
      type: "record",
      name: "User",
      namespace: uniqueIdent("enc"),
      fields: [
        { name: "id", type: "string" },
        { name: "ssn", type: "string", "confluent:tags": ["PII"] },
        { name: "email", type: "string", "confluent:tags": ["PII"] },
      ],
    }),
    ruleSet,
  }),
  "JSON Schema": (ruleSet: Contract["ruleSet"]): Contract => ({
    schemaType: "JSON",
    schema: JSON.stringify({
      $schema: "http://json-schema.org/draft-07/schema#",
      title: uniqueIdent("enc"),
      type: "object",
      properties: { id: { type: "string" }, ssn: { type: "string", "confluent:tags": ["PII"] }, email: { type: "string", "confluent:tags": ["PII"] } },
      required: ["id", "ssn", "email"],
    }),
    ruleSet,
  }),
  Protobuf: (ruleSet: Contract["ruleSet"]): Contract => ({
    schemaType: "PROTOBUF",
    schema: `syntax = "proto3";\npackage ${uniqueIdent("enc")};\n\nmessage User {\n  string id = 1;\n  string ssn = 2;\n  string email = 3;\n}\n`,
    // Metadata wildcard tags: the other way to select fields.
    metadata: { tags: { "**.ssn": ["PII"], "**.email": ["PII"] } },
    ruleSet,
  }),
} as const;

const REFERENCE = {
  Avro: { Serializer: AvroSerializer, Deserializer: AvroDeserializer },
  "JSON Schema": { Serializer: JsonSerializer, Deserializer: JsonDeserializer },
  Protobuf: { Serializer: ProtobufSerializer, Deserializer: ProtobufDeserializer },
} as const;

let infra: Infra;
let confluent: SchemaRegistryClient;

before(async () => {
  infra = await ensureInfra();
  confluent = new SchemaRegistryClient({ baseURLs: [infra.registryUrl] });
  FieldEncryptionExecutor.register();
  EncryptionExecutor.register();
  LocalKmsDriver.register();
});

/** A fresh topic whose value subject holds the contract, and a fresh KEK name. */
async function setup(format: keyof typeof FORMATS, algorithm: Algorithm, extra?: Record<string, string>, payload = false) {
  const topic = uniqueName("enc");
  const kek = uniqueName("kek");
  const contract = FORMATS[format](rules(kek, algorithm, extra, payload));
  await register(registryFor(infra), `${topic}-value`, contract);
  return { topic, kek, contract };
}

/**
 * The reference serializer and the value it takes: for Protobuf a message of the schema's
 * @bufbuild registry (kontract's compiled schema holds one), for the others the plain object.
 */
function referenceWriter(format: keyof typeof FORMATS, contract: Contract) {
  const config = { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig: { secret: SECRET } };
  if (format !== "Protobuf") return { serializer: new REFERENCE[format].Serializer(confluent, SerdeType.VALUE, config), value: { ...user } };
  const schema = protobufFormat.compile(contract);
  const registry = (schema as unknown as { registry: never }).registry;
  return { serializer: new ProtobufSerializer(confluent, SerdeType.VALUE, { ...config, registry }), value: schema.coerce({ ...user }) };
}

/** kontract's serde on the same registry; a fresh engine (own DEK cache) each time. */
function kontract() {
  const engine = createEngine({ executors: encryptionExecutors({ dekRegistry: createRestDekRegistry({ url: infra.registryUrl }), config: { secret: SECRET } }) });
  const store = createContractStore({ registry: registryFor(infra), engine });
  return { ser: createSerializer({ store }), de: createDeserializer({ store }) };
}

async function kontractBytes(topic: string, value: unknown): Promise<Buffer> {
  const s = await kontract().ser.serialize(topic, value);
  assert.equal(s.kind, "serialized", s.kind === "failed" ? JSON.stringify(s.outcome.violations) : "");
  return Buffer.from((s as { bytes: Uint8Array }).bytes);
}

async function kontractRead(topic: string, bytes: Uint8Array): Promise<unknown> {
  const d = await kontract().de.deserialize(topic, bytes);
  assert.equal(d.kind, "deserialized", d.kind === "failed" ? JSON.stringify(d.outcome.violations) : "");
  return (d as { value: unknown }).value;
}

describe("encryption interop with @confluentinc/schemaregistry (AxonOps DEK registry)", () => {
  for (const format of ["Avro", "JSON Schema", "Protobuf"] as const) {
    for (const algorithm of ["AES256_GCM", "AES256_SIV"] as const) {
      it(`${format}, ${algorithm}: kontract encrypts, the reference decrypts`, async () => {
        const { topic } = await setup(format, algorithm);
        const bytes = await kontractBytes(topic, user);
        assert.ok(!bytes.includes("123-45-6789") && !bytes.includes("ada@example.com"), "PII is not on the wire in clear");
        assert.ok(bytes.includes("u-1"), "untagged fields stay in clear");
        const theirs = await new REFERENCE[format].Deserializer(confluent, SerdeType.VALUE, { ruleConfig: { secret: SECRET } }).deserialize(topic, bytes);
        assert.deepEqual(plain(theirs), user);
      });

      it(`${format}, ${algorithm}: the reference encrypts, kontract decrypts`, async () => {
        const { topic, contract } = await setup(format, algorithm);
        const { serializer, value } = referenceWriter(format, contract);
        const bytes = await serializer.serialize(topic, value as never);
        assert.ok(!bytes.includes("123-45-6789"));
        assert.deepEqual(plain(await kontractRead(topic, bytes)), user);
        if (algorithm === "AES256_SIV") {
          // Deterministic: kontract writes the reference's exact bytes with the reference's DEK.
          assert.ok((await kontractBytes(topic, user)).equals(bytes), "same DEK, same SIV ciphertext, same wire bytes");
        }
      });
    }
  }

  it("Avro, DEK rotation: kontract writes version-prefixed ciphertext the reference decrypts", async () => {
    const { topic } = await setup("Avro", "AES256_GCM", { "encrypt.dek.expiry.days": "1" });
    const bytes = await kontractBytes(topic, user);
    const theirs = await new AvroDeserializer(confluent, SerdeType.VALUE, { ruleConfig: { secret: SECRET } }).deserialize(topic, bytes);
    assert.deepEqual(plain(theirs), user);
    assert.deepEqual(plain(await kontractRead(topic, bytes)), user);
  });

  it("Avro, DEK rotation: after a new DEK version wrapped by the reference's KMS, both read versions 1 and 2", async () => {
    // The reference asks for the latest DEK at /versions/-1, which AxonOps refuses (422), so it cannot
    // write with rotation on this registry (its rotated READ path works). Version 2 is made here as a
    // rotation would: key material wrapped by the reference's local KMS, registered in the DEK registry.
    const { topic, kek } = await setup("Avro", "AES256_SIV", { "encrypt.dek.expiry.days": "1" });
    const v1 = await kontractBytes(topic, user);
    const material = Buffer.concat([Buffer.from([0x12, 0x40]), Buffer.alloc(64, 9)]);
    const wrapped = await new LocalKmsClient(SECRET).encrypt(material);
    await createRestDekRegistry({ url: infra.registryUrl }).createDek(kek, { subject: `${topic}-value`, version: 2, algorithm: "AES256_SIV", encryptedKeyMaterial: wrapped.toString("base64") });
    const v2 = await kontractBytes(topic, user);
    assert.notDeepEqual(v2, v1, "a fresh kontract writer uses the latest version, 2");
    for (const bytes of [v1, v2]) {
      const theirs = await new AvroDeserializer(confluent, SerdeType.VALUE, { ruleConfig: { secret: SECRET } }).deserialize(topic, bytes);
      assert.deepEqual(plain(theirs), user);
      assert.deepEqual(plain(await kontractRead(topic, bytes)), user);
    }
  });

  it("the reference cannot write with rotation on AxonOps (it asks for DEK version -1, refused with 422): docs/encryption.md says so", async () => {
    const { topic, contract } = await setup("Avro", "AES256_GCM", { "encrypt.dek.expiry.days": "1" });
    const { serializer, value } = referenceWriter("Avro", contract);
    await assert.rejects(serializer.serialize(topic, value as never), /Invalid version|422/);
  });

  for (const format of ["Avro", "JSON Schema", "Protobuf"] as const) {
    for (const algorithm of ["AES256_GCM", "AES256_SIV"] as const) {
      it(`${format}, ENCRYPT_PAYLOAD + ENCRYPT, ${algorithm}: both directions`, async () => {
        const { topic, contract } = await setup(format, algorithm, {}, true);
        const ours = await kontractBytes(topic, user);
        assert.ok(!ours.includes("u-1"), "the whole payload is encrypted");
        const theirs = await new REFERENCE[format].Deserializer(confluent, SerdeType.VALUE, { ruleConfig: { secret: SECRET } }).deserialize(topic, ours);
        assert.deepEqual(plain(theirs), user);
        const { serializer, value } = referenceWriter(format, contract);
        const back = await serializer.serialize(topic, value as never);
        assert.ok(!back.includes("u-1"));
        assert.deepEqual(plain(await kontractRead(topic, back)), user);
      });
    }
  }
});
