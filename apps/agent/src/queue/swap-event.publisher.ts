import {
  EVENTS_PREFIX,
  EVENTS_QUEUE,
  EVENT_RESULT,
  EVENT_STEP,
  type SwapJob,
  type SwapPhase,
  type SwapReport,
} from '@hotswap/contracts';
import { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';

/**
 * Publishes a swap's steps and result on the shared event queue (agent → controller). Job ids
 * are deterministic, so a result re-published after a crash is a no-op while the first exists.
 */
export class SwapEventPublisher {
  private readonly queue: Queue;
  private seq = 0;

  constructor(connection: RedisClient) {
    this.queue = new Queue(EVENTS_QUEUE, {
      connection,
      prefix: EVENTS_PREFIX,
      defaultJobOptions: { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 }, attempts: 3 },
    });
  }

  step(swapId: string, job: SwapJob, phase: SwapPhase, status: string, detail?: string): Promise<unknown> {
    const data = { ...envelope(swapId, job), phase, status, ...(detail ? { detail } : {}) };
    return this.queue.add(EVENT_STEP, data, { jobId: `${swapId}-step-${process.pid}-${++this.seq}` });
  }

  result(swapId: string, job: SwapJob, report: SwapReport): Promise<unknown> {
    return this.queue.add(EVENT_RESULT, { ...envelope(swapId, job), report }, { jobId: `${swapId}-result` });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

/** The fields every event carries (libs/contracts swap-events). */
function envelope(swapId: string, job: SwapJob) {
  return { v: 1, rolloutId: job.rolloutId, hostId: job.hostId, swapId, direction: job.direction, at: Date.now() };
}
