import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LOGGER } from '../controller.tokens.js';
import { HostRegistryStore } from '../hosts/host-registry.store.js';
import type { Logger } from '../logging/controller.logger.js';
import { SWAP_OUTCOMES } from '../rollouts/rollout.record.js';
import { RolloutStore } from '../rollouts/rollout.store.js';
import type { EventDisposition } from '../rollouts/rollout.transitions.js';
import { CONTROLLER_VERSION } from '../controller.version.js';

/**
 * Every metric the controller exports, in one place. Naming:
 * https://prometheus.io/docs/practices/naming/ — prefix `hotswap_controller_`, base units,
 * `_total` counters, bounded labels only (outcome, type, result, available; never a PID, a
 * path, a rollout or a host id).
 *
 * These are rollout-level figures. What a swap did on a host is the agent's to count
 * (`hotswap_agent_swaps_total`); the controller counts the results it *recorded* for rollouts
 * (`hotswap_controller_rollout_host_results_total`), so adding agent and controller counters
 * never counts one swap twice by accident, and a redelivered result is not counted again.
 *
 * Gauges read from Redis at scrape time are fleet-wide (every replica reports the same value:
 * aggregate them with max, not sum). Counters count what this replica did.
 */
export type EventType = 'step' | 'result' | 'unknown';

/** Prometheus scrapes time out after 10 s by default: a Redis read gets a fraction of that. */
const SCRAPE_READ_TIMEOUT_MS = 1000;

@Injectable()
export class ControllerMetrics {
  readonly registry = new Registry();

  readonly buildInfo = new Gauge({
    name: 'hotswap_controller_build_info',
    help: 'Build metadata of the running controller (always 1)',
    labelNames: ['version'] as const,
    registers: [this.registry],
  });

  readonly rolloutsCreated = new Counter({
    name: 'hotswap_controller_rollouts_created_total',
    help: 'Rollouts accepted over the API',
    registers: [this.registry],
  });

  readonly rolloutsFinished = new Counter({
    name: 'hotswap_controller_rollouts_total',
    help: 'Rollouts that ended, by outcome (succeeded, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly hostResults = new Counter({
    name: 'hotswap_controller_rollout_host_results_total',
    help: 'Host results recorded into rollouts, by swap outcome (each result once, redeliveries excluded)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly swapJobsEnqueued = new Counter({
    name: 'hotswap_controller_swap_jobs_enqueued_total',
    help: "Swap jobs handed to hosts' queues",
    registers: [this.registry],
  });

  readonly events = new Counter({
    name: 'hotswap_controller_events_total',
    help: 'Agent events consumed from the event queue, by type and what became of them',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });

  readonly rolloutsRunning: Gauge;
  readonly registeredHosts: Gauge<'available'>;

  constructor(
    @Inject(RolloutStore) rollouts: RolloutStore,
    @Inject(HostRegistryStore) hosts: HostRegistryStore,
    @Inject(LOGGER) logger: Logger,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'hotswap_controller_' });
    this.buildInfo.set({ version: CONTROLLER_VERSION }, 1);
    // Known label values start at 0, so rate() and absent() work before the first event.
    for (const outcome of ['succeeded', 'failed']) this.rolloutsFinished.inc({ outcome }, 0);
    for (const outcome of Object.keys(SWAP_OUTCOMES)) this.hostResults.inc({ outcome }, 0);

    /** A scrape while Redis is down keeps the last values, quickly, rather than failing whole. */
    const readOrKeep = async (what: string, read: () => Promise<void>): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${SCRAPE_READ_TIMEOUT_MS} ms`)),
          SCRAPE_READ_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([read(), timeout]);
      } catch (error) {
        logger.debug({ what, error: (error as Error).message }, 'metric not refreshed');
      } finally {
        clearTimeout(timer);
      }
    };

    this.rolloutsRunning = new Gauge({
      name: 'hotswap_controller_rollouts_running',
      help: 'Rollouts in the running state (fleet-wide, read from Redis)',
      registers: [this.registry],
      async collect() {
        await readOrKeep('rollouts_running', async () => this.set(await rollouts.countRunning()));
      },
    });

    this.registeredHosts = new Gauge({
      name: 'hotswap_controller_registered_hosts',
      help: 'Hosts in the registry, by whether their last heartbeat is recent enough (fleet-wide, read from Redis)',
      labelNames: ['available'] as const,
      registers: [this.registry],
      async collect() {
        await readOrKeep('registered_hosts', async () => {
          const { available, unavailable } = await hosts.countByAvailability(Date.now());
          this.set({ available: 'true' }, available);
          this.set({ available: 'false' }, unavailable);
        });
      },
    });
  }

  countEvent(type: EventType, result: EventDisposition | 'error'): void {
    this.events.inc({ type, result });
  }
}
