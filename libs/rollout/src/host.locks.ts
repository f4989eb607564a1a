import { isTerminalRolloutState, type RolloutState } from './rollout.types.js';

export interface ActiveRollout {
  readonly id: string;
  readonly hosts: readonly string[];
  readonly state: RolloutState;
}

export interface HostConflict {
  readonly rolloutId: string;
  readonly state: RolloutState;
  readonly hostIds: readonly string[];
}

/**
 * The first other rollout, not finished, that already covers one of `hostIds`. Two rollouts on
 * one host could swap it twice at once (the agent's host lock would make one of them fail
 * mid-wave), so the second rollout is refused up front. A paused rollout still owns its hosts.
 */
export function conflictingRollout(
  hostIds: readonly string[],
  activeRollouts: readonly ActiveRollout[],
  selfId?: string,
): HostConflict | null {
  const wanted = new Set(hostIds);
  for (const rollout of activeRollouts) {
    if (rollout.id === selfId || isTerminalRolloutState(rollout.state)) continue;
    const shared = rollout.hosts.filter((id) => wanted.has(id));
    if (shared.length > 0) return { rolloutId: rollout.id, state: rollout.state, hostIds: [...new Set(shared)].sort() };
  }
  return null;
}

/** A rollout refused because another one owns some of its hosts. Not worth retrying as is. */
export class HostConflictError extends Error {
  readonly code = 'ROLLOUT_HOST_CONFLICT';
  override readonly name = 'HostConflictError';

  constructor(readonly conflict: HostConflict) {
    const shown = conflict.hostIds.slice(0, 10).join(', ') + (conflict.hostIds.length > 10 ? ', …' : '');
    super(
      `host(s) ${shown} already belong to rollout ${conflict.rolloutId} (${conflict.state}): ` +
        `wait for it to finish, or abort it, before starting another rollout on them`,
    );
  }
}

/** Throws `HostConflictError` when another rollout owns one of the hosts. */
export function assertNoConflictingRollout(
  hostIds: readonly string[],
  activeRollouts: readonly ActiveRollout[],
  selfId?: string,
): void {
  const conflict = conflictingRollout(hostIds, activeRollouts, selfId);
  if (conflict !== null) throw new HostConflictError(conflict);
}
