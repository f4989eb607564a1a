/**
 * Queue names and prefixes shared by the agent and the controller.
 *
 * Each host has its own swap queue; the Redis Cluster hash tag sits in the queue *prefix*
 * (`hotswap:{host-a}`) so all of one host's keys share a slot. Progress and results flow
 * back on one shared event queue, so the controller needs one blocking connection, not one
 * per host. Queue names may not contain ':' (BullMQ), prefixes may.
 */
export const CONTRACTS_VERSION = 1;

export const SWAP_QUEUE = 'swaps';
export const EVENTS_QUEUE = 'events';
export const EVENTS_PREFIX = 'hotswap:{events}';

/** Host ids reach Redis keys, queue prefixes and metric labels: keep them tame. */
export const HOST_ID_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

export function hostQueuePrefix(hostId: string): string {
  if (!HOST_ID_PATTERN.test(hostId)) {
    throw new Error(`invalid host id "${hostId}": expected ${HOST_ID_PATTERN.source}`);
  }
  return `hotswap:{host-${hostId}}`;
}

/**
 * Registry keys written by agents (heartbeats) and read by the controller. They share one hash
 * tag (`{registry}`) because a heartbeat writes the host's hash and its score in the index in
 * one MULTI, which Redis Cluster allows only within a slot. The registry is small (one hash per
 * host) and rewritten on every heartbeat, so keeping it on one node costs nothing.
 */
export const HOSTS_KEY = 'hotswap:{registry}:hosts';
export const hostKey = (hostId: string): string => `hotswap:{registry}:host:${hostId}`;

/** One job per (rollout, host, direction): a duplicate enqueue is a no-op while the job exists. */
export function swapJobId(rolloutId: string, hostId: string, direction: SwapDirection): string {
  return `${rolloutId}-${hostId}-${direction}`;
}

export type SwapDirection = 'forward' | 'rollback';

export const JOB_SWAP = 'swap';
export const EVENT_STEP = 'swap.step';
export const EVENT_RESULT = 'swap.result';
