import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  EVENTS_PREFIX,
  EVENTS_QUEUE,
  EVENT_RESULT,
  EVENT_STEP,
  HOSTS_KEY,
  SWAP_QUEUE,
  hostKey,
  hostQueuePrefix,
  type SwapJob,
  type SwapOutcome,
} from '@hotswap/contracts';
import { paths, startFleetProcess, type FleetProcess } from '@hotswap/tools';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../src/redis/redis-client.js';
import { reportFor } from './fixtures.js';

/**
 * What the controller's integration tests share: a controller process, HTTP, and the agents'
 * side played by hand (heartbeats, taking jobs from a host's queue, answering on the event
 * queue) exactly as libs/contracts defines it.
 */

/** An error body, or any other JSON answer (read through the fields the tests look at). */
export interface Answer {
  readonly error?: string;
  readonly message?: string;
  readonly issues?: readonly { path: string; message: string; line?: number; column?: number }[];
  readonly hosts?: readonly string[];
  readonly id?: string;
  readonly state?: string;
  readonly rolloutId?: string;
}

export function startController(
  redisUrl: string,
  logDir: string,
  name = 'controller',
  env: NodeJS.ProcessEnv = {},
): Promise<FleetProcess> {
  return startFleetProcess(name, [paths.controllerMain], {
    env: { REDIS_URL: redisUrl, PORT: '0', LOG_LEVEL: 'debug', SWEEP_SECONDS: '1', HOTSWAP_AUTH: 'open', ...env },
    logFile: join(logDir, `${name}.log`),
  });
}

export class ControllerClient {
  constructor(public baseUrl: string) {}

  async http<T = Answer>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.includes('json') ?? false;
    return { status: response.status, body: (isJson && text ? JSON.parse(text) : text) as T };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.http<T>('GET', path)).body;
  }
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last !== undefined) return last as T;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
  );
}

/** Registers a host exactly as the agent's HeartbeatService does. */
export async function heartbeat(client: RedisClient, hostId: string, labels: Record<string, string>): Promise<void> {
  const now = Date.now();
  await client
    .multi()
    .hset(hostKey(hostId), {
      hostId,
      agentVersion: '0.1.0',
      kernel: '6.8.0-test',
      labels: JSON.stringify(labels),
      lastSeen: String(now),
      busy: '0',
      metricsUrl: '',
    })
    .zadd(HOSTS_KEY, now, hostId)
    .exec();
}

/** Plays the agent's queue side: takes the next job from the host's own queue. */
export async function takeSwapJob(client: Redis, hostId: string, timeoutMs = 10_000): Promise<Job<SwapJob>> {
  let take!: (job: Job<SwapJob>) => void;
  const taken = new Promise<Job<SwapJob>>((resolve) => (take = resolve));
  const worker = new Worker<SwapJob>(SWAP_QUEUE, async (job) => take(job), {
    connection: client,
    prefix: hostQueuePrefix(hostId),
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      taken,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no swap job for ${hostId}`)), timeoutMs)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
    await worker.close();
  }
}

/** The host's swap queue, to look at (close it after). */
export const swapQueue = (client: Redis, hostId: string): Queue =>
  new Queue(SWAP_QUEUE, { connection: client, prefix: hostQueuePrefix(hostId) });

export const eventQueue = (client: Redis): Queue =>
  new Queue(EVENTS_QUEUE, { connection: client, prefix: EVENTS_PREFIX });

/** Plays the agent's event side, with the envelope the contracts define. */
function envelope(job: SwapJob, swapId: string) {
  return { v: 1, rolloutId: job.rolloutId, hostId: job.hostId, swapId, direction: job.direction, at: Date.now() };
}
export const postStep = (events: Queue, job: SwapJob, swapId: string, phase: string, status: string, detail?: string) =>
  events.add(
    EVENT_STEP,
    { ...envelope(job, swapId), phase, status, ...(detail ? { detail } : {}) },
    { jobId: `${swapId}-${randomUUID()}` },
  );
export const postResult = (
  events: Queue,
  job: SwapJob,
  swapId: string,
  outcome: SwapOutcome,
  recoveries: Parameters<typeof reportFor>[3] = [],
) =>
  events.add(
    EVENT_RESULT,
    { ...envelope(job, swapId), report: reportFor(job.hostId, swapId, outcome, recoveries) },
    { jobId: `${swapId}-result-${randomUUID()}` },
  );

export function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
