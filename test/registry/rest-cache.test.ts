import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isErrorCode } from "../../src/errors.js";
import { Memo } from "../../src/registry/rest/memo.js";
import { createRestRegistry } from "../../src/registry/rest/index.js";
import { createEngine } from "../../src/engine/index.js";
import { FORMATS } from "../../src/format/index.js";
import { createContractStore } from "../../src/serde/index.js";
import { type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.js";

const schema = (name: string) => JSON.stringify({ type: "record", name, fields: [{ name: "id", type: "string" }] });

let fake: FakeRegistry;
let n = 0;
const subject = () => `cache-${++n}-value`;

before(async () => {
  fake = await startFakeRegistry();
});
after(() => fake.close());

/** Requests made while `fn` runs. */
async function requestsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const start = fake.requests.length;
  await fn();
  return fake.requests.slice(start).map((r) => `${r.method} ${r.path}`);
}

describe("caching", () => {
  test("schema by id, by guid and subject versions are fetched once", async () => {
    const s = subject();
    const writer = createRestRegistry({ url: fake.url });
    const stored = await writer.register(s, { schema: schema("A") });
    const reader = createRestRegistry({ url: fake.url });
    const first = await requestsDuring(async () => {
      await reader.getById(stored.id);
      await reader.getVersion(s, 1);
      await reader.getByGuid(stored.guid!);
    });
    assert.equal(first.length, 3);
    const again = await requestsDuring(async () => {
      for (let i = 0; i < 3; i++) {
        assert.equal((await reader.getById(stored.id)).id, stored.id);
        assert.equal((await reader.getVersion(s, 1)).version, 1);
        await reader.getByGuid(stored.guid!);
      }
    });
    assert.deepEqual(again, []);
  });

  test("getById with and without a subject are cached apart", async () => {
    const s = subject();
    const stored = await createRestRegistry({ url: fake.url }).register(s, { schema: schema("B") });
    const reader = createRestRegistry({ url: fake.url });
    const made = await requestsDuring(async () => {
      await reader.getById(stored.id);
      await reader.getById(stored.id, s);
      await reader.getById(stored.id, s);
    });
    assert.equal(made.length, 2);
    assert.equal(fake.requests.at(-1)?.query.get("subject"), s);
  });

  test("latest and latest-with-metadata are not cached by the client: the contract store's latestCacheTtlMs is the one latest cache", async () => {
    const s = subject();
    const writer = createRestRegistry({ url: fake.url });
    await writer.register(s, { schema: schema("D"), metadata: { properties: { team: "x" } } });
    const reader = createRestRegistry({ url: fake.url });
    assert.equal((await reader.getVersion(s, "latest")).version, 1);
    assert.equal((await reader.getLatestWithMetadata(s, { team: "x" })).version, 1);
    await writer.register(s, { schema: schema("D2"), metadata: { properties: { team: "x" } } });
    assert.equal((await reader.getVersion(s, "latest")).version, 2);
    assert.equal((await reader.getLatestWithMetadata(s, { team: "x" })).version, 2);

    // One TTL for the whole stack: a store with latestCacheTtlMs 0 sees a new version at once.
    const store = createContractStore({ registry: reader, engine: createEngine(), formats: FORMATS, latestCacheTtlMs: 0 });
    assert.equal((await store.latest(s)).version, 2);
    await writer.register(s, { schema: schema("D3"), metadata: { properties: { team: "x" } } });
    assert.equal((await store.latest(s)).version, 3);
    assert.equal((await store.latestWithMetadata(s, { team: "x" })).version, 3);
  });

  test("latestTtlMs, the client's former latest cache, is refused with a message naming latestCacheTtlMs", () => {
    assert.throws(() => createRestRegistry({ url: fake.url, latestTtlMs: 1000 } as never), /latestTtlMs.*latestCacheTtlMs/);
  });

  test("a registration through this client drops its cached latest for that subject", async () => {
    const s = subject();
    const client = createRestRegistry({ url: fake.url });
    await client.register(s, { schema: schema("G") });
    assert.equal((await client.getVersion(s, "latest")).version, 1);
    await client.register(s, { schema: schema("G2") });
    assert.equal((await client.getVersion(s, "latest")).version, 2);
  });

  test("lookups are cached by subject and the whole body", async () => {
    const s = subject();
    const client = createRestRegistry({ url: fake.url });
    await client.register(s, { schema: schema("H"), metadata: { properties: { v: "1" } } });
    const made = await requestsDuring(async () => {
      await client.lookup(s, { schema: schema("H") });
      await client.lookup(s, { schema: schema("H") });
      await client.lookup(s, { schema: schema("H"), metadata: { properties: { v: "1" } } });
    });
    assert.equal(made.length, 2);
  });

  test("identical registrations are sent once, until the subject's config changes", async () => {
    const s = subject();
    const client = createRestRegistry({ url: fake.url });
    const posts = () => fake.count("POST", `/subjects/${s}/versions`);
    await client.register(s, { schema: schema("I") });
    await client.register(s, { schema: schema("I") });
    assert.equal(posts(), 1);
    await client.updateConfig(s, { defaultMetadata: { properties: { owner: "o" } } });
    await client.register(s, { schema: schema("I") });
    assert.equal(posts(), 2);
  });

  test("failures are not cached", async () => {
    const s = subject();
    await createRestRegistry({ url: fake.url }).register(s, { schema: schema("J") });
    const reader = createRestRegistry({ url: fake.url, retries: 0 });
    fake.failNext({ path: `/subjects/${s}/versions/1` }, { status: 500, body: { error_code: 50001, message: "boom" } });
    await assert.rejects(reader.getVersion(s, 1), (e) => isErrorCode(e, "registry"));
    assert.equal((await reader.getVersion(s, 1)).version, 1);
  });

  test("caches are bounded: the least recently used entry is evicted", async () => {
    const ids: number[] = [];
    const writer = createRestRegistry({ url: fake.url });
    for (const name of ["K1", "K2", "K3"]) ids.push((await writer.register(subject(), { schema: schema(name) })).id);
    const reader = createRestRegistry({ url: fake.url, cacheCapacity: 2 });
    await reader.getById(ids[0]);
    await reader.getById(ids[1]);
    await reader.getById(ids[0]); // now ids[1] is the least recently used
    await reader.getById(ids[2]); // evicts ids[1]
    const made = await requestsDuring(async () => {
      await reader.getById(ids[0]);
      await reader.getById(ids[2]);
      await reader.getById(ids[1]);
    });
    assert.deepEqual(made, [`GET /schemas/ids/${ids[1]}`]);
  });

  test("clearCache forgets everything", async () => {
    const s = subject();
    const client = createRestRegistry({ url: fake.url });
    const stored = await client.register(s, { schema: schema("L") });
    await client.getById(stored.id);
    client.clearCache();
    const made = await requestsDuring(() => client.getById(stored.id));
    assert.equal(made.length, 1);
  });
});

describe("coalescing", () => {
  test("concurrent identical reads share one request", async () => {
    const s = subject();
    const stored = await createRestRegistry({ url: fake.url }).register(s, { schema: schema("M"), metadata: { properties: { k: "v" } } });
    const reader = createRestRegistry({ url: fake.url });
    fake.delayMs = 30;
    try {
      const made = await requestsDuring(async () => {
        const results = await Promise.all([
          ...Array.from({ length: 5 }, () => reader.getById(stored.id)),
          ...Array.from({ length: 5 }, () => reader.getVersion(s, "latest")),
          ...Array.from({ length: 5 }, () => reader.getLatestWithMetadata(s, { k: "v" })),
          ...Array.from({ length: 5 }, () => reader.lookup(s, { schema: schema("M") })),
          ...Array.from({ length: 5 }, () => reader.versions(s)),
        ]);
        assert.equal(results[0], results[4], "the very same object");
      });
      assert.equal(made.length, 5);
    } finally {
      fake.delayMs = 0;
    }
  });

  test("concurrent identical registrations send one POST", async () => {
    const s = subject();
    const client = createRestRegistry({ url: fake.url });
    fake.delayMs = 20;
    try {
      const results = await Promise.all(Array.from({ length: 4 }, () => client.register(s, { schema: schema("N") })));
      assert.ok(results.every((r) => r.version === 1));
      assert.equal(fake.count("POST", `/subjects/${s}/versions`), 1);
    } finally {
      fake.delayMs = 0;
    }
  });

  test("a failed shared request fails every waiter, and the next call tries again", async () => {
    const s = subject();
    await createRestRegistry({ url: fake.url }).register(s, { schema: schema("O") });
    const reader = createRestRegistry({ url: fake.url, retries: 0 });
    fake.failNext({ path: `/subjects/${s}/versions/1` }, { status: 503, delayMs: 20, body: "down" });
    const made = await requestsDuring(async () => {
      const results = await Promise.allSettled([reader.getVersion(s, 1), reader.getVersion(s, 1)]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["rejected", "rejected"],
      );
    });
    assert.equal(made.length, 1);
    assert.equal((await reader.getVersion(s, 1)).version, 1);
  });
});

describe("Memo", () => {
  test("a load that was in flight during an invalidation does not store its stale result", async () => {
    const memo = new Memo<number>({ capacity: 10, ttlMs: Infinity });
    let release!: (v: number) => void;
    const pending = memo.get("k", () => new Promise<number>((resolve) => (release = resolve)));
    memo.invalidate(() => true);
    release(1);
    assert.equal(await pending, 1);
    assert.equal(memo.peek("k"), undefined);
    assert.equal(await memo.get("k", async () => 2), 2);
  });

  test("entries expire after ttlMs", () => {
    let now = 0;
    const memo = new Memo<string>({ capacity: 10, ttlMs: 100, now: () => now });
    memo.set("k", "v");
    now = 99;
    assert.equal(memo.peek("k"), "v");
    now = 100;
    assert.equal(memo.peek("k"), undefined);
    assert.equal(memo.size, 0);
  });

  test("capacity 0 stores nothing but still coalesces", async () => {
    const memo = new Memo<number>({ capacity: 0, ttlMs: Infinity });
    let loads = 0;
    const load = async () => ++loads;
    const [a, b] = await Promise.all([memo.get("k", load), memo.get("k", load)]);
    assert.equal(a, b);
    assert.equal(loads, 1);
    await memo.get("k", load);
    assert.equal(loads, 2);
  });
});
