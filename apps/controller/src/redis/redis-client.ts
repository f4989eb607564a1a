import { parseRedisUrl } from '@hotswap/contracts';
import { Cluster, Redis } from 'ioredis';
import { redisCredentialOptions, type RedisCredentials } from './redis-credentials.js';

/**
 * What the controller talks to: one Redis, or a Redis Cluster (a `redis+cluster://` REDIS_URL,
 * see libs/contracts/src/redis-url.ts). Both answer the same commands; on a cluster every
 * multi-key command, MULTI and Lua script must keep its keys in one hash slot, which the key
 * names take care of (the `{…}` hash tags in rollout.store.ts, libs/contracts/src/queues.ts and
 * scheduling/controller.queue.ts; apps/controller/README.md lists every key).
 */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** null for BullMQ (its blocking commands must wait); a number fails a command after that many reconnections. */
  readonly maxRetriesPerRequest: number | null;
  readonly connectionName: string;
}

export function createRedisClient(
  config: { readonly redisUrl: string } & RedisCredentials,
  options: RedisClientOptions,
): RedisClient {
  const target = parseRedisUrl(config.redisUrl);
  const credentials = redisCredentialOptions(config);
  if (target.kind === 'single') return new Redis(config.redisUrl, { ...options, ...credentials });
  // Per-node options: BullMQ checks maxRetriesPerRequest here too. maxRetriesPerRequest bounds a
  // command sent to a node; while the whole cluster is unreachable commands wait in the
  // Cluster's offline queue instead (turning that queue off would also fail the first commands
  // to a node whose connection is still being opened).
  return new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    {
      redisOptions: {
        ...options,
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        ...credentials,
        ...(target.tls ? { tls: credentials.tls ?? {} } : {}),
      },
    },
  );
}
