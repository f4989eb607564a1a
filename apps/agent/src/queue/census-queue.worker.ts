import { CENSUS_QUEUE, JOB_CENSUS, censusJobSchema, hostQueuePrefix, type HostCensus } from '@hotswap/contracts';
import type { KernelPort } from '@hotswap/kernel';
import { RunbookValidationError, validateCensusRequest } from '@hotswap/runbook';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { readHostCensus } from '../census/host-census.reader.js';
import type { RedisClient } from './redis-connection.js';

/** Censuses are short reads; a few at once so one slow answer does not queue the others. */
const CONCURRENCY = 4;

/**
 * `notAfter` is the controller's clock; this host's may run ahead of it. A census read late is
 * harmless (the controller drops answers nobody waits for), so only a job long past its deadline
 * is refused, never one a few seconds of clock skew make look late.
 */
const CLOCK_SKEW_ALLOWANCE_MS = 30_000;

/**
 * Answers live census jobs from this host's census queue (libs/contracts host-census): a
 * read-only look at devices, module stack and holders, returned as the job's value. Separate
 * from the swap queue so that a census answers while a swap runs. A job picked up after its
 * `notAfter` is refused: the controller stopped waiting for it.
 */
export class CensusQueueWorker {
  private worker: Worker | null = null;

  constructor(
    private readonly hostId: string,
    private readonly connection: RedisClient,
    private readonly port: KernelPort,
    private readonly log: (msg: string, fields: object) => void,
  ) {}

  start(): void {
    this.worker = new Worker(CENSUS_QUEUE, (job) => this.process(job), {
      connection: this.connection,
      prefix: hostQueuePrefix(this.hostId),
      concurrency: CONCURRENCY,
    });
    this.worker.on('failed', (job, error) => this.log('census job failed', { jobId: job?.id, error: error.message }));
  }

  private async process(job: Job): Promise<HostCensus> {
    if (job.name !== JOB_CENSUS) throw new UnrecoverableError(`unknown job name "${job.name}" on the census queue`);
    const parsed = censusJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid census job: ${parsed.error.message}`);
    const { hostId, notAfter, devices, modules } = parsed.data;
    if (hostId !== this.hostId) throw new UnrecoverableError(`census for host ${hostId} delivered to ${this.hostId}`);
    if (Date.now() > notAfter + CLOCK_SKEW_ALLOWANCE_MS) {
      throw new UnrecoverableError(`census job expired ${Date.now() - notAfter} ms ago: nobody waits for it`);
    }
    let request;
    try {
      request = validateCensusRequest({ devices, modules });
    } catch (error) {
      if (error instanceof RunbookValidationError) throw new UnrecoverableError(error.message);
      throw error;
    }
    return readHostCensus(this.port, this.hostId, request);
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }
}
