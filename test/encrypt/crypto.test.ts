/**
 * The crypto core against published vectors: RFC 5297 for AES-SIV, and the
 * "preserialized data" vectors of Confluent's JS client (schemaregistry/test/serde/avro.spec.ts:
 * local KMS with secret "mysecret", KEK kek1, an Avro record whose PII string f1 is "hello world").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { aesGcm, aesSivWith, aesSiv } from "../../src/engine/encrypt/aead.js";
import { aeadFor, generateKeyMaterial, prefixVersion, readVersion } from "../../src/engine/encrypt/key-material.js";
import { localKms } from "../../src/engine/encrypt/kms.js";
import { isErrorCode } from "../../src/errors.js";
import { DEK_ALGORITHMS } from "../../src/contract/keys.js";
import { mulberry32 } from "../helpers/random.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

test("AES-SIV matches RFC 5297 A.1 (deterministic, one header)", () => {
  const siv = aesSivWith(hex("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff"), [hex("10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627")]);
  const out = siv.seal(hex("11223344 55667788 99aabbcc ddee"));
  assert.equal(out.toString("hex"), "85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c");
  assert.equal(siv.open(out).toString("hex"), "112233445566778899aabbccddee");
});

test("AES-SIV matches RFC 5297 A.2 (three associated-data elements, a plaintext over one block)", () => {
  const siv = aesSivWith(hex("7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f"), [
    hex("00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100"),
    hex("10203040 50607080 90a0"),
    hex("09f91102 9d74e35b d84156c5 635688c0"),
  ]);
  const pt = hex("74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 696e6720 5349562d 414553");
  const out = siv.seal(pt);
  assert.equal(out.toString("hex"), "7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f748ba8af829ea64ad544a272e9c485b62a3fd5c0d");
  assert.deepEqual(siv.open(out), pt);
});

test("a flipped bit anywhere fails to open, with a typed error and no bytes in its message", () => {
  const rnd = mulberry32(15);
  for (const algorithm of DEK_ALGORITHMS) {
    const aead = aeadFor(algorithm, generateKeyMaterial(algorithm));
    for (let n = 0; n < 40; n++) {
      const pt = Buffer.from(Array.from({ length: Math.floor(rnd() * 70) }, () => Math.floor(rnd() * 256)));
      const ct = aead.seal(pt);
      assert.deepEqual(aead.open(ct), pt, `${algorithm} round trip of ${pt.length} bytes`);
      const bad = Buffer.from(ct);
      bad[Math.floor(rnd() * bad.length)]! ^= 1 << Math.floor(rnd() * 8);
      assert.throws(() => aead.open(bad), (e: unknown) => isErrorCode(e, "decrypt-failed") && !(e as Error).message.includes(pt.toString("hex").slice(0, 8) || "§"));
    }
  }
});

test("SIV is deterministic and GCM is not; output sizes are Tink's", () => {
  const siv = aeadFor("AES256_SIV", generateKeyMaterial("AES256_SIV"));
  const gcm = aeadFor("AES256_GCM", generateKeyMaterial("AES256_GCM"));
  const pt = Buffer.from("hello world");
  assert.deepEqual(siv.seal(pt), siv.seal(pt));
  assert.notDeepEqual(gcm.seal(pt), gcm.seal(pt));
  assert.equal(gcm.seal(pt).length, 11 + 28);
  assert.equal(siv.seal(pt).length, 11 + 16);
  assert.equal(siv.deterministic, true);
  assert.equal(aesSiv(Buffer.alloc(64)).deterministic, true);
});

test("key material is the Tink key proto of each algorithm", () => {
  assert.deepEqual([...generateKeyMaterial("AES256_GCM").subarray(0, 2)], [0x1a, 0x20]);
  assert.equal(generateKeyMaterial("AES256_GCM").length, 34);
  assert.deepEqual([...generateKeyMaterial("AES128_GCM").subarray(0, 2)], [0x1a, 0x10]);
  assert.deepEqual([...generateKeyMaterial("AES256_SIV").subarray(0, 2)], [0x12, 0x40]);
  // A proto with an explicit version field (08 00) still parses.
  const key = Buffer.alloc(32, 7);
  const withVersion = Buffer.concat([Buffer.from([0x08, 0x00, 0x1a, 0x20]), key]);
  const a = aeadFor("AES256_GCM", withVersion);
  assert.deepEqual(aesGcm(key).open(a.seal(Buffer.from("x"))), Buffer.from("x"));
  assert.throws(() => aeadFor("AES256_SIV", generateKeyMaterial("AES256_GCM")), (e: unknown) => isErrorCode(e, "encryption"));
});

test("the DEK version prefix is 0x00 and a big-endian int32", () => {
  const p = prefixVersion(258, Buffer.from([9]));
  assert.deepEqual([...p], [0, 0, 0, 1, 2, 9]);
  assert.equal(readVersion(p), 258);
  assert.throws(() => readVersion(Buffer.from([1, 0, 0, 0, 1])), (e: unknown) => isErrorCode(e, "decrypt-failed"));
});

/** The Avro payload of Confluent's vectors: prefix (5 bytes), then f1 as an Avro string (zigzag length). */
function f1Of(bytes: number[]): Buffer {
  const b = Buffer.from(bytes);
  assert.equal(b[5]! & 0x80, 0, "a one-byte length");
  const len = b[5]! >> 1;
  return Buffer.from(b.subarray(6, 6 + len).toString("utf8"), "base64");
}

const kek = localKms({}).key("mykey", { secret: "mysecret" });

test("Confluent vector: basic encryption (AES256_GCM)", async () => {
  const dek = await kek.unwrap(Buffer.from("07V2ndh02DA73p+dTybwZFm7DKQSZN1tEwQh+FoX1DZLk4Yj2LLu4omYjp/84tAg3BYlkfGSz+zZacJHIE4=", "base64"));
  const ct = f1Of([0, 0, 0, 0, 1, 104, 122, 103, 121, 47, 106, 70, 78, 77, 86, 47, 101, 70, 105, 108, 97, 72, 114, 77, 121, 101, 66, 103, 100, 97, 86, 122, 114, 82, 48, 117, 100, 71, 101, 111, 116, 87, 56, 99, 65, 47, 74, 97, 108, 55, 117, 107, 114, 43, 77, 47, 121, 122]);
  assert.equal(aeadFor("AES256_GCM", dek).open(ct).toString(), "hello world");
});

test("Confluent vector: deterministic encryption (AES256_SIV)", async () => {
  const dek = await kek.unwrap(Buffer.from("YSx3DTlAHrmpoDChquJMifmPntBzxgRVdMzgYL82rgWBKn7aUSnG+WIu9ozBNS3y2vXd++mBtK07w4/W/G6w0da39X9hfOVZsGnkSvry/QRht84V8yz3dqKxGMOK5A==", "base64"));
  const ct = f1Of([0, 0, 0, 0, 1, 72, 68, 54, 89, 116, 120, 114, 108, 66, 110, 107, 84, 87, 87, 57, 78, 54, 86, 98, 107, 51, 73, 73, 110, 106, 87, 72, 56, 49, 120, 109, 89, 104, 51, 107, 52, 100]);
  const siv = aeadFor("AES256_SIV", dek);
  assert.equal(siv.open(ct).toString(), "hello world");
  assert.deepEqual(siv.seal(Buffer.from("hello world")), ct, "sealing again gives Confluent's exact bytes");
});

test("Confluent vector: DEK rotation (version prefix 1)", async () => {
  const dek = await kek.unwrap(Buffer.from("W/v6hOQYq1idVAcs1pPWz9UUONMVZW4IrglTnG88TsWjeCjxmtRQ4VaNe/I5dCfm2zyY9Cu0nqdvqImtUk4=", "base64"));
  const ct = f1Of([0, 0, 0, 0, 1, 120, 65, 65, 65, 65, 65, 65, 71, 52, 72, 73, 54, 98, 49, 110, 88, 80, 88, 113, 76, 121, 71, 56, 99, 73, 73, 51, 53, 78, 72, 81, 115, 101, 113, 113, 85, 67, 100, 43, 73, 101, 76, 101, 70, 86, 65, 101, 78, 112, 83, 83, 51, 102, 120, 80, 110, 74, 51, 50, 65, 61]);
  assert.equal(readVersion(ct), 1);
  assert.equal(aeadFor("AES256_GCM", dek).open(ct.subarray(5)).toString(), "hello world");
});

test("local-kms: a wrong secret fails to unwrap; no secret is a typed error that does not echo config", async () => {
  const wrapped = await kek.wrap(generateKeyMaterial("AES128_GCM"));
  await assert.rejects(localKms({}).key("mykey", { secret: "other" }).unwrap(wrapped), (e: unknown) => isErrorCode(e, "decrypt-failed"));
  assert.throws(() => localKms({}).key("mykey", {}), (e: unknown) => isErrorCode(e, "encryption") && /LOCAL_SECRET/.test((e as Error).message));
  const fromEnv = localKms({ LOCAL_SECRET: "mysecret" }).key("any-id", {});
  assert.equal((await fromEnv.unwrap(wrapped)).length, 18);
});
