import type { RecoveryObservation, SwapPhase } from '@hotswap/contracts';
import type { AgentMetrics } from '../metrics/agent.metrics.js';
import type { SwapObserver } from './swap.runner.js';

/**
 * Turns a running swap's progress into metrics and into step events for the controller.
 * Phase durations are measured here, between a phase's "started" and its end.
 */
export function swapProgressObserver(
  hostId: string,
  module: string,
  metrics: AgentMetrics,
  publishStep: (phase: SwapPhase, status: 'started' | 'completed' | 'failed' | 'blocked', detail?: string) => void,
): SwapObserver {
  const startedAt = new Map<SwapPhase, number>();
  return {
    step(phase, status, detail) {
      publishStep(phase, status, detail);
      if (status === 'started') startedAt.set(phase, Date.now());
      if (phase === 'unbind' && status === 'blocked') metrics.unbindBlocked.set({ host: hostId }, 1);
      if (phase === 'unbind-blocked' && status !== 'started' && status !== 'blocked') {
        metrics.unbindBlocked.set({ host: hostId }, 0);
      }
      const began = startedAt.get(phase);
      if (status !== 'started' && status !== 'blocked' && began !== undefined) {
        metrics.phaseSeconds.observe({ host: hostId, phase, result: status }, (Date.now() - began) / 1000);
        startedAt.delete(phase);
      }
    },
    recovery(observation: RecoveryObservation) {
      const labels = { host: hostId, module, status: observation.status };
      if (observation.seconds === null) metrics.notRecovered.inc(labels);
      else metrics.recoverySeconds.observe(labels, observation.seconds);
    },
    zombies(count) {
      metrics.zombieFds.set({ host: hostId, module }, count);
    },
  };
}
