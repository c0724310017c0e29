/**
 * Replaying dead letters with proof of origin.
 *
 * The Java deserializer skips the rule named in a record's `__rule.name`
 * header, so that a record replayed from the DLQ is not dead-lettered again by
 * the rule that sent it there. Taken on trust, that header lets any producer
 * skip any rule. Here the skip is off unless the consumer is given replay
 * keys, and then honoured only for a record that carries a MAC made with one
 * of them: an HMAC-SHA256 over the target topic, the rule name, the key and
 * value bytes and the schema id headers, so a MAC cannot be moved to another
 * record, topic or rule. Keys come from options only, never from a record or
 * a contract.
 */
import { createHmac, timingSafeEqual, type Hmac } from "node:crypto";
import type { ConsumedMessage as KafkaMessage, OutgoingMessage as Message, RecordHeaders as IHeaders } from "./client.js";
import { KontractError } from "../errors.js";
import { MAX_INPUT_FRAGMENT, capText } from "../util/cap.js";
import { KEY_SCHEMA_ID_HEADER, VALUE_SCHEMA_ID_HEADER } from "../wire/index.js";

export const REPLAY_HEADERS = {
  /** The rule a replayed record skips (Confluent's DLQ header). The last one counts. */
  rule: "__rule.name",
  /** kontract: proof that replay tooling holding a replay key wrote the record: `v1:` and a base64url HMAC-SHA256. */
  mac: "__kontract.replay.mac",
} as const;

/** An HMAC-SHA256 key shared by the replay tooling and the consumers: at least 32 bytes (a string counts as UTF-8). */
export type ReplayKey = string | Uint8Array;

export interface ReplayOptions {
  /** The keys a MAC may be made with. Several during a rotation: sign with the new one, verify with both. */
  keys: readonly ReplayKey[];
  /**
   * Called for a record with a `__rule.name` header and no valid MAC (its rules
   * then all run): a forgery, or replay tooling with the wrong key. Not called
   * per normal record.
   */
  onUnverified?: (record: UnverifiedReplay) => void;
}

export interface UnverifiedReplay {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The rule the record asked to skip, as the header said (sender-chosen text, capped at 256 characters). */
  readonly rule: string;
  readonly reason: "missing-mac" | "invalid-mac";
}

/** Which rule a consumed record may skip: the verified `__rule.name`, else undefined. */
export type ReplayVerifier = (topic: string, partition: number, message: KafkaMessage) => string | undefined;

const MIN_KEY_BYTES = 32;
const MAC_VERSION = "v1:";
const MAC_BYTES = 32;
/** Separates this use of the key from any other: the first thing the MAC covers. */
const DOMAIN = Buffer.from("kontract replay v1\0", "utf8");
const ABSENT = Buffer.from([0xff, 0xff, 0xff, 0xff]);

/**
 * The record replay tooling produces to `target.topic`: `message` with one
 * `__rule.name` header (the rule to skip) and its MAC. Other headers are kept;
 * `message` is not changed.
 */
export function signReplay(message: Message, target: { readonly topic: string; readonly rule: string }, key: ReplayKey): Message {
  const secret = keyBytes(key);
  const headers: IHeaders = { ...message.headers, [REPLAY_HEADERS.rule]: target.rule };
  const mac = macOf(secret, target.topic, target.rule, bytesOf(message.key), bytesOf(message.value), headers);
  headers[REPLAY_HEADERS.mac] = MAC_VERSION + mac.toString("base64url");
  return { ...message, headers };
}

/** The consumer side: checks a record's MAC against every key. */
export function replayVerifier(options: ReplayOptions): ReplayVerifier {
  if (options.keys.length === 0) throw new KontractError("usage", "replay: give at least one key (options.replay.keys)");
  const secrets = options.keys.map(keyBytes);
  const report = options.onUnverified;
  return (topic, partition, message) => {
    const rule = lastText(message.headers, REPLAY_HEADERS.rule);
    if (rule === undefined) return undefined;
    const claimed = lastText(message.headers, REPLAY_HEADERS.mac);
    if (claimed?.startsWith(MAC_VERSION)) {
      const encoded = claimed.slice(MAC_VERSION.length);
      const given = Buffer.from(encoded, "base64url");
      // Exactly what signReplay writes: base64url decoding skips stray characters and ignores spare bits.
      if (given.length === MAC_BYTES && given.toString("base64url") === encoded) {
        const key = bytesOf(message.key);
        const value = bytesOf(message.value);
        for (const secret of secrets) {
          if (timingSafeEqual(macOf(secret, topic, rule, key, value, message.headers), given)) return rule;
        }
      }
    }
    report?.({ topic, partition, offset: message.offset, rule: capText(rule, MAX_INPUT_FRAGMENT), reason: claimed === undefined ? "missing-mac" : "invalid-mac" });
    return undefined;
  };
}

/** Every field length-prefixed (absent is 0xffffffff), so no two records share an input. */
function macOf(secret: Buffer, topic: string, rule: string, key: Buffer | undefined, value: Buffer | undefined, headers: IHeaders | undefined): Buffer {
  const hmac = createHmac("sha256", secret).update(DOMAIN);
  field(hmac, Buffer.from(topic, "utf8"));
  field(hmac, Buffer.from(rule, "utf8"));
  field(hmac, key);
  field(hmac, value);
  // The schema id headers decide how the value bytes are read.
  field(hmac, lastBytes(headers, KEY_SCHEMA_ID_HEADER));
  field(hmac, lastBytes(headers, VALUE_SCHEMA_ID_HEADER));
  return hmac.digest();
}

function field(hmac: Hmac, bytes: Buffer | undefined): void {
  if (bytes === undefined) {
    hmac.update(ABSENT);
    return;
  }
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length);
  hmac.update(length).update(bytes);
}

function keyBytes(key: ReplayKey): Buffer {
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key);
  if (bytes.length < MIN_KEY_BYTES) throw new KontractError("usage", `replay: a key must hold at least ${MIN_KEY_BYTES} bytes, got ${bytes.length}`);
  return bytes;
}

/** A key or value as the bytes kafkajs writes: strings as UTF-8. */
function bytesOf(v: Buffer | string | null | undefined): Buffer | undefined {
  return v === null || v === undefined ? undefined : typeof v === "string" ? Buffer.from(v, "utf8") : v;
}

function lastBytes(headers: IHeaders | undefined, name: string): Buffer | undefined {
  const v = headers?.[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return bytesOf(last);
}

/** The last value of a header, as text (a repeated header's last one counts, as in Java). */
export function lastText(headers: IHeaders | undefined, name: string): string | undefined {
  return lastBytes(headers, name)?.toString("utf8");
}
