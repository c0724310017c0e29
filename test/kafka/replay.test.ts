/**
 * Proof of origin for DLQ replay: only records signed with the shared key may
 * skip a rule; everything a MAC covers is checked by changing it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KafkaMessage, Message } from "kafkajs";
import { isErrorCode } from "../../src/errors.js";
import { REPLAY_HEADERS, replayVerifier, signReplay, type UnverifiedReplay } from "../../src/kafka/index.js";
import { KEY_SCHEMA_ID_HEADER, VALUE_SCHEMA_ID_HEADER } from "../../src/wire/index.js";
import { mulberry32 } from "../helpers/random.js";
import { headerText, readBack } from "./fakes.js";

const KEY = "k".repeat(32);
const OLD_KEY = Buffer.alloc(32, 7);
const dead: Message = {
  key: Buffer.from("order-1"),
  value: Buffer.from([0, 0, 0, 0, 1, 2, 3]),
  headers: { trace: Buffer.from("t-1"), [REPLAY_HEADERS.rule]: [Buffer.from("older"), Buffer.from("positive")], "__rule.mode": Buffer.from("READ") },
};

function verify(record: KafkaMessage, topic = "orders", keys: (string | Uint8Array)[] = [KEY]) {
  const seen: UnverifiedReplay[] = [];
  const skip = replayVerifier({ keys, onUnverified: (u) => void seen.push(u) })(topic, 3, record);
  return { skip, seen: seen.map((u) => [u.topic, u.partition, u.offset, u.rule, u.reason]) };
}

describe("signReplay and replayVerifier", () => {
  it("a signed record skips the rule it was signed for; the rest of the record is kept", () => {
    const signed = signReplay(dead, { topic: "orders", rule: "positive" }, KEY);
    assert.equal(signed.value, dead.value);
    assert.equal(signed.key, dead.key);
    assert.equal(headerText(signed, "trace"), "t-1");
    assert.equal(signed.headers![REPLAY_HEADERS.rule], "positive", "one __rule.name, the signed one");
    assert.match(String(signed.headers![REPLAY_HEADERS.mac]), /^v1:[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(dead.headers![REPLAY_HEADERS.rule], [Buffer.from("older"), Buffer.from("positive")], "the input is not changed");
    assert.deepEqual(verify(readBack(signed, 5)), { skip: "positive", seen: [] });
  });

  it("string keys and values sign as their UTF-8 bytes, as kafkajs writes them", () => {
    const signed = signReplay({ key: "k-é", value: "{\"a\":1}" }, { topic: "orders", rule: "r" }, KEY);
    assert.equal(verify(readBack(signed, 0)).skip, "r");
  });

  it("without a MAC, __rule.name skips nothing and is reported", () => {
    assert.deepEqual(verify(readBack(dead, 5)), { skip: undefined, seen: [["orders", 3, "5", "positive", "missing-mac"]] });
  });

  it("the rule name a forger sends reaches onUnverified capped", () => {
    const { seen } = verify(readBack({ value: Buffer.from("x"), headers: { [REPLAY_HEADERS.rule]: "r".repeat(100_000) } }, 1));
    assert.match(String(seen[0]![3]), /^r{256}… \(100000 chars\)$/);
  });

  it("a record without __rule.name is not a replay: nothing to verify, nothing reported", () => {
    assert.deepEqual(verify(readBack({ value: Buffer.from("x") }, 1)), { skip: undefined, seen: [] });
  });

  it("a MAC does not survive a change to anything it covers: topic, rule, key, value, schema id headers", () => {
    const withIds: Message = { ...dead, headers: { ...dead.headers, [KEY_SCHEMA_ID_HEADER]: Buffer.from([1, 2]), [VALUE_SCHEMA_ID_HEADER]: Buffer.from([1, 3]) } };
    const signed = readBack(signReplay(withIds, { topic: "orders", rule: "positive" }, KEY), 5);
    assert.equal(verify(signed).skip, "positive");
    const changed = (change: Partial<KafkaMessage>): KafkaMessage => ({ ...signed, ...change }) as KafkaMessage;
    const headers = (name: string, value: Buffer | Buffer[] | undefined): KafkaMessage => changed({ headers: { ...signed.headers, [name]: value } });
    const tampered: [string, KafkaMessage, string?][] = [
      ["another topic", signed, "payments"],
      ["another rule", headers(REPLAY_HEADERS.rule, Buffer.from("hasId"))],
      ["a later __rule.name", headers(REPLAY_HEADERS.rule, [Buffer.from("positive"), Buffer.from("hasId")])],
      ["another value", changed({ value: Buffer.from([0, 0, 0, 0, 1, 2, 4]) })],
      ["no value", changed({ value: null })],
      ["another key", changed({ key: Buffer.from("order-2") })],
      ["no key", changed({ key: null })],
      ["an empty key instead of none", changed({ key: Buffer.alloc(0) })],
      ["another key schema id", headers(KEY_SCHEMA_ID_HEADER, Buffer.from([1, 9]))],
      ["no value schema id", headers(VALUE_SCHEMA_ID_HEADER, undefined)],
      ["a MAC of another record", headers(REPLAY_HEADERS.mac, Buffer.from(String(signReplay(dead, { topic: "orders", rule: "positive" }, KEY).headers![REPLAY_HEADERS.mac])))],
    ];
    for (const [what, record, topic] of tampered) {
      const { skip, seen } = verify(record, topic);
      assert.equal(skip, undefined, what);
      assert.equal(seen[0]?.[4], "invalid-mac", what);
    }
  });

  it("garbage MAC headers are invalid, never a crash (seeded fuzz)", () => {
    const signed = readBack(signReplay(dead, { topic: "orders", rule: "positive" }, KEY), 5);
    const mac = String(signed.headers![REPLAY_HEADERS.mac]);
    const random = mulberry32(11);
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.from(mac);
      const n = 1 + Math.floor(random() * 4);
      for (let j = 0; j < n; j++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const cut = random() < 0.2 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      if (cut.toString() === mac) continue;
      const { skip, seen } = verify({ ...signed, headers: { ...signed.headers, [REPLAY_HEADERS.mac]: cut } } as KafkaMessage);
      assert.equal(skip, undefined, cut.toString("hex"));
      assert.equal(seen[0]?.[4], "invalid-mac");
    }
  });

  it("a MAC header other than the exact text signReplay writes is invalid, even when it decodes to the same bytes", () => {
    const signed = readBack(signReplay(dead, { topic: "orders", rule: "positive" }, KEY), 5);
    const mac = String(signed.headers![REPLAY_HEADERS.mac]);
    const last = mac[mac.length - 1]!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // The last of 43 characters carries 2 spare bits: its 3 neighbours in the alphabet decode to the same 32 bytes.
    const twin = mac.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
    assert.deepEqual(Buffer.from(twin.slice(3), "base64url"), Buffer.from(mac.slice(3), "base64url"));
    for (const text of [twin, mac + "=", ` ${mac}`, mac.slice(0, 3) + "." + mac.slice(3), mac.toUpperCase(), "v2" + mac.slice(2)]) {
      const { skip, seen } = verify({ ...signed, headers: { ...signed.headers, [REPLAY_HEADERS.mac]: Buffer.from(text) } } as KafkaMessage);
      assert.equal(skip, undefined, text);
      assert.equal(seen[0]?.[4], "invalid-mac", text);
    }
  });

  it("the wrong key proves nothing; a key list verifies with each key (rotation)", () => {
    const signed = readBack(signReplay(dead, { topic: "orders", rule: "positive" }, OLD_KEY), 5);
    assert.equal(verify(signed).skip, undefined);
    assert.equal(verify(signed, "orders", [KEY, OLD_KEY]).skip, "positive");
  });

  it("keys must hold at least 32 bytes, and there must be one", () => {
    const usage = (e: unknown) => isErrorCode(e, "usage");
    assert.throws(() => replayVerifier({ keys: [] }), usage);
    assert.throws(() => replayVerifier({ keys: [KEY, "short"] }), usage);
    assert.throws(() => signReplay(dead, { topic: "orders", rule: "r" }, Buffer.alloc(31)), usage);
  });
});
