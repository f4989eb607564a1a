import { KernelActionError } from '../kernel-action.error.js';
import type { LoadSpec, ModuleTarget } from '../kernel.port.js';
import type { SimScenario } from './sim-scenario.schema.js';

/** One `.ko` file as `modinfo` reads it. */
export interface ModuleFileInfo extends ModuleTarget {
  readonly dependsOn: readonly string[];
  readonly builtin: boolean;
}

/**
 * The module files a host can load (what depmod indexed): the scenario's `moduleFiles`, plus
 * the files of the modules loaded at boot. Resolves load specs the way modprobe/insmod do.
 */
export class SimModuleCatalog {
  private readonly files: (ModuleFileInfo & { readonly isDefault: boolean; readonly boot: boolean })[];

  constructor(scenario: SimScenario) {
    this.files = [
      ...scenario.modules.map((m) => ({
        module: m.name,
        file: m.builtin ? '(builtin)' : (m.file ?? '(builtin)'),
        version: m.version,
        srcversion: m.srcversion,
        dependsOn: m.dependsOn,
        builtin: m.builtin,
        isDefault: false,
        boot: true,
      })),
      ...scenario.moduleFiles.map((f) => ({ ...f, builtin: false, isDefault: f.default, boot: false })),
    ];
  }

  /**
   * By file: that file (insmod). By name: the file with that version, else the `default` file,
   * else the file loaded at boot (what depmod indexed), else the only file of the module.
   */
  resolve(spec: LoadSpec): ModuleFileInfo {
    if ('file' in spec) {
      const found = this.files.find((f) => f.file === spec.file);
      if (!found) throw new KernelActionError('ENOENT', `modinfo: ERROR: Module ${spec.file} not found.`);
      if (found.module !== spec.module)
        throw new KernelActionError('EINVAL', `${spec.file} is module ${found.module}, not ${spec.module}`);
      return strip(found);
    }
    const candidates = this.files.filter((f) => f.module === spec.module);
    if (candidates.length === 0)
      throw new KernelActionError(
        'ENOENT',
        `modprobe: FATAL: Module ${spec.module} not found in directory /lib/modules/sim`,
      );
    if (spec.version !== undefined) {
      const withVersion = candidates.filter((f) => f.version === spec.version);
      const found = withVersion.find((f) => f.isDefault) ?? withVersion[0];
      if (!found) throw new KernelActionError('ENOENT', `no file of module ${spec.module} has version ${spec.version}`);
      return strip(found);
    }
    const found =
      candidates.find((f) => f.isDefault) ??
      candidates.find((f) => f.boot) ??
      (candidates.length === 1 ? candidates[0] : undefined);
    if (!found)
      throw new KernelActionError('ENOENT', `module ${spec.module} has several files and none is the default`);
    return strip(found);
  }
}

const strip = (f: ModuleFileInfo): ModuleFileInfo => ({
  module: f.module,
  file: f.file,
  version: f.version,
  srcversion: f.srcversion,
  dependsOn: f.dependsOn,
  builtin: f.builtin,
});
