import type { KernelPort } from '@hotswap/kernel';
import type { ModuleWatchList } from '../registry/module-watch.list.js';
import type { ModuleRefcountSource } from './agent.metrics.js';

/** Reads, from the kernel port, the refcount of every module of the runbooks this agent swapped. */
export function moduleRefcountSource(port: KernelPort, watch: ModuleWatchList, host: string): ModuleRefcountSource {
  return () =>
    Promise.all(
      watch.swapped().map(async (module) => ({ host, module, refcnt: (await port.module(module))?.refcnt ?? null })),
    );
}
