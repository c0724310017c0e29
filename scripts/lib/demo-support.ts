/**
 * What the demos share: the local broker and registry of scripts/infra.sh
 * (started, or reused), waiting for records, and failing loudly.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const say = (text = ""): void => void process.stdout.write(`${text}\n`);

/** Starts (or reuses) the local broker and registry; their addresses come from scripts/versions.env. */
export function localInfra(): { brokers: string[]; registryUrl: string } {
  const env = new Map(
    readFileSync(join(ROOT, "scripts", "versions.env"), "utf8")
      .split("\n")
      .map((l) => /^([A-Z0-9_]+)=(\S*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  say("== starting a local Kafka broker and schema registry (scripts/infra.sh up)");
  execFileSync("bash", [join(ROOT, "scripts", "infra.sh"), "up"], { stdio: "inherit" });
  const host = env.get("INFRA_HOST")!;
  return { brokers: [`${host}:${env.get("KAFKA_PORT")}`], registryUrl: `http://${host}:${env.get("REGISTRY_PORT")}` };
}

export async function until(done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("demo: timed out waiting for records");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a demo; a failure prints its stack and exits 1. */
export function runDemo(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
