/**
 * A small in-process Confluent-compatible Schema Registry on 127.0.0.1 for
 * unit tests. It stores metadata and ruleSet, inherits them from the previous
 * version when a registration omits them, applies config defaults/overrides
 * with Confluent's merge, and can be told to fail, stall or drop requests.
 * Not a compatibility checker: it accepts every schema that parses.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Json = Record<string, unknown>;

interface StoredSchema {
  id: number;
  guid: string;
  schemaType: string;
  schema: string;
  references?: unknown[];
}

interface StoredVersion {
  version: number;
  id: number;
  metadata?: Json;
  ruleSet?: Json;
  deleted: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeReply {
  status?: number;
  body?: unknown;
  /** Wait this long before answering (or before handling normally, without `status`). */
  delayMs?: number;
  /** Drop the connection without an answer. */
  destroy?: boolean;
}

export interface FakeRegistryOptions {
  /** Always send `schemaType`, also "AVRO", like AxonOps. Default: omit it for AVRO, like Confluent. */
  alwaysSchemaType?: boolean;
  /** Answer registrations with the stored version (newer Confluent), not with `{id}` only. */
  fullRegisterResponse?: boolean;
  /** Answer 401/40101 unless the Authorization header is exactly this. */
  requireAuthorization?: string;
}

export interface FakeRegistry {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests whose method and path match; a string path must match exactly. */
  count(method: string, path: string | RegExp): number;
  /** The next `times` requests that match get `reply` instead of (or, with only delayMs, before) the normal answer. */
  failNext(match: { method?: string; path?: string | RegExp }, reply: FakeReply, times?: number): void;
  /** Delay every answer by this many ms. */
  delayMs: number;
  close(): Promise<void>;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startFakeRegistry(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const schemas: StoredSchema[] = [];
  const subjects = new Map<string, StoredVersion[]>();
  const configs = new Map<string, Json>([["", { compatibilityLevel: "BACKWARD" }]]);
  const requests: RecordedRequest[] = [];
  const faults: { match: { method?: string; path?: string | RegExp }; reply: FakeReply; times: number }[] = [];
  const sockets = new Set<import("node:net").Socket>();

  const matches = (m: { method?: string; path?: string | RegExp }, method: string, path: string) =>
    (m.method === undefined || m.method === method) &&
    (m.path === undefined || (typeof m.path === "string" ? m.path === path : m.path.test(path)));

  const schemaById = (id: number) => schemas.find((s) => s.id === id);

  function render(stored: StoredSchema, extra: Json): Json {
    const out: Json = { ...extra, schema: stored.schema };
    if (options.alwaysSchemaType || stored.schemaType !== "AVRO") out.schemaType = stored.schemaType;
    if (stored.references && stored.references.length > 0) out.references = stored.references;
    return out;
  }

  function renderVersion(subject: string, v: StoredVersion): Json {
    const stored = schemaById(v.id) as StoredSchema;
    const out = render(stored, { subject, version: v.version, id: v.id, guid: stored.guid });
    if (v.metadata) out.metadata = v.metadata;
    if (v.ruleSet) out.ruleSet = v.ruleSet;
    return out;
  }

  function live(subject: string): StoredVersion[] {
    const versions = (subjects.get(subject) ?? []).filter((v) => !v.deleted);
    if (versions.length === 0) throw new HttpError(404, 40401, `Subject '${subject}' not found.`);
    return versions;
  }

  function configOf(subject: string): Json {
    return configs.get(subject) ?? (configs.get("") as Json);
  }

  function register(subject: string, body: Json): Json {
    const schemaType = typeof body.schemaType === "string" ? body.schemaType : "AVRO";
    const schema = body.schema;
    if (typeof schema !== "string" || schema === "") throw new HttpError(422, 42201, "Empty schema");
    if (schemaType !== "PROTOBUF") {
      try {
        JSON.parse(schema);
      } catch {
        throw new HttpError(422, 42201, `Invalid schema ${schema}`);
      }
    }
    const references = Array.isArray(body.references) ? body.references : undefined;
    const content = JSON.stringify([schemaType, schema, references ?? []]);
    let stored = schemas.find((s) => JSON.stringify([s.schemaType, s.schema, s.references ?? []]) === content);
    if (!stored) {
      stored = { id: schemas.length + 1, guid: randomUUID(), schemaType, schema, references };
      schemas.push(stored);
    }
    const all = subjects.get(subject) ?? [];
    const previous = all.filter((v) => !v.deleted).at(-1);
    const config = configOf(subject);
    // Confluent: merge(merge(default, specific-or-inherited), override).
    const metadata = mergeMetadata(
      mergeMetadata(config.defaultMetadata as Json, (body.metadata as Json) ?? previous?.metadata),
      config.overrideMetadata as Json,
    );
    const ruleSet = mergeRuleSet(mergeRuleSet(config.defaultRuleSet as Json, (body.ruleSet as Json) ?? previous?.ruleSet), config.overrideRuleSet as Json);
    const same = all.find(
      (v) => !v.deleted && v.id === stored.id && JSON.stringify(v.metadata) === JSON.stringify(metadata) && JSON.stringify(v.ruleSet) === JSON.stringify(ruleSet),
    );
    const version: StoredVersion = same ?? { version: (all.at(-1)?.version ?? 0) + 1, id: stored.id, deleted: false };
    if (!same) {
      if (metadata) version.metadata = metadata;
      if (ruleSet) version.ruleSet = ruleSet;
      all.push(version);
      subjects.set(subject, all);
    }
    return options.fullRegisterResponse ? renderVersion(subject, version) : { id: stored.id };
  }

  function lookup(subject: string, body: Json, deleted: boolean): Json {
    const all = (subjects.get(subject) ?? []).filter((v) => deleted || !v.deleted);
    if (all.length === 0) throw new HttpError(404, 40401, `Subject '${subject}' not found.`);
    const schemaType = typeof body.schemaType === "string" ? body.schemaType : "AVRO";
    const candidates = all.filter((v) => {
      const s = schemaById(v.id) as StoredSchema;
      return s.schema === body.schema && s.schemaType === schemaType;
    });
    const exact = candidates.filter(
      (v) =>
        (body.metadata === undefined || JSON.stringify(v.metadata) === JSON.stringify(body.metadata)) &&
        (body.ruleSet === undefined || JSON.stringify(v.ruleSet) === JSON.stringify(body.ruleSet)),
    );
    const found = exact.at(-1) ?? candidates.at(-1);
    if (!found) throw new HttpError(404, 40403, "Schema not found");
    return renderVersion(subject, found);
  }

  function route(method: string, path: string, query: URLSearchParams, body: unknown): { status?: number; body: unknown } {
    const seg = path.split("/").slice(1).map(decodeURIComponent);
    const bodyObj = (body ?? {}) as Json;
    if (method === "GET" && path === "/subjects") {
      return { body: [...subjects.keys()].filter((s) => subjects.get(s)?.some((v) => !v.deleted)) };
    }
    if (seg[0] === "subjects" && seg.length >= 2) {
      const subject = seg[1];
      if (seg.length === 2 && method === "POST") return { body: lookup(subject, bodyObj, query.get("deleted") === "true") };
      if (seg.length === 2 && method === "DELETE") {
        const all = subjects.get(subject) ?? [];
        if (all.length === 0) throw new HttpError(404, 40401, `Subject '${subject}' not found.`);
        if (query.get("permanent") === "true") {
          if (all.some((v) => !v.deleted)) throw new HttpError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);
          subjects.delete(subject);
          return { body: all.map((v) => v.version) };
        }
        const liveVersions = all.filter((v) => !v.deleted);
        if (liveVersions.length === 0) throw new HttpError(404, 40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`);
        for (const v of liveVersions) v.deleted = true;
        return { body: liveVersions.map((v) => v.version) };
      }
      if (seg[2] === "versions" && seg.length === 3) {
        if (method === "POST") return { body: register(subject, bodyObj) };
        if (method === "GET") return { body: live(subject).map((v) => v.version) };
      }
      if (seg[2] === "versions" && seg.length === 4 && method === "GET") {
        const versions = live(subject);
        const wanted = seg[3];
        if (wanted !== "latest" && !/^[1-9][0-9]*$/.test(wanted)) {
          throw new HttpError(422, 42202, `The specified version '${wanted}' is not a valid version id.`);
        }
        const found = wanted === "latest" ? versions.at(-1) : versions.find((v) => v.version === Number(wanted));
        if (!found) throw new HttpError(404, 40402, `Version ${wanted} not found.`);
        return { body: renderVersion(subject, found) };
      }
      if (seg[2] === "metadata" && seg.length === 3 && method === "GET") {
        const keys = query.getAll("key");
        const values = query.getAll("value");
        const found = live(subject)
          .filter((v) => keys.every((k, i) => (v.metadata?.properties as Record<string, string> | undefined)?.[k] === values[i]))
          .at(-1);
        if (!found) throw new HttpError(404, 40403, "Schema not found");
        return { body: renderVersion(subject, found) };
      }
    }
    if (seg[0] === "schemas" && seg[1] === "ids" && method === "GET") {
      const id = Number(seg[2]);
      const stored = schemaById(id);
      if (!stored) throw new HttpError(404, 40403, `Schema ${seg[2]} not found`);
      const using: { subject: string; v: StoredVersion }[] = [];
      for (const [subject, versions] of subjects) for (const v of versions) if (v.id === id && !v.deleted) using.push({ subject, v });
      if (seg.length === 4 && seg[3] === "versions") return { body: using.map(({ subject, v }) => ({ subject, version: v.version })) };
      const wantedSubject = query.get("subject");
      const newest = using.filter((u) => wantedSubject === null || u.subject === wantedSubject).at(-1)?.v;
      const out = render(stored, { guid: stored.guid });
      if (newest?.metadata) out.metadata = newest.metadata;
      if (newest?.ruleSet) out.ruleSet = newest.ruleSet;
      return { body: out };
    }
    if (seg[0] === "schemas" && seg[1] === "guids" && seg.length === 3 && method === "GET") {
      const stored = schemas.find((s) => s.guid === seg[2]);
      if (!stored) throw new HttpError(404, 40403, "Schema not found");
      // Like Confluent: the numeric id is not part of this answer.
      return { body: render(stored, { guid: stored.guid }) };
    }
    if (seg[0] === "config") {
      const key = seg[1] ?? "";
      if (method === "GET") {
        const own = configs.get(key);
        if (!own && query.get("defaultToGlobal") !== "true") {
          throw new HttpError(404, 40408, `Subject '${key}' does not have subject-level compatibility configured`);
        }
        return { body: own ?? configs.get("") };
      }
      if (method === "PUT") {
        const { compatibility, ...rest } = bodyObj;
        const next: Json = { ...(configs.get(key) ?? {}), ...rest };
        if (compatibility !== undefined) next.compatibilityLevel = compatibility;
        configs.set(key, next);
        return { body: bodyObj };
      }
      if (method === "DELETE" && key !== "") {
        const old = configs.get(key);
        if (!old) throw new HttpError(404, 40401, `Subject '${key}' not found.`);
        configs.delete(key);
        return { body: old };
      }
    }
    throw new HttpError(404, 404, "HTTP 404 Not Found");
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    requests.push({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body });
    if (fake.delayMs > 0) await sleep(fake.delayMs);
    const fault = faults.find((f) => f.times > 0 && matches(f.match, method, url.pathname));
    if (fault) {
      fault.times--;
      if (fault.reply.delayMs) await sleep(fault.reply.delayMs);
      if (fault.reply.destroy) {
        req.socket.destroy();
        return;
      }
      if (fault.reply.status !== undefined) {
        send(res, fault.reply.status, fault.reply.body);
        return;
      }
    }
    if (options.requireAuthorization !== undefined && req.headers.authorization !== options.requireAuthorization) {
      send(res, 401, { error_code: 40101, message: "Unauthorized" });
      return;
    }
    try {
      const out = route(method, url.pathname, url.searchParams, body);
      send(res, out.status ?? 200, out.body);
    } catch (error) {
      if (error instanceof HttpError) send(res, error.status, { error_code: error.errorCode, message: error.message });
      else send(res, 500, { error_code: 50001, message: String(error) });
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeRegistry = {
    url: `http://127.0.0.1:${port}`,
    requests,
    delayMs: 0,
    count: (method, path) => requests.filter((r) => matches({ method, path }, r.method, r.path)).length,
    failNext: (match, reply, times = 1) => {
      faults.push({ match, reply, times });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return fake;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": typeof body === "string" ? "text/html" : CONTENT_TYPE });
  res.end(text);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function mergeMetadata(base: Json | undefined, over: Json | undefined): Json | undefined {
  if (!base) return over;
  if (!over) return base;
  const out: Json = {};
  const props = { ...(base.properties as Json), ...(over.properties as Json) };
  if (Object.keys(props).length > 0) out.properties = props;
  const tags = { ...(base.tags as Json), ...(over.tags as Json) };
  if (Object.keys(tags).length > 0) out.tags = tags;
  const sensitive = [...new Set([...((base.sensitive as string[]) ?? []), ...((over.sensitive as string[]) ?? [])])];
  if (sensitive.length > 0) out.sensitive = sensitive;
  return out;
}

function mergeRuleSet(base: Json | undefined, over: Json | undefined): Json | undefined {
  if (!base) return over;
  if (!over) return base;
  const out: Json = {};
  for (const list of ["migrationRules", "domainRules", "encodingRules"]) {
    const newer = (over[list] as { name: string }[] | undefined) ?? [];
    const names = new Set(newer.map((r) => r.name));
    const merged = [...((base[list] as { name: string }[] | undefined) ?? []).filter((r) => !names.has(r.name)), ...newer];
    if (merged.length > 0) out[list] = merged;
  }
  const enableAt = over.enableAt ?? base.enableAt;
  if (enableAt !== undefined) out.enableAt = enableAt;
  return out;
}
