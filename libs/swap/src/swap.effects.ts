import type { SwapPhase, SwapReport } from '@hotswap/contracts';
import type {
  BoundDevice,
  ClassifiedNode,
  DeviceQuery,
  DeviceRef,
  Holder,
  LoadSpec,
  LoadedModule,
  ModuleTarget,
  WatchScope,
} from '@hotswap/kernel';
import type { TrackedHolder } from './recovery.tracker.js';
import type { HookSpec } from './swap-plan.js';

/**
 * The vocabulary between the pure swap machine and its runner. The machine asks for effects;
 * the runner performs them against the kernel port and answers with events. Every event
 * carries the time it happened (`at`, epoch ms) so the machine never reads a clock.
 */

/** A kernel action. It may block in the kernel: the runner enforces `deadlineMs`. */
export type KernelAction =
  | { readonly kind: 'unbind'; readonly device: DeviceRef }
  | { readonly kind: 'bind'; readonly device: DeviceRef; readonly driver: string }
  | { readonly kind: 'unload'; readonly modules: readonly string[] }
  | { readonly kind: 'load'; readonly spec: LoadSpec }
  | { readonly kind: 'signal'; readonly pid: number; readonly signal: 'SIGTERM' | 'SIGKILL' };

export type SwapEffect =
  /** Look at the host: devices, stack modules, load targets, holders of the device nodes. */
  | {
      readonly kind: 'inspect';
      readonly devices: DeviceQuery;
      readonly modules: readonly string[];
      readonly loads: readonly LoadSpec[];
    }
  /** Who holds files or mappings with these device numbers (old nodes: zombies included). */
  | { readonly kind: 'census'; readonly purpose: 'zombies' | 'blocking'; readonly rdevs: readonly string[] }
  | { readonly kind: 'action'; readonly id: number; readonly action: KernelAction; readonly deadlineMs: number }
  /**
   * Poll refcounts until every stack module can be unloaded, or the deadline passes; once free,
   * count the files still open on the old nodes (zombies the stack did not wait for) among
   * `zombiePids`, the processes that held the device before the unbind: only they can hold a
   * removed node, and looking at them alone is cheap, where a census of the host (~1 s under
   * QEMU) would hold the unload back.
   */
  | {
      readonly kind: 'await-modules-free';
      readonly modules: readonly string[];
      readonly deadlineMs: number;
      readonly pollMs: number;
      readonly zombieNodes: readonly { readonly rdev: string; readonly ino: number }[];
      readonly zombiePids: readonly number[];
    }
  /** Read the loaded modules and the devices again (after load and rebind), and after a restore the removed dependencies. */
  | {
      readonly kind: 'read-state';
      readonly modules: readonly string[];
      readonly devices: readonly DeviceRef[];
      readonly dependencies?: readonly string[];
    }
  /**
   * Start watching the holders reopen the device as soon as it is unbound (polling in the
   * background while the swap goes on); a watch already running is left alone.
   */
  | ({ readonly kind: 'start-recovery-watch' } & RecoveryWatchSpec)
  /** Finish the watch (starting it if none runs): until each holder is back, or the deadline. */
  | ({ readonly kind: 'watch-recovery'; readonly deadlineMs: number } & RecoveryWatchSpec)
  /** Keep polling who holds a blocked device until the stuck unbind returns. */
  | {
      readonly kind: 'watch-blocking';
      readonly actionId: number;
      readonly rdevs: readonly string[];
      readonly pollMs: number;
    }
  | { readonly kind: 'timer'; readonly name: 'grace'; readonly ms: number }
  /** Run one runbook hook (in a PTY, from the allow-listed directory); it has its own deadline. */
  | { readonly kind: 'run-hook'; readonly stage: 'pre' | 'post'; readonly index: number; readonly hook: HookSpec }
  | {
      readonly kind: 'progress';
      readonly phase: SwapPhase;
      readonly status: 'started' | 'completed' | 'failed' | 'blocked';
      readonly detail?: string;
    }
  | { readonly kind: 'finished'; readonly report: SwapReport };

/** Who to watch and how to tell the device's new nodes: its number, an inode no old node had. */
export interface RecoveryWatchSpec {
  readonly tracked: readonly TrackedHolder[];
  readonly scope: WatchScope;
  readonly rdevs: readonly string[];
  readonly oldNodes: readonly { readonly rdev: string; readonly ino: number }[];
  readonly pollMs: number;
}

/** What preflight reads of the host before anything is touched (the swap and the dry run alike). */
export interface HostInspection {
  readonly devices: readonly BoundDevice[];
  /** Per device (same order): its nodes with their sysfs class, for the subsystem table. */
  readonly nodeClasses: readonly (readonly ClassifiedNode[])[];
  /** Per stack module (same order): as loaded now, or null. */
  readonly modules: readonly (LoadedModule | null)[];
  /** Loaded modules the stack depends on, directly or not: what `modprobe -r` may also remove. */
  readonly dependencies: readonly LoadedModule[];
  readonly targets: readonly ModuleTarget[];
  readonly holders: readonly Holder[];
  /** Host-level reasons to refuse (kernel facts the port's adapter knows), possibly none. */
  readonly refusals: readonly string[];
  /** Host-level facts worth saying that do not refuse (a signed target under enforcement). */
  readonly notes: readonly string[];
}

export type SwapEvent =
  | ({ readonly kind: 'inspected'; readonly at: number } & HostInspection)
  | {
      readonly kind: 'census-taken';
      readonly at: number;
      readonly purpose: 'zombies' | 'blocking';
      readonly holders: readonly Holder[];
    }
  | { readonly kind: 'action-done'; readonly at: number; readonly id: number }
  | { readonly kind: 'action-failed'; readonly at: number; readonly id: number; readonly error: string }
  /** The action passed its deadline; it lives on, and a later done/failed will follow. */
  | { readonly kind: 'action-stuck'; readonly at: number; readonly id: number }
  | {
      readonly kind: 'modules-free';
      readonly at: number;
      readonly waitedMs: number;
      readonly sawRefcnt: number;
      /** Zombie files and mappings still open when the stack was found free. */
      readonly zombiesOpen?: number;
    }
  | { readonly kind: 'modules-busy'; readonly at: number; readonly refcnts: Readonly<Record<string, number>> }
  | {
      readonly kind: 'state-read';
      readonly at: number;
      readonly modules: readonly (LoadedModule | null)[];
      readonly devices: readonly (BoundDevice | null)[];
      readonly dependencies?: readonly (LoadedModule | null)[];
    }
  | { readonly kind: 'recovery-ended'; readonly at: number; readonly report: readonly RecoveryObservationLike[] }
  | { readonly kind: 'timer-fired'; readonly at: number; readonly name: 'grace' }
  | {
      readonly kind: 'hook-finished';
      readonly at: number;
      readonly stage: 'pre' | 'post';
      readonly index: number;
      readonly ok: boolean;
      readonly detail: string;
    }
  /** A query (not an action) failed: the port could not read the host. */
  | { readonly kind: 'query-failed'; readonly at: number; readonly error: string };

export type RecoveryObservationLike = SwapReport['recoveries'][number];
