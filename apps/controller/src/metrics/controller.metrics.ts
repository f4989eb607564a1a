import { Inject, Injectable } from '@nestjs/common';
import { CENSUS_QUEUE, SWAP_QUEUE } from '@hotswap/contracts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LOGGER } from '../controller.tokens.js';
import { HostRegistryStore } from '../hosts/host-registry.store.js';
import type { Logger } from '../logging/controller.logger.js';
import { SWAP_OUTCOMES } from '../rollouts/rollout.record.js';
import { RolloutStore } from '../rollouts/rollout.store.js';
import { QUEUE_DEPTH_STATES, SwapJobQueues } from '../rollouts/swap-job.queues.js';
import type { EventDisposition } from '../rollouts/rollout.transitions.js';
import { hostStates } from '../rollouts/rollout.view.js';
import { CONTROLLER_VERSION } from '../controller.version.js';

/**
 * Every metric the controller exports, in one place. Naming:
 * https://prometheus.io/docs/practices/naming/ — prefix `hotswap_controller_`, base units,
 * `_total` counters, bounded labels only (outcome, type, result, available, state, queue; never
 * a PID or a path). Two labels need a bound of their own: `rollout` on
 * `hotswap_controller_rollout_hosts` (only unfinished rollouts, and finished ones for
 * FINISHED_SERIES_MS), and `host` on `hotswap_controller_swap_queue_jobs` (hosts in the
 * registry: one series per state per host, like the agents' own `host` label).
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

/** A finished rollout's host series stay this long, so the last scrape sees how it ended. */
export const FINISHED_SERIES_MS = 10 * 60_000;

/** Every way a rollout ends (libs/rollout TERMINAL_ROLLOUT_STATES). */
const ROLLOUT_OUTCOMES = ['succeeded', 'failed', 'aborted', 'rolled-back'];
/** The scheduler's unfinished states: each series exists from the start, so alerts see zeros. */
const UNFINISHED_STATES = [
  'running',
  'rolling-back',
  'paused',
  'waiting-window',
  'waiting-gate',
  'waiting-pause-between-waves',
];

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
    help: 'Rollouts that ended, by outcome (succeeded, failed, aborted, rolled-back)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly hostResults = new Counter({
    name: 'hotswap_controller_rollout_host_results_total',
    help: 'Host results recorded into rollouts, by direction and swap outcome (each result once, redeliveries excluded)',
    labelNames: ['direction', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly swapJobsEnqueued = new Counter({
    name: 'hotswap_controller_swap_jobs_enqueued_total',
    help: "Swap jobs handed to hosts' queues, by direction (forward, rollback)",
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });

  readonly gateResults = new Counter({
    name: 'hotswap_controller_gate_results_total',
    help: 'Wave gates recorded: gate="slo" (result pass, fail, no-data) and gate="prometheus" (result ok, false, empty, error)',
    labelNames: ['gate', 'result'] as const,
    registers: [this.registry],
  });

  readonly events = new Counter({
    name: 'hotswap_controller_events_total',
    help: 'Agent events consumed from the event queue, by type and what became of them',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });

  /**
   * From a job's creation to an agent taking it, read from BullMQ's job timestamps (`timestamp`,
   * `processedOn`): swap jobs when their result is recorded, census jobs when answered or given
   * up on. Jobs no agent took are not in it (they show as `waiting` queue depth, or expire).
   */
  readonly jobPickupSeconds = new Histogram({
    name: 'hotswap_controller_job_pickup_seconds',
    help: "Seconds from a job's enqueue to an agent picking it up (BullMQ timestamps), by queue (swaps, census)",
    labelNames: ['queue'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly rolloutsRunning: Gauge;
  readonly swapQueueJobs: Gauge<'host' | 'state'>;
  readonly rolloutsByState: Gauge<'state'>;
  readonly registeredHosts: Gauge<'available'>;
  readonly rolloutHosts: Gauge<'rollout' | 'state'>;

  constructor(
    @Inject(RolloutStore) rollouts: RolloutStore,
    @Inject(HostRegistryStore) hosts: HostRegistryStore,
    @Inject(SwapJobQueues) queues: SwapJobQueues,
    @Inject(LOGGER) logger: Logger,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'hotswap_controller_' });
    // prom-client's *_total gauges break the naming rules (promtool check metrics says so);
    // the same figures remain per type in hotswap_controller_nodejs_active_{handles,requests,resources}.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(`hotswap_controller_${name}`);
    }
    this.buildInfo.set({ version: CONTROLLER_VERSION }, 1);
    // Known label values start at 0, so rate() and absent() work before the first event.
    for (const outcome of ROLLOUT_OUTCOMES) this.rolloutsFinished.inc({ outcome }, 0);
    for (const outcome of Object.keys(SWAP_OUTCOMES)) this.hostResults.inc({ direction: 'forward', outcome }, 0);
    for (const direction of ['forward', 'rollback']) this.swapJobsEnqueued.inc({ direction }, 0);
    for (const result of ['pass', 'fail', 'no-data']) this.gateResults.inc({ gate: 'slo', result }, 0);
    for (const queue of [SWAP_QUEUE, CENSUS_QUEUE]) this.jobPickupSeconds.zero({ queue });

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
      help: 'Rollouts not finished yet: running, paused, waiting or rolling back (fleet-wide, read from Redis)',
      registers: [this.registry],
      async collect() {
        await readOrKeep('rollouts_running', async () => this.set(await rollouts.countRunning()));
      },
    });

    this.rolloutsByState = new Gauge({
      name: 'hotswap_controller_rollouts',
      help: 'Unfinished rollouts by scheduler state (running, paused, waiting-gate, rolling-back, ...) (fleet-wide, read from Redis)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        await readOrKeep('rollouts', async () => {
          const byState = new Map<string, number>(UNFINISHED_STATES.map((state) => [state, 0]));
          for (const id of await rollouts.runningIds()) {
            const state = (await rollouts.load(id))?.record.state;
            if (state) byState.set(state, (byState.get(state) ?? 0) + 1);
          }
          for (const [state, count] of byState) this.set({ state }, count);
        });
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

    this.rolloutHosts = new Gauge({
      name: 'hotswap_controller_rollout_hosts',
      help: "Hosts of each unfinished rollout by state (pending, queued, running, succeeded, rolled-back, ...); a finished rollout's series stay 10 minutes (fleet-wide, read from Redis)",
      labelNames: ['rollout', 'state'] as const,
      registers: [this.registry],
      async collect() {
        await readOrKeep('rollout_hosts', async () => {
          const now = Date.now();
          const ids = new Set([
            ...(await rollouts.runningIds()),
            ...(await rollouts.finishedSince(now - FINISHED_SERIES_MS)),
          ]);
          const counts: { rollout: string; state: string; hosts: number }[] = [];
          for (const id of ids) {
            const snapshot = await rollouts.load(id);
            if (snapshot === null) continue;
            const steps = await rollouts.steps(
              id,
              snapshot.record.hosts.map((host) => host.hostId),
            );
            const byState = new Map<string, number>();
            for (const { state } of hostStates(snapshot, steps).values())
              byState.set(state, (byState.get(state) ?? 0) + 1);
            for (const [state, hosts] of byState) counts.push({ rollout: id, state, hosts });
          }
          this.reset();
          for (const { rollout, state, hosts } of counts) this.set({ rollout, state }, hosts);
        });
      },
    });

    this.swapQueueJobs = new Gauge({
      name: 'hotswap_controller_swap_queue_jobs',
      help: "Jobs on each registered host's swap queue by state (waiting, active, delayed) (fleet-wide, read from Redis)",
      labelNames: ['host', 'state'] as const,
      registers: [this.registry],
      async collect() {
        await readOrKeep('swap_queue_jobs', async () => {
          const ids = await hosts.ids();
          const depths = await Promise.all(ids.map((hostId) => queues.depth(hostId)));
          this.reset();
          ids.forEach((host, i) => {
            for (const state of QUEUE_DEPTH_STATES) this.set({ host, state }, depths[i]?.[state] ?? 0);
          });
        });
      },
    });
  }

  countEvent(type: EventType, result: EventDisposition | 'error'): void {
    this.events.inc({ type, result });
  }
}
