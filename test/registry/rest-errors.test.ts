import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { inspect } from "node:util";
import { isErrorCode, isKontractError, type RegistryError } from "../../src/errors.js";
import { createRestRegistry, errorRule } from "../../src/registry/rest/index.js";
import { type FakeRegistry, startFakeRegistry } from "../helpers/fake-registry.js";

const SCHEMA = JSON.stringify({ type: "record", name: "E", fields: [{ name: "id", type: "string" }] });

let fake: FakeRegistry;
let n = 0;
const subject = () => `errors-${++n}-value`;

before(async () => {
  fake = await startFakeRegistry();
});
after(() => fake.close());

function registryError(e: unknown): RegistryError {
  assert.ok(isKontractError(e), `not a KontractError: ${String(e)}`);
  assert.equal(e.name, "RegistryError");
  return e as RegistryError;
}

/** A port nobody listens on. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe("error table", () => {
  const cases: [status: number, errorCode: number | undefined, code: string, retriable: boolean][] = [
    [404, 40401, "unknown-schema", false],
    [404, 40402, "unknown-schema", false],
    [404, 40403, "unknown-schema", false],
    [404, 40408, "registry", false],
    [404, undefined, "registry", false],
    [409, 409, "registry", false],
    [422, 42201, "registry", false],
    [422, 42299, "registry", false],
    [401, 40101, "registry", false],
    [500, 50001, "registry", true],
    [500, 50003, "registry", true],
    [502, undefined, "registry", true],
    [503, undefined, "registry", true],
    [429, undefined, "registry", true],
    [408, undefined, "registry", true],
    [400, undefined, "registry", false],
  ];
  for (const [status, errorCode, code, retriable] of cases) {
    test(`HTTP ${status} error_code ${errorCode ?? "-"} -> ${code}${retriable ? ", retriable" : ""}`, () => {
      const rule = errorRule(status, errorCode);
      assert.equal(rule.code, code);
      assert.equal(rule.retriable, retriable);
    });
  }
});

describe("HTTP errors", () => {
  const client = () => createRestRegistry({ url: fake.url, retries: 0 });

  test("unknown subject: unknown-schema, 40401, message names the subject and the registry", async () => {
    const s = subject();
    const e = registryError(await client().getVersion(s, 3).catch((x: unknown) => x));
    assert.equal(e.code, "unknown-schema");
    assert.equal(e.status, 404);
    assert.equal(e.errorCode, 40401);
    assert.equal(e.retriable, false);
    assert.match(e.message, new RegExp(`^schema registry ${fake.url}: get version 3 of subject '${s}': subject not found \\(HTTP 404, error_code 40401\\)`));
  });

  test("unknown version: 40402 names the version", async () => {
    const s = subject();
    await client().register(s, { schema: SCHEMA });
    const e = registryError(await client().getVersion(s, 7).catch((x: unknown) => x));
    assert.equal(e.code, "unknown-schema");
    assert.equal(e.errorCode, 40402);
    assert.match(e.message, /get version 7 of subject/);
  });

  test("unknown schema id: 40403 names the id", async () => {
    const e = registryError(await client().getById(424242).catch((x: unknown) => x));
    assert.equal(e.code, "unknown-schema");
    assert.equal(e.errorCode, 40403);
    assert.match(e.message, /get schema id 424242: schema not found/);
  });

  test("no version with that metadata: unknown-schema naming the properties", async () => {
    const s = subject();
    await client().register(s, { schema: SCHEMA, metadata: { properties: { v: "1" } } });
    const e = registryError(await client().getLatestWithMetadata(s, { v: "9" }).catch((x: unknown) => x));
    assert.equal(e.code, "unknown-schema");
    assert.match(e.message, /with metadata \{v=9\}/);
  });

  test("409 incompatible schema: registry, not retried", async () => {
    const s = subject();
    fake.failNext({ method: "POST", path: `/subjects/${s}/versions` }, { status: 409, body: { error_code: 409, message: "Schema being registered is incompatible" } });
    const c = createRestRegistry({ url: fake.url, retries: 3, retryBackoffMs: 1 });
    const e = registryError(await c.register(s, { schema: SCHEMA }).catch((x: unknown) => x));
    assert.equal(e.code, "registry");
    assert.equal(e.errorCode, 409);
    assert.equal(e.retriable, false);
    assert.match(e.message, /register a schema under subject '.*': incompatible schema \(HTTP 409, error_code 409\): Schema being registered is incompatible/);
    assert.equal(fake.count("POST", `/subjects/${s}/versions`), 1);
  });

  test("422 invalid schema (real answer of the fake)", async () => {
    const e = registryError(await client().register(subject(), { schema: "{not json" }).catch((x: unknown) => x));
    assert.equal(e.errorCode, 42201);
    assert.equal(e.status, 422);
    assert.equal(e.code, "registry");
  });

  test("a 404 without Confluent code (wrong path) is 'registry', not 'unknown-schema'", async () => {
    const c = createRestRegistry({ url: `${fake.url}/not-a-registry`, retries: 0 });
    const e = registryError(await c.getById(1).catch((x: unknown) => x));
    assert.equal(e.code, "registry");
  });

  test("401: registry error 40101, not retried", async () => {
    const locked = await startFakeRegistry({ requireAuthorization: "Bearer right" });
    try {
      const c = createRestRegistry({ url: locked.url, auth: { bearerToken: "wrong" }, retries: 2, retryBackoffMs: 1 });
      const e = registryError(await c.subjects().catch((x: unknown) => x));
      assert.equal(e.errorCode, 40101);
      assert.equal(e.retriable, false);
      assert.equal(locked.requests.length, 1);
    } finally {
      await locked.close();
    }
  });

  test("a 200 that is not JSON or has the wrong shape is a non-retriable registry error", async () => {
    const s = subject();
    fake.failNext({ path: `/subjects/${s}/versions/1` }, { status: 200, body: "<html>hi</html>" });
    const e = registryError(await client().getVersion(s, 1).catch((x: unknown) => x));
    assert.match(e.message, /unexpected response: HTTP 200 body is not JSON/);
    fake.failNext({ path: `/subjects/${s}/versions/2` }, { status: 200, body: { subject: s, version: 2, schema: "{}" } });
    const shape = registryError(await client().getVersion(s, 2).catch((x: unknown) => x));
    assert.match(shape.message, /unexpected response: field 'id' is not an integer/);
    assert.equal(shape.retriable, false);
  });

  test("an unsupported schemaType in a response is reported, not passed on", async () => {
    fake.failNext({ path: "/schemas/ids/777" }, { status: 200, body: { schema: "x", schemaType: "XML" } });
    const e = registryError(await client().getById(777).catch((x: unknown) => x));
    assert.match(e.message, /unsupported schemaType "XML"/);
  });
});

describe("retries and timeouts", () => {
  test("a 500 is retried, then fails retriable after retries + 1 attempts", async () => {
    const s = subject();
    fake.failNext({ path: `/subjects/${s}/versions/latest` }, { status: 500, body: { error_code: 50001, message: "store error" } }, 3);
    const c = createRestRegistry({ url: fake.url, retries: 2, retryBackoffMs: 1 });
    const e = registryError(await c.getVersion(s, "latest").catch((x: unknown) => x));
    assert.equal(e.retriable, true);
    assert.equal(e.errorCode, 50001);
    assert.match(e.message, /gave up after 3 attempts/);
    assert.equal(fake.count("GET", `/subjects/${s}/versions/latest`), 3);
  });

  test("a transient 503 then success: the call succeeds", async () => {
    const s = subject();
    await createRestRegistry({ url: fake.url }).register(s, { schema: SCHEMA });
    fake.failNext({ path: `/subjects/${s}/versions/1` }, { status: 503, body: "<html>Service Unavailable</html>" });
    const c = createRestRegistry({ url: fake.url, retries: 1, retryBackoffMs: 1 });
    assert.equal((await c.getVersion(s, 1)).version, 1);
  });

  test("connection refused: registry-unreachable, retriable, after retries", async () => {
    const url = await deadUrl();
    const c = createRestRegistry({ url, retries: 2, retryBackoffMs: 1 });
    const e = registryError(await c.getById(1).catch((x: unknown) => x));
    assert.equal(e.code, "registry-unreachable");
    assert.equal(e.retriable, true);
    assert.equal(e.status, undefined);
    assert.match(e.message, new RegExp(`^schema registry ${url}: get schema id 1: cannot reach the registry \\(ECONNREFUSED\\) \\(gave up after 3 attempts\\)$`));
  });

  test("a dropped connection is registry-unreachable", async () => {
    fake.failNext({ path: "/subjects" }, { destroy: true });
    const e = registryError(await createRestRegistry({ url: fake.url, retries: 0 }).subjects().catch((x: unknown) => x));
    assert.equal(e.code, "registry-unreachable");
  });

  test("no answer within timeoutMs: registry-unreachable naming the timeout, promptly", async () => {
    fake.failNext({ path: "/schemas/ids/1" }, { delayMs: 1000 });
    const c = createRestRegistry({ url: fake.url, retries: 0, timeoutMs: 50 });
    const e = registryError(await c.getById(1).catch((x: unknown) => x));
    assert.equal(e.code, "registry-unreachable");
    assert.equal(e.retriable, true);
    assert.match(e.message, /no response within 50 ms/);
  });

  test("a timed-out request is retried and can then succeed", async () => {
    const s = subject();
    await createRestRegistry({ url: fake.url }).register(s, { schema: SCHEMA });
    fake.failNext({ path: `/subjects/${s}/versions/1` }, { delayMs: 1500 });
    const c = createRestRegistry({ url: fake.url, retries: 1, timeoutMs: 300, retryBackoffMs: 1 });
    assert.equal((await c.getVersion(s, 1)).version, 1);
  });

  test("with several URLs a request fails over, and later requests start at the one that answered", async () => {
    const other = await startFakeRegistry();
    try {
      const dead = await deadUrl();
      const c = createRestRegistry({ url: [dead, other.url], retries: 0 });
      assert.deepEqual(await c.subjects(), []);
      const broken = await startFakeRegistry();
      broken.failNext({}, { status: 503, body: "down" }, 100);
      try {
        const sticky = createRestRegistry({ url: [broken.url, other.url], retries: 0 });
        await sticky.subjects();
        await sticky.subjects();
        assert.equal(broken.requests.length, 1);
      } finally {
        await broken.close();
      }
    } finally {
      await other.close();
    }
  });
});

describe("secrets", () => {
  const PASSWORD = "pa55-w0rd-SECRET";
  const TOKEN = "tok-SECRET-123";

  function assertNoSecret(text: string): void {
    for (const secret of [PASSWORD, TOKEN, Buffer.from(`alice:${PASSWORD}`).toString("base64")]) {
      assert.ok(!text.includes(secret), `secret leaked in: ${text.slice(0, 300)}`);
    }
  }

  test("basic auth is sent, and neither the client nor its errors show the password", async () => {
    const locked = await startFakeRegistry({ requireAuthorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}` });
    try {
      const c = createRestRegistry({ url: locked.url, auth: { username: "alice", password: PASSWORD }, retries: 0 });
      assert.deepEqual(await c.subjects(), []);
      const e = await c.getVersion("nope", 1).catch((x: unknown) => x);
      assert.equal(registryError(e).errorCode, 40401);
      for (const text of [String(c), inspect(c, { depth: Infinity, showHidden: true }), JSON.stringify(c), inspect(e, { depth: Infinity, showHidden: true }), String(e)]) {
        assertNoSecret(text);
      }
      assert.equal(String(c), `RestRegistry(${locked.url})`);
    } finally {
      await locked.close();
    }
  });

  test("credentials in the URL become basic auth and are removed from urls, messages and network errors", async () => {
    const locked = await startFakeRegistry({ requireAuthorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}` });
    try {
      const withCreds = locked.url.replace("http://", `http://alice:${PASSWORD}@`);
      const c = createRestRegistry({ url: withCreds, retries: 0 });
      assert.deepEqual(await c.subjects(), []);
      assert.deepEqual(c.urls, [locked.url]);
    } finally {
      await locked.close();
    }
    const dead = (await deadUrl()).replace("http://", `http://alice:${PASSWORD}@`);
    const c = createRestRegistry({ url: dead, retries: 0 });
    const e = await c.getById(1).catch((x: unknown) => x);
    assert.equal(registryError(e).code, "registry-unreachable");
    assertNoSecret(inspect(e, { depth: Infinity, showHidden: true }));
    assertNoSecret(inspect(c, { depth: Infinity, showHidden: true }));
  });

  test("a bearer token is sent and never shown", async () => {
    const locked = await startFakeRegistry({ requireAuthorization: `Bearer ${TOKEN}` });
    try {
      const c = createRestRegistry({ url: locked.url, auth: { bearerToken: TOKEN }, retries: 0 });
      assert.deepEqual(await c.subjects(), []);
      locked.failNext({}, { status: 500, body: { error_code: 50001, message: "boom" } });
      const e = await c.subjects().catch((x: unknown) => x);
      assert.equal(registryError(e).retriable, true);
      assertNoSecret(inspect(e, { depth: Infinity, showHidden: true }));
      assertNoSecret(inspect(c, { depth: Infinity, showHidden: true }));
      assertNoSecret(JSON.stringify(c));
    } finally {
      await locked.close();
    }
  });

  test("an invalid URL is a usage error that does not echo it", () => {
    assert.throws(
      () => createRestRegistry({ url: `http://alice:${PASSWORD}@[bad` }),
      (e: unknown) => isErrorCode(e, "usage") && !(e as Error).message.includes(PASSWORD),
    );
    assert.throws(() => createRestRegistry({ url: "ftp://x" }), (e: unknown) => isErrorCode(e, "usage"));
    assert.throws(() => createRestRegistry({ url: [] }), (e: unknown) => isErrorCode(e, "usage"));
    assert.throws(() => createRestRegistry({ url: "http://x", retries: -1 }), (e: unknown) => isErrorCode(e, "usage"));
  });
});
