import type { RecoveryObservation, SwapReport } from '@hotswap/contracts';
import type { ModuleStep } from '@hotswap/runbook';
import type { HostProgress } from './next-sequential-step.js';
import { isSwapOutcome, type HostStep, type RolloutRecord, type RolloutState } from './rollout.record.js';
import { recoveriesOf, summarizeRecoveries, type RecoverySummary } from './recovery.summary.js';

/** What GET /v1/rollouts/:id answers. The record's internals (runbook, swap ids) stay inside. */
export interface RolloutView {
  readonly id: string;
  readonly name: string;
  readonly state: RolloutState;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly modules: readonly ModuleStep[];
  readonly hosts: readonly HostView[];
  readonly summary: RolloutSummary;
}

export interface HostView {
  readonly hostId: string;
  readonly state: HostProgress;
  readonly steps: readonly HostStep[];
  readonly report: SwapReport | null;
  readonly recoveries: readonly RecoveryObservation[];
}

export interface RolloutSummary extends RecoverySummary {
  readonly hostsTotal: number;
  /** Hosts with a final outcome, whatever it is. */
  readonly hostsDone: number;
}

/** One line of GET /v1/rollouts. */
export interface RolloutListItem {
  readonly id: string;
  readonly name: string;
  readonly state: RolloutState;
  readonly createdAt: number;
}

export function toRolloutView(record: RolloutRecord): RolloutView {
  return {
    id: record.id,
    name: record.name,
    state: record.state,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    modules: record.runbook.spec.modules,
    hosts: record.hosts.map((host) => ({
      hostId: host.hostId,
      state: host.state,
      steps: host.steps,
      report: host.report,
      recoveries: recoveriesOf(host.report),
    })),
    summary: {
      hostsTotal: record.hosts.length,
      hostsDone: record.hosts.filter((host) => isSwapOutcome(host.state)).length,
      ...summarizeRecoveries(record.hosts.map((host) => host.report)),
    },
  };
}

export function toRolloutListItem(record: RolloutRecord): RolloutListItem {
  return { id: record.id, name: record.name, state: record.state, createdAt: record.createdAt };
}
