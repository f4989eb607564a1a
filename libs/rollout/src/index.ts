export { decide, PROMETHEUS_RETRY_MS } from './rollout.scheduler.js';
export { foldHistory, FAILED_OUTCOMES } from './rollout.history.js';
export type { History, HostRecord } from './rollout.history.js';
export { rolloutSpecOf, resolveMaxUnavailable } from './rollout-spec.mapper.js';
export { evaluateSloGate } from './slo.gate.js';
export { nearestRankPercentile } from './nearest-rank.percentile.js';
export { conditionHolds, prometheusGateStatus } from './prometheus.gate.js';
export type { PrometheusQueryResult } from './prometheus.gate.js';
export { isWithinWindow, isWithinWindows, nextWindowOpening, zonedClock } from './maintenance-window.clock.js';
export { conflictingRollout, assertNoConflictingRollout, HostConflictError } from './host.locks.js';
export type { ActiveRollout, HostConflict } from './host.locks.js';
export { TERMINAL_ROLLOUT_STATES, isTerminalRolloutState } from './rollout.types.js';
export type {
  DecideInput,
  Decision,
  Direction,
  GateVerdict,
  HostInfo,
  HostStart,
  PrometheusGateStatus,
  RecoverySample,
  RolloutEvent,
  RolloutSpec,
  RolloutState,
  SloGateResult,
  Wave,
} from './rollout.types.js';
