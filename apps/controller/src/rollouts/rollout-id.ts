import { randomBytes } from 'node:crypto';

/**
 * Rollout ids reach Redis keys and BullMQ job ids (`<rollout>-<host>-forward`), where ':' is
 * forbidden: `r-` and lowercase hex only. 48 random bits: collisions are not a concern at the
 * rate rollouts are created (and the store refuses to overwrite one).
 */
export const ROLLOUT_ID_PATTERN = /^r-[a-z0-9]{1,64}$/;

export function newRolloutId(): string {
  return `r-${randomBytes(6).toString('hex')}`;
}
