import type { KernelPort } from '@hotswap/kernel';

/**
 * Wait until every module of the stack can be unloaded: its refcount is made only of the
 * stack's own modules that sit above it (they go first). Anything more is an open file
 * (a zombie FD when the driver owns the file operations) or an outside user. Polls; never
 * calls rmmod to find out, so the kernel log stays clean and nothing is half-unloaded.
 */
export async function awaitModulesFree(
  port: KernelPort,
  modules: readonly string[],
  deadlineMs: number,
  pollMs: number,
  now: () => number,
  loop: { stopped: boolean },
): Promise<
  | { kind: 'modules-free'; waitedMs: number; sawRefcnt: number }
  | { kind: 'modules-busy'; refcnts: Record<string, number> }
> {
  const startedAt = now();
  let sawRefcnt = 0;
  for (;;) {
    const excess: Record<string, number> = {};
    const use = await port.moduleUse(modules);
    for (const name of modules) {
      const mod = use[name];
      if (!mod) continue;
      const stackHolders = mod.holders.filter((h) => modules.includes(h)).length;
      if (mod.refcnt > stackHolders) excess[name] = mod.refcnt;
    }
    const busiest = Math.max(0, ...Object.values(excess));
    sawRefcnt = Math.max(sawRefcnt, busiest);
    if (busiest === 0) return { kind: 'modules-free', waitedMs: now() - startedAt, sawRefcnt };
    if (loop.stopped || now() - startedAt >= deadlineMs) return { kind: 'modules-busy', refcnts: excess };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
