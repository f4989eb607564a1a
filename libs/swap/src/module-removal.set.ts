import type { RollbackModule } from '@hotswap/contracts';
import type { LoadedModule } from '@hotswap/kernel';

export interface RemovedModule {
  readonly module: LoadedModule;
  readonly why: RollbackModule['why'];
}

/**
 * What `modprobe -r` of the stack takes away: the stack's modules, then every module they
 * depend on that is left unused (no holder outside what goes, no reference beyond its holders),
 * recursively, as kmod does. In unload order. `loaded` holds the modules reachable from the
 * stack through `dependsOn`, as loaded now.
 */
export function modulesRemovedWith(
  stack: readonly LoadedModule[],
  loaded: ReadonlyMap<string, LoadedModule>,
): RemovedModule[] {
  const out: RemovedModule[] = stack.map((module) => ({ module, why: 'stack' }));
  const gone = new Set(stack.map((m) => m.name));
  for (let i = 0; i < out.length; i++) {
    for (const dep of (out[i] as RemovedModule).module.dependsOn) {
      const mod = loaded.get(dep);
      if (!mod || gone.has(dep) || !mod.unloadable) continue;
      const unused = mod.holders.every((h) => gone.has(h)) && mod.refcnt <= mod.holders.length;
      if (!unused) continue;
      gone.add(dep);
      out.push({ module: mod, why: 'dependency' });
    }
  }
  return out;
}

/** The order to load modules back: each after the modules it depends on, the stack's bottom first. */
export function reloadOrder(modules: readonly LoadedModule[]): LoadedModule[] {
  const names = new Set(modules.map((m) => m.name));
  const placed = new Set<string>();
  const order: LoadedModule[] = [];
  const pending = [...modules].reverse();
  while (pending.length > 0) {
    const ready = pending.findIndex((m) => m.dependsOn.every((d) => !names.has(d) || placed.has(d)));
    // A dependency cycle cannot be loaded in any order: keep the reverse unload order for the rest.
    const [next] = pending.splice(ready < 0 ? 0 : ready, 1) as [LoadedModule];
    placed.add(next.name);
    order.push(next);
  }
  return order;
}

export function rollbackModuleOf(removed: RemovedModule): RollbackModule {
  const { module, why } = removed;
  return {
    name: module.name,
    version: module.version,
    srcversion: module.srcversion,
    file: module.file,
    params: module.params,
    why,
  };
}
