import type { ModuleState } from './host-census.js';
import type { HolderSummary } from './swap-report.js';
import type { RollbackModule } from './rollback-module.js';
import type { ModulePin, SwapPrediction } from './swap-prediction.js';

/**
 * `hotswap-agent swap --dry-run --json`: what a swap would do on this host, without any kernel
 * action. Versioned with the contracts (`v`); fields are only ever added.
 */
export interface DryRunPlan {
  readonly v: 1;
  readonly kind: 'dry-run';
  readonly hostId: string;
  readonly runbook: string;
  readonly at: number;
  /** What the swap would do now: go ahead, refuse in preflight, or skip (already on the target). */
  readonly verdict: 'would-swap' | 'would-refuse' | 'would-skip';
  /** Why it would refuse or skip; empty when it would swap. */
  readonly reasons: readonly string[];
  /** What preflight wants known without refusing (e.g. "signed by X: the kernel checks it"). */
  readonly notes: readonly string[];
  readonly modules: readonly DryRunModule[];
  readonly devices: readonly DevicePrediction[];
  /** Every checkable prediction, as the swap report's `predictions` will carry them checked. */
  readonly predictions: readonly SwapPrediction[];
  readonly holders: readonly HolderSummary[];
  readonly pins: readonly ModulePin[];
  /** What `modprobe -r` of the stack would remove, and what a rollback would load back. */
  readonly rollback: readonly RollbackModule[];
}

/** A module of the stack as the kernel shows it now, and the target the runbook resolves to. */
export interface DryRunModule extends ModuleState {
  readonly target: {
    readonly file: string;
    readonly version: string | null;
    readonly srcversion: string | null;
  } | null;
}

/** What is known of one device before acting. */
export interface DevicePrediction {
  /** "bus/id" */
  readonly device: string;
  readonly driver: string | null;
  readonly nodes: readonly { readonly path: string; readonly rdev: string; readonly sysfsClass: string | null }[];
  /** The subsystem table row that applies, when one does. */
  readonly subsystem: string | null;
  readonly revokeScheme: 'revoke' | 'wait' | null;
  readonly fopsOwner: 'driver' | 'subsystem' | null;
  /** Predicted, never observed. */
  readonly predictedErrno: string | null;
  readonly holders: readonly { readonly pid: number; readonly comm: string; readonly paths: readonly string[] }[];
  /** Every line of reasoning, in order: table row, host inference, runbook override, conflicts. */
  readonly basis: readonly string[];
}
