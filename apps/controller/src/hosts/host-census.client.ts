import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  CENSUS_QUEUE,
  JOB_CENSUS,
  hostCensusSchema,
  hostQueuePrefix,
  type CensusJob,
  type HostCensus,
} from '@hotswap/contracts';
import type { CensusRequest } from '@hotswap/runbook';
import { Queue, type Job } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTROLLER_CONFIG, LOGGER } from '../controller.tokens.js';
import type { ControllerConfig } from '../controller.config.js';
import { closeAll, once } from '../lifecycle/close-all.js';
import type { Logger } from '../logging/controller.logger.js';
import { ControllerMetrics } from '../metrics/controller.metrics.js';
import { BULLMQ_CONNECTION } from '../redis/redis.provider.js';
import type { RedisClient } from '../redis/redis-client.js';

/**
 * What became of a census: the agent's answer; no answer within the deadline (agent down, busy
 * past the deadline, or cut off from Redis); or the agent's refusal or failure, with its reason.
 */
export type CensusAnswer =
  | { readonly status: 'answered'; readonly census: HostCensus }
  | { readonly status: 'no-answer'; readonly deadlineMs: number; readonly pickedUp: boolean }
  | { readonly status: 'failed'; readonly error: string };

/** Answered jobs are removed at once; these ages only catch what an agent finished after we left. */
const KEEP_SECONDS = 300;
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 200;

/**
 * Asks an agent for a live census over its host's census queue (libs/contracts host-census) and
 * waits for the answer by polling the job, up to a deadline: any replica can ask any host, and
 * no blocking connection per host queue is needed. The job's `notAfter` is the deadline, so an
 * agent that takes it later refuses it; a job no agent took is removed when the wait ends.
 */
@Injectable()
export class HostCensusClient implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();

  constructor(
    @Inject(BULLMQ_CONNECTION) private readonly connection: RedisClient,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(ControllerMetrics) private readonly metrics: ControllerMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ask(hostId: string, request: CensusRequest, deadlineMs = this.config.censusTimeoutMs): Promise<CensusAnswer> {
    const queue = this.queueFor(hostId);
    const requestedAt = Date.now();
    const data: CensusJob = {
      v: 1,
      hostId,
      devices: request.devices,
      modules: request.modules,
      notAfter: requestedAt + deadlineMs,
      requestedAt,
    };
    const added = await queue.add(JOB_CENSUS, data, {
      jobId: `census-${randomUUID()}`,
      attempts: 1,
      removeOnComplete: { age: KEEP_SECONDS },
      removeOnFail: { age: KEEP_SECONDS },
    });
    const jobId = added.id as string;
    let pollMs = FIRST_POLL_MS;
    let job: Job | undefined = added;
    while (Date.now() < requestedAt + deadlineMs) {
      await sleep(Math.max(1, Math.min(pollMs, requestedAt + deadlineMs - Date.now())));
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
      job = await queue.getJob(jobId);
      if (job?.finishedOn) return this.finished(hostId, job);
    }
    return this.unanswered(hostId, job, deadlineMs);
  }

  private async finished(hostId: string, job: Job): Promise<CensusAnswer> {
    this.observePickup(job);
    await job.remove().catch(() => undefined);
    if (job.failedReason) return { status: 'failed', error: job.failedReason };
    const parsed = hostCensusSchema.safeParse(job.returnvalue);
    if (!parsed.success || parsed.data.hostId !== hostId) {
      return { status: 'failed', error: 'the agent answered with something that is not a census' };
    }
    return { status: 'answered', census: parsed.data };
  }

  /** Takes back a job no agent took (an agent holding it finishes or refuses it on its own). */
  private async unanswered(hostId: string, job: Job | undefined, deadlineMs: number): Promise<CensusAnswer> {
    const pickedUp = job?.processedOn !== undefined;
    if (pickedUp && job) this.observePickup(job);
    else await job?.remove().catch(() => undefined);
    this.logger.info({ hostId, deadlineMs, pickedUp }, 'census not answered in time');
    return { status: 'no-answer', deadlineMs, pickedUp };
  }

  private observePickup(job: Job): void {
    if (job.processedOn === undefined) return;
    this.metrics.jobPickupSeconds.observe({ queue: CENSUS_QUEUE }, Math.max(0, job.processedOn - job.timestamp) / 1000);
  }

  private queueFor(hostId: string): Queue {
    let queue = this.queues.get(hostId);
    if (!queue) {
      queue = new Queue(CENSUS_QUEUE, { connection: this.connection, prefix: hostQueuePrefix(hostId) });
      queue.on('error', (error: Error) => this.logger.warn({ hostId, error: error.message }, 'census queue error'));
      this.queues.set(hostId, queue);
    }
    return queue;
  }

  readonly onModuleDestroy = once(() =>
    closeAll(
      Object.fromEntries([...this.queues].map(([hostId, queue]) => [`census queue ${hostId}`, () => queue.close()])),
      this.logger,
    ),
  );
}
