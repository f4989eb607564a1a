import type { LoadedModule, ModuleUse } from '../kernel.port.js';

/** `moduleUse()`'s answer from `module()`'s, for the simulated host where reads cost nothing. */
export function moduleUseOf(
  names: readonly string[],
  modules: readonly (LoadedModule | null)[],
): Record<string, ModuleUse | null> {
  return Object.fromEntries(
    names.map((name, i) => {
      const module = modules[i];
      return [name, module ? { refcnt: module.refcnt, holders: module.holders } : null];
    }),
  );
}
