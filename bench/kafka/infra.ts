/**
 * The bench's side of the shared test infrastructure: start the broker and
 * registry through ensureInfra (reusing running ones), and afterwards stop only
 * what this run started, so the machine is left as it was found.
 */
import { Kafka, logLevel } from "kafkajs";
import { ensureInfra, infraEndpoints, probeRegistry, probeTcp, runScript, type Infra } from "../../test/helpers/infra.js";
import { withAdmin } from "../../test/integration/kafka-support.js";

// One partition, replication 1 (the single-node broker): ordering and batch sizes are then the same for every contender.
export { countRecords, createTopics } from "../../test/integration/kafka-support.js";

export interface BenchInfra extends Infra {
  /** Stops what ensureInfra started for this run (nothing when both were already up, or with `keep`). */
  release(keep: boolean): Promise<string>;
}

export async function acquireInfra(): Promise<BenchInfra> {
  const endpoints = infraEndpoints();
  const external = process.env.KONTRACT_INFRA === "external";
  const before = { kafka: (await probeTcp(endpoints.brokers[0]!)) === undefined, registry: (await probeRegistry(endpoints.registryUrl)) === undefined };
  const infra = await ensureInfra();
  return {
    ...infra,
    async release(keep) {
      const started = external ? [] : (["kafka", "registry"] as const).filter((c) => !before[c]);
      if (started.length === 0) return "broker and registry were already running: left running";
      if (keep) return `--keep-infra: left running what this run started (${started.join(", ")}); stop with scripts/infra.sh down`;
      // Both started here: `infra.sh down` is the documented way. Only one: stop just that one,
      // as `down` would also stop the other, which someone else started.
      if (started.length === 2) await runScript("infra.sh", ["down"], 120_000);
      else await runScript(`${started[0]}.sh`, ["stop"], 120_000);
      return `stopped what this run started (${started.join(", ")})`;
    },
  };
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

export async function deleteTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: [...topics], timeout: 30_000 }));
}
