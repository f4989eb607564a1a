import type { RollbackModule } from './rollback-module.js';
import type { ModulePin, PredictionCheck } from './swap-prediction.js';

/**
 * What a swap reports, step by step and at the end. Produced by libs/swap, carried on the
 * event queue, stored and served by the controller. Plain data, versioned with the contracts.
 */

/** The phases of a swap, in order (DESIGN.md "Swap, per host"), plus the restore paths. */
export const SWAP_PHASES = [
  'preflight',
  'pre-hooks',
  'unbind',
  'unbind-blocked',
  'zombie-census',
  'zombie-wait',
  'unload',
  'load',
  'rebind',
  'verify',
  'recovery-watch',
  'post-hooks',
  'restore-rebind',
  'restore-reload',
] as const;
export type SwapPhase = (typeof SWAP_PHASES)[number];

/**
 * How a swap ended.
 * - succeeded: the new version is loaded and bound;
 * - failed-restored: something failed, the previous driver is bound again;
 * - failed: something failed and the host could not be restored (needs a human);
 * - refused: preflight refused before touching anything;
 * - skipped: the host already runs the target;
 * - expired: the job arrived after its `notAfter` and was not run.
 */
export type SwapOutcome = 'succeeded' | 'failed-restored' | 'failed' | 'refused' | 'skipped' | 'expired';

export interface StepRecord {
  readonly phase: SwapPhase;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly ok: boolean | null;
  readonly detail?: string;
}

export interface HolderSummary {
  readonly pid: number;
  readonly comm: string;
  readonly unit: string | null;
  readonly fds: number;
  readonly mappings: number;
}

/**
 * One application's recovery. `seconds` runs from the unbind's return (revoke scheme) or the
 * process's close (wait scheme) to the first observation of it holding the new node.
 * `status`: recovered (same pid reopened), restarted (its unit came back under a new pid
 * holding the new node), not-recovered (still without the device when the watch ended),
 * exited (gone, no successor in its unit).
 */
export interface RecoveryObservation {
  readonly pid: number;
  readonly comm: string;
  readonly unit: string | null;
  readonly status: 'recovered' | 'restarted' | 'not-recovered' | 'exited';
  readonly seconds: number | null;
  readonly newPid?: number;
  /** The errno the subsystem is known to return on zombie FDs: predicted, not observed. */
  readonly predictedErrno: string;
}

export interface BlockedUnbind {
  readonly device: string;
  readonly sinceSeconds: number;
  readonly holders: readonly HolderSummary[];
}

export interface SwapReport {
  readonly swapId: string;
  readonly hostId: string;
  readonly outcome: SwapOutcome;
  readonly modules: readonly string[];
  readonly fromVersion: string | null;
  readonly toVersion: string | null;
  readonly fromSrcversion: string | null;
  readonly toSrcversion: string | null;
  readonly devices: readonly string[];
  readonly steps: readonly StepRecord[];
  readonly holdersBefore: readonly HolderSummary[];
  readonly zombieFds: number;
  readonly recoveries: readonly RecoveryObservation[];
  readonly blockedUnbind: BlockedUnbind | null;
  readonly error: string | null;
  readonly startedAt: number;
  readonly endedAt: number;
  /** What the kernel said during the swap (Linux hosts): taint flags and kernel log lines. */
  readonly kernel?: {
    readonly taintBefore: string | null;
    readonly taintAfter: string | null;
    readonly log: readonly string[];
    readonly logIncomplete: boolean;
  } | null;
  /** Each prediction made in preflight, and whether the swap bore it out (a mismatch is `held: false`). */
  readonly predictions?: readonly PredictionCheck[];
  /** Modules whose refcount open files held up in preflight, and the PIDs holding them. */
  readonly pins?: readonly ModulePin[];
  /** What `modprobe -r` of the stack removed and a restore loads back (files and parameters). */
  readonly rollback?: readonly RollbackModule[];
}
