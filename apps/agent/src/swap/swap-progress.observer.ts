import type { RecoveryObservation, SwapPhase } from '@hotswap/contracts';
import type { AgentMetrics } from '../metrics/agent.metrics.js';
import type { SwapObserver } from './swap.runner.js';

type StepStatus = 'started' | 'completed' | 'failed' | 'blocked';

/** Phases whose completion leaves the device bound to a driver again. */
const BINDS: ReadonlySet<SwapPhase> = new Set(['rebind', 'restore-rebind', 'restore-reload']);

/**
 * Turns a running swap's progress into metrics and into step events for the controller.
 * Everything is derived from the step events, censuses and recoveries the runner reports:
 * - phase durations, between a phase's "started" and its end;
 * - a device without its driver from the unbind (returned or blocked) until a rebind or a
 *   restore completes;
 * - a stuck kernel action from the step reported "blocked" until that phase ends (a blocked
 *   unbind ends with the `unbind-blocked` phase);
 * - the oldest zombie FD dates from the unbind's return; it is cleared when the census finds
 *   none or when the recovery watch ends with every holder back or gone.
 */
export function swapProgressObserver(
  hostId: string,
  module: string,
  metrics: AgentMetrics,
  publishStep: (phase: SwapPhase, status: StepStatus, detail?: string) => void,
  now: () => number = Date.now,
): SwapObserver {
  const host = { host: hostId };
  const hostModule = { host: hostId, module };
  metrics.initSwapSeries(hostId, module);
  const startedAt = new Map<SwapPhase, number>();
  let unboundAt: number | null = null;
  let stuckPhase: SwapPhase | null = null;
  let holdersLeft = 0;

  const stuck = (phase: SwapPhase): void => {
    stuckPhase = phase === 'unbind' ? 'unbind-blocked' : phase;
    metrics.kernelActionStuck.set(host, 1);
    if (phase === 'unbind') {
      metrics.unbindBlocked.set(host, 1);
      metrics.deviceWithoutDriver.set(hostModule, 1);
    }
  };

  const ended = (phase: SwapPhase, status: 'completed' | 'failed'): void => {
    if (phase === stuckPhase) {
      stuckPhase = null;
      metrics.kernelActionStuck.set(host, 0);
    }
    if (phase === 'unbind-blocked') metrics.unbindBlocked.set(host, 0);
    if ((phase === 'unbind' && status === 'completed') || phase === 'unbind-blocked') {
      unboundAt ??= now();
      if (status === 'completed') metrics.deviceWithoutDriver.set(hostModule, 1);
    }
    if (BINDS.has(phase) && status === 'completed') metrics.deviceWithoutDriver.set(hostModule, 0);
    if (phase === 'recovery-watch' && holdersLeft === 0) metrics.zombieFdsOldest.set(hostModule, 0);
    const began = startedAt.get(phase);
    if (began !== undefined) {
      metrics.phaseSeconds.observe({ host: hostId, phase, result: status }, (now() - began) / 1000);
      startedAt.delete(phase);
    }
  };

  return {
    step(phase, status, detail) {
      publishStep(phase, status, detail);
      if (status === 'started') startedAt.set(phase, now());
      else if (status === 'blocked') stuck(phase);
      else ended(phase, status);
    },
    recovery(observation: RecoveryObservation) {
      const labels = { ...hostModule, status: observation.status };
      if (observation.status === 'not-recovered') holdersLeft++;
      if (observation.status === 'restarted') metrics.appRestarted.inc(hostModule);
      if (observation.seconds === null) metrics.notRecovered.inc(labels);
      else metrics.recoverySeconds.observe(labels, observation.seconds);
    },
    zombies(count) {
      metrics.zombieFds.set(hostModule, count);
      metrics.zombieFdsOldest.set(hostModule, count > 0 ? (unboundAt ?? now()) / 1000 : 0);
    },
  };
}
