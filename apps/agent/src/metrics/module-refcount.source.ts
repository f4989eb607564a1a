import type { KernelPort } from '@hotswap/kernel';
import type { ModuleWatchList } from '../registry/module-watch.list.js';
import type { ModuleRefcountSource } from './agent.metrics.js';

/**
 * Reads, from the kernel port, the refcount of every module this agent reports on: those of the
 * runbooks it swapped and those the controller's runbooks name, so the gauge is back after an agent
 * restart (at its first heartbeat) even before the next swap.
 */
export function moduleRefcountSource(port: KernelPort, watch: ModuleWatchList, host: string): ModuleRefcountSource {
  return () =>
    Promise.all(
      watch.all().map(async (module) => ({ host, module, refcnt: (await port.module(module))?.refcnt ?? null })),
    );
}
