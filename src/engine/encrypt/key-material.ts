/**
 * DEK key material as Confluent stores it: a serialized Tink key proto, not raw
 * key bytes (`AesGcmKey{version=1, key_value=3}`, `AesSivKey{version=1,
 * key_value=2}`), and the version prefix a rotating DEK puts before the AEAD
 * output (`0x00 ‖ int32 BE version`). Pure.
 */
import { randomBytes } from "node:crypto";
import { KontractError } from "../../errors.js";
import type { DekAlgorithm } from "../../contract/keys.js";
import { aesGcm, aesSiv, type Aead } from "./aead.js";
import { readVarint, varintEnd } from "../../util/varint.js";

const KEY_SIZE: Readonly<Record<DekAlgorithm, number>> = { AES128_GCM: 16, AES256_GCM: 32, AES256_SIV: 64 };
/** The proto field number of key_value. */
const KEY_FIELD: Readonly<Record<DekAlgorithm, number>> = { AES128_GCM: 3, AES256_GCM: 3, AES256_SIV: 2 };

/** A fresh DEK's key material (the serialized Tink key proto, version 0). */
export function generateKeyMaterial(algorithm: DekAlgorithm): Buffer {
  const key = randomBytes(KEY_SIZE[algorithm]);
  return Buffer.concat([Buffer.from([(KEY_FIELD[algorithm] << 3) | 2, key.length]), key]);
}

/** The AEAD for a DEK's key material. Throws KontractError "encryption" for material that is not the algorithm's proto. */
export function aeadFor(algorithm: DekAlgorithm, material: Uint8Array): Aead {
  const key = keyValue(material, KEY_FIELD[algorithm]);
  if (key === undefined || key.length !== KEY_SIZE[algorithm]) {
    throw new KontractError("encryption", `DEK key material is not an ${algorithm} Tink key`);
  }
  return algorithm === "AES256_SIV" ? aesSiv(key) : aesGcm(key);
}

/** The bytes of field `field` of a Tink key proto; version (field 1) and unknown fields are skipped. */
function keyValue(proto: Uint8Array, field: number): Uint8Array | undefined {
  let i = 0;
  let found: Uint8Array | undefined;
  while (i < proto.length) {
    const tag = readVarint(proto, i, 5);
    if (tag < 0) return undefined;
    i = varintEnd;
    const wire = tag % 8;
    if (wire === 0) {
      if (readVarint(proto, i, 5) < 0) return undefined;
      i = varintEnd;
    } else if (wire === 2) {
      const length = readVarint(proto, i, 5);
      if (length < 0 || varintEnd + length > proto.length) return undefined;
      if (Math.floor(tag / 8) === field) found = proto.subarray(varintEnd, varintEnd + length);
      i = varintEnd + length;
    } else {
      return undefined;
    }
  }
  return found;
}

export const VERSION_PREFIX = 5;

/** `0x00 ‖ int32 BE version ‖ ciphertext`: the form of a rotating DEK's output. */
export function prefixVersion(version: number, ciphertext: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(VERSION_PREFIX + ciphertext.length);
  out[0] = 0;
  out.writeInt32BE(version, 1);
  out.set(ciphertext, VERSION_PREFIX);
  return out;
}

/** The DEK version of a prefixed ciphertext. Throws KontractError "decrypt-failed" when there is no prefix. */
export function readVersion(ciphertext: Uint8Array): number {
  if (ciphertext.length < VERSION_PREFIX || ciphertext[0] !== 0) {
    throw new KontractError("decrypt-failed", "ciphertext has no DEK version prefix (the rule sets encrypt.dek.expiry.days)");
  }
  return Buffer.from(ciphertext.buffer, ciphertext.byteOffset, VERSION_PREFIX).readInt32BE(1);
}
