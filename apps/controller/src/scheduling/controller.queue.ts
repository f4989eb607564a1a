import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { LOGGER } from '../controller.tokens.js';
import { closeAll, once } from '../lifecycle/close-all.js';
import type { Logger } from '../logging/controller.logger.js';
import type { RedisClient } from '../redis/redis-client.js';
import { BULLMQ_CONNECTION } from '../redis/redis.provider.js';

/**
 * The controller's own queue: timers that must outlive a process, shared by every replica.
 * Its hash tag (`{controller}`) keeps all its keys in one slot on Redis Cluster.
 *
 *   rollouts.sweep   a job scheduler (every SWEEP_SECONDS): one replica re-examines every
 *                    unfinished rollout, repairs lost jobs, and moves it on
 *   rollout.wake     a delayed job per rollout and wake-up time (`nextWakeAt`: a maintenance
 *                    window opening, the end of a pause between waves, a gate to query again)
 */
export const CONTROLLER_QUEUE = 'controller';
export const CONTROLLER_PREFIX = 'hotswap:{controller}';
export const JOB_SWEEP = 'rollouts.sweep';
export const JOB_WAKE = 'rollout.wake';
export const SWEEP_SCHEDULER_ID = 'rollouts-sweep';

export interface WakeJob {
  readonly rolloutId: string;
  readonly at: number;
}

@Injectable()
export class ControllerQueue implements OnModuleDestroy {
  readonly queue: Queue;

  constructor(
    @Inject(BULLMQ_CONNECTION) connection: RedisClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.queue = new Queue(CONTROLLER_QUEUE, { connection, prefix: CONTROLLER_PREFIX });
    this.queue.on('error', (error: Error) => logger.warn({ error: error.message }, 'controller queue error'));
  }

  /** Idempotent: every replica calls it at boot; the scheduler exists once. */
  async ensureSweep(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler(
      SWEEP_SCHEDULER_ID,
      { every: everyMs },
      { name: JOB_SWEEP, data: {}, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } },
    );
  }

  /**
   * One delayed job per rollout and time (a deterministic id: asking twice is a no-op), so every
   * replica may ask and the wake-up still happens once, even if this process dies meanwhile.
   */
  async scheduleWake(rolloutId: string, at: number, now: number): Promise<void> {
    const data: WakeJob = { rolloutId, at };
    await this.queue.add(JOB_WAKE, data, {
      jobId: `wake-${rolloutId}-${at}`,
      delay: Math.max(0, at - now),
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 24 * 3600 },
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
    });
  }

  readonly onModuleDestroy = once(() => closeAll({ 'controller queue': () => this.queue.close() }, this.logger));
}
