import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-client.js';
import { REDIS } from '../redis/redis.provider.js';

/**
 * Which unfinished rollout owns each host: `hotswap:host-claim:<host>` holds `<rolloutId> <ms>`.
 * A rollout claims its hosts before it is stored and releases them when it finishes, so two
 * rollouts created at the same moment on two replicas cannot both take a host (SET NX decides).
 * One key per command: nothing spans two hosts' keys, as Redis Cluster requires.
 *
 * A claim whose rollout is finished, or was never stored (a crash between claiming and storing,
 * older than CLAIM_GRACE_MS), is stale and taken over.
 */
export const hostClaimKey = (hostId: string): string => `hotswap:host-claim:${hostId}`;

/** A claim younger than this, whose rollout is not stored yet, may be a creation in progress. */
const CLAIM_GRACE_MS = 60_000;

/** Sets the key to ARGV[2] only if it still holds ARGV[1]. */
const REPLACE_IF = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;
/** Deletes the key only if it belongs to rollout ARGV[1]. */
const RELEASE_IF_OWNER = `
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

export interface HostClaim {
  readonly rolloutId: string;
  readonly at: number;
}

/** Is the rollout that owns a claim still unfinished? null: no such rollout is stored. */
export type OwnerCheck = (rolloutId: string) => Promise<boolean | null>;

export type ClaimResult = { readonly ok: true } | { readonly ok: false; readonly owner: string };

@Injectable()
export class HostClaimsStore {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /**
   * Claims every host for `rolloutId`, or none: on the first live conflict it releases what it
   * took. Hosts are claimed in one global order (sorted ids), so of two rollouts racing for
   * shared hosts the one that gets the first shared host wins and the other backs off: never
   * both refused, never both owners.
   */
  async claim(rolloutId: string, hostIds: readonly string[], active: OwnerCheck, now: number): Promise<ClaimResult> {
    const value = `${rolloutId} ${now}`;
    const taken: string[] = [];
    for (const hostId of [...hostIds].sort()) {
      const owner = await this.claimOne(hostId, rolloutId, value, active, now);
      if (owner !== null) {
        await this.release(rolloutId, taken);
        return { ok: false, owner };
      }
      taken.push(hostId);
    }
    return { ok: true };
  }

  /** The live owners among these hosts' claims (stale ones are left for `claim` to take over). */
  async owners(hostIds: readonly string[], active: OwnerCheck, now: number): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    for (const hostId of hostIds) {
      const claim = parseClaim(await this.redis.get(hostClaimKey(hostId)));
      if (claim !== null && (await isLive(claim, active, now))) owners.set(hostId, claim.rolloutId);
    }
    return owners;
  }

  async owner(hostId: string): Promise<HostClaim | null> {
    return parseClaim(await this.redis.get(hostClaimKey(hostId)));
  }

  async release(rolloutId: string, hostIds: readonly string[]): Promise<void> {
    for (const hostId of hostIds) await this.redis.eval(RELEASE_IF_OWNER, 1, hostClaimKey(hostId), rolloutId);
  }

  /** null when claimed (or already ours), else the live owner. */
  private async claimOne(
    hostId: string,
    rolloutId: string,
    value: string,
    active: OwnerCheck,
    now: number,
  ): Promise<string | null> {
    const key = hostClaimKey(hostId);
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((await this.redis.set(key, value, 'NX')) === 'OK') return null;
      const current = await this.redis.get(key);
      if (current === null) continue; // released in between: try again
      const claim = parseClaim(current);
      if (claim?.rolloutId === rolloutId) return null;
      if (claim !== null && (await isLive(claim, active, now))) return claim.rolloutId;
      if ((await this.redis.eval(REPLACE_IF, 1, key, current, value)) === 1) return null;
    }
    throw new Error(`host ${hostId}: its claim kept changing; try again`);
  }
}

async function isLive(claim: HostClaim, active: OwnerCheck, now: number): Promise<boolean> {
  const unfinished = await active(claim.rolloutId);
  return unfinished === true || (unfinished === null && now - claim.at < CLAIM_GRACE_MS);
}

function parseClaim(value: string | null): HostClaim | null {
  if (value === null) return null;
  const [rolloutId = '', at = '0'] = value.split(' ');
  return { rolloutId, at: Number(at) || 0 };
}
