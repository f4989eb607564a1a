import type { RecoveryObservation, SwapReport } from '@hotswap/contracts';

export interface RecoverySummary {
  /** Applications observed across the rollout's hosts (one observation each). */
  readonly recoveries: number;
  /** Median and maximum recovery time of those that came back (recovered or restarted). */
  readonly recoveryP50Seconds: number | null;
  readonly recoveryMaxSeconds: number | null;
  /** Those that did not come back: still without the device at the end, or exited for good. */
  readonly notRecovered: number;
}

/**
 * Rollout-wide recovery figures from the hosts' reports. P50 is the nearest-rank median (an
 * observed value, never an interpolation), null when nothing has been measured yet.
 */
export function summarizeRecoveries(reports: readonly (SwapReport | null)[]): RecoverySummary {
  const observations = reports.flatMap((report) => recoveriesOf(report));
  const seconds = observations
    .filter((o) => (o.status === 'recovered' || o.status === 'restarted') && typeof o.seconds === 'number')
    .map((o) => o.seconds as number)
    .sort((a, b) => a - b);
  return {
    recoveries: observations.length,
    recoveryP50Seconds: seconds.length === 0 ? null : (seconds[Math.ceil(seconds.length / 2) - 1] ?? null),
    recoveryMaxSeconds: seconds.length === 0 ? null : (seconds[seconds.length - 1] ?? null),
    notRecovered: observations.filter((o) => o.status === 'not-recovered' || o.status === 'exited').length,
  };
}

/** A report is data from another process: tolerate a missing or malformed list. */
export function recoveriesOf(report: SwapReport | null): readonly RecoveryObservation[] {
  return Array.isArray(report?.recoveries) ? report.recoveries : [];
}
