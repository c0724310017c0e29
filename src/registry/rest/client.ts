/**
 * The Confluent Schema Registry REST client: the SchemaRegistry port plus the
 * config and delete endpoints, with Java-client-like caching.
 *
 * Built on `fetch`, not on @kafkajs/confluent-schema-registry's mappersmith
 * `api`: that client drops the Confluent `error_code`, reports connection
 * failures and timeouts as HTTP 400, always retries by its own rules, and
 * lacks half of the endpoints needed here (see docs/registry.md).
 */
import type { Contract, RegisteredContract, SubjectConfig } from "../../contract/model.js";
import { isKontractError, type RegistryError } from "../../errors.js";
import type { SchemaById, SchemaByGuid, SchemaRegistry } from "../types.js";
import { Memo } from "./memo.js";
import { type RestRegistryOptions, resolveOptions } from "./options.js";
import { createTransport, type HttpRequest } from "./transport.js";
import {
  contractBody,
  deepFreeze,
  integer,
  integerArray,
  object,
  stableStringify,
  stringArray,
  toRegisteredContract,
  toSchemaByGuid,
  toSchemaById,
  WireError,
} from "./wire.js";

export { COMPATIBILITY_LEVELS, type CompatibilityLevel } from "../../contract/model.js";
/** `PUT /config[/{subject}]` body and `GET` answer (whose `compatibilityLevel` is read as `compatibility`). */
export type RegistryConfig = SubjectConfig;

export interface RestRegistry extends SchemaRegistry {
  /** The registry URLs, without credentials. */
  readonly urls: readonly string[];
  /**
   * `GET /config/{subject}` (or `GET /config` without a subject). Resolves to
   * `undefined` when the subject has no config of its own (40408), unless
   * `defaultToGlobal` asks for the global one instead.
   */
  getConfig(subject?: string, options?: { defaultToGlobal?: boolean }): Promise<RegistryConfig | undefined>;
  /** `PUT /config/{subject}` (or `PUT /config`). Returns the registry's answer. */
  updateConfig(subject: string | undefined, config: RegistryConfig): Promise<RegistryConfig>;
  /** `DELETE /config/{subject}`: the subject falls back to the global config. */
  deleteConfig(subject: string): Promise<void>;
  /**
   * `DELETE /subjects/{subject}`; with `permanent`, a soft delete then
   * `?permanent=true`. Returns the deleted versions.
   */
  deleteSubject(subject: string, options?: { permanent?: boolean }): Promise<number[]>;
  /** Forgets every cached answer. */
  clearCache(): void;
}

const CONFIG_KEYS = [
  "compatibilityGroup",
  "compatibilityPolicy",
  "normalize",
  "validateFields",
  "validateRules",
  "alias",
  "defaultMetadata",
  "overrideMetadata",
  "defaultRuleSet",
  "overrideRuleSet",
] as const;

export function createRestRegistry(options: RestRegistryOptions): RestRegistry {
  const resolved = resolveOptions(options);
  const transport = createTransport(resolved);
  const { cacheCapacity: capacity } = resolved;
  const forever = { capacity, ttlMs: Infinity };

  // Immutable answers are kept until evicted. "latest" answers and lists are
  // only coalesced: the contract store is the one cache of latest versions,
  // so its latestCacheTtlMs alone decides how fresh they are.
  const byId = new Memo<SchemaById>(forever);
  const byGuid = new Memo<SchemaByGuid>(forever);
  const byVersion = new Memo<RegisteredContract>(forever);
  const lookups = new Memo<RegisteredContract>(forever);
  const registrations = new Memo<RegisteredContract>(forever);
  const latest = new Memo<RegisteredContract>({ capacity, ttlMs: 0 });
  const latestByMetadata = new Memo<RegisteredContract>({ capacity, ttlMs: 0 });
  const versionLists = new Memo<readonly number[]>({ capacity, ttlMs: 0 });
  const subjectLists = new Memo<readonly string[]>({ capacity, ttlMs: 0 });
  const subjectKeyed = [byVersion, lookups, registrations, latest, latestByMetadata, versionLists];

  const send = transport.send;
  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;
  const subjectKey = (subject: string, rest = "") => `${subject}\0${rest}`;
  const ofSubject = (subject: string) => (key: string) => key.startsWith(subjectKey(subject));

  function rememberVersion(contract: RegisteredContract): RegisteredContract {
    byVersion.set(subjectKey(contract.subject, String(contract.version)), contract);
    return contract;
  }

  function getVersion(subject: string, version: number | "latest"): Promise<RegisteredContract> {
    if (version === "latest") {
      return latest.get(subjectKey(subject), () =>
        send({ method: "GET", path: `${subjectPath(subject)}/versions/latest`, what: `get the latest version of subject '${subject}'` }, (json) =>
          rememberVersion(toRegisteredContract(json, subject)),
        ),
      );
    }
    return byVersion.get(subjectKey(subject, String(version)), () =>
      send({ method: "GET", path: `${subjectPath(subject)}/versions/${version}`, what: `get version ${version} of subject '${subject}'` }, (json) =>
        toRegisteredContract(json, subject),
      ),
    );
  }

  async function registerUncached(subject: string, contract: Contract): Promise<RegisteredContract> {
    const what = `register a schema under subject '${subject}'`;
    const answer = await send({ method: "POST", path: `${subjectPath(subject)}/versions`, body: contractBody(contract), what }, (json) => {
      const obj = object(json, "response");
      // Newer Confluent registries answer with the stored version; older ones (and AxonOps) with the id only.
      const full = typeof obj.version === "number" && typeof obj.schema === "string";
      return full ? toRegisteredContract(obj, subject) : integer(obj, "id");
    });
    latest.invalidate(ofSubject(subject));
    latestByMetadata.invalidate(ofSubject(subject));
    if (typeof answer !== "number") return rememberVersion(answer);
    // The registry merged in inherited, default and override metadata/rules, so
    // read back what it stored: the highest version of this subject with that id
    // (a new version of an existing schema text keeps the schema's id).
    const version = await send(
      { method: "GET", path: `/schemas/ids/${answer}/versions`, what: `find the version registered as schema id ${answer} under subject '${subject}'` },
      (json) => highestVersionOf(json, subject, answer),
    );
    return getVersion(subject, version);
  }

  async function deleteSubject(subject: string, opts: { permanent?: boolean } = {}): Promise<number[]> {
    const path = subjectPath(subject);
    const read = (json: unknown) => integerArray(json, "response");
    try {
      let deleted = await send({ method: "DELETE", path, what: `delete subject '${subject}'` }, read);
      if (opts.permanent) {
        deleted = await send({ method: "DELETE", path, query: [["permanent", "true"]], what: `permanently delete subject '${subject}'` }, read);
      }
      return deleted;
    } catch (error) {
      // Already soft-deleted: go on with the permanent delete.
      if (!(opts.permanent && isRegistryError(error) && error.errorCode === 40404)) throw error;
      return send({ method: "DELETE", path, query: [["permanent", "true"]], what: `permanently delete subject '${subject}'` }, read);
    } finally {
      for (const memo of subjectKeyed) memo.invalidate(ofSubject(subject));
    }
  }

  function configPath(subject: string | undefined): string {
    return subject === undefined ? "/config" : `/config/${encodeURIComponent(subject)}`;
  }

  const urls = Object.freeze([...resolved.urls]);
  const label = `RestRegistry(${urls.join(", ")})`;

  const registry: RestRegistry = {
    urls,

    getById(id, subject) {
      const request: HttpRequest = {
        method: "GET",
        path: `/schemas/ids/${id}`,
        what: subject === undefined ? `get schema id ${id}` : `get schema id ${id} (subject '${subject}')`,
      };
      if (subject !== undefined) request.query = [["subject", subject]];
      return byId.get(`${id}\0${subject ?? ""}`, () => send(request, (json) => toSchemaById(json, id)));
    },

    getByGuid(guid) {
      return byGuid.get(guid, () =>
        send({ method: "GET", path: `/schemas/guids/${encodeURIComponent(guid)}`, what: `get schema guid ${guid}` }, (json) =>
          toSchemaByGuid(json, guid),
        ),
      );
    },

    getVersion,

    getLatestWithMetadata(subject, properties) {
      const pairs = Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const shown = pairs.map(([k, v]) => `${k}=${v}`).join(", ");
      return latestByMetadata.get(subjectKey(subject, stableStringify(pairs)), () =>
        send(
          {
            method: "GET",
            path: `${subjectPath(subject)}/metadata`,
            query: pairs.flatMap(([k, v]) => [["key", k] as const, ["value", v] as const]),
            what: `get the latest version of subject '${subject}' with metadata {${shown}}`,
          },
          (json) => rememberVersion(toRegisteredContract(json, subject)),
        ),
      );
    },

    lookup(subject, contract) {
      const body = contractBody(contract);
      return lookups.get(subjectKey(subject, stableStringify(body)), () =>
        send(
          { method: "POST", path: subjectPath(subject), query: [["deleted", "true"]], body, what: `look up a schema under subject '${subject}'` },
          (json) => toRegisteredContract(json, subject),
        ),
      );
    },

    async versions(subject) {
      const list = await versionLists.get(subjectKey(subject), () =>
        send({ method: "GET", path: `${subjectPath(subject)}/versions`, what: `list the versions of subject '${subject}'` }, (json) =>
          deepFreeze(integerArray(json, "response")),
        ),
      );
      return [...list];
    },

    register(subject, contract) {
      return registrations.get(subjectKey(subject, stableStringify(contractBody(contract))), () => registerUncached(subject, contract));
    },

    async subjects() {
      const list = await subjectLists.get("", () =>
        send({ method: "GET", path: "/subjects", what: "list subjects" }, (json) => deepFreeze(stringArray(json, "response"))),
      );
      return [...list];
    },

    async getConfig(subject, opts = {}) {
      const request: HttpRequest = {
        method: "GET",
        path: configPath(subject),
        what: subject === undefined ? "get the global config" : `get the config of subject '${subject}'`,
      };
      if (opts.defaultToGlobal) request.query = [["defaultToGlobal", "true"]];
      try {
        return await send(request, toRegistryConfig);
      } catch (error) {
        // 40408: no subject-level config; older registries say 40401 (subject not found).
        if (subject !== undefined && isRegistryError(error) && (error.errorCode === 40408 || error.errorCode === 40401)) return undefined;
        throw error;
      }
    },

    async updateConfig(subject, config) {
      const result = await send(
        {
          method: "PUT",
          path: configPath(subject),
          body: config,
          what: subject === undefined ? "update the global config" : `update the config of subject '${subject}'`,
        },
        toRegistryConfig,
      );
      // Defaults and overrides change what a registration stores.
      registrations.invalidate(subject === undefined ? () => true : ofSubject(subject));
      return result;
    },

    async deleteConfig(subject) {
      await send({ method: "DELETE", path: configPath(subject), what: `delete the config of subject '${subject}'` }, () => undefined);
      registrations.invalidate(ofSubject(subject));
    },

    deleteSubject,

    clearCache() {
      for (const memo of [byId, byGuid, subjectLists, ...subjectKeyed]) memo.clear();
    },
  };
  // Nothing secret lives on the object (credentials stay in the transport's
  // closure), but make its printed forms explicit too.
  Object.defineProperties(registry, {
    toString: { value: () => label },
    toJSON: { value: () => ({ type: "rest-registry", urls }) },
    [Symbol.for("nodejs.util.inspect.custom")]: { value: () => label },
  });
  return registry;
}

function highestVersionOf(json: unknown, subject: string, id: number): number {
  if (!Array.isArray(json)) throw new WireError("response is not an array");
  let best: number | undefined;
  for (const [i, item] of json.entries()) {
    const pair = object(item, `response[${i}]`);
    if (pair.subject === subject) {
      const version = integer(pair, "version");
      if (best === undefined || version > best) best = version;
    }
  }
  if (best === undefined) throw new WireError(`schema id ${id} is not registered under subject '${subject}'`);
  return best;
}

function toRegistryConfig(json: unknown): RegistryConfig {
  const obj = object(json, "response");
  const config: Record<string, unknown> = {};
  const level = obj.compatibilityLevel ?? obj.compatibility;
  if (typeof level === "string") config.compatibility = level;
  for (const key of CONFIG_KEYS) if (obj[key] !== undefined && obj[key] !== null) config[key] = obj[key];
  return deepFreeze(config as RegistryConfig);
}

function isRegistryError(error: unknown): error is RegistryError {
  return isKontractError(error) && error.name === "RegistryError";
}
