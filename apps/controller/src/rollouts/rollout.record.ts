import type { SwapDirection, SwapOutcome, SwapReport } from '@hotswap/contracts';
import type { RolloutEvent, RolloutState, Wave } from '@hotswap/rollout';
import type { Runbook } from '@hotswap/runbook';

/**
 * A rollout as stored in Redis (see rollout.store.ts for the keys). Plain data. The event log
 * (libs/rollout `RolloutEvent`s) is the truth the scheduler decides from; the record holds what
 * does not change (runbook, host set) and the last decision, so that a reader needs no scheduler.
 */
export const ROLLOUT_RECORD_VERSION = 2;

export type { RolloutState } from '@hotswap/rollout';

/** A host of the rollout, as resolved at creation; its labels decide its failure domain. */
export interface RolloutHost {
  readonly hostId: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** What the last `decide` said, as GET /v1/rollouts/:id shows it. */
export interface StoredDecision {
  readonly state: RolloutState;
  readonly reason: string;
  readonly waves: readonly Wave[];
  readonly nextWakeAt: number | null;
  readonly skipped: readonly string[];
  readonly failed: readonly string[];
  readonly decidedAt: number;
}

export interface RolloutRecord {
  readonly v: typeof ROLLOUT_RECORD_VERSION;
  readonly id: string;
  readonly name: string;
  /** The last decision's state, repeated at the top because everything reads it. */
  readonly state: RolloutState;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
  /** The validated runbook, sent whole to each host's agent in its swap jobs. */
  readonly runbook: Runbook;
  /** Set when the rollout was created from a stored runbook. */
  readonly runbookRef: { readonly name: string; readonly revision: number } | null;
  readonly hosts: readonly RolloutHost[];
  readonly decision: StoredDecision;
}

/** A rollout as loaded: the record, its event log and the revision both were read at. */
export interface RolloutSnapshot {
  readonly record: RolloutRecord;
  readonly events: readonly RolloutEvent[];
  readonly rev: number;
}

/** One step event as the agent sent it (the last ones per host are kept). */
export interface HostStep {
  readonly phase: string;
  readonly status: string;
  readonly at: number;
  readonly direction: SwapDirection;
  readonly detail?: string;
}

/** Where a host is in a rollout, as the API shows it. */
export type HostProgress =
  'pending' | 'queued' | 'running' | SwapOutcome | 'rolling-back' | 'rolled-back' | 'rollback-failed';

/** Every outcome an agent may report, checked at run time: the contracts type is only a type. */
export const SWAP_OUTCOMES: Readonly<Record<SwapOutcome, true>> = {
  succeeded: true,
  'failed-restored': true,
  failed: true,
  refused: true,
  skipped: true,
  expired: true,
};

export const isSwapOutcome = (value: unknown): value is SwapOutcome =>
  typeof value === 'string' && Object.hasOwn(SWAP_OUTCOMES, value);

/** The agents' reports of one rollout, by host and direction. */
export type HostReports = ReadonlyMap<string, { forward?: SwapReport; rollback?: SwapReport }>;
