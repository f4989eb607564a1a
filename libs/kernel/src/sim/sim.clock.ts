/**
 * Time as the simulated kernel sees it. The sim host runs on real time (a swap in the demo
 * takes real seconds); unit tests inject a FakeClock to run the same code deterministically.
 */
export interface SimClock {
  /** Wall clock, epoch ms: the `t` of action log entries. */
  now(): number;
  /** Monotonic ms: the `mono` of action log entries. */
  monotonic(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const realClock: SimClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
