/**
 * The DEK registry client against the real registry of scripts/infra.sh (AxonOps implements
 * `/dek-registry/v1`): KEK and DEK create-on-write, the 409 race, latest versions, deleted and
 * context lookups, and caching of immutable answers.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { createRestDekRegistry } from "../../src/registry/rest/index.js";
import type { DekRegistry } from "../../src/contract/keys.js";
import { ensureInfra, uniqueName } from "../helpers/infra.js";

describe("DEK registry REST client (real registry)", () => {
  let url = "";
  let deks: DekRegistry;
  before(async () => {
    url = (await ensureInfra()).registryUrl;
    deks = createRestDekRegistry({ url });
  });

  it("an absent KEK or DEK is undefined, not an error", async () => {
    const kek = uniqueName("kek");
    assert.equal(await deks.getKek(kek), undefined);
    assert.equal(await deks.getDek(kek, "s-value", 1, "AES256_GCM"), undefined);
  });

  it("creates a KEK once: a second create loses the race (undefined) and the first one is read back", async () => {
    const name = uniqueName("kek");
    const created = await deks.createKek({ name, kmsType: "local-kms", kmsKeyId: "mykey", shared: false, doc: "test" });
    assert.deepEqual({ ...created, ts: undefined }, { name, kmsType: "local-kms", kmsKeyId: "mykey", shared: false, doc: "test", ts: undefined });
    assert.equal(await deks.createKek({ name, kmsType: "local-kms", kmsKeyId: "other", shared: false }), undefined);
    assert.equal((await deks.getKek(name))?.kmsKeyId, "mykey");
  });

  it("creates DEK versions; concurrent creates of one version leave one winner; latest follows new versions", async () => {
    const kek = uniqueName("kek");
    await deks.createKek({ name: kek, kmsType: "local-kms", kmsKeyId: "mykey", shared: false });
    const subject = uniqueName("subject");
    const racers = await Promise.all(["AAAA", "BBBB", "CCCC"].map((m) => deks.createDek(kek, { subject, version: 1, algorithm: "AES256_GCM", encryptedKeyMaterial: m })));
    const winners = racers.filter((d) => d !== undefined);
    assert.equal(winners.length, 1, "exactly one create wins; the others see 409 as undefined");
    const v1 = await deks.getDek(kek, subject, 1, "AES256_GCM");
    assert.equal(v1?.encryptedKeyMaterial, winners[0]!.encryptedKeyMaterial);
    assert.equal((await deks.getDek(kek, subject, "latest", "AES256_GCM"))?.version, 1);
    await deks.createDek(kek, { subject, version: 2, algorithm: "AES256_GCM", encryptedKeyMaterial: "DDDD" });
    assert.equal((await deks.getDek(kek, subject, "latest", "AES256_GCM"))?.version, 2, "latest is not cached past a new version");
    assert.equal(await deks.getDek(kek, subject, 1, "AES256_SIV"), undefined, "DEKs are per algorithm");
  });

  it("numbered DEK versions and KEKs are fetched once; absent ones are asked again", async () => {
    const kek = uniqueName("kek");
    const subject = uniqueName("subject");
    const calls: string[] = [];
    const counting = createRestDekRegistry({
      url,
      fetch: (input, init) => {
        calls.push(`${init?.method ?? "GET"} ${String(input).replace(url, "")}`);
        return fetch(input, init);
      },
    });
    assert.equal(await counting.getKek(kek), undefined);
    await counting.createKek({ name: kek, kmsType: "local-kms", kmsKeyId: "k", shared: false });
    assert.equal((await counting.getKek(kek))?.name, kek, "the earlier miss was not cached");
    await counting.createDek(kek, { subject, version: 1, algorithm: "AES128_GCM", encryptedKeyMaterial: "AAAA" });
    for (let i = 0; i < 3; i++) {
      await counting.getKek(kek);
      await counting.getDek(kek, subject, 1, "AES128_GCM");
    }
    assert.equal(calls.filter((c) => c.startsWith("GET") && c.includes("/deks/")).length, 1, calls.join("\n"));
    assert.equal(calls.filter((c) => c.startsWith("GET") && !c.includes("/deks")).length, 2, calls.join("\n"));
  });

  it("passes the context parameter on KEK calls", async () => {
    const name = uniqueName("kek");
    const seen: string[] = [];
    const withContext = createRestDekRegistry({ url, fetch: (input, init) => (seen.push(String(input)), fetch(input, init)) });
    await withContext.createKek({ name, kmsType: "local-kms", kmsKeyId: "k", shared: false }, { context: ".ctx1" });
    await withContext.getKek(name, { context: ".ctx1" });
    assert.ok(seen.every((u) => u.includes("context=.ctx1")), seen.join("\n"));
  });
});
