/**
 * Migrations between schema versions (Java/JS getMigrations):
 * writer < reader upgrades through every version up to the reader; writer > reader
 * downgrades. Each edge (prev, cur) runs if `cur` has migration rules for the
 * direction: the newer version owns both directions of its edge. Messages travel
 * in their JSON form between versions, as in the Java client.
 */
import type { ContractPlan, Phase } from "./engine.js";
import { untouched, type MessageContext } from "./run.js";
import type { Outcome } from "./types.js";
import { SerializationError } from "../errors.js";
import { capText } from "../util/cap.js";

export interface VersionedPlan {
  readonly version: number;
  readonly plan: ContractPlan;
}

export interface Migration {
  readonly direction: "UPGRADE" | "DOWNGRADE" | "NONE";
  readonly from: VersionedPlan;
  readonly to: VersionedPlan;
  /** Phases in execution order. */
  readonly phases: readonly Phase[];
}

/**
 * Plans the migration from the writer's version to the reader's. `versions`
 * must hold every version between the two, inclusive, in any order.
 */
export function planMigration(writer: VersionedPlan, reader: VersionedPlan, versions: readonly VersionedPlan[]): Migration {
  if (writer.version === reader.version) return { direction: "NONE", from: writer, to: reader, phases: [] };
  const upgrade = writer.version < reader.version;
  const lo = Math.min(writer.version, reader.version);
  const hi = Math.max(writer.version, reader.version);
  const chain = versions.filter((v) => v.version >= lo && v.version <= hi).sort((a, b) => a.version - b.version);
  const phases: Phase[] = [];
  for (let i = 1; i < chain.length; i++) {
    const cur = chain[i]!.plan;
    const phase = upgrade ? cur.upgrade : cur.downgrade;
    if (!phase.empty) phases.push(phase);
  }
  if (!upgrade) phases.reverse();
  return { direction: upgrade ? "UPGRADE" : "DOWNGRADE", from: writer, to: reader, phases };
}

/**
 * Runs a migration on a message decoded with the writer's schema and returns
 * the message in the reader's schema, or the failed outcome of a migration rule.
 */
export function runMigration(migration: Migration, message: unknown, context: MessageContext): Outcome | Promise<Outcome> {
  if (migration.phases.length === 0) return untouched(message);
  let json: unknown;
  try {
    json = migration.from.plan.schema.toJson(message);
  } catch (e) {
    throw new SerializationError("wire-format", `cannot migrate: message has no JSON form: ${capText((e as Error).message)}`, { cause: e });
  }
  return step(migration, 0, json, context, []);
}

function step(
  migration: Migration,
  i: number,
  json: unknown,
  context: MessageContext,
  violations: Outcome["violations"][number][],
): Outcome | Promise<Outcome> {
  for (; i < migration.phases.length; i++) {
    const out = migration.phases[i]!.run(json, context);
    if (out instanceof Promise) {
      const next = i + 1;
      return out.then((o) => (o.kind === "failed" ? o : step(migration, next, o.value, context, [...violations, ...o.violations])));
    }
    if (out.kind === "failed") return out;
    violations.push(...out.violations);
    json = out.value;
  }
  let value: unknown;
  try {
    const schema = migration.to.plan.schema;
    value = schema.fromJson(json);
    const problems = schema.validate(value);
    if (problems) throw new Error(problems.map((p) => `${p.path || "(root)"}: ${p.message}`).join("; "));
  } catch (e) {
    throw new SerializationError(
      "message-invalid",
      `migration from version ${migration.from.version} to ${migration.to.version} produced a message that does not fit the reader schema: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return { kind: "passed", value, transformed: true, violations };
}
