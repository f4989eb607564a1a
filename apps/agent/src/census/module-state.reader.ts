import type { ModuleState } from '@hotswap/contracts';
import type { KernelPort } from '@hotswap/kernel';

/** One module as the kernel shows it now; a module that is not loaded is reported so, not skipped. */
export async function readModuleState(port: KernelPort, name: string): Promise<ModuleState> {
  const loaded = await port.module(name);
  if (!loaded) return { name, loaded: false, version: null, srcversion: null, refcnt: null, holders: [] };
  return {
    name,
    loaded: true,
    version: loaded.version,
    srcversion: loaded.srcversion,
    refcnt: loaded.refcnt,
    holders: [...loaded.holders],
  };
}
