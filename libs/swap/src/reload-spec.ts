import type { LoadSpec, LoadedModule } from '@hotswap/kernel';

/**
 * How to load a module again exactly as it was: from the very file and with the parameters it
 * had (the restore path and a rollout's rollback both need it), by version only when the
 * kernel did not say which file it came from.
 */
export function reloadSpecOf(mod: LoadedModule): LoadSpec {
  if (mod.file) return { module: mod.name, file: mod.file, params: mod.params };
  return { module: mod.name, ...(mod.version ? { version: mod.version } : {}), params: mod.params };
}
