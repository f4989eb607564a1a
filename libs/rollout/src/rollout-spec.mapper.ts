import { maxUnavailableOf, type MaxUnavailable, type Runbook } from '@hotswap/runbook';
import type { RolloutSpec } from './rollout.types.js';

/** The scheduler's view of a runbook: strategy, SLO, failure policy, windows, gate presence. */
export function rolloutSpecOf(runbook: Runbook): RolloutSpec {
  const { strategy, slo, failurePolicy, maintenanceWindows, prometheusGate } = runbook.spec;
  return {
    strategy: { ...strategy },
    slo: { ...slo },
    failurePolicy,
    maintenanceWindows: [...maintenanceWindows],
    prometheusGate: prometheusGate !== undefined,
  };
}

/**
 * `maxUnavailable` as a number of hosts. A percentage is of the selector's hosts, rounded up and
 * at least 1, so that a small fleet still moves and "10%" of 15 hosts is 2, not 1.
 */
export function resolveMaxUnavailable(value: MaxUnavailable, hostCount: number): number {
  const limit = maxUnavailableOf(value);
  if ('count' in limit) return limit.count;
  return Math.max(1, Math.ceil((limit.percent * hostCount) / 100));
}
