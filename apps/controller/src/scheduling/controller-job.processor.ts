import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { CONTROLLER_CONFIG, LOGGER } from '../controller.tokens.js';
import type { ControllerConfig } from '../controller.config.js';
import { closeAll, once } from '../lifecycle/close-all.js';
import type { Logger } from '../logging/controller.logger.js';
import type { RedisClient } from '../redis/redis-client.js';
import { BULLMQ_CONNECTION } from '../redis/redis.provider.js';
import { RolloutReconciler } from '../rollouts/rollout.reconciler.js';
import {
  CONTROLLER_PREFIX,
  CONTROLLER_QUEUE,
  ControllerQueue,
  JOB_SWEEP,
  JOB_WAKE,
  type WakeJob,
} from './controller.queue.js';

type JobName = typeof JOB_SWEEP | typeof JOB_WAKE;
const JOB_NAMES: readonly JobName[] = [JOB_SWEEP, JOB_WAKE];

/**
 * The one processor of the controller queue, on every replica: BullMQ hands each sweep tick and
 * each wake-up to one of them. Handlers are chosen by job name and checked at boot.
 */
@Injectable()
export class ControllerJobProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private worker: Worker | null = null;

  private readonly handlers: Readonly<Record<JobName, (job: Job) => Promise<unknown>>> = {
    [JOB_SWEEP]: () => this.reconciler.sweep(),
    [JOB_WAKE]: async (job) => {
      const { rolloutId } = job.data as Partial<WakeJob>;
      if (typeof rolloutId !== 'string') throw new UnrecoverableError(`wake job ${job.id} names no rollout`);
      await this.reconciler.reconcile(rolloutId, 'wake');
    },
  };

  constructor(
    @Inject(BULLMQ_CONNECTION) private readonly connection: RedisClient,
    @Inject(ControllerQueue) private readonly queue: ControllerQueue,
    @Inject(RolloutReconciler) private readonly reconciler: RolloutReconciler,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const missing = JOB_NAMES.filter((name) => typeof this.handlers[name] !== 'function');
    if (missing.length > 0) throw new Error(`controller job handlers missing: ${missing.join(', ')}`);
    await this.queue.ensureSweep(this.config.sweepSeconds * 1000);
    this.worker = new Worker(CONTROLLER_QUEUE, (job) => this.process(job), {
      connection: this.connection,
      prefix: CONTROLLER_PREFIX,
      concurrency: 4,
      // Jobs are short; a replica killed mid-job hands it over to another one quickly.
      lockDuration: 15_000,
      stalledInterval: 5_000,
    });
    this.worker.on('failed', (job, error) =>
      this.logger.warn({ jobId: job?.id, name: job?.name, error: error.message }, 'controller job failed'),
    );
    this.worker.on('error', (error) => this.logger.error({ error: error.message }, 'controller worker error'));
    this.logger.info({ queue: CONTROLLER_QUEUE, sweepSeconds: this.config.sweepSeconds }, 'controller worker started');
  }

  private process(job: Job): Promise<unknown> {
    if (!(JOB_NAMES as readonly string[]).includes(job.name)) {
      throw new UnrecoverableError(`no handler for controller job name ${JSON.stringify(job.name)}`);
    }
    return this.handlers[job.name as JobName](job);
  }

  readonly onModuleDestroy = once(() =>
    closeAll({ 'controller worker': async () => this.worker?.close(this.connection.status !== 'ready') }, this.logger),
  );
}
