import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  JOB_SWAP,
  SWAP_QUEUE,
  hostQueuePrefix,
  swapJobId,
  swapJobSchema,
  type SwapDirection,
  type SwapJob,
} from '@hotswap/contracts';
import { Queue } from 'bullmq';
import { CONTROLLER_CONFIG, LOGGER } from '../controller.tokens.js';
import type { ControllerConfig } from '../controller.config.js';
import { closeAll, once } from '../lifecycle/close-all.js';
import type { Logger } from '../logging/controller.logger.js';
import type { RedisClient } from '../redis/redis-client.js';
import { BULLMQ_CONNECTION } from '../redis/redis.provider.js';
import type { RolloutRecord } from './rollout.record.js';

/** Finished swap jobs stay a day (to inspect), failed ones a week; then BullMQ drops them. */
const KEEP_COMPLETED_SECONDS = 24 * 3600;
const KEEP_FAILED_SECONDS = 7 * 24 * 3600;

/** States in which no agent has taken the job yet: the only ones it may be withdrawn from. */
const NOT_TAKEN = new Set(['waiting', 'delayed', 'prioritized', 'paused']);

/** The states the queue-depth gauge reports: jobs not taken yet, taken, and scheduled for later. */
export const QUEUE_DEPTH_STATES = ['waiting', 'active', 'delayed'] as const;
export type QueueDepthState = (typeof QUEUE_DEPTH_STATES)[number];

/** What became of a withdrawal: removed before any agent took it, taken already, or no such job. */
export type Withdrawal = 'removed' | 'taken' | 'missing';

/**
 * Hands swap jobs to agents, one queue per host (the host's hash tag is in the prefix, see
 * libs/contracts), and takes back those no agent has started. Queue objects are cached: they
 * are cheap, but each one sets up scripts.
 */
@Injectable()
export class SwapJobQueues implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();

  constructor(
    @Inject(BULLMQ_CONNECTION) private readonly connection: RedisClient,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The job id is deterministic (`<rollout>-<host>-<direction>`) and so is the payload (times
   * come from the `enqueued` event), so adding twice is a no-op while the first job exists;
   * after that the agent's journal makes a replay a no-op.
   */
  async enqueue(rollout: RolloutRecord, hostId: string, direction: SwapDirection, enqueuedAt: number): Promise<void> {
    const job: SwapJob = swapJobSchema.parse({
      v: 1,
      rolloutId: rollout.id,
      hostId,
      direction,
      runbook: rollout.runbook,
      notAfter: enqueuedAt + this.config.jobTtlSeconds * 1000,
      enqueuedAt,
    } satisfies SwapJob);
    const jobId = swapJobId(rollout.id, hostId, direction);
    await this.queueFor(hostId).add(JOB_SWAP, job, {
      jobId,
      removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
      removeOnFail: { age: KEEP_FAILED_SECONDS },
    });
    this.logger.info({ rolloutId: rollout.id, hostId, jobId, direction, notAfter: job.notAfter }, 'swap job enqueued');
  }

  async exists(rolloutId: string, hostId: string, direction: SwapDirection): Promise<boolean> {
    return (await this.queueFor(hostId).getJob(swapJobId(rolloutId, hostId, direction))) !== undefined;
  }

  /**
   * Removes the job if no agent has taken it. BullMQ refuses to remove a job an agent holds
   * (locked); the state is read first so that a job that already ran is never removed.
   */
  async withdraw(rolloutId: string, hostId: string, direction: SwapDirection): Promise<Withdrawal> {
    const job = await this.queueFor(hostId).getJob(swapJobId(rolloutId, hostId, direction));
    if (!job) return 'missing';
    if (!NOT_TAKEN.has(await job.getState())) return 'taken';
    try {
      await job.remove();
      this.logger.info({ rolloutId, hostId, jobId: job.id, direction }, 'swap job withdrawn');
      return 'removed';
    } catch (error) {
      this.logger.debug({ rolloutId, hostId, error: (error as Error).message }, 'swap job taken while withdrawing');
      return 'taken';
    }
  }

  /** Removes a job still waiting past its `notAfter` (no agent took it in time): true if removed. */
  async expire(rolloutId: string, hostId: string, direction: SwapDirection, now: number): Promise<boolean> {
    const job = await this.queueFor(hostId).getJob(swapJobId(rolloutId, hostId, direction));
    const notAfter = (job?.data as Partial<SwapJob> | undefined)?.notAfter;
    if (!job || typeof notAfter !== 'number' || notAfter >= now) return false;
    return (await this.withdraw(rolloutId, hostId, direction)) === 'removed';
  }

  /** Jobs on the host's swap queue by state, for the queue-depth gauge. */
  async depth(hostId: string): Promise<Record<QueueDepthState, number>> {
    const counts = await this.queueFor(hostId).getJobCounts(...QUEUE_DEPTH_STATES);
    return Object.fromEntries(QUEUE_DEPTH_STATES.map((state) => [state, counts[state] ?? 0])) as Record<
      QueueDepthState,
      number
    >;
  }

  /**
   * Seconds from the job's creation (BullMQ `timestamp`, set by `enqueue`) to an agent taking it
   * (`processedOn`); null when no agent took it or the job is gone.
   */
  async pickupSeconds(rolloutId: string, hostId: string, direction: SwapDirection): Promise<number | null> {
    const job = await this.queueFor(hostId).getJob(swapJobId(rolloutId, hostId, direction));
    if (job?.processedOn === undefined) return null;
    return Math.max(0, job.processedOn - job.timestamp) / 1000;
  }

  private queueFor(hostId: string): Queue {
    let queue = this.queues.get(hostId);
    if (!queue) {
      queue = new Queue(SWAP_QUEUE, { connection: this.connection, prefix: hostQueuePrefix(hostId) });
      queue.on('error', (error: Error) => this.logger.warn({ hostId, error: error.message }, 'swap queue error'));
      this.queues.set(hostId, queue);
    }
    return queue;
  }

  /** Closes every queue even if one fails; the shared connection is closed by RedisLifecycle. */
  readonly onModuleDestroy = once(() =>
    closeAll(
      Object.fromEntries([...this.queues].map(([hostId, queue]) => [`swap queue ${hostId}`, () => queue.close()])),
      this.logger,
    ),
  );
}
