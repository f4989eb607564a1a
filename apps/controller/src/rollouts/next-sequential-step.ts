import type { SwapOutcome } from '@hotswap/contracts';

/**
 * Where a host is in a rollout: not started, handed to its agent (job enqueued), reporting
 * steps, or done with the agent's outcome.
 */
export type HostProgress = 'pending' | 'queued' | 'running' | SwapOutcome;

export type SequentialStep =
  | { readonly kind: 'start'; readonly hostId: string }
  | { readonly kind: 'wait' }
  | { readonly kind: 'finish'; readonly state: 'succeeded' | 'failed' };

/**
 * The spine's scheduler: one host at a time, in the listed order. A host that succeeded or was
 * skipped (already on the target) lets the next one start; any other outcome stops the
 * rollout, and the hosts not yet started stay pending.
 *
 * Pure, and the only place that decides: the wave scheduler in libs/rollout replaces this
 * function. The checks run in this order so that the invariants hold whatever the input:
 * nothing starts while a host is in flight, and a rollout only finishes once nothing is.
 */
export function nextSequentialStep(rollout: {
  readonly hosts: readonly { readonly hostId: string; readonly state: HostProgress }[];
}): SequentialStep {
  if (rollout.hosts.some((host) => host.state === 'queued' || host.state === 'running')) return { kind: 'wait' };
  if (rollout.hosts.some((host) => isFailure(host.state))) return { kind: 'finish', state: 'failed' };
  const next = rollout.hosts.find((host) => host.state === 'pending');
  return next ? { kind: 'start', hostId: next.hostId } : { kind: 'finish', state: 'succeeded' };
}

function isFailure(state: HostProgress): boolean {
  switch (state) {
    case 'pending':
    case 'queued':
    case 'running':
    case 'succeeded':
    case 'skipped':
      return false;
    case 'failed':
    case 'failed-restored':
    case 'refused':
    case 'expired':
      return true;
    default:
      return assertNever(state);
  }
}

function assertNever(state: never): never {
  throw new Error(`unknown host state ${JSON.stringify(state)}`);
}
