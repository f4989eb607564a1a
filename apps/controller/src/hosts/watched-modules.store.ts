import { Inject, Injectable } from '@nestjs/common';
import { WATCHED_MODULES_KEY } from '@hotswap/contracts';
import type { Runbook } from '@hotswap/runbook';
import { REDIS } from '../redis/redis.provider.js';
import type { RedisClient } from '../redis/redis-client.js';

/**
 * The modules the runbooks name (libs/contracts WATCHED_MODULES_KEY): every agent reports their
 * versions in its heartbeat, which is how GET /v1/hosts shows them and how the scheduler skips
 * hosts already on a target. Added when a runbook is stored and when a rollout or a dry run is
 * asked for an inline one; the set only grows with the runbooks (agents cap what they report).
 */
@Injectable()
export class WatchedModulesStore {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  async add(runbook: Runbook): Promise<void> {
    const names = runbook.spec.modules.map((module) => module.name);
    await this.redis.sadd(WATCHED_MODULES_KEY, ...names);
  }
}
