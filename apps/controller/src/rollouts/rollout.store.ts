import { Inject, Injectable } from '@nestjs/common';
import type { SwapDirection, SwapReport } from '@hotswap/contracts';
import { isTerminalRolloutState, type RolloutEvent } from '@hotswap/rollout';
import {
  RolloutNotFoundError,
  RolloutRecordInvalidError,
  RolloutUpdateConflictError,
} from '../errors/controller.errors.js';
import type { RedisClient } from '../redis/redis-client.js';
import { REDIS } from '../redis/redis.provider.js';
import {
  ROLLOUT_RECORD_VERSION,
  type HostReports,
  type HostStep,
  type RolloutRecord,
  type RolloutSnapshot,
} from './rollout.record.js';

/**
 * Rollouts in Redis. The keys of one rollout share its hash tag (`{r-…}`), so a Lua script may
 * write them together on Redis Cluster; nothing here ever touches a host's hash tag:
 *
 *   hotswap:{<id>}:rollout        hash: `record` (RolloutRecord JSON), `rev` (integer)
 *   hotswap:{<id>}:events         list: the event log, one RolloutEvent JSON per entry, append-only
 *   hotswap:{<id>}:reports        hash: `<host>/<direction>` → the agent's SwapReport JSON
 *   hotswap:{<id>}:steps:<host>   sorted set: the host's step events (JSON) by time, the last 100
 *
 * and three indexes, written after the rollout's own keys and derived from them:
 *
 *   hotswap:rollouts              sorted set: every rollout id by createdAt (the list, newest first)
 *   hotswap:rollouts:running      sorted set: unfinished rollouts (running, paused, waiting…)
 *   hotswap:rollouts:finished     sorted set: finished rollouts by finishedAt (metrics keep them a while)
 *
 * Every change of the record and the log is one compare-and-set on `rev` (a Lua script): the
 * record is rewritten, new events appended, reports stored, or nothing happens at all. Two
 * replicas, or a redelivered event, never lose or double an update.
 */
export const rolloutKey = (id: string): string => `hotswap:{${id}}:rollout`;
export const eventsKey = (id: string): string => `hotswap:{${id}}:events`;
export const reportsKey = (id: string): string => `hotswap:{${id}}:reports`;
export const stepsKey = (id: string, hostId: string): string => `hotswap:{${id}}:steps:${hostId}`;
export const ROLLOUTS_INDEX_KEY = 'hotswap:rollouts';
export const ROLLOUTS_RUNNING_KEY = 'hotswap:rollouts:running';
export const ROLLOUTS_FINISHED_KEY = 'hotswap:rollouts:finished';

/** Steps kept per host: enough to follow a swap live; the report carries the whole history. */
export const MAX_STEPS_PER_HOST = 100;

/**
 * KEYS: rollout hash, events list, reports hash. ARGV: expected rev (-1: must not exist), record
 * JSON, n, n events, m, m (field, report) pairs. Returns the new rev, or -1 on a stale rev.
 */
const COMMIT = `
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '-1')
if rev ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'record', ARGV[2], 'rev', rev + 1)
local n = tonumber(ARGV[3])
for i = 1, n do redis.call('RPUSH', KEYS[2], ARGV[3 + i]) end
local m = tonumber(ARGV[4 + n])
for i = 1, m do redis.call('HSET', KEYS[3], ARGV[3 + n + 2 * i], ARGV[4 + n + 2 * i]) end
return rev + 1
`;

/** Two replicas on one rollout at worst; this many lost races in a row means trouble. */
const MAX_UPDATE_ATTEMPTS = 20;

export interface ReportWrite {
  readonly hostId: string;
  readonly direction: SwapDirection;
  readonly report: SwapReport;
}

export interface RolloutChange {
  readonly record: RolloutRecord;
  /** Appended to the log, in order. */
  readonly events: readonly RolloutEvent[];
  readonly reports?: readonly ReportWrite[];
}

export interface RolloutUpdate<T> {
  readonly before: RolloutSnapshot;
  /** Equal to `before` when nothing changed. */
  readonly after: RolloutSnapshot;
  readonly changed: boolean;
  readonly result: T;
}

const reportField = (hostId: string, direction: SwapDirection): string => `${hostId}/${direction}`;

@Injectable()
export class RolloutStore {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /** Writes a new rollout and its first events; refuses to overwrite an existing id. */
  async create(record: RolloutRecord, events: readonly RolloutEvent[]): Promise<RolloutSnapshot> {
    const rev = await this.commit(-1, { record, events });
    if (rev < 0) throw new Error(`rollout id ${record.id} is already taken`);
    await this.syncIndexes(record, true);
    return { record, events, rev };
  }

  /** The record and the whole log, read together (one MULTI on the rollout's slot). */
  async load(id: string): Promise<RolloutSnapshot | null> {
    const replies = await this.redis.multi().hmget(rolloutKey(id), 'record', 'rev').lrange(eventsKey(id), 0, -1).exec();
    const [[recordError, fields], [eventsError, entries]] = (replies ?? []) as [
      [Error | null, unknown],
      [Error | null, unknown],
    ];
    if (recordError || eventsError) throw recordError ?? eventsError;
    const [json, rev] = fields as [string | null, string | null];
    if (json === null) return null;
    return { record: decode(id, json), events: (entries as string[]).map((e) => decodeEvent(id, e)), rev: Number(rev) };
  }

  async loadRecord(id: string): Promise<RolloutRecord | null> {
    const json = await this.redis.hget(rolloutKey(id), 'record');
    return json === null ? null : decode(id, json);
  }

  /**
   * Reads, applies `change` (pure: null = nothing to write) and writes only if nobody wrote in
   * between; otherwise starts over from what they wrote.
   */
  async update<T>(
    id: string,
    change: (snapshot: RolloutSnapshot) => { readonly change: RolloutChange | null; readonly result: T },
  ): Promise<RolloutUpdate<T>> {
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const before = await this.load(id);
      if (before === null) throw new RolloutNotFoundError(id);
      const { change: next, result } = change(before);
      if (next === null) return { before, after: before, changed: false, result };
      const rev = await this.commit(before.rev, next);
      if (rev >= 0) {
        await this.syncIndexes(next.record);
        const after = { record: next.record, events: [...before.events, ...next.events], rev };
        return { before, after, changed: true, result };
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
    throw new RolloutUpdateConflictError(id, MAX_UPDATE_ATTEMPTS);
  }

  async reports(id: string): Promise<HostReports> {
    const hash = await this.redis.hgetall(reportsKey(id));
    const reports = new Map<string, { forward?: SwapReport; rollback?: SwapReport }>();
    for (const [field, json] of Object.entries(hash)) {
      const slash = field.lastIndexOf('/');
      const hostId = field.slice(0, slash);
      const direction = field.slice(slash + 1) as SwapDirection;
      try {
        reports.set(hostId, { ...reports.get(hostId), [direction]: JSON.parse(json) as SwapReport });
      } catch {
        // A report we cannot read is left out of the view rather than failing the whole read.
      }
    }
    return reports;
  }

  /** Adds a step (kept sorted by time); false when the very same step is already there. */
  async addStep(id: string, hostId: string, step: HostStep): Promise<boolean> {
    const key = stepsKey(id, hostId);
    const replies = await this.redis
      .multi()
      .zadd(key, String(step.at), JSON.stringify(step))
      .zremrangebyrank(key, 0, -(MAX_STEPS_PER_HOST + 1))
      .exec();
    const [error, added] = replies?.[0] ?? [null, 0];
    if (error) throw error;
    return Number(added) === 1;
  }

  async steps(id: string, hostIds: readonly string[]): Promise<Map<string, HostStep[]>> {
    const pipeline = this.redis.pipeline();
    for (const hostId of hostIds) pipeline.zrange(stepsKey(id, hostId), 0, '-1');
    const replies = (await pipeline.exec()) ?? [];
    return new Map(
      hostIds.map((hostId, i) => {
        const [error, members] = replies[i] ?? [null, []];
        if (error) throw error;
        return [hostId, (members as string[]).map((m) => JSON.parse(m) as HostStep)];
      }),
    );
  }

  /** Newest first. A record missing behind an index entry (deleted by hand) is skipped. */
  async list(limit: number): Promise<RolloutRecord[]> {
    const ids = await this.redis.zrevrange(ROLLOUTS_INDEX_KEY, 0, limit - 1);
    const records = await Promise.all(ids.map((id) => this.loadRecord(id)));
    return records.filter((record): record is RolloutRecord => record !== null);
  }

  /** Unfinished rollouts, oldest first. */
  runningIds(): Promise<string[]> {
    return this.redis.zrange(ROLLOUTS_RUNNING_KEY, 0, '-1');
  }

  countRunning(): Promise<number> {
    return this.redis.zcard(ROLLOUTS_RUNNING_KEY);
  }

  /** Rollouts finished since `since` (ms); older entries are dropped from the index on the way. */
  async finishedSince(since: number): Promise<string[]> {
    await this.redis.zremrangebyscore(ROLLOUTS_FINISHED_KEY, '-inf', `(${since}`);
    return this.redis.zrange(ROLLOUTS_FINISHED_KEY, 0, '-1');
  }

  private async commit(expectedRev: number, change: RolloutChange): Promise<number> {
    const { record } = change;
    const reports = change.reports ?? [];
    const argv = [
      String(expectedRev),
      JSON.stringify(record),
      String(change.events.length),
      ...change.events.map((event) => JSON.stringify(event)),
      String(reports.length),
      ...reports.flatMap((r) => [reportField(r.hostId, r.direction), JSON.stringify(r.report)]),
    ];
    const rev = await this.redis.eval(
      COMMIT,
      3,
      rolloutKey(record.id),
      eventsKey(record.id),
      reportsKey(record.id),
      ...argv,
    );
    return Number(rev);
  }

  /**
   * A rollout goes from unfinished to finished once, never back: the running index only gains
   * an id at creation and only loses it afterwards, so a slow writer of an older state cannot
   * put a finished rollout back. Re-adding to the list index on every write is idempotent and
   * repairs an entry lost to a crash between two writes.
   */
  private async syncIndexes(record: RolloutRecord, created = false): Promise<void> {
    await this.redis.zadd(ROLLOUTS_INDEX_KEY, String(record.createdAt), record.id);
    const finished = isTerminalRolloutState(record.state);
    if (created && !finished) await this.redis.zadd(ROLLOUTS_RUNNING_KEY, String(record.createdAt), record.id);
    if (finished) {
      await this.redis.zrem(ROLLOUTS_RUNNING_KEY, record.id);
      await this.redis.zadd(ROLLOUTS_FINISHED_KEY, 'NX', String(record.finishedAt ?? record.updatedAt), record.id);
    }
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
  if (record.id !== id || !Array.isArray(record.hosts) || typeof record.runbook !== 'object' || !record.decision) {
    throw new RolloutRecordInvalidError(id, 'missing id, hosts, runbook or decision');
  }
  return record as RolloutRecord;
}

function decodeEvent(id: string, json: string): RolloutEvent {
  try {
    const event = JSON.parse(json) as RolloutEvent;
    if (typeof event?.type === 'string' && typeof event.at === 'number') return event;
  } catch {
    // reported below
  }
  throw new RolloutRecordInvalidError(id, `unreadable event ${json.slice(0, 80)}`);
}
