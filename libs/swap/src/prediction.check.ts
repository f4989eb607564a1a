import type { PredictionCheck, SwapPrediction } from '@hotswap/contracts';

/** What the swap showed, as the state machine recorded it. */
export interface SwapObservations {
  /** Devices ("bus/id") whose unbind did not return within its deadline. */
  readonly blocked: readonly string[];
  /** Devices ("bus/id") whose unbind returned. */
  readonly unbound: readonly string[];
  /** Zombie FDs the census found after the unbinds; null when no census was taken. */
  readonly zombieFds: number | null;
  /**
   * The highest refcount beyond the stack's own modules seen while waiting to unload: above 0,
   * the stack had to wait. Null when the swap never got to check.
   */
  readonly unloadRefcnt: number | null;
}

/**
 * Says, per prediction, whether the swap bore it out. A mismatch is `held: false` with what was
 * seen; a prediction the swap could not test (it stopped before, the errno that the agent never
 * sees, nothing left open to test it) is `held: null` with the reason.
 */
export function checkPredictions(predictions: readonly SwapPrediction[], seen: SwapObservations): PredictionCheck[] {
  return predictions.map((p) => {
    const { observed, note } = observe(p, seen);
    const held = observed === null || p.expected === null ? null : observed === p.expected;
    return { ...p, observed, held, note: held === false ? `mismatch: ${note}` : note };
  });
}

function observe(p: SwapPrediction, seen: SwapObservations): { observed: string | null; note: string } {
  switch (p.kind) {
    case 'errno':
      return { observed: null, note: 'the errno applications get is never seen by the agent: predicted only' };
    case 'unbind':
      if (seen.blocked.includes(p.subject)) return { observed: 'blocks', note: 'the unbind did not return in time' };
      if (seen.unbound.includes(p.subject)) return { observed: 'returns', note: 'the unbind returned in time' };
      return { observed: null, note: 'the swap did not unbind this device' };
    case 'unload': {
      if (seen.unloadRefcnt === null) return { observed: null, note: 'the swap did not get to unload' };
      if (seen.unloadRefcnt > 0) {
        return { observed: 'waits', note: `refcount ${seen.unloadRefcnt} held the stack after the unbind` };
      }
      if (p.expected === 'waits' && (seen.zombieFds ?? 0) === 0) {
        return { observed: null, note: 'every file was closed before the check: nothing was left to pin the stack' };
      }
      return { observed: 'free', note: `free to unload with ${seen.zombieFds ?? 0} zombie FD(s) open` };
    }
  }
}
