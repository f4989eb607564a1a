import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  EVENTS_PREFIX,
  EVENTS_QUEUE,
  EVENT_RESULT,
  EVENT_STEP,
  swapResultEventSchema,
  swapStepEventSchema,
  type SwapReport,
} from '@hotswap/contracts';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { z } from 'zod';
import { LOGGER } from '../controller.tokens.js';
import { RolloutNotFoundError } from '../errors/controller.errors.js';
import { closeAll, once } from '../lifecycle/close-all.js';
import type { Logger } from '../logging/controller.logger.js';
import { ControllerMetrics, type EventType } from '../metrics/controller.metrics.js';
import type { RedisClient } from '../redis/redis-client.js';
import { BULLMQ_CONNECTION } from '../redis/redis.provider.js';
import { RolloutService } from '../rollouts/rollout.service.js';
import type { EventDisposition } from '../rollouts/rollout.transitions.js';

interface EventOutcome {
  readonly disposition: EventDisposition;
  readonly reason?: string;
}

type EventName = typeof EVENT_STEP | typeof EVENT_RESULT;
const EVENT_NAMES: readonly EventName[] = [EVENT_STEP, EVENT_RESULT];
const EVENT_TYPES: Readonly<Record<EventName, EventType>> = { [EVENT_STEP]: 'step', [EVENT_RESULT]: 'result' };

/**
 * The one processor of the shared event queue (agents → controller). Handlers are chosen by
 * job name; a name without a handler, a payload that fails its schema, or an event that does
 * not fit its rollout fails the job at once (UnrecoverableError: retrying cannot fix it).
 * Anything else (Redis trouble, a write conflict) fails it normally and BullMQ retries it
 * with the attempts the agent set; applying an event twice is a no-op.
 *
 * A result is appended to the rollout's event log (once per swap id) and the rollout is
 * reconciled at once: the next hosts' jobs are on their queues when the job completes.
 *
 * Concurrency 1: events of one host are then applied in the order they were queued. Several
 * controller replicas may still process events in parallel; the store's compare-and-set keeps
 * that correct. A replica killed mid-event leaves the job locked for `lockDuration`; another
 * replica (or the restarted one) picks it up after that, and applying it twice is a no-op.
 */
@Injectable()
export class SwapEventProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private worker: Worker | null = null;

  private readonly handlers: Readonly<Record<EventName, (data: unknown) => Promise<EventOutcome>>> = {
    [EVENT_STEP]: async (data) => {
      const event = parse(swapStepEventSchema, data);
      return this.rollouts.recordStep(event.rolloutId, event);
    },
    [EVENT_RESULT]: async (data) => {
      const event = parse(swapResultEventSchema, data);
      return this.rollouts.recordResult(event.rolloutId, {
        hostId: event.hostId,
        swapId: event.swapId,
        direction: event.direction,
        report: event.report as SwapReport,
      });
    },
  };

  constructor(
    @Inject(BULLMQ_CONNECTION) private readonly connection: RedisClient,
    @Inject(RolloutService) private readonly rollouts: RolloutService,
    @Inject(ControllerMetrics) private readonly metrics: ControllerMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const missing = EVENT_NAMES.filter((name) => typeof this.handlers[name] !== 'function');
    if (missing.length > 0 || new Set(EVENT_NAMES).size !== EVENT_NAMES.length) {
      throw new Error(`event handlers do not match the event names: missing ${missing.join(', ') || 'none'}`);
    }
    this.worker = new Worker(EVENTS_QUEUE, (job) => this.process(job), {
      connection: this.connection,
      prefix: EVENTS_PREFIX,
      concurrency: 1,
      lockDuration: 15_000,
      stalledInterval: 5_000,
    });
    this.worker.on('failed', (job, error) => {
      const fields = { jobId: job?.id, name: job?.name, attempt: job?.attemptsMade, error: error.message };
      // Loud when the event is lost for good (unrecoverable, or out of attempts); a retry is a warning.
      const final = error instanceof UnrecoverableError || (job?.attemptsMade ?? 0) >= (job?.opts.attempts ?? 1);
      if (final) this.logger.error(fields, 'event job failed for good');
      else this.logger.warn(fields, 'event job failed, will retry');
    });
    this.worker.on('error', (error) => this.logger.error({ error: error.message }, 'event worker error'));
    this.logger.info({ queue: EVENTS_QUEUE, prefix: EVENTS_PREFIX }, 'event worker started');
  }

  async process(job: Job): Promise<EventDisposition> {
    if (!isEventName(job.name)) {
      this.metrics.countEvent('unknown', 'rejected');
      throw new UnrecoverableError(`no handler for event job name ${JSON.stringify(job.name)} (job ${job.id})`);
    }
    const type = EVENT_TYPES[job.name];
    let outcome: EventOutcome;
    try {
      outcome = await this.handlers[job.name](job.data);
    } catch (error) {
      if (error instanceof UnrecoverableError || error instanceof RolloutNotFoundError) {
        this.metrics.countEvent(type, 'rejected');
        throw error instanceof UnrecoverableError ? error : new UnrecoverableError(error.message);
      }
      this.metrics.countEvent(type, 'error');
      throw error;
    }
    this.metrics.countEvent(type, outcome.disposition);
    if (outcome.disposition === 'rejected') throw new UnrecoverableError(outcome.reason ?? 'event rejected');
    if (outcome.disposition !== 'applied') {
      this.logger.debug(
        { jobId: job.id, name: job.name, disposition: outcome.disposition, reason: outcome.reason },
        'event not applied',
      );
    }
    return outcome.disposition;
  }

  /**
   * Waits for the event being applied, then stops; the shared connection closes later. With
   * Redis unreachable that event cannot finish anyway: do not wait for it.
   */
  readonly onModuleDestroy = once(() =>
    closeAll({ 'event worker': async () => this.worker?.close(this.connection.status !== 'ready') }, this.logger),
  );
}

function isEventName(name: string): name is EventName {
  return (EVENT_NAMES as readonly string[]).includes(name);
}

function parse<T extends z.ZodType>(schema: T, data: unknown): z.output<T> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`);
  throw new UnrecoverableError(`invalid event payload: ${issues.join('; ')}`);
}
