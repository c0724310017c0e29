/** Pruning per-message plans (field walks, redaction passes) down to what can do something. */

interface PrunablePlan {
  steps: { readonly sub: PrunablePlan | undefined }[];
}

/**
 * Keeps the steps that act (`acts`) or lead, through a nested message's plan,
 * to a plan with such a step. A fixpoint, since messages may be recursive.
 */
export function pruneSteps<P extends PrunablePlan>(plans: Iterable<P>, acts: (step: P["steps"][number]) => boolean): void {
  const all = [...plans];
  const live = new Set<PrunablePlan>();
  for (const plan of all) if (plan.steps.some(acts)) live.add(plan);
  const leads = (s: P["steps"][number]): boolean => s.sub !== undefined && live.has(s.sub);
  for (let changed = true; changed; ) {
    changed = false;
    for (const plan of all) {
      if (!live.has(plan) && plan.steps.some(leads)) {
        live.add(plan);
        changed = true;
      }
    }
  }
  for (const plan of all) plan.steps = plan.steps.filter((s) => acts(s) || leads(s));
}
