import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the agent exports, in one place. Naming: https://prometheus.io/docs/practices/naming/
 * Prefix `hotswap_agent_`, base units, `_total` counters; labels are bounded (host, module,
 * phase, outcome), never a PID or a path. The controller's figures are `hotswap_controller_*`,
 * so summing across both never counts a swap twice.
 */
export class AgentMetrics {
  readonly registry = new Registry();

  readonly recoverySeconds = new Histogram({
    name: 'hotswap_agent_app_recovery_seconds',
    help: 'Time from the unbind (revoke) or the close (wait) to an application holding the new device node',
    labelNames: ['host', 'module', 'status'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });

  readonly notRecovered = new Counter({
    name: 'hotswap_agent_app_not_recovered_total',
    help: 'Applications that held the device and had not reopened it when the recovery watch ended',
    labelNames: ['host', 'module', 'status'] as const,
    registers: [this.registry],
  });

  readonly zombieFds = new Gauge({
    name: 'hotswap_agent_zombie_fds',
    help: 'Open file descriptors on nodes of unbound devices, at the last census',
    labelNames: ['host', 'module'] as const,
    registers: [this.registry],
  });

  readonly phaseSeconds = new Histogram({
    name: 'hotswap_agent_swap_phase_duration_seconds',
    help: 'Duration of each phase of a swap',
    labelNames: ['host', 'phase', 'result'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly swaps = new Counter({
    name: 'hotswap_agent_swaps_total',
    help: 'Swaps run by this agent, by outcome',
    labelNames: ['host', 'module', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly unbindBlocked = new Gauge({
    name: 'hotswap_agent_unbind_blocked',
    help: '1 while an unbind is past its deadline and still blocked in the kernel',
    labelNames: ['host'] as const,
    registers: [this.registry],
  });

  readonly buildInfo = new Gauge({
    name: 'hotswap_agent_build_info',
    help: 'Build metadata of the running agent',
    labelNames: ['version'] as const,
    registers: [this.registry],
  });

  constructor(version: string) {
    collectDefaultMetrics({ register: this.registry, prefix: 'hotswap_agent_' });
    this.buildInfo.set({ version }, 1);
  }
}
