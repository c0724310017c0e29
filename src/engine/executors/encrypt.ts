/**
 * ENCRYPT (tagged fields, domainRules) and ENCRYPT_PAYLOAD (the serialized
 * payload, encodingRules): Confluent's client-side field and payload
 * encryption, byte-compatible with its Java, Go and JS clients
 * (docs/encryption.md). WRITE encrypts, READ decrypts. STRING fields carry
 * base64 of the ciphertext, BYTES fields the ciphertext; nulls pass through.
 *
 * The engine stays pure: the DEK registry and the KMS are ports given in
 * EncryptionOptions. A rule runs synchronously once its subject's DEK is
 * cached; only the first message (or a rotation) waits for the registry.
 */
import { defaultKind, type Rule } from "../../contract/model.js";
import { DEK_ALGORITHMS, isDekAlgorithm, type DekAlgorithm, type DekRegistry } from "../../contract/keys.js";
import { KontractError, RuleCompileError, isKontractError } from "../../errors.js";
import type { FieldVisit } from "../../format/types.js";
import { createKeyring, splitIds, type KeySpec, type KeyTable, type ReadyKey } from "../encrypt/keyring.js";
import { prefixVersion, readVersion, VERSION_PREFIX } from "../encrypt/key-material.js";
import { KNOWN_KMS_TYPES, localKms, type KmsConfig, type KmsDriver } from "../encrypt/kms.js";
import type { CompiledRule, ExecutorEnv, RuleExecutor, RuleResult, RuleRunContext } from "../types.js";

export interface EncryptionOptions {
  /** The DEK registry (createRestDekRegistry from kontract/registry, on the schema registry's URL). */
  dekRegistry: DekRegistry;
  /** KMS drivers by `encrypt.kms.type`. Default: local-kms only. */
  kms?: readonly KmsDriver[];
  /**
   * KMS credentials (Java's `rule.executors._default_.param.<k>`, the JS client's
   * `ruleConfig`): `secret` for local-kms, `access.key.id`… for the others.
   * Never read from contract params or metadata.
   */
  config?: KmsConfig;
  /**
   * Java's `encrypt.nonshared.kek.passthrough`: a consumer that cannot get a
   * field's key (no KEK or DEK, no KMS driver or credentials, the KMS refuses)
   * reads the field's ciphertext instead of failing. Fields only: an encrypted
   * payload cannot be decoded without its key.
   */
  passthrough?: boolean;
  /** The registry's schema context for KEK and DEK calls (`context` parameter). */
  context?: string;
  /** How long an unwrapped DEK is kept, in ms. Default: Infinity. */
  cacheTtlMs?: number;
  /** How long a failed key load is remembered before asking again, in ms. Default 30 000. */
  retryAfterMs?: number;
  /** The clock for DEK expiry (tests). */
  now?: () => number;
}

export const ENCRYPT_PARAMS = {
  kekName: "encrypt.kek.name",
  kmsType: "encrypt.kms.type",
  kmsKeyId: "encrypt.kms.key.id",
  algorithm: "encrypt.dek.algorithm",
  expiryDays: "encrypt.dek.expiry.days",
  alternateKeyIds: "encrypt.alternate.kms.key.ids",
} as const;

/**
 * The ENCRYPT and ENCRYPT_PAYLOAD executors, sharing one cache of DEKs. Pass
 * them to createEngine({ executors }).
 */
export function encryptionExecutors(options: EncryptionOptions): readonly RuleExecutor[] {
  const keyring = createKeyring({
    dekRegistry: options.dekRegistry,
    kms: options.kms ?? [localKms()],
    config: options.config ?? {},
    context: options.context,
    cacheTtlMs: options.cacheTtlMs ?? Infinity,
    retryAfterMs: options.retryAfterMs ?? 30_000,
    now: options.now ?? Date.now,
  });
  const passthrough = options.passthrough === true;
  return [
    {
      type: "ENCRYPT",
      compile(rule, env) {
        const spec = keySpec(rule, env);
        if (env.form === "json") throw new RuleCompileError(rule.name, "ENCRYPT runs in domainRules only", { code: "encryption" });
        if (!rule.tags || rule.tags.length === 0) throw new RuleCompileError(rule.name, "an ENCRYPT rule needs tags naming the fields to encrypt", { code: "encryption" });
        const unredacted = rule.tags.filter((t) => !env.sensitiveTags.has(t));
        if (unredacted.length > 0) {
          // Decrypted values of these fields could otherwise reach violations and dead-letter records.
          throw new RuleCompileError(rule.name, `tag ${unredacted.join(", ")} of an ENCRYPT rule must be a sensitive tag (EngineOptions.sensitiveTags)`, { code: "encryption" });
        }
        return fieldRule(rule, env, spec, keyring.table(spec), passthrough);
      },
    },
    {
      type: "ENCRYPT_PAYLOAD",
      compile(rule, env) {
        const spec = keySpec(rule, env);
        return payloadRule(spec, keyring.table(spec));
      },
    },
  ];
}

/** What is wrong with an ENCRYPT / ENCRYPT_PAYLOAD rule's params (read as Java's getParameter: params, then metadata properties). Shared with the linter. */
export function encryptParamProblems(param: (name: string) => string | undefined): { param: string; message: string }[] {
  const problems: { param: string; message: string }[] = [];
  const kekName = param(ENCRYPT_PARAMS.kekName);
  if (kekName === undefined || kekName === "") problems.push({ param: ENCRYPT_PARAMS.kekName, message: `${ENCRYPT_PARAMS.kekName} is required` });
  const kmsType = param(ENCRYPT_PARAMS.kmsType);
  if (kmsType !== undefined && !KNOWN_KMS_TYPES.includes(kmsType)) problems.push({ param: ENCRYPT_PARAMS.kmsType, message: `unknown ${ENCRYPT_PARAMS.kmsType} '${kmsType}' (${KNOWN_KMS_TYPES.join(", ")})` });
  const algorithm = param(ENCRYPT_PARAMS.algorithm);
  if (algorithm !== undefined && !isDekAlgorithm(algorithm)) problems.push({ param: ENCRYPT_PARAMS.algorithm, message: `unknown ${ENCRYPT_PARAMS.algorithm} '${algorithm}' (${DEK_ALGORITHMS.join(", ")})` });
  const days = param(ENCRYPT_PARAMS.expiryDays);
  if (days !== undefined && !(Number.isFinite(Number(days)) && Number(days) >= 0 && days.trim() !== "")) problems.push({ param: ENCRYPT_PARAMS.expiryDays, message: `${ENCRYPT_PARAMS.expiryDays} must be a number of days, 0 or more` });
  return problems;
}

/** The rule's params, checked once. Throws RuleCompileError "encryption". */
function keySpec(rule: Rule, env: ExecutorEnv): KeySpec {
  const fail = (message: string) => new RuleCompileError(rule.name, message, { code: "encryption" });
  if (defaultKind(rule) !== "TRANSFORM") throw fail(`${rule.type} rules are TRANSFORMs`);
  const problems = encryptParamProblems(env.param);
  if (problems.length > 0) throw fail(problems.map((p) => p.message).join("; "));
  return {
    kekName: env.param(ENCRYPT_PARAMS.kekName)!,
    kmsType: env.param(ENCRYPT_PARAMS.kmsType),
    kmsKeyId: env.param(ENCRYPT_PARAMS.kmsKeyId),
    algorithm: (env.param(ENCRYPT_PARAMS.algorithm) ?? "AES256_GCM") as DekAlgorithm,
    expiryDays: Number(env.param(ENCRYPT_PARAMS.expiryDays) ?? 0),
    alternateKeyIds: splitIds(env.param(ENCRYPT_PARAMS.alternateKeyIds)),
  };
}

/** Field types ENCRYPT can hold ciphertext in (Confluent: STRING as base64, BYTES as is). */
export const ENCRYPTABLE_TYPES: ReadonlySet<string> = new Set(["STRING", "BYTES"]);

/**
 * A key that could not be loaded: a failed rule, or, for a retriable error (the
 * registry or KMS unreachable), a rejection carrying it, so the caller retries
 * the message (a consumer does not dead-letter it) as for any registry outage.
 */
function keyFailure(e: unknown): RuleResult {
  if (isKontractError(e) && e.retriable) throw e;
  return failure(e);
}

/** A failed rule: the message names the KEK, subject and field, never a value. */
function failure(e: unknown, field?: string): RuleResult {
  const error = isKontractError(e) ? e : new KontractError("encryption", e instanceof Error ? e.message : String(e));
  const result = { ok: false as const, message: error.message, code: error.code, cause: error };
  return field === undefined ? result : { ...result, field };
}

function fieldRule(rule: Rule, env: ExecutorEnv, spec: KeySpec, keys: KeyTable, passthrough: boolean): CompiledRule {
  const walker = env.schema.fieldWalker(new Set(rule.tags));
  const rotating = spec.expiryDays > 0;
  return {
    async: true,
    run(message, ctx) {
      return ctx.mode === "WRITE" ? write(message, ctx) : ctx.mode === "READ" ? read(message, ctx) : { ok: true, value: message };
    },
  };

  /** Encrypts every tagged field with the subject's current DEK. */
  function write(message: unknown, ctx: RuleRunContext): RuleResult | Promise<RuleResult> {
    const key = keys.forWrite(ctx.subject);
    if (key instanceof Promise) return key.then((k) => sealAll(message, k), keyFailure);
    return sealAll(message, key);
  }

  function sealAll(message: unknown, key: ReadyKey): RuleResult {
    let failed: RuleResult | undefined;
    const out = walker(message, (value, visit) => {
      if (failed !== undefined || value === null || value === undefined) return value;
      const plaintext = fieldBytes(value, visit, "utf8");
      if (plaintext === undefined) {
        // A union's other branches (a number in a string-or-int field) stay clear, as in Java.
        if (visit.field.inCombined !== true) failed = unsupported(visit);
        return value;
      }
      const sealed = key.aead.seal(plaintext);
      const ct = rotating ? prefixVersion(key.version, sealed) : sealed;
      return typeof value === "string" ? ct.toString("base64") : ct;
    });
    return failed ?? { ok: true, value: out };
  }

  /**
   * Decrypts every tagged field. Keys not cached yet (a DEK version met for
   * the first time) are loaded, then the walk runs again; the input is never mutated.
   */
  function read(message: unknown, ctx: RuleRunContext): RuleResult | Promise<RuleResult> {
    const pending = new Map<number, Promise<ReadyKey>>();
    let failed: RuleResult | undefined;
    const out = walker(message, (value, visit) => {
      if (failed !== undefined || value === null || value === undefined) return value;
      // WRITE encrypts strings and bytes only, so anything else was never encrypted (Java reads it as is).
      const ct = fieldBytes(value, visit, "base64");
      if (ct === undefined) return value;
      let version = 1;
      try {
        if (rotating) version = readVersion(ct);
      } catch (e) {
        failed = failure(fieldError(e, spec, ctx, visit), visit.path);
        return value;
      }
      const key = pending.has(version) ? undefined : keys.forRead(ctx.subject, version);
      if (key === undefined) return value;
      if (key instanceof Promise) {
        pending.set(version, key);
        return value;
      }
      try {
        const plain = key.aead.open(rotating ? ct.subarray(VERSION_PREFIX) : ct);
        return typeof value === "string" ? plain.toString("utf8") : plain;
      } catch (e) {
        failed = failure(fieldError(e, spec, ctx, visit), visit.path);
        return value;
      }
    });
    if (failed !== undefined) return failed;
    if (pending.size === 0) return { ok: true, value: out };
    return Promise.allSettled(pending.values()).then((settled) => {
      const rejected = settled.find((s) => s.status === "rejected");
      if (rejected === undefined) return read(message, ctx);
      // The field's ciphertext stays: this consumer has no access to its key (Java's passthrough).
      if (passthrough && isKontractError(rejected.reason) && rejected.reason.code === "key-unavailable") return { ok: true, value: message };
      return keyFailure(rejected.reason);
    });
  }
}

function payloadRule(spec: KeySpec, keys: KeyTable): CompiledRule {
  const rotating = spec.expiryDays > 0;
  const seal = (payload: Uint8Array, key: ReadyKey): RuleResult => {
    const sealed = key.aead.seal(payload);
    return { ok: true, value: rotating ? prefixVersion(key.version, sealed) : sealed };
  };
  const open = (ct: Uint8Array, key: ReadyKey, ctx: RuleRunContext): RuleResult => {
    try {
      return { ok: true, value: key.aead.open(rotating ? ct.subarray(VERSION_PREFIX) : ct) };
    } catch (e) {
      return failure(payloadError(e, spec, ctx));
    }
  };
  return {
    async: true,
    run(payload, ctx) {
      if (!(payload instanceof Uint8Array)) return failure(new KontractError("encryption", "ENCRYPT_PAYLOAD runs in encodingRules, on the serialized payload"));
      if (ctx.mode === "WRITE") {
        const key = keys.forWrite(ctx.subject);
        return key instanceof Promise ? key.then((k) => seal(payload, k), keyFailure) : seal(payload, key);
      }
      if (ctx.mode !== "READ") return { ok: true, value: payload };
      let version = 1;
      try {
        if (rotating) version = readVersion(payload);
      } catch (e) {
        return failure(payloadError(e, spec, ctx));
      }
      const key = keys.forRead(ctx.subject, version);
      return key instanceof Promise ? key.then((k) => open(payload, k, ctx), keyFailure) : open(payload, key, ctx);
    },
  };
}

/**
 * A field's bytes: a STRING's text in `encoding` (UTF-8 plaintext on WRITE,
 * base64 ciphertext on READ), a BYTES field's bytes; undefined for other types.
 */
function fieldBytes(value: unknown, visit: FieldVisit, encoding: "utf8" | "base64"): Uint8Array | undefined {
  if (visit.field.typeName === "STRING" && typeof value === "string") return Buffer.from(value, encoding);
  if (visit.field.typeName === "BYTES" && value instanceof Uint8Array) return value;
  return undefined;
}

/** Java's "type X not supported for encryption". */
function unsupported(visit: FieldVisit): RuleResult {
  return failure(new KontractError("encryption", `field ${visit.field.fullName}: type ${visit.field.typeName} not supported for encryption (STRING and BYTES only)`), visit.path);
}

/** A field that did not decrypt: which KEK, subject and field, and why; never the bytes. */
function fieldError(e: unknown, spec: KeySpec, ctx: RuleRunContext, visit: FieldVisit): KontractError {
  const why = isKontractError(e) ? e.message : "it did not decrypt";
  return new KontractError("decrypt-failed", `KEK ${spec.kekName}, subject ${ctx.subject}: field ${visit.field.fullName}: ${why}`, { cause: e });
}

function payloadError(e: unknown, spec: KeySpec, ctx: RuleRunContext): KontractError {
  const why = isKontractError(e) ? e.message : "it did not decrypt";
  return new KontractError("decrypt-failed", `KEK ${spec.kekName}, subject ${ctx.subject}: payload: ${why}`, { cause: e });
}
