import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER } from '../controller.tokens.js';
import { closeAll, once } from '../lifecycle/close-all.js';
import type { Logger } from '../logging/controller.logger.js';
import type { RedisClient } from './redis-client.js';
import { BULLMQ_CONNECTION, REDIS } from './redis.provider.js';

/**
 * Closes the Redis connections last: Nest runs every onModuleDestroy (where the worker and
 * the queues close) before any onApplicationShutdown.
 */
@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(BULLMQ_CONNECTION) private readonly bullmq: RedisClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  readonly onApplicationShutdown = once(async () => {
    await closeAll(
      { 'redis api connection': () => quit(this.redis), 'redis bullmq connection': () => quit(this.bullmq) },
      this.logger,
    );
    this.logger.info({}, 'controller stopped');
  });
}

/** QUIT when Redis answers (pending replies arrive first), else drop the socket. */
async function quit(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  } finally {
    redis.disconnect();
  }
}
