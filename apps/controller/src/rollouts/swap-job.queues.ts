import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { JOB_SWAP, SWAP_QUEUE, hostQueuePrefix, swapJobId, swapJobSchema, type SwapJob } from '@hotswap/contracts';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CONTROLLER_CONFIG, LOGGER } from '../controller.tokens.js';
import type { ControllerConfig } from '../controller.config.js';
import { closeAll, once } from '../lifecycle/close-all.js';
import type { Logger } from '../logging/controller.logger.js';
import { BULLMQ_CONNECTION } from '../redis/redis.provider.js';
import type { RolloutRecord } from './rollout.record.js';

/** Finished swap jobs stay a day (to inspect), failed ones a week; then BullMQ drops them. */
const KEEP_COMPLETED_SECONDS = 24 * 3600;
const KEEP_FAILED_SECONDS = 7 * 24 * 3600;

/**
 * Hands swap jobs to agents, one queue per host (the host's hash tag is in the prefix, see
 * libs/contracts). Queue objects are cached: they are cheap, but each one sets up scripts.
 */
@Injectable()
export class SwapJobQueues implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();

  constructor(
    @Inject(BULLMQ_CONNECTION) private readonly connection: Redis,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The job id is deterministic (`<rollout>-<host>-forward`), so enqueueing twice is a no-op
   * while the first job exists; after that the agent's journal makes a replay a no-op.
   */
  async enqueueForward(rollout: RolloutRecord, hostId: string, now: number): Promise<void> {
    const job: SwapJob = swapJobSchema.parse({
      v: 1,
      rolloutId: rollout.id,
      hostId,
      direction: 'forward',
      runbook: rollout.runbook,
      notAfter: now + this.config.jobTtlSeconds * 1000,
      enqueuedAt: now,
    } satisfies SwapJob);
    const jobId = swapJobId(rollout.id, hostId, 'forward');
    await this.queueFor(hostId).add(JOB_SWAP, job, {
      jobId,
      removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
      removeOnFail: { age: KEEP_FAILED_SECONDS },
    });
    this.logger.info({ rolloutId: rollout.id, hostId, jobId, notAfter: job.notAfter }, 'swap job enqueued');
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
