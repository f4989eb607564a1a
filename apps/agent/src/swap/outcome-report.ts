import type { SwapOutcome, SwapReport } from '@hotswap/contracts';

/** The report of a swap that never reached the state machine (expired job, invalid runbook, nothing to roll back). */
export function reportWithoutSwap(
  swapId: string,
  hostId: string,
  outcome: Extract<SwapOutcome, 'expired' | 'refused' | 'skipped'>,
  error: string,
  at: number,
): SwapReport {
  return {
    swapId,
    hostId,
    outcome,
    modules: [],
    fromVersion: null,
    toVersion: null,
    fromSrcversion: null,
    toSrcversion: null,
    devices: [],
    steps: [],
    holdersBefore: [],
    zombieFds: 0,
    recoveries: [],
    blockedUnbind: null,
    error,
    startedAt: at,
    endedAt: at,
  };
}
