import type { RecoveryObservation, SwapOutcome } from '@hotswap/contracts';
import type { DomainCap, FailurePolicy, MaintenanceWindow, MaxUnavailable, RecoverySlo } from '@hotswap/runbook';

export type Direction = 'forward' | 'rollback';

/** What the scheduler needs of a runbook (see `rolloutSpecOf`). */
export interface RolloutSpec {
  readonly strategy: {
    readonly canary: number;
    readonly maxUnavailable: MaxUnavailable;
    readonly domainCap?: DomainCap;
    readonly pauseBetweenWavesSeconds: number;
  };
  readonly slo: RecoverySlo;
  readonly failurePolicy: FailurePolicy;
  /** Empty: always open. */
  readonly maintenanceWindows: readonly MaintenanceWindow[];
  /** Whether the runbook has a Prometheus gate; the controller runs the query. */
  readonly prometheusGate: boolean;
}

/** A host of the rollout's selector, as the registry sees it now. */
export interface HostInfo {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Heartbeat fresh. A host that is not counts against `maxUnavailable` and is not started. */
  readonly available: boolean;
  readonly currentSrcversion?: string | null;
  readonly currentVersion?: string | null;
  /** The target's srcversion/version when known (e.g. from `modinfo` of the target file). */
  readonly targetSrcversion?: string | null;
  readonly targetVersion?: string | null;
  /**
   * Whether the whole module stack already runs the target, when the caller compared it module
   * by module (the controller does, from the versions agents report); takes precedence over the
   * single-module fields above.
   */
  readonly onTarget?: boolean;
}

/** What the SLO gate reads of one application's recovery. */
export type RecoverySample = Pick<RecoveryObservation, 'status' | 'seconds'>;

export type GateVerdict = 'pass' | 'fail' | 'no-data';
export type PrometheusGateStatus = 'ok' | 'error' | 'empty' | 'false';

/**
 * Everything that happened to a rollout, in order; `at` is epoch ms. The controller appends: its
 * own actions (enqueued, withdrawn, gates), agents' results, operators' commands.
 */
export type RolloutEvent =
  | { readonly type: 'started'; readonly at: number }
  /** A swap job was put on the host's queue: the host is in flight from now. */
  | {
      readonly type: 'enqueued';
      readonly at: number;
      readonly hostId: string;
      readonly wave: number;
      readonly direction: Direction;
    }
  /** A job listed in `withdraw` was removed before an agent took it: the host is no longer in flight. */
  | { readonly type: 'withdrawn'; readonly at: number; readonly hostId: string }
  | {
      readonly type: 'result';
      readonly at: number;
      readonly hostId: string;
      readonly direction: Direction;
      readonly outcome: SwapOutcome;
      readonly recoveries: readonly RecoverySample[];
    }
  /** The SLO gate of a wave, as `Decision.gate` asked to record it. */
  | {
      readonly type: 'gate-evaluated';
      readonly at: number;
      readonly wave: number;
      readonly verdict: GateVerdict;
      readonly detail: string;
    }
  | {
      readonly type: 'prometheus-gate';
      readonly at: number;
      readonly wave: number;
      readonly status: PrometheusGateStatus;
      readonly detail?: string;
    }
  | { readonly type: 'paused'; readonly at: number; readonly by?: string }
  | { readonly type: 'resumed'; readonly at: number; readonly by?: string }
  | { readonly type: 'aborted'; readonly at: number; readonly by?: string }
  | { readonly type: 'rollback-requested'; readonly at: number; readonly by?: string }
  /** The host's job passed its `notAfter` without a result (no agent took it in time). */
  | { readonly type: 'expired'; readonly at: number; readonly hostId: string };

export type RolloutState =
  | 'running'
  | 'rolling-back'
  | 'paused'
  | 'waiting-window'
  | 'waiting-gate'
  | 'waiting-pause-between-waves'
  | 'succeeded'
  | 'failed'
  | 'aborted'
  | 'rolled-back';

export const TERMINAL_ROLLOUT_STATES: ReadonlySet<RolloutState> = new Set([
  'succeeded',
  'failed',
  'aborted',
  'rolled-back',
]);
export const isTerminalRolloutState = (state: RolloutState): boolean => TERMINAL_ROLLOUT_STATES.has(state);

export interface Wave {
  /** 0 is the canary (when there is one); forward waves count up from 1. */
  readonly index: number;
  readonly kind: 'canary' | 'wave';
  readonly hosts: readonly string[];
  /** done: every host has a result and its SLO gate is recorded; planned: a projection that may change. */
  readonly status: 'done' | 'in-progress' | 'planned';
  readonly gate?: { readonly verdict: GateVerdict; readonly detail: string };
}

export interface HostStart {
  readonly hostId: string;
  readonly wave: number;
  readonly direction: Direction;
}

export interface SloGateResult {
  readonly verdict: GateVerdict;
  readonly detail: string;
  /** The nearest-rank percentile of the recovered applications' seconds; null without any. */
  readonly percentileSeconds: number | null;
  readonly observations: number;
  readonly notRecovered: number;
}

export interface Decision {
  /** Enqueue these now, then record an `enqueued` event for each. */
  readonly start: readonly HostStart[];
  /**
   * Hosts in flight whose jobs should be taken back (pause, abort, rollback): remove each job
   * that no agent has taken yet and record `withdrawn`; a running swap is left to finish. Listed
   * again on every call until the host is no longer in flight.
   */
  readonly withdraw: readonly string[];
  readonly state: RolloutState;
  readonly reason: string;
  /** When to call `decide` again even if nothing happens (window opening, end of a pause). */
  readonly nextWakeAt: number | null;
  readonly waves: readonly Wave[];
  /** Hosts already on the target (never started) or reported so by their agent. */
  readonly skipped: readonly string[];
  /** Hosts whose job expired (reported by the agent or by the controller). */
  readonly expired: readonly string[];
  /** Hosts whose forward swap did not succeed (expired included). */
  readonly failed: readonly string[];
  /** A wave's SLO gate to record as a `gate-evaluated` event. */
  readonly gate: ({ readonly wave: number } & SloGateResult) | null;
  /** Run the Prometheus gate for this wave and record a `prometheus-gate` event. */
  readonly queryPrometheus: { readonly wave: number } | null;
}

export interface DecideInput {
  readonly rollout: RolloutSpec;
  readonly hosts: readonly HostInfo[];
  readonly events: readonly RolloutEvent[];
  readonly now: number;
}
