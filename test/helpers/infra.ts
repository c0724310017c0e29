/**
 * Real Kafka, schema registry, KMS emulator and Vault transit server for integration tests (see docs/infra.md).
 *
 * `ensureInfra()` runs `scripts/infra.sh up` once per test process (it reuses running instances and
 * starts the rest), or with KONTRACT_INFRA=external only checks that the endpoints answer. When
 * they do not, it throws: an integration test without its broker must fail, never skip.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Infra {
  /** Kafka bootstrap servers, `host:port`. */
  readonly brokers: string[];
  /** Base URL of the Confluent-REST-compatible registry, no trailing slash. */
  readonly registryUrl: string;
  /** Base URL of the AWS KMS emulator (moto), no trailing slash. */
  readonly kmsUrl: string;
  /** Vault (its transit engine, tools/vault-transit): base URL and the test server's credentials. */
  readonly vault: { readonly url: string; readonly token: string; readonly roleId: string; readonly secretId: string };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const INFRA_SCRIPT = join(ROOT, "scripts", "infra.sh");
const VERSIONS_FILE = join(ROOT, "scripts", "versions.env");

/** Long enough for a cold machine: Maven download plus a Go build of the registry. */
const UP_TIMEOUT_MS = Number(process.env.KONTRACT_INFRA_TIMEOUT_MS ?? 30 * 60_000);
const PROBE_TIMEOUT_MS = 3_000;

/** Reads the plain KEY=value lines of scripts/versions.env (the ports live there). */
function readVersionsEnv(): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of readFileSync(VERSIONS_FILE, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)=(\S*)\s*$/.exec(line);
    if (match) values.set(match[1], match[2]);
  }
  return values;
}

/** The endpoints tests talk to; KONTRACT_BROKERS / KONTRACT_REGISTRY_URL override them in external mode. */
export function infraEndpoints(): Infra {
  const env = readVersionsEnv();
  const need = (key: string): string => {
    const value = env.get(key);
    if (!value) throw new Error(`${VERSIONS_FILE}: missing ${key}`);
    return value;
  };
  const host = need("INFRA_HOST");
  const external = process.env.KONTRACT_INFRA === "external";
  const brokers =
    external && process.env.KONTRACT_BROKERS
      ? process.env.KONTRACT_BROKERS.split(",").map((b) => b.trim()).filter((b) => b !== "")
      : [`${host}:${need("KAFKA_PORT")}`];
  const registryUrl =
    external && process.env.KONTRACT_REGISTRY_URL
      ? process.env.KONTRACT_REGISTRY_URL.replace(/\/+$/, "")
      : `http://${host}:${need("REGISTRY_PORT")}`;
  const kmsUrl = external && process.env.KONTRACT_KMS_URL ? process.env.KONTRACT_KMS_URL.replace(/\/+$/, "") : `http://${host}:${need("KMS_PORT")}`;
  const vault = {
    url: external && process.env.KONTRACT_VAULT_URL ? process.env.KONTRACT_VAULT_URL.replace(/\/+$/, "") : `http://${host}:${need("VAULT_PORT")}`,
    token: need("VAULT_DEV_TOKEN"),
    roleId: need("VAULT_DEV_ROLE_ID"),
    secretId: need("VAULT_DEV_SECRET_ID"),
  };
  return { brokers, registryUrl, kmsUrl, vault };
}

let pending: Promise<Infra> | undefined;

/**
 * Makes sure a broker and a registry are reachable and returns their endpoints. Memoised per
 * process: every test file may call it; only the first call runs the script. A failure is memoised
 * too, so one broken setup does not re-run a long start for every test.
 */
export function ensureInfra(): Promise<Infra> {
  pending ??= bringUp();
  return pending;
}

async function bringUp(): Promise<Infra> {
  const infra = infraEndpoints();
  if (process.env.KONTRACT_INFRA !== "external") {
    await runInfraUp();
  }
  await assertHealthy(infra);
  return infra;
}

function runInfraUp(): Promise<void> {
  const verbose = process.env.KONTRACT_INFRA_VERBOSE === "1";
  return new Promise((resolve, reject) => {
    const child = execFile(
      "bash",
      [INFRA_SCRIPT, "up"],
      { cwd: ROOT, timeout: UP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, killSignal: "SIGTERM" },
      (error, stdout, stderr) => {
        if (!error) {
          resolve();
          return;
        }
        const reason = error.killed ? `timed out after ${UP_TIMEOUT_MS} ms` : `failed (${error.message.split("\n")[0]})`;
        reject(
          new Error(
            `scripts/infra.sh up ${reason}; integration tests need a real Kafka broker and schema registry ` +
              `(see docs/infra.md, or set KONTRACT_INFRA=external to use running ones).\n${stdout}${stderr}`,
          ),
        );
      },
    );
    if (verbose) {
      child.stdout?.pipe(process.stderr);
      child.stderr?.pipe(process.stderr);
    }
  });
}

async function assertHealthy(infra: Infra): Promise<void> {
  const problems: string[] = [];
  for (const broker of infra.brokers) {
    const error = await probeTcp(broker);
    if (error) problems.push(`Kafka broker ${broker}: ${error}`);
  }
  const registryError = await probeRegistry(infra.registryUrl);
  if (registryError) problems.push(`schema registry ${infra.registryUrl}: ${registryError}`);
  const kmsError = await probeTcp(new URL(infra.kmsUrl).host);
  if (kmsError) problems.push(`KMS emulator ${infra.kmsUrl}: ${kmsError}`);
  const vaultError = await probeTcp(new URL(infra.vault.url).host);
  if (vaultError) problems.push(`Vault ${infra.vault.url}: ${vaultError}`);
  if (problems.length > 0) {
    const hint =
      process.env.KONTRACT_INFRA === "external"
        ? "KONTRACT_INFRA=external: start them yourself (scripts/infra.sh up)"
        : "scripts/infra.sh up reported success but the endpoints do not answer; see scripts/infra.sh status";
    throw new Error(`integration infrastructure is not reachable (${hint}):\n  ${problems.join("\n  ")}`);
  }
}

/** Resolves to an error message, or undefined when the port accepts a connection. */
export function probeTcp(hostPort: string): Promise<string | undefined> {
  const at = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, at);
  const port = Number(hostPort.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port)) return Promise.resolve(`not a host:port pair`);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: string | undefined): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(`no connection within ${PROBE_TIMEOUT_MS} ms`));
    socket.once("connect", () => done(undefined));
    socket.once("error", (err) => done(err.message));
  });
}

/** Resolves to an error message, or undefined when the registry lists its subjects. */
export async function probeRegistry(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return response.ok ? undefined : `GET /subjects answered ${response.status}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Runs `scripts/<script> <args...>`; rejects with its output when it fails. */
export function runScript(script: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("bash", [join(ROOT, "scripts", script), ...args], { cwd: ROOT, timeout: timeoutMs }, (error, stdout, stderr) =>
      error ? reject(new Error(`scripts/${script} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`)) : resolve(),
    );
  });
}

let counter = 0;

/**
 * A name no other test (or earlier run against the same long-lived broker) uses: safe as a Kafka
 * topic (`[a-zA-Z0-9._-]`, under 249 chars), a consumer group or a subject.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, "-").slice(0, 150);
  counter += 1;
  const random = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0");
  return `${clean}-${Date.now().toString(36)}-${process.pid}-${counter}-${random}`;
}

export interface WaitForOptions {
  /** Default 10 000. */
  timeoutMs?: number;
  /** Default 100. */
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | "">;

/**
 * Polls `fn` until it returns a truthy value and returns that value. A throw counts as "not yet";
 * on timeout the last error (or the last falsy value) is reported.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, options: WaitForOptions = {}): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastWasError = false;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as Truthy<T>;
      last = value;
      lastWasError = false;
    } catch (err) {
      last = err;
      lastWasError = true;
    }
    if (Date.now() >= deadline) {
      const detail = lastWasError
        ? `last error: ${last instanceof Error ? last.message : String(last)}`
        : `last value: ${JSON.stringify(last)}`;
      throw new Error(`waitFor${options.what ? ` (${options.what})` : ""}: timed out after ${timeoutMs} ms; ${detail}`, {
        cause: lastWasError ? last : undefined,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
