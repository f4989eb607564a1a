/**
 * Resolves the modules a scenario names to the .ko files the guest needs, dependencies
 * first, from depmod's modules.dep. Pure: the caller reads the files.
 */

/** The kernel treats '-' and '_' in module names alike. */
export const canonicalModuleName = (name: string): string => name.replaceAll('-', '_');

/** kernel/drivers/char/virtio_console.ko[.xz] -> virtio_console */
export function moduleNameOfPath(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return canonicalModuleName(base.replace(/\.ko(\.(xz|zst|gz))?$/, ''));
}

export interface ModuleIndex {
  /** Module name -> its path (relative to lib/modules/<release>) and its direct dependencies' paths. */
  readonly modules: ReadonlyMap<string, { readonly path: string; readonly deps: readonly string[] }>;
  /** Names of modules built into the kernel image (modules.builtin). */
  readonly builtin: ReadonlySet<string>;
}

export function parseModuleIndex(modulesDep: string, modulesBuiltin: string): ModuleIndex {
  const modules = new Map<string, { path: string; deps: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .split(/\s+/)
      .filter((dep) => dep !== '');
    modules.set(moduleNameOfPath(path), { path, deps });
  }
  const builtin = new Set(
    modulesBuiltin
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map(moduleNameOfPath),
  );
  return { modules, builtin };
}

export interface ResolvedModules {
  /** Paths relative to lib/modules/<release>, every dependency before its users. */
  readonly files: readonly string[];
  /** Named modules that are built into the kernel: nothing to copy, and they cannot be swapped. */
  readonly builtin: readonly string[];
}

/** Throws on a name the kernel neither ships as a module nor builds in. */
export function resolveModules(names: readonly string[], index: ModuleIndex): ResolvedModules {
  const files: string[] = [];
  const builtin: string[] = [];
  const byPath = new Map([...index.modules.values()].map((entry) => [entry.path, entry]));
  const visit = (path: string, trail: readonly string[]): void => {
    if (files.includes(path)) return;
    if (trail.includes(path)) throw new Error(`modules.dep has a cycle: ${[...trail, path].join(' -> ')}`);
    for (const dep of byPath.get(path)?.deps ?? []) visit(dep, [...trail, path]);
    files.push(path);
  };
  for (const raw of names) {
    const name = canonicalModuleName(raw);
    const entry = index.modules.get(name);
    if (entry) visit(entry.path, []);
    else if (index.builtin.has(name)) builtin.push(name);
    else throw new Error(`module "${raw}" is neither in modules.dep nor built into the kernel`);
  }
  return { files, builtin };
}
