import { Inject, Injectable } from '@nestjs/common';
import type { Runbook } from '@hotswap/runbook';
import type { RedisClient } from '../redis/redis-client.js';
import { REDIS } from '../redis/redis.provider.js';

/**
 * Stored runbooks: one hash, `hotswap:runbooks`, field = metadata.name, value = StoredRunbook
 * JSON. Storing a name again replaces it and bumps its revision (compare-and-set on the field,
 * so two writers never both get the same revision).
 */
export const RUNBOOKS_KEY = 'hotswap:runbooks';

export interface StoredRunbook {
  readonly name: string;
  /** 1 at the first store, +1 at each replacement. */
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Validated, defaults applied. */
  readonly runbook: Runbook;
}

/** Sets field ARGV[1] to ARGV[3] only if it still holds ARGV[2] ('' = absent). */
const REPLACE_FIELD_IF = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

@Injectable()
export class RunbookStore {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  async put(runbook: Runbook, now: number): Promise<{ stored: StoredRunbook; created: boolean }> {
    const name = runbook.metadata.name;
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.redis.hget(RUNBOOKS_KEY, name);
      const previous = current === null ? null : (JSON.parse(current) as StoredRunbook);
      const stored: StoredRunbook = {
        name,
        revision: (previous?.revision ?? 0) + 1,
        createdAt: previous?.createdAt ?? now,
        updatedAt: now,
        runbook,
      };
      const written = await this.redis.eval(
        REPLACE_FIELD_IF,
        1,
        RUNBOOKS_KEY,
        name,
        current ?? '',
        JSON.stringify(stored),
      );
      if (written === 1) return { stored, created: previous === null };
    }
    throw new Error(`runbook ${name} kept changing while being stored; try again`);
  }

  async get(name: string): Promise<StoredRunbook | null> {
    const json = await this.redis.hget(RUNBOOKS_KEY, name);
    return json === null ? null : (JSON.parse(json) as StoredRunbook);
  }

  /** By name. */
  async list(): Promise<StoredRunbook[]> {
    const all = await this.redis.hgetall(RUNBOOKS_KEY);
    return Object.values(all)
      .map((json) => JSON.parse(json) as StoredRunbook)
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
