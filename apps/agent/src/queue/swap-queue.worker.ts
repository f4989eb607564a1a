import {
  JOB_SWAP,
  SWAP_QUEUE,
  hostQueuePrefix,
  swapJobSchema,
  type SwapJob,
  type SwapReport,
} from '@hotswap/contracts';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { AgentMetrics } from '../metrics/agent.metrics.js';
import type { ModuleWatchList } from '../registry/module-watch.list.js';
import type { SwapJobHandler } from '../swap/swap-job.handler.js';
import { swapProgressObserver } from '../swap/swap-progress.observer.js';
import type { SwapEventPublisher } from './swap-event.publisher.js';
import type { RedisClient } from './redis-connection.js';

/**
 * Consumes this host's own swap queue, one job at a time. Before taking new jobs it finishes
 * (or rolls back) any swap a crashed predecessor left in the journal.
 */
export class SwapQueueWorker {
  private worker: Worker | null = null;

  constructor(
    private readonly hostId: string,
    private readonly connection: RedisClient,
    private readonly handler: SwapJobHandler,
    private readonly publisher: SwapEventPublisher,
    private readonly metrics: AgentMetrics,
    private readonly log: (msg: string, fields: object) => void,
    private readonly watch: ModuleWatchList,
  ) {}

  async start(): Promise<void> {
    for (const { swapId, job } of await this.handler.unfinished()) {
      this.log('resuming swap left unfinished by a previous agent', { swapId, rolloutId: job.rolloutId });
      await this.run(swapId, job);
    }
    this.worker = new Worker(SWAP_QUEUE, (job) => this.process(job), {
      connection: this.connection,
      prefix: hostQueuePrefix(this.hostId),
      concurrency: 1,
      // A swap can wait minutes on a blocked unbind: the lock is renewed while the job runs.
      lockDuration: 30_000,
    });
    this.worker.on('failed', (job, error) => this.log('swap job failed', { jobId: job?.id, error: error.message }));
  }

  busy(): boolean {
    return this.running > 0;
  }

  private running = 0;

  private async process(job: Job): Promise<SwapReport> {
    if (job.name !== JOB_SWAP) throw new UnrecoverableError(`unknown job name "${job.name}" on the swap queue`);
    const parsed = swapJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid swap job: ${parsed.error.message}`);
    if (parsed.data.hostId !== this.hostId) {
      throw new UnrecoverableError(`job for host ${parsed.data.hostId} delivered to ${this.hostId}`);
    }
    return this.run(job.id ?? `${parsed.data.rolloutId}-${this.hostId}`, parsed.data, job);
  }

  /** `bullJob` carries hook output to the controller (job logs); a resumed swap has none. */
  private async run(swapId: string, job: SwapJob, bullJob?: Job): Promise<SwapReport> {
    this.running++;
    this.watch.addRunbook(job.runbook);
    const module = moduleOf(job);
    const observer = swapProgressObserver(this.hostId, module, this.metrics, (phase, status, detail) => {
      this.log('swap phase', { swapId, phase, status, detail });
      this.publisher.step(swapId, job, phase, status, detail).catch((error: Error) => {
        this.log('could not publish a step event', { swapId, error: error.message });
      });
    });
    observer.hookOutput = (stage, hook, text) => {
      bullJob?.log(`[${stage}:${hook}] ${text}`).catch(() => undefined);
    };
    try {
      const report = await this.handler.handle(swapId, job, observer);
      this.metrics.swaps.inc({ host: this.hostId, module, outcome: report.outcome });
      await this.publisher.result(swapId, job, report);
      this.log('swap finished', { swapId, outcome: report.outcome, error: report.error });
      return report;
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }
}

/** The top of the stack names the swap in metrics (bounded: one per runbook). */
function moduleOf(job: SwapJob): string {
  const runbook = job.runbook as { spec?: { modules?: { name?: unknown }[] } } | null;
  const name = runbook?.spec?.modules?.[0]?.name;
  return typeof name === 'string' ? name : 'unknown';
}
