import { Inject, Injectable } from '@nestjs/common';
import { HEARTBEAT_TTL_MS, HOSTS_KEY, hostKey, type ModuleVersion } from '@hotswap/contracts';
import type { RedisClient } from '../redis/redis-client.js';
import { REDIS } from '../redis/redis.provider.js';
import { decodeHeartbeat, decodeModules, type RegisteredHost } from './host-heartbeat.decoder.js';

/** Reads the registry agents write (the encoding is documented in host-heartbeat.decoder.ts). */
@Injectable()
export class HostRegistryStore {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /** Every registered host, by id. */
  async list(now: number): Promise<RegisteredHost[]> {
    const scored = withScores(await this.redis.zrange(HOSTS_KEY, 0, '-1', 'WITHSCORES'));
    const hashes = await Promise.all(scored.map(([hostId]) => this.redis.hgetall(hostKey(hostId))));
    return scored
      .map(([hostId, score], i) => decodeHeartbeat(hostId, hashes[i] ?? {}, score, now))
      .sort((a, b) => a.hostId.localeCompare(b.hostId));
  }

  /** The ids of every registered host, without reading their hashes. */
  async ids(): Promise<string[]> {
    return this.redis.zrange(HOSTS_KEY, 0, '-1');
  }

  /** One host, or null when no agent ever registered it. */
  async get(hostId: string, now: number): Promise<RegisteredHost | null> {
    const [score, hash] = await Promise.all([
      this.redis.zscore(HOSTS_KEY, hostId),
      this.redis.hgetall(hostKey(hostId)),
    ]);
    if (score === null && Object.keys(hash).length === 0) return null;
    return decodeHeartbeat(hostId, hash, score === null ? null : Number(score), now);
  }

  /**
   * Whether each host's last heartbeat is recent (the score agents write with every heartbeat),
   * in one command: what the scheduler needs on every decision.
   */
  async availability(hostIds: readonly string[], now: number): Promise<Map<string, boolean>> {
    if (hostIds.length === 0) return new Map();
    const scores = await this.redis.zmscore(HOSTS_KEY, ...hostIds);
    return new Map(
      hostIds.map((hostId, i) => {
        const lastSeen = scores[i] === null || scores[i] === undefined ? NaN : Number(scores[i]);
        return [hostId, Number.isFinite(lastSeen) && now - lastSeen < HEARTBEAT_TTL_MS];
      }),
    );
  }

  /** The module versions each host reported in its last heartbeat (empty when none). */
  async moduleVersions(hostIds: readonly string[]): Promise<Map<string, ModuleVersion[]>> {
    const fields = await Promise.all(hostIds.map((hostId) => this.redis.hget(hostKey(hostId), 'modules')));
    return new Map(hostIds.map((hostId, i) => [hostId, decodeModules(fields[i] ?? undefined)]));
  }

  /** The ids no agent ever registered (absent from the registry), in the order given. */
  async unregistered(hostIds: readonly string[]): Promise<string[]> {
    if (hostIds.length === 0) return [];
    const scores = await this.redis.zmscore(HOSTS_KEY, ...hostIds);
    return hostIds.filter((_, i) => scores[i] === null || scores[i] === undefined);
  }

  async countByAvailability(now: number): Promise<{ available: number; unavailable: number }> {
    const [total, available] = await Promise.all([
      this.redis.zcard(HOSTS_KEY),
      this.redis.zcount(HOSTS_KEY, `(${now - HEARTBEAT_TTL_MS}`, '+inf'),
    ]);
    return { available, unavailable: total - available };
  }
}

/** WITHSCORES replies: flat `[member, score, ...]` (RESP2 shape) or `[[member, score], ...]` (RESP3). */
function withScores(reply: readonly unknown[]): [string, number][] {
  if (reply.every(Array.isArray))
    return (reply as unknown[][]).map(([member, score]) => [String(member), Number(score)]);
  const pairs: [string, number][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([String(reply[i]), Number(reply[i + 1])]);
  return pairs;
}
