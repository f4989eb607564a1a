import type { RecoveryObservation, SwapReport } from '@hotswap/contracts';
import { foldHistory, type RolloutEvent, type Wave } from '@hotswap/rollout';
import type { ModuleStep } from '@hotswap/runbook';
import type {
  HostProgress,
  HostReports,
  HostStep,
  RolloutRecord,
  RolloutSnapshot,
  RolloutState,
} from './rollout.record.js';
import { recoveriesOf, summarizeRecoveries, type RecoverySummary } from './recovery.summary.js';

/** What GET /v1/rollouts/:id answers. The record's internals (the runbook) stay inside. */
export interface RolloutView {
  readonly id: string;
  readonly name: string;
  /** The scheduler's state: running, paused, waiting-*, rolling-back, or a final one. */
  readonly state: RolloutState;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
  readonly runbook: RolloutRecord['runbookRef'];
  readonly modules: readonly ModuleStep[];
  readonly decision: {
    readonly state: RolloutState;
    readonly reason: string;
    readonly waves: readonly Wave[];
    readonly nextWakeAt: number | null;
    readonly decidedAt: number;
  };
  /** Length of the event log (GET /v1/rollouts/:id/events has the log itself). */
  readonly eventCount: number;
  readonly hosts: readonly HostView[];
  readonly summary: RolloutSummary;
}

export interface HostView {
  readonly hostId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: HostProgress;
  /** The forward swap's wave, once enqueued. */
  readonly wave: number | null;
  readonly steps: readonly HostStep[];
  /** The forward swap's report. */
  readonly report: SwapReport | null;
  readonly rollbackReport: SwapReport | null;
  readonly recoveries: readonly RecoveryObservation[];
}

export interface RolloutSummary extends RecoverySummary {
  readonly hostsTotal: number;
  /** Hosts with a final forward outcome (skipped included), whatever it is. */
  readonly hostsDone: number;
  readonly hostsRolledBack: number;
}

/** One line of GET /v1/rollouts. */
export interface RolloutListItem {
  readonly id: string;
  readonly name: string;
  readonly state: RolloutState;
  readonly createdAt: number;
}

/**
 * Each host's state, from the event log (and whether its agent reported steps yet):
 * pending → queued (job enqueued) → running (steps seen) → the forward outcome; then, if it goes
 * back, rolling-back → rolled-back (or rollback-failed). A host the scheduler skipped without
 * starting it (already on the target) is `skipped`.
 */
export function hostStates(
  snapshot: RolloutSnapshot,
  steps: ReadonlyMap<string, readonly HostStep[]>,
): Map<string, { state: HostProgress; wave: number | null }> {
  const { record, events } = snapshot;
  const history = foldHistory(events, record.runbook.spec.failurePolicy);
  const skipped = new Set(record.decision.skipped);
  const waves = forwardWaves(events);
  return new Map(
    record.hosts.map(({ hostId }) => {
      const host = history.hosts.get(hostId);
      const wave = host?.startedForward ? (waves.get(hostId) ?? null) : null;
      let state: HostProgress = skipped.has(hostId) ? 'skipped' : 'pending';
      if (host?.inFlight === 'forward') {
        state = (steps.get(hostId) ?? []).some((s) => s.direction === 'forward') ? 'running' : 'queued';
      } else if (host?.inFlight === 'rollback') state = 'rolling-back';
      else if (host?.rollbackOutcome != null) {
        state =
          host.rollbackOutcome === 'succeeded' || host.rollbackOutcome === 'skipped'
            ? 'rolled-back'
            : 'rollback-failed';
      } else if (host?.forwardOutcome != null) state = host.forwardOutcome;
      return [hostId, { state, wave }];
    }),
  );
}

export function toRolloutView(
  snapshot: RolloutSnapshot,
  reports: HostReports,
  steps: ReadonlyMap<string, readonly HostStep[]>,
): RolloutView {
  const { record, events } = snapshot;
  const states = hostStates(snapshot, steps);
  const hosts = record.hosts.map(({ hostId, labels }): HostView => {
    const report = reports.get(hostId)?.forward ?? null;
    return {
      hostId,
      labels,
      state: states.get(hostId)?.state ?? 'pending',
      wave: states.get(hostId)?.wave ?? null,
      steps: steps.get(hostId) ?? [],
      report,
      rollbackReport: reports.get(hostId)?.rollback ?? null,
      recoveries: recoveriesOf(report),
    };
  });
  const { state, reason, waves, nextWakeAt, decidedAt } = record.decision;
  return {
    id: record.id,
    name: record.name,
    state: record.state,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    finishedAt: record.finishedAt,
    runbook: record.runbookRef,
    modules: record.runbook.spec.modules,
    decision: { state, reason, waves, nextWakeAt, decidedAt },
    eventCount: events.length,
    hosts,
    summary: {
      hostsTotal: hosts.length,
      hostsDone: hosts.filter((host) => !['pending', 'queued', 'running'].includes(host.state)).length,
      hostsRolledBack: hosts.filter((host) => host.state === 'rolled-back').length,
      ...summarizeRecoveries(hosts.map((host) => host.report)),
    },
  };
}

export function toRolloutListItem(record: RolloutRecord): RolloutListItem {
  return { id: record.id, name: record.name, state: record.state, createdAt: record.createdAt };
}

/** The wave each host's latest forward job was enqueued with. */
function forwardWaves(events: readonly RolloutEvent[]): Map<string, number> {
  const waves = new Map<string, number>();
  for (const event of events) {
    if (event.type === 'enqueued' && event.direction === 'forward') waves.set(event.hostId, event.wave);
  }
  return waves;
}
