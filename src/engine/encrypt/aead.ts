/**
 * The AEADs of Confluent's field and payload encryption, byte-compatible with
 * Tink's RAW primitives (docs/encryption.md, "Wire format"):
 *
 * - AES-GCM: `IV(12) ‖ ciphertext ‖ tag(16)`, empty associated data.
 * - AES-SIV (RFC 5297, deterministic): `SIV(16) ‖ ciphertext`, S2V over exactly
 *   one associated-data element of length zero (what Tink's `encrypt(pt, empty)`
 *   does; an empty list would give different bytes).
 *
 * Node's OpenSSL build has no AES-SIV cipher, so SIV is composed here from
 * OpenSSL's AES (CBC for CMAC, CTR for the keystream), checked against the
 * RFC 5297 vectors and Confluent's. Pure computation: no I/O.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { KontractError } from "../../errors.js";

/** One key, ready to seal and open messages. Built once per DEK, used for every message. */
export interface Aead {
  /** Deterministic (SIV): the same plaintext always gives the same ciphertext. */
  readonly deterministic: boolean;
  seal(plaintext: Uint8Array): Buffer;
  /** Throws KontractError "decrypt-failed" when the bytes were not sealed with this key. */
  open(ciphertext: Uint8Array): Buffer;
}

const GCM_IV = 12;
const GCM_TAG = 16;
const BLOCK = 16;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const EMPTY = Buffer.alloc(0);

export function aesGcm(key: Uint8Array): Aead {
  if (key.length !== 16 && key.length !== 32) throw keyError(`AES-GCM key of ${key.length} bytes (16 or 32 expected)`);
  const cipher = key.length === 16 ? "aes-128-gcm" : "aes-256-gcm";
  const k = createSecretKey(key);
  return {
    deterministic: false,
    seal(plaintext) {
      const iv = nextIv();
      const c = createCipheriv(cipher, k, iv, { authTagLength: GCM_TAG });
      const body = c.update(plaintext);
      c.final();
      return Buffer.concat([iv, body, c.getAuthTag()]);
    },
    open(ciphertext) {
      if (ciphertext.length < GCM_IV + GCM_TAG) throw openError();
      const d = createDecipheriv(cipher, k, ciphertext.subarray(0, GCM_IV), { authTagLength: GCM_TAG });
      d.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG));
      try {
        const body = d.update(ciphertext.subarray(GCM_IV, ciphertext.length - GCM_TAG));
        d.final();
        return body;
      } catch (e) {
        throw openError(e);
      }
    },
  };
}

/**
 * Random GCM IVs, drawn from the CSPRNG 4 KiB at a time: one randomBytes call
 * per message cost as much as the encryption itself. Each IV is used once
 * (createCipheriv copies it before the pool moves on).
 */
let ivPool = Buffer.alloc(0);
let ivOffset = 0;
function nextIv(): Buffer {
  if (ivOffset + GCM_IV > ivPool.length) {
    ivPool = randomBytes(4096);
    ivOffset = 0;
  }
  return ivPool.subarray(ivOffset, (ivOffset += GCM_IV));
}

/** AES-SIV with a 32, 48 or 64 byte key: the first half keys CMAC, the second CTR. */
export function aesSiv(key: Uint8Array): Aead {
  return aesSivWith(key, [EMPTY]);
}

/**
 * AES-SIV over fixed associated data (each element one S2V input). Confluent
 * always uses `[empty]`; other lists exist for the RFC 5297 test vectors.
 */
export function aesSivWith(key: Uint8Array, associatedData: readonly Uint8Array[]): Aead {
  if (key.length !== 32 && key.length !== 48 && key.length !== 64) throw keyError(`AES-SIV key of ${key.length} bytes (32, 48 or 64 expected)`);
  const half = key.length / 2;
  const bits = half * 8;
  const macKey = createSecretKey(key.subarray(0, half));
  const ctrKey = createSecretKey(key.subarray(half));
  const cmac = cmacFor(macKey, bits);
  // S2V's state after the associated data: the same for every message.
  let d0 = cmac(ZERO_BLOCK);
  for (const ad of associatedData) d0 = xor(dbl(d0), cmac(ad));
  const s2v = (plaintext: Uint8Array): Buffer => {
    if (plaintext.length >= BLOCK) {
      const t = Buffer.from(plaintext);
      const off = t.length - BLOCK;
      for (let i = 0; i < BLOCK; i++) t[off + i]! ^= d0[i]!;
      return cmac(t);
    }
    return cmac(xor(dbl(d0), pad(plaintext)));
  };
  const ctr = (iv: Buffer, data: Uint8Array): Buffer => {
    const q = Buffer.from(iv);
    // RFC 5297 2.6: bits 31 and 63 of the counter are cleared.
    q[8]! &= 0x7f;
    q[12]! &= 0x7f;
    const c = createCipheriv(`aes-${bits}-ctr`, ctrKey, q);
    return Buffer.concat([c.update(data), c.final()]);
  };
  return {
    deterministic: true,
    seal(plaintext) {
      const v = s2v(plaintext);
      return Buffer.concat([v, ctr(v, plaintext)]);
    },
    open(ciphertext) {
      if (ciphertext.length < BLOCK) throw openError();
      const v = Buffer.from(ciphertext.subarray(0, BLOCK));
      const plaintext = ctr(v, ciphertext.subarray(BLOCK));
      if (!timingSafeEqual(s2v(plaintext), v)) throw openError();
      return plaintext;
    },
  };
}

/** AES-CMAC (RFC 4493) under one key: subkeys derived once. */
function cmacFor(key: KeyObject, bits: number): (message: Uint8Array) => Buffer {
  const cbc = `aes-${bits}-cbc`;
  const block = (data: Uint8Array): Buffer => {
    const c = createCipheriv(cbc, key, ZERO_BLOCK).setAutoPadding(false);
    const out = Buffer.concat([c.update(data), c.final()]);
    return out.subarray(out.length - BLOCK);
  };
  const k1 = dbl(block(ZERO_BLOCK));
  const k2 = dbl(k1);
  return (message) => {
    const n = message.length;
    const complete = n > 0 && n % BLOCK === 0;
    const last = complete ? n - BLOCK : n - (n % BLOCK);
    const m = Buffer.alloc(last + BLOCK);
    m.set(message.subarray(0, last));
    const tail = complete ? Buffer.from(message.subarray(last)) : pad(message.subarray(last));
    const sub = complete ? k1 : k2;
    for (let i = 0; i < BLOCK; i++) m[last + i] = tail[i]! ^ sub[i]!;
    return block(m);
  };
}

/** Doubling in GF(2^128). */
function dbl(b: Uint8Array): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK - 1; i++) out[i] = ((b[i]! << 1) | (b[i + 1]! >>> 7)) & 0xff;
  out[BLOCK - 1] = (b[BLOCK - 1]! << 1) & 0xff;
  if (b[0]! & 0x80) out[BLOCK - 1]! ^= 0x87;
  return out;
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** 10* padding of a partial block. */
function pad(partial: Uint8Array): Buffer {
  const out = Buffer.alloc(BLOCK);
  out.set(partial);
  out[partial.length] = 0x80;
  return out;
}

function keyError(message: string): KontractError {
  return new KontractError("encryption", message);
}

/** Says nothing of the bytes: a failed open is all a caller may learn. */
function openError(cause?: unknown): KontractError {
  return new KontractError("decrypt-failed", "ciphertext did not decrypt with the key (wrong key, or altered bytes)", { cause });
}
