/**
 * Stateful rules on a consumer with retry topics (docs/stateful.md, "Retry topics").
 *
 * State belongs to the main topic's partitions, as a Kafka Streams task's stores belong to its
 * input partitions. A record reaches a retry topic only after it was judged there: its stateful
 * rules passed on its first delivery, their state change (its key, its sequence, its part of a
 * group) was written to the changelog before its handler ran, and then the handler failed. So on a
 * retry topic the record is not judged again: judged in a state of the retry topic's own, it would
 * open completeness groups that never complete and meet keys in retry order and retry-write time
 * instead of the partition's order and record time; judged again in its original partition's state,
 * it would need that state on whichever consumer owns the retry topic's partition (a second copy,
 * a second writer). Its first verdict stands, its state entry is the one written on its first
 * delivery: it is neither counted twice nor missed.
 *
 * That holds only when every record on a retry topic did pass the stateful rules first: only a
 * handler failure may retry. A rule failure (`retryOn.rules`) or a registry outage
 * (`retryOn.registry`) retries records the stateful rules never judged (or judged failed), which no
 * retry topic could judge in their partition's state; such options are refused.
 */
import { KontractError } from "../errors.js";
import type { RetryOptions, RetryPlan } from "./retry.js";
import type { StatefulStage } from "./stateful.js";

/** Refuses retry options under which a retry topic would hold records the stateful rules did not pass (a `usage` error). */
export function checkStatefulRetries(retry: RetryOptions | undefined): void {
  const on = retry?.retryOn;
  const rules = on?.rules === "all" || (on?.rules?.length ?? 0) > 0;
  if (!rules && on?.registry !== true) return;
  throw new KontractError(
    "usage",
    `stateful rules run with retry topics for handler failures only: retry.retryOn.${rules ? "rules" : "registry"} would send records to a retry topic that the stateful rules did not pass on their first delivery, and a retry topic cannot judge them in their partition's state (docs/stateful.md, "Retry topics"); let such records go to the DLQ and replay them onto the main topic`,
  );
}

/** The stateful stage that judges the records of `topic`: `stage` on a main topic, none on a retry topic. */
export function statefulOnMainTopics(stage: StatefulStage | undefined, retry: RetryPlan | undefined): (topic: string) => StatefulStage | undefined {
  if (stage === undefined || retry === undefined) return () => stage;
  return (topic) => (retry.stageOf(topic) === undefined ? stage : undefined);
}
