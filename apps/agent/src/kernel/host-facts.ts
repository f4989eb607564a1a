import type { BoundDevice, ModuleTarget } from '@hotswap/kernel';

/** What the kernel said during a swap, carried in the swap's report. */
export interface KernelEvidence {
  readonly taintBefore: string | null;
  readonly taintAfter: string | null;
  /** Kernel log lines (/dev/kmsg) written during the swap. */
  readonly log: readonly string[];
  /** The ring buffer overwrote lines before they were read, or the log could not be read. */
  readonly logIncomplete: boolean;
}

/**
 * Host-level facts a kernel adapter may offer beyond the port: reasons to refuse a swap before
 * touching anything, and the kernel's own record of the swap. The simulated host has none.
 */
export interface HostFacts {
  /** Reasons to refuse before touching anything, and facts to state that do not refuse. */
  preflight(input: {
    devices: readonly BoundDevice[];
    targets: readonly ModuleTarget[];
  }): Promise<{ refusals: string[]; notes: string[] }>;
  /**
   * The modules the host's module tool counts as this module's dependencies, which alone its
   * unload may take along; null when it does not know the module.
   */
  modprobeDependencies(module: string): Promise<readonly string[] | null>;
  /** Taken at the start of a swap; `evidence` reads what changed since. */
  mark(): Promise<unknown>;
  evidence(mark: unknown): Promise<KernelEvidence>;
}
