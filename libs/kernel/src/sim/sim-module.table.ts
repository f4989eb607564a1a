import type { LoadedModule } from '../kernel.port.js';
import type { ModuleFileInfo } from './sim-module.catalog.js';

/** A module's life, as /sys/module/NAME/initstate shows it. */
export type SimModuleState = 'coming' | 'live' | 'going';

export interface SimModule {
  readonly name: string;
  readonly version: string | null;
  readonly srcversion: string | null;
  readonly file: string | null;
  readonly params: readonly string[];
  readonly dependsOn: readonly string[];
  readonly builtin: boolean;
  state: SimModuleState;
  /** Kept as a counter, like the kernel's, not recomputed: the property test checks it. */
  refcnt: number;
  /** Settles when a coming module is live or gone, or a going module is gone. */
  transition: Promise<void> | null;
}

/** The modules present in the kernel (/proc/modules) and their reference counts. */
export class SimModuleTable {
  private readonly modules = new Map<string, SimModule>();

  get(name: string): SimModule | undefined {
    return this.modules.get(name);
  }

  isLive(name: string): boolean {
    return this.modules.get(name)?.state === 'live';
  }

  all(): SimModule[] {
    return [...this.modules.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Present modules that depend on `name` (/sys/module/NAME/holders). */
  holdersOf(name: string): string[] {
    return this.all()
      .filter((m) => m.dependsOn.includes(name))
      .map((m) => m.name);
  }

  /** Inserts a module; it takes a reference on each dependency (the kernel's ref_module). */
  add(info: ModuleFileInfo, params: readonly string[], state: SimModuleState): SimModule {
    const module: SimModule = {
      name: info.module,
      version: info.version,
      srcversion: info.srcversion,
      file: info.builtin ? null : info.file,
      params: [...params],
      dependsOn: [...info.dependsOn],
      builtin: info.builtin,
      state,
      refcnt: 0,
      transition: null,
    };
    for (const dep of module.dependsOn) this.pin(dep);
    this.modules.set(module.name, module);
    return module;
  }

  /** Removes a module. Removing one with references would be a simulator bug: it throws. */
  remove(name: string): void {
    const module = this.modules.get(name);
    if (!module) throw new Error(`sim bug: removing ${name}, which is not present`);
    if (module.refcnt !== 0) throw new Error(`sim bug: removing ${name} with refcnt ${module.refcnt}`);
    this.modules.delete(name);
    for (const dep of module.dependsOn) this.unpin(dep);
  }

  pin(name: string): void {
    const module = this.modules.get(name);
    if (!module) throw new Error(`sim bug: taking a reference on ${name}, which is not present`);
    module.refcnt++;
  }

  unpin(name: string): void {
    const module = this.modules.get(name);
    if (!module || module.refcnt <= 0) throw new Error(`sim bug: dropping a reference on ${name} that was not held`);
    module.refcnt--;
  }

  view(module: SimModule): LoadedModule {
    return {
      name: module.name,
      version: module.version,
      srcversion: module.srcversion,
      refcnt: module.refcnt,
      holders: this.holdersOf(module.name),
      dependsOn: [...module.dependsOn],
      unloadable: !module.builtin,
      file: module.file,
      params: [...module.params],
    };
  }
}
