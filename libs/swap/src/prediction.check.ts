import type { PredictionCheck, SwapPrediction } from '@hotswap/contracts';

/** What the swap showed, as the state machine recorded it. */
export interface SwapObservations {
  readonly unbinds: readonly UnbindObservation[];
  /** Zombie FDs the census found after the unbinds; null when no census was taken. */
  readonly zombieFds: number | null;
  /**
   * The highest refcount beyond the stack's own modules seen while waiting to unload: above 0,
   * the stack had to wait. Null when the swap never got to check.
   */
  readonly unloadRefcnt: number | null;
  /** Zombie files still open when the stack was found free; null when not counted. */
  readonly zombiesWhenFree: number | null;
}

export interface UnbindObservation {
  /** "bus/id" */
  readonly device: string;
  /** The unbind did not return within its deadline. */
  readonly blocked: boolean;
  /** The unbind returned (in time or, after blocking, late). */
  readonly returned: boolean;
  /** Processes holding the device's nodes before the unbind. */
  readonly heldBefore: number;
  /** Files still open on its old nodes at the census after the unbinds; null: no census. */
  readonly zombiesAfter: number | null;
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

/**
 * An unbind that returned while files were still open on the device did not wait for them. One
 * that returned once every holder had closed is what a blocking unbind does when the holders let
 * go in time (VFIO's release request), and what a revoking one looks like when they closed at
 * once: it bears out "blocks", and cannot tell for "returns".
 */
function observeUnbind(p: SwapPrediction, u: UnbindObservation | undefined): { observed: string | null; note: string } {
  if (u?.blocked) return { observed: 'blocks', note: 'the unbind did not return in time' };
  if (!u?.returned) return { observed: null, note: 'the swap did not unbind this device' };
  if (u.heldBefore === 0) return { observed: 'returns', note: 'the unbind returned; nothing held the device' };
  if (u.zombiesAfter === null) return { observed: null, note: 'no census after the unbind' };
  if (u.zombiesAfter > 0) {
    return { observed: 'returns', note: `the unbind returned with ${u.zombiesAfter} file(s) still open on the device` };
  }
  if (p.expected === 'blocks') {
    return { observed: 'blocks', note: 'the unbind returned once every holder had closed its files' };
  }
  return { observed: null, note: 'every holder had closed its files by the census: cannot tell whether it waited' };
}

function observe(p: SwapPrediction, seen: SwapObservations): { observed: string | null; note: string } {
  switch (p.kind) {
    case 'errno':
      return { observed: null, note: 'the errno applications get is never seen by the agent: predicted only' };
    case 'unbind':
      return observeUnbind(
        p,
        seen.unbinds.find((u) => u.device === p.subject),
      );
    case 'unload': {
      if (seen.unloadRefcnt === null) return { observed: null, note: 'the swap did not get to unload' };
      if (seen.unloadRefcnt > 0) {
        return { observed: 'waits', note: `refcount ${seen.unloadRefcnt} held the stack after the unbind` };
      }
      // Free with zombies still open: they do not pin the stack. Free once they had all closed
      // says nothing of who owns their file operations.
      const open = seen.zombiesWhenFree ?? seen.zombieFds ?? 0;
      if (open > 0) return { observed: 'free', note: `free to unload with ${open} zombie file(s) still open` };
      if (p.expected === 'waits') {
        return { observed: null, note: 'every file was closed before the check: nothing was left to pin the stack' };
      }
      return { observed: 'free', note: 'free to unload: no zombie file was open' };
    }
  }
}
