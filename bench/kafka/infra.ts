/**
 * The bench's side of the shared test infrastructure: start the broker and
 * registry through ensureInfra (reusing running ones), and afterwards stop only
 * what this run started, so the machine is left as it was found.
 */
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { ensureInfra, infraEndpoints, type Infra } from "../../test/helpers/infra.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface BenchInfra extends Infra {
  /** Stops what ensureInfra started for this run (nothing when both were already up, or with `keep`). */
  release(keep: boolean): Promise<string>;
}

export async function acquireInfra(): Promise<BenchInfra> {
  const endpoints = infraEndpoints();
  const external = process.env.KONTRACT_INFRA === "external";
  const before = { kafka: await tcpOpen(endpoints.brokers[0]!), registry: await httpOk(`${endpoints.registryUrl}/subjects`) };
  const infra = await ensureInfra();
  return {
    ...infra,
    async release(keep) {
      const started = external ? [] : (["kafka", "registry"] as const).filter((c) => !before[c]);
      if (started.length === 0) return "broker and registry were already running: left running";
      if (keep) return `--keep-infra: left running what this run started (${started.join(", ")}); stop with scripts/infra.sh down`;
      // Both started here: `infra.sh down` is the documented way. Only one: stop just that one,
      // as `down` would also stop the other, which someone else started.
      if (started.length === 2) await run("infra.sh", ["down"]);
      else await run(`${started[0]}.sh`, ["stop"]);
      return `stopped what this run started (${started.join(", ")})`;
    },
  };
}

function run(script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("bash", [join(ROOT, "scripts", script), ...args], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`scripts/${script} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`)) : resolve(),
    );
  });
}

function tcpOpen(hostPort: string): Promise<boolean> {
  const at = hostPort.lastIndexOf(":");
  return new Promise((resolve) => {
    const socket = connect({ host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

export function benchKafka(infra: Infra): Kafka {
  return new Kafka({
    clientId: "kontract-bench",
    brokers: infra.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** One partition, replication 1: the single-node broker; ordering and batch sizes are then the same for every contender. */
export async function createTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  await withAdmin(kafka, (admin) =>
    admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })), waitForLeaders: true }),
  );
}

export async function deleteTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: [...topics], timeout: 30_000 }));
}

/** Records on a topic (high minus low watermark). */
export async function countRecords(kafka: Kafka, topic: string): Promise<number> {
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
  });
}
