import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  RolloutRecordInvalidError,
  RolloutNotFoundError,
  RolloutUpdateConflictError,
} from '../errors/controller.errors.js';
import { REDIS } from '../redis/redis.provider.js';
import { HOST_PROGRESS, ROLLOUT_RECORD_VERSION, type RolloutRecord } from './rollout.record.js';

/**
 * Rollouts in Redis:
 *   hotswap:rollout:<id>       string, the RolloutRecord as JSON
 *   hotswap:rollouts           sorted set of ids, scored by createdAt (ms): the list, newest first
 *   hotswap:rollouts:running   sorted set of the ids still running (for the gauge), same score
 *
 * Only the record is the truth, and each write of it is atomic on its own key (a compare-and-set
 * script), so two replicas or a redelivered event never lose an update. The two indexes are
 * written after the record, derived from it: no command spans two keys, which keeps this
 * working on Redis Cluster where the keys may sit in different slots.
 */
export const rolloutKey = (id: string): string => `hotswap:rollout:${id}`;
export const ROLLOUTS_INDEX_KEY = 'hotswap:rollouts';
export const ROLLOUTS_RUNNING_KEY = 'hotswap:rollouts:running';

/** Writes `next` only if the key still holds `expected`: optimistic concurrency in one step. */
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/** Contention is two replicas on one rollout at worst; this many retries in a row means trouble. */
const MAX_UPDATE_ATTEMPTS = 20;

export interface RolloutUpdate {
  readonly previous: RolloutRecord;
  readonly record: RolloutRecord;
  readonly changed: boolean;
}

@Injectable()
export class RolloutStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async create(record: RolloutRecord): Promise<void> {
    const created = await this.redis.set(rolloutKey(record.id), JSON.stringify(record), 'NX');
    if (created !== 'OK') throw new Error(`rollout id ${record.id} is already taken`);
    await this.syncIndexes(record, true);
  }

  async get(id: string): Promise<RolloutRecord | null> {
    const json = await this.redis.get(rolloutKey(id));
    return json === null ? null : decode(id, json);
  }

  /** Newest first. A record missing behind an index entry (deleted by hand) is skipped. */
  async list(limit: number): Promise<RolloutRecord[]> {
    const ids = await this.redis.zrevrange(ROLLOUTS_INDEX_KEY, 0, limit - 1);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    return records.filter((record): record is RolloutRecord => record !== null);
  }

  /**
   * Reads the record, applies `change` (pure; null = nothing to change) and writes the result
   * only if nobody wrote in between, else starts over with what they wrote.
   */
  async update(id: string, change: (record: RolloutRecord) => RolloutRecord | null): Promise<RolloutUpdate> {
    const key = rolloutKey(id);
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const json = await this.redis.get(key);
      if (json === null) throw new RolloutNotFoundError(id);
      const previous = decode(id, json);
      const record = change(previous);
      if (record === null) return { previous, record: previous, changed: false };
      const written = await this.redis.eval(COMPARE_AND_SET, 1, key, json, JSON.stringify(record));
      if (written === 1) {
        await this.syncIndexes(record);
        return { previous, record, changed: true };
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
    throw new RolloutUpdateConflictError(id, MAX_UPDATE_ATTEMPTS);
  }

  countRunning(): Promise<number> {
    return this.redis.zcard(ROLLOUTS_RUNNING_KEY);
  }

  /**
   * A rollout only ever goes from running to finished, so the running index only gains an id at
   * creation and only loses it afterwards: a slow writer of an older state can never put a
   * finished rollout back. Every write re-adds the id to the list index (idempotent), which
   * repairs an index entry lost to a crash between the two writes.
   */
  private async syncIndexes(record: RolloutRecord, created = false): Promise<void> {
    await this.redis.zadd(ROLLOUTS_INDEX_KEY, record.createdAt, record.id);
    if (created && record.state === 'running') await this.redis.zadd(ROLLOUTS_RUNNING_KEY, record.createdAt, record.id);
    if (record.state !== 'running') await this.redis.zrem(ROLLOUTS_RUNNING_KEY, record.id);
  }
}

/** Checks the shape this code relies on; the rest is trusted as our own earlier write. */
function decode(id: string, json: string): RolloutRecord {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new RolloutRecordInvalidError(id, (error as Error).message);
  }
  const record = value as Partial<RolloutRecord> | null;
  if (record?.v !== ROLLOUT_RECORD_VERSION)
    throw new RolloutRecordInvalidError(id, `record version ${String(record?.v)}`);
  if (record.id !== id || !Array.isArray(record.hosts) || typeof record.runbook !== 'object') {
    throw new RolloutRecordInvalidError(id, 'missing id, hosts or runbook');
  }
  const badHost = record.hosts.find((host) => !HOST_PROGRESS.includes(host?.state));
  if (badHost) throw new RolloutRecordInvalidError(id, `host state ${JSON.stringify(badHost?.state)}`);
  return record as RolloutRecord;
}
