import { Inject, Injectable } from '@nestjs/common';
import { LOGGER } from '../controller.tokens.js';
import type { Logger } from '../logging/controller.logger.js';
import type { RedisClient } from '../redis/redis-client.js';
import { REDIS } from '../redis/redis.provider.js';
import type { AuditEntry } from './audit.entry.js';

/** A capped Redis list, newest first: LPUSH then LTRIM in one MULTI. */
export const AUDIT_KEY = 'hotswap:audit';
export const AUDIT_CAPACITY = 10_000;

/**
 * The audit log. Every entry also goes to the controller's log (`msg: "audit"`), which
 * keeps what the capped list drops and what Redis could not take.
 */
@Injectable()
export class AuditLog {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Never throws: a call that happened is answered even when Redis cannot take its entry. */
  async record(entry: AuditEntry): Promise<void> {
    this.logger.info({ audit: entry }, 'audit');
    try {
      const results = await this.redis
        .multi()
        .lpush(AUDIT_KEY, JSON.stringify(entry))
        .ltrim(AUDIT_KEY, 0, AUDIT_CAPACITY - 1)
        .exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    } catch (error) {
      this.logger.error({ audit: entry, error: (error as Error).message }, 'audit entry not stored in redis');
    }
  }

  /** Newest first. Entries this version cannot read are skipped. */
  async list(limit: number): Promise<AuditEntry[]> {
    const raw = await this.redis.lrange(AUDIT_KEY, 0, limit - 1);
    return raw.flatMap((text) => {
      try {
        return [JSON.parse(text) as AuditEntry];
      } catch {
        return [];
      }
    });
  }
}
