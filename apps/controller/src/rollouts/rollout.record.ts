import type { SwapOutcome, SwapReport } from '@hotswap/contracts';
import type { Runbook } from '@hotswap/runbook';
import type { HostProgress } from './next-sequential-step.js';

/**
 * A rollout as stored in Redis (JSON under `hotswap:rollout:<id>`). Plain data: the transitions
 * in rollout.transitions.ts are pure functions from one record to the next, and the store
 * writes a new record only if nobody changed it in between.
 */
export const ROLLOUT_RECORD_VERSION = 1;

export type RolloutState = 'running' | 'succeeded' | 'failed';

/** One step event as the agent sent it (the last ones are kept, see MAX_STEPS_PER_HOST). */
export interface HostStep {
  readonly phase: string;
  readonly status: string;
  readonly at: number;
  readonly detail?: string;
}

export interface HostRecord {
  readonly hostId: string;
  readonly state: HostProgress;
  readonly steps: readonly HostStep[];
  /** The agent's final report; its arrival is what moves the rollout on. */
  readonly report: SwapReport | null;
  /** The swap whose result was recorded: a second result with the same id is a no-op. */
  readonly swapId: string | null;
  readonly queuedAt: number | null;
}

export interface RolloutRecord {
  readonly v: typeof ROLLOUT_RECORD_VERSION;
  readonly id: string;
  readonly name: string;
  readonly state: RolloutState;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
  /** The validated runbook, sent whole to each host's agent when its turn comes. */
  readonly runbook: Runbook;
  readonly hosts: readonly HostRecord[];
}

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

export const HOST_PROGRESS: readonly HostProgress[] = [
  'pending',
  'queued',
  'running',
  ...(Object.keys(SWAP_OUTCOMES) as SwapOutcome[]),
];
