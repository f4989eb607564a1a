/**
 * What the agent predicts a swap will do before it acts (from the subsystem table, what preflight
 * infers on the host, and the runbook's overrides), and, after the swap, whether each prediction
 * held. A dry run carries the predictions; a swap report carries them checked. Plain data.
 */

/** Where a prediction comes from, strongest last: the runbook overrides the host, which refines the table. */
export type PredictionSource = 'table' | 'host' | 'runbook' | 'none';

/**
 * - unbind: whether the unbind write returns ('returns') or blocks while files are open ('blocks');
 * - unload: whether the stack can unload while zombie FDs remain ('free') or waits for them ('waits');
 * - errno: what calls on zombie FDs fail with; never observed by the agent (always predicted).
 */
export type PredictionKind = 'unbind' | 'unload' | 'errno';

export interface SwapPrediction {
  readonly kind: PredictionKind;
  /** What it is about: "pci/0000:04:00.0" (a device) or "module hs_misc" (the stack). */
  readonly subject: string;
  /** 'returns' | 'blocks' (unbind), 'free' | 'waits' (unload), an errno name (errno); null: unknown. */
  readonly expected: string | null;
  /** The prediction said plainly: "unbind will block while PID 4242 holds /dev/vfio/12". */
  readonly statement: string;
  readonly source: PredictionSource;
  /** Why: the table row's kernel source, the refcount reasoning, or the runbook field. */
  readonly basis: string;
}

/**
 * A prediction after the swap. `held`: true (as predicted), false (a mismatch: reported, never
 * hidden), null (not observable, e.g. the errno, or the swap never got to test it).
 */
export interface PredictionCheck extends SwapPrediction {
  readonly observed: string | null;
  readonly held: boolean | null;
  readonly note: string;
}

/** A module whose reference count open files hold up, and who holds them. */
export interface ModulePin {
  readonly module: string;
  readonly refcnt: number;
  /** References beyond those of dependent modules. */
  readonly extraRefs: number;
  /** Processes whose FDs (or mappings) on nodes whose file operations the module owns keep it loaded. */
  readonly pids: readonly number[];
  readonly reason: string;
}
