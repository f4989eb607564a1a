import type { Provider } from '@nestjs/common';
import { CONTROLLER_CONFIG, LOGGER } from '../controller.tokens.js';
import type { ControllerConfig } from '../controller.config.js';
import type { Logger } from '../logging/controller.logger.js';
import { createRedisClient, type RedisClient } from './redis-client.js';
import { checkRedisCredentials } from './redis-credentials.js';

/**
 * Two connections, because they want opposite failure behaviour:
 * - REDIS serves the HTTP API and the stores: a command fails after one reconnection
 *   attempt, so a request answers 503 within a second or two instead of hanging while Redis
 *   is down (clients retry; an event job that fails this way is retried by BullMQ);
 * - BULLMQ_CONNECTION is shared by the event worker and the swap queues: BullMQ requires
 *   `maxRetriesPerRequest: null` (its blocking commands must wait, never time out). BullMQ
 *   duplicates it for the worker's blocking connection and closes only that duplicate.
 * Both are closed by RedisLifecycle, after the workers and queues that use them. Credentials
 * (password, TLS CA) come from the config; wrong ones stop the controller at boot. Either is a
 * single Redis or a Redis Cluster, as REDIS_URL says (redis-client.ts).
 */
export const REDIS = Symbol('REDIS');
export const BULLMQ_CONNECTION = Symbol('BULLMQ_CONNECTION');

async function connect(
  config: ControllerConfig,
  logger: Logger,
  role: string,
  maxRetriesPerRequest: number | null,
): Promise<RedisClient> {
  const redis = createRedisClient(config, { maxRetriesPerRequest, connectionName: `hotswap-controller-${role}` });
  // Without a listener ioredis prints every reconnection error to the console. A cluster client
  // reports "Failed to refresh slots cache" and keeps what the nodes said in `lastNodeError`.
  redis.on('error', (error: Error & { lastNodeError?: Error }) =>
    logger.warn({ role, error: error.message, node: error.lastNodeError?.message }, 'redis connection error'),
  );
  await checkRedisCredentials(redis);
  return redis;
}

export const redisProviders: Provider[] = [
  {
    provide: REDIS,
    inject: [CONTROLLER_CONFIG, LOGGER],
    useFactory: (config: ControllerConfig, logger: Logger) => connect(config, logger, 'api', 1),
  },
  {
    provide: BULLMQ_CONNECTION,
    inject: [CONTROLLER_CONFIG, LOGGER],
    useFactory: (config: ControllerConfig, logger: Logger) => connect(config, logger, 'bullmq', null),
  },
];
